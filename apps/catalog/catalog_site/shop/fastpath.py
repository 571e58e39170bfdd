"""Serve the hot read endpoints from bytes built once per catalog version.

Why: building ``GET /fruits/`` with a DRF ``ModelSerializer(many=True)`` costs ~11 ms
for 1,000 products (~90 req/s on two workers), rendering the store front template ~20
ms. Products change a few times a day; they are read all the time.

How:

* The ``CatalogState`` row (pk=1) holds a random ``stamp`` that changes in the same
  transaction as every write to products or reviews (``signals.py``).
* Each worker process keeps, per endpoint, ``(stamp, body bytes, gzip bytes, ETag)``.
* Each request reads the stamp - one indexed one-row query - and serves the kept
  bytes when it matches, else rebuilds them. A write made by any worker is therefore
  visible to every worker on its next request; no TTL, no shared cache server.
* The ETag is a hash of the body, so ``If-None-Match`` gets a 304 without sending the
  body, and it stays valid across restarts and workers.
* Behind nginx (``CATALOG_ACCEL_URL``), the bytes of each version are also a file, and a 200
  is an empty answer with ``X-Accel-Redirect``: nginx sends the file itself (``accel``), so
  the body never passes through gunicorn. The version check above still runs per request.

The same path serves ``GET /images/`` (the image index: uploads and deletes bump the stamp).

The stamp is read *before* the data, so bytes kept under a stamp are never older than
the data that stamp stands for (at worst newer, and rebuilt on the next request).
A random stamp rather than the counter alone keeps this right if the database is
restored from a backup or flushed while workers keep running.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from typing import Callable, NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F
from django.http import HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string

from catalog_site.shop import accel
from catalog_site.shop.models import CatalogState, Product, Review, StoredImage

JSON = "application/json"
HTML = "text/html; charset=utf-8"
GZIP_MIN_BYTES = 1024


class Entry(NamedTuple):
    stamp: str | None
    body: bytes
    etag: str
    gz_body: bytes | None
    gz_etag: str | None
    # With CATALOG_ACCEL_URL: the files nginx sends for this entry (see ``accel``).
    file: accel.File | None = None
    gz_file: accel.File | None = None


_cache: dict[str, Entry] = {}
_state_sql: dict[str, str] = {}


def clear_cache():
    """Forget every kept response of this process (tests; never needed in production)."""
    _cache.clear()


def current_stamp(using: str = DEFAULT_DB_ALIAS) -> str | None:
    """The catalog stamp, with one raw query (the ORM would cost more than the query)."""
    connection = connections[using]
    sql = _state_sql.get(using)
    if sql is None:
        table = connection.ops.quote_name(CatalogState._meta.db_table)
        sql = _state_sql[using] = f"SELECT stamp FROM {table} WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else None


def bump_catalog_version(using: str = DEFAULT_DB_ALIAS) -> None:
    """Mark the catalog as changed. Call it inside the writing transaction."""
    stamp = secrets.token_hex(16)
    updated = CatalogState.objects.using(using).filter(pk=1).update(version=F("version") + 1, stamp=stamp)
    if not updated:  # the row is missing (flushed database): recreate it
        CatalogState.objects.using(using).update_or_create(pk=1, defaults={"stamp": stamp})


# --- the bodies ------------------------------------------------------------------------


def dumps(data) -> bytes:
    """JSON exactly as DRF's JSONRenderer writes it (compact, UTF-8, no NaN)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # DRF escapes these two so the output is also valid JavaScript.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


PRODUCT_FIELDS = ("id", "name", "weight", "description", "image_name")
REVIEW_FIELDS = ("id", "title", "name", "date", "feedback")


def product_rows():
    return [dict(zip(PRODUCT_FIELDS, row)) for row in Product.objects.order_by("id").values_list(*PRODUCT_FIELDS)]


def review_rows():
    rows = []
    for row in Review.objects.order_by("-date", "-id").values_list(*REVIEW_FIELDS):
        item = dict(zip(REVIEW_FIELDS, row))
        item["date"] = item["date"].isoformat()
        rows.append(item)
    return rows


def image_rows():
    """Every stored image, sorted by name in code-point order (the same on every database)."""
    from catalog_site.shop.images import image_url

    rows = [
        {"name": name, "size": size, "sha256": sha256, "url": image_url(name)}
        for name, size, sha256 in StoredImage.objects.values_list("name", "size", "sha256")
    ]
    rows.sort(key=lambda row: row["name"])
    return rows


def build_images_json() -> bytes:
    return dumps(image_rows())


def build_products_json() -> bytes:
    return dumps(product_rows())


def build_reviews_json() -> bytes:
    return dumps(review_rows())


def build_storefront_html() -> bytes:
    products = product_rows()
    reviews = review_rows()
    html = render_to_string(
        "shop/storefront.html",
        {
            "site_title": settings.CATALOG_SITE_TITLE,
            "products": products,
            "reviews": reviews,
            "images_url": f"{settings.MEDIA_URL}images/",
        },
    )
    return html.encode("utf-8")


# --- serving ---------------------------------------------------------------------------


def _make_entry(key: str, stamp: str | None, body: bytes, suffix: str) -> Entry:
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    gz_body = gz_etag = None
    if len(body) >= GZIP_MIN_BYTES:
        gz_body = gzip.compress(body, compresslevel=6, mtime=0)
        gz_etag = f'"{digest}-gz"'
    file = gz_file = None
    if stamp is not None and accel.enabled():
        file = accel.publish(key, digest, suffix, body)
        if gz_body is not None and file is not None:
            gz_file = accel.publish(key, digest, suffix + ".gz", gz_body)
        accel.clean(key, keep={f.name for f in (file, gz_file) if f is not None})
    return Entry(stamp, body, f'"{digest}"', gz_body, gz_etag, file, gz_file)


def get_entry(key: str, build: Callable[[], bytes], suffix: str = ".json", using: str = DEFAULT_DB_ALIAS) -> Entry:
    stamp = current_stamp(using)
    entry = _cache.get(key)
    if entry is not None and stamp is not None and entry.stamp == stamp:
        return entry
    entry = _make_entry(key, stamp, build(), suffix)
    if stamp is not None:
        _cache[key] = entry
    return entry


def accepts_gzip(header: str) -> bool:
    if "gzip" not in header:
        return False
    for item in header.split(","):
        coding, _sep, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            params = params.replace(" ", "").lower()
            return params not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/`` prefixes are ignored, ``*`` matches."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def serve(
    request,
    key: str,
    build: Callable[[], bytes],
    content_type: str,
    vary: str = "Accept-Encoding",
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """A 200 (or 304) for GET/HEAD from the bytes kept for ``key``: the body itself, or, with
    ``CATALOG_ACCEL_URL``, an empty answer whose ``X-Accel-Redirect`` makes nginx send the
    file holding those bytes (same headers, same ETag)."""
    entry = get_entry(key, build, ".html" if content_type == HTML else ".json")
    use_gzip = entry.gz_body is not None and accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", ""))
    etag = entry.gz_etag if use_gzip else entry.etag
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match and etag_matches(if_none_match, etag):
        response = HttpResponseNotModified()
    else:
        body = entry.gz_body if use_gzip else entry.body
        file = entry.gz_file if use_gzip else entry.file
        if file is not None and accel.requested(request) and accel.ensure(file, body):
            response = HttpResponse(b"", content_type=content_type)
            response["X-Accel-Redirect"] = file.url
            response["Content-Length"] = "0"
        else:
            response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=content_type)
            response["Content-Length"] = str(len(body))
        if use_gzip:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    # Caches may keep it but must ask every time: a write shows up on the next request.
    response["Cache-Control"] = "no-cache"
    response["Vary"] = vary
    # FastReadMiddleware answers before XFrameOptionsMiddleware: same header, set here.
    response["X-Frame-Options"] = "DENY"
    if headers:
        for name, value in headers.items():
            response[name] = value
    return response
