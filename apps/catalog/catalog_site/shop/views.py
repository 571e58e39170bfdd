"""The site's endpoints. Course-compatible paths work with and without the trailing slash."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from PIL import Image, UnidentifiedImageError
from rest_framework import generics, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog_site.shop import fastpath, images
from catalog_site.shop.models import CatalogState, Product, Review
from catalog_site.shop.parsers import StrictMultiPartParser
from catalog_site.shop.serializers import ProductSerializer, ReviewSerializer
from catalog_site.shop.validators import IMAGE_EXTENSIONS, expected_format, image_name_problem

log = logging.getLogger(__name__)

# Room for the multipart envelope around the file when checking Content-Length up front.
MULTIPART_OVERHEAD = 64 * 1024
# Formats Pillow may even try to parse (never EPS & co., which call out to other programs).
# The JPEG opener also returns multi-picture JPEGs (format "MPO").
PILLOW_FORMATS = sorted(set(IMAGE_EXTENSIONS.values()))

STOREFRONT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


# --- products and reviews (DRF; the list GETs go through the fast path first) -----------


def _only_uniqueness_errors(codes) -> bool:
    """True when every error of a serializer is a uniqueness error (DRF's code ``unique``)."""
    if isinstance(codes, dict):
        return bool(codes) and all(_only_uniqueness_errors(value) for value in codes.values())
    if isinstance(codes, list):
        return bool(codes) and all(_only_uniqueness_errors(value) for value in codes)
    return codes == "unique"


class _CatalogWrites:
    """Writes of products and reviews, one way for create and update: save and bump the
    catalog version in one transaction. "Already exists" is its own answer, 409
    ``{"code": "duplicate", <the field errors>}``, whether the validators saw it or the
    database constraint caught a race past them; any other bad input stays a 400."""

    duplicate_error: dict = {}

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)

    def _save(self, serializer):
        items = (
            serializer.validated_data if isinstance(serializer.validated_data, list) else [serializer.validated_data]
        )
        try:
            with transaction.atomic():
                for item in items:
                    images.lock_for_product(item.get("image_name", ""))
                serializer.save()
        except IntegrityError:
            raise ValidationError(
                {
                    field: [ErrorDetail(message, code="unique") for message in messages]
                    for field, messages in self.duplicate_error.items()
                }
            ) from None

    def perform_destroy(self, instance):
        with transaction.atomic():
            instance.delete()

    def handle_exception(self, exc):
        if (
            isinstance(exc, ValidationError)
            and isinstance(self.request.data, list)
            and isinstance(exc.detail, dict)
            and exc.detail
            and all(str(key).isdigit() for key in exc.detail)
        ):
            # A list of products: the errors by position in the list, {"1": {"weight": [...]}}.
            if _only_uniqueness_errors(exc.get_codes()):
                return Response({"code": "duplicate", "items": exc.detail}, status=status.HTTP_409_CONFLICT)
            return Response({"items": exc.detail}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, ValidationError) and _only_uniqueness_errors(exc.get_codes()):
            return Response({"code": "duplicate", **exc.detail}, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)


MAX_BULK = 1000


class ProductList(_CatalogWrites, generics.ListCreateAPIView):
    """Products of the store (the course's "fruits").

    POST `{"name": "Watermelon", "weight": 500, "description": "...", "image_name": "010.jpeg"}`
    with `Authorization: Token <token>`. `weight` is an integer number of lbs.
    POST a JSON list of such objects (at most 1,000) to create them all, in that order, in one
    transaction: all or none (201 with the list; 400 or 409 with the errors of each item).
    GET returns every product as a JSON list; `?page=N` (and `&page_size=M`) pages it.
    """

    queryset = Product.objects.order_by("id")
    serializer_class = ProductSerializer
    duplicate_error = {"name": ["A product with this name already exists."]}

    def get_serializer(self, *args, **kwargs):
        data = kwargs.get("data")
        if isinstance(data, list):
            if not data or len(data) > MAX_BULK:
                raise ValidationError({"detail": f"Send 1 to {MAX_BULK} products in a list."})
            names = [item.get("name") for item in data if isinstance(item, dict)]
            if len(set(names)) != len(names):
                raise ValidationError({"name": ["Two products of the list have the same name."]})
            kwargs["many"] = True
        return super().get_serializer(*args, **kwargs)


class ProductDetail(_CatalogWrites, generics.RetrieveUpdateDestroyAPIView):
    """One product: GET, PUT/PATCH (token), DELETE (token)."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    duplicate_error = ProductList.duplicate_error


class ReviewList(_CatalogWrites, generics.ListCreateAPIView):
    """Customer reviews (the course's "feedback").

    POST `{"title": "...", "name": "Alex H.", "date": "2020-02-02", "feedback": "..."}`
    with `Authorization: Token <token>`. A review is unique on (name, date, title).
    """

    queryset = Review.objects.order_by("-date", "-id")
    serializer_class = ReviewSerializer
    duplicate_error = {"non_field_errors": ["A review with this title, name and date already exists."]}


class ReviewDetail(_CatalogWrites, generics.RetrieveUpdateDestroyAPIView):
    """One review: GET, PUT/PATCH (token), DELETE (token)."""

    queryset = Review.objects.all()
    serializer_class = ReviewSerializer
    duplicate_error = ReviewList.duplicate_error


def wants_fast_json(request) -> bool:
    """A plain GET/HEAD of the whole list by a client that takes JSON (scripts send
    ``Accept: */*`` or ``application/json``). Browsers (``text/html``) get DRF's
    browsable API; query parameters (``?page=``, ``?format=``) go to DRF too."""
    if request.method not in ("GET", "HEAD") or request.META.get("QUERY_STRING"):
        return False
    accept = request.META.get("HTTP_ACCEPT", "")
    if not accept:
        return True
    if "text/html" in accept or "indent=" in accept:
        return False
    return "*/*" in accept or "application/json" in accept or "application/*" in accept


def serve_fruits(request):
    return fastpath.serve(
        request, "fruits", fastpath.build_products_json, fastpath.JSON, vary="Accept, Accept-Encoding"
    )


def serve_feedback(request):
    return fastpath.serve(
        request, "feedback", fastpath.build_reviews_json, fastpath.JSON, vary="Accept, Accept-Encoding"
    )


def serve_storefront(request):
    return fastpath.serve(
        request,
        "storefront",
        fastpath.build_storefront_html,
        fastpath.HTML,
        headers={"Content-Security-Policy": STOREFRONT_CSP},
    )


def _list_endpoint(drf_view, fast):
    @csrf_exempt  # DRF does its own CSRF check for session-authenticated writes
    def endpoint(request):
        if wants_fast_json(request):
            return fast(request)
        return drf_view(request)

    endpoint.__doc__ = drf_view.cls.__doc__
    return endpoint


fruits = _list_endpoint(ProductList.as_view(), serve_fruits)
feedback = _list_endpoint(ReviewList.as_view(), serve_feedback)
fruit_detail = ProductDetail.as_view()
feedback_detail = ReviewDetail.as_view()


def storefront(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return serve_storefront(request)


# --- image upload ---------------------------------------------------------------------


def _error(field_or_detail, message, code=status.HTTP_400_BAD_REQUEST):
    if field_or_detail == "detail":
        return Response({"detail": message}, status=code)
    return Response({field_or_detail: [message]}, status=code)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_flag(value, default: bool) -> bool | None:
    """A form field's boolean (``true/false``, ``1/0``, ``yes/no``, ``on/off``, any case);
    ``default`` when absent or empty, None when it is something else."""
    if value is None or str(value).strip() == "":
        return default
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _not_a_file(name):
    return Response(
        {"code": "not_a_file", "detail": f"{name!r} exists under /media/images/ and is not a regular file."},
        status=status.HTTP_409_CONFLICT,
    )


def _storage_unavailable(name):
    """503 with Retry-After: nothing was stored or removed; the same request can be sent again."""
    return Response(
        {
            "code": "storage_unavailable",
            "detail": f"The image store could not be reached for {name!r}; nothing was changed. Try again later.",
        },
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


def check_image(upload, expected: str) -> str | None:
    """Return what is wrong with the uploaded image, or None if Pillow reads it fully
    and it is the format its name says."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=PILLOW_FORMATS) as image:
                found = image.format
                width, height = image.size
                if width * height > settings.CATALOG_MAX_IMAGE_PIXELS:
                    return (
                        f"the image is {width}x{height} pixels, more than the limit of "
                        f"{settings.CATALOG_MAX_IMAGE_PIXELS} pixels"
                    )
                image.verify()
            upload.seek(0)
            with Image.open(upload, formats=PILLOW_FORMATS) as image:
                image.load()  # verify() does not decode; a truncated JPEG only fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "the image has too many pixels"
    except UnidentifiedImageError:
        return "the content is not an image (or not a supported format: JPEG, PNG, GIF, WebP, BMP, TIFF)"
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        return f"the image data is damaged or truncated ({exc.__class__.__name__})"
    finally:
        upload.seek(0)
    if found == "MPO":
        found = "JPEG"
    if found != expected:
        return f"the content is {found} but the file name says {expected}; name the file after its content"
    return None


class UploadView(APIView):
    """Upload a product image (multipart/form-data, field `file`), as the course's
    `example_upload.py` does: `requests.post(url + "/upload/", files={"file": f})`,
    plus `headers={"Authorization": "Token <token>"}`.

    The image is stored as `/media/images/<file name>`. 201 when created; 200 when the
    name existed (replaced if the content differs, untouched if it is the same). With the
    form field `replace=false`, a name that holds other content answers 409
    `{"code": "name_taken", "sha256": <what it holds>}` and nothing is written.
    """

    parser_classes = [StrictMultiPartParser, FormParser]
    # Token only: session authentication's CSRF check would parse the body with
    # Django's lenient parser first and silently strip directories from file names.
    authentication_classes = [TokenAuthentication]

    def post(self, request, *args, **kwargs):
        limit = settings.CATALOG_MAX_UPLOAD_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + MULTIPART_OVERHEAD:
            return _error("detail", f"Upload too large: the limit is {limit} bytes per image.", 413)

        files = request.FILES.getlist("file")
        if not files:
            return Response(
                {
                    "detail": "Empty content",
                    "file": ["No file was submitted: send multipart/form-data with the image in a field named 'file'."],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(files) > 1:
            return _error("file", "Send one file per request.")
        replace = parse_flag(request.data.get("replace"), default=True)
        if replace is None:
            return _error("replace", "Must be true or false (also 1/0, yes/no, on/off).")
        upload = files[0]
        name = upload.name
        problem = image_name_problem(name)
        if problem:
            return _error("file", f"Invalid file name {name!r}: {problem}.")
        expected = expected_format(name)
        if expected is None:
            allowed = ", ".join(sorted(IMAGE_EXTENSIONS))
            return _error("file", f"Invalid file name {name!r}: the extension must be one of {allowed}.")
        if upload.size > limit:
            return _error("detail", f"Upload too large: the limit is {limit} bytes per image.", 413)
        if upload.size == 0:
            return _error("file", "The submitted file is empty.")
        problem = check_image(upload, expected)
        if problem:
            return _error("file", f"Not a valid image: {problem}.")

        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        sha256 = digest.hexdigest()
        upload.seek(0)

        try:
            result = images.store(name, upload, upload.size, sha256, replace=replace)
        except images.NameTaken as exc:
            return Response(
                {
                    "code": "name_taken",
                    "detail": f"An image named {name!r} with other content is stored already (replace=false "
                    "keeps it): upload under another name, or with replace=true to replace it.",
                    "name": name,
                    "sha256": exc.sha256,
                },
                status=status.HTTP_409_CONFLICT,
            )
        except SuspiciousFileOperation:
            return _not_a_file(name)
        except images.StorageUnavailable:
            return _storage_unavailable(name)
        if result != "unchanged":
            log.info("image %s %s (%d bytes) by %s", name, result, upload.size, request.user)
        return Response(
            {"name": name, "url": images.image_url(name), "size": upload.size, "sha256": sha256, "result": result},
            status=status.HTTP_201_CREATED if result == "created" else status.HTTP_200_OK,
        )


upload = UploadView.as_view()


# --- the image index --------------------------------------------------------------------


def serve_images(request):
    return fastpath.serve(request, "images", fastpath.build_images_json, fastpath.JSON)


@csrf_exempt  # no session writes here: the list is read-only
def image_list(request):
    """``GET /images/``: every stored image, by name, with its size and SHA-256 (public)."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'}, status=405, headers={"Allow": "GET, HEAD"}
        )
    return serve_images(request)


class ImageDetail(APIView):
    """One stored image. GET (public): `{"name", "size", "sha256", "url"}`. DELETE (token):
    removes the file and its index entry, 204; 409 `{"code": "in_use"}` while a product's
    `image_name` points at it; 404 when there is no such image."""

    authentication_classes = [TokenAuthentication]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        name = kwargs["name"]
        problem = image_name_problem(name)
        if problem:
            raise ValidationError({"code": "invalid_name", "detail": f"Invalid image name {name!r}: {problem}."})

    def get(self, request, name):
        found = images.entry(name)
        if found is None:
            return Response({"code": "not_found", "detail": f"No image named {name!r}."}, status=404)
        return Response(found)

    def delete(self, request, name):
        try:
            images.delete(name)
        except images.NoSuchImage:
            return Response({"code": "not_found", "detail": f"No image named {name!r}."}, status=404)
        except images.ImageInUse as exc:
            shown = ", ".join(repr(product) for product in exc.products[: images.IN_USE_LIMIT])
            more = " and others" if len(exc.products) > images.IN_USE_LIMIT else ""
            return Response(
                {
                    "code": "in_use",
                    "detail": f"Image {name!r} is used by product {shown}{more}: change or delete "
                    f"{'that product' if len(exc.products) == 1 else 'those products'} first.",
                    "products": exc.products[: images.IN_USE_LIMIT],
                },
                status=status.HTTP_409_CONFLICT,
            )
        except SuspiciousFileOperation:
            return _not_a_file(name)
        except images.StorageUnavailable:
            return _storage_unavailable(name)
        log.info("image %s deleted by %s", name, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


image_detail = ImageDetail.as_view()


# --- health ---------------------------------------------------------------------------


@never_cache
def healthz(request):
    """200 ``{"status": "ok", ...}`` when the database answers and is migrated, else 503.
    ``media_storage`` is ``filesystem`` or ``s3``; on the filesystem ``media_writable`` tells
    whether uploads can be stored (informational: reads work either way). The bucket is not
    asked on every probe."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    try:
        version = CatalogState.objects.filter(pk=1).values_list("version", flat=True).first()
    except DatabaseError:
        log.exception("health check: database error")
        return JsonResponse({"status": "error", "database": "unavailable or not migrated"}, status=503)
    if version is None:
        return JsonResponse(
            {"status": "error", "database": "catalog state row missing (run: catalog-manage bump_catalog_version)"},
            status=503,
        )
    answer = {
        "status": "ok",
        "database": "ok",
        "catalog_version": version,
        "media_storage": settings.CATALOG_MEDIA_STORAGE,
    }
    if settings.CATALOG_MEDIA_STORAGE == "filesystem":
        media = Path(settings.MEDIA_ROOT)
        images = media / "images"
        answer["media_writable"] = os.access(images if images.is_dir() else media, os.W_OK)
    return JsonResponse(answer)
