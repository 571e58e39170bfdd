"""/upload/: images stored as /media/images/<name>."""

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.helpers import make_image

pytestmark = pytest.mark.django_db


def multipart(filename, content, field="file", content_type="application/octet-stream"):
    """A multipart body with the file name exactly as given (Django's test client would
    take its basename, hiding what a hostile client can send)."""
    boundary = "----catalogtestboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client, name, content, **extra):
    return client.post("/upload/", {"file": SimpleUploadedFile(name, content)}, **extra)


def raw_upload(client, filename, content, **extra):
    body, content_type = multipart(filename, content)
    return client.generic("POST", "/upload/", body, content_type=content_type, **extra)


def test_upload_creates_the_file_201(client, auth, media_root, png_bytes):
    response = upload(client, "icon.sheet.png", png_bytes, **auth)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "name": "icon.sheet.png",
        "url": "/media/images/icon.sheet.png",
        "size": len(png_bytes),
        "sha256": hashlib.sha256(png_bytes).hexdigest(),
        "result": "created",
    }
    stored = media_root / "images" / "icon.sheet.png"
    assert stored.read_bytes() == png_bytes
    assert stored.stat().st_mode & 0o777 == 0o644  # readable by nginx
    served = client.get("/media/images/icon.sheet.png")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes


def test_upload_without_trailing_slash(client, auth, media_root, jpeg_bytes):
    response = client.post("/upload", {"file": SimpleUploadedFile("001.jpeg", jpeg_bytes)}, **auth)
    assert response.status_code == 201


def test_same_content_again_changes_nothing(client, auth, media_root, png_bytes):
    upload(client, "a.png", png_bytes, **auth)
    stored = media_root / "images" / "a.png"
    os.utime(stored, (1_000_000_000, 1_000_000_000))
    response = upload(client, "a.png", png_bytes, **auth)
    assert response.status_code == 200
    assert response.json()["result"] == "unchanged"
    assert stored.stat().st_mtime == 1_000_000_000  # not rewritten
    assert sorted(os.listdir(media_root / "images")) == ["a.png"]


def test_different_content_replaces_under_the_same_name(client, auth, media_root):
    first, second = make_image("PNG", color=(1, 2, 3)), make_image("PNG", color=(9, 9, 9))
    upload(client, "a.png", first, **auth)
    response = upload(client, "a.png", second, **auth)
    assert response.status_code == 200
    assert response.json()["result"] == "replaced"
    assert (media_root / "images" / "a.png").read_bytes() == second
    # never "a_Xy12abc.png", and no temporary file left behind
    assert sorted(os.listdir(media_root / "images")) == ["a.png"]


def test_missing_file_field_is_400_empty_content(client, auth, media_root):
    response = client.post("/upload/", {"other": "x"}, **auth)
    assert response.status_code == 400
    assert response.json()["detail"] == "Empty content"
    response = client.post("/upload/", **auth)  # no body at all
    assert response.status_code == 400
    assert response.json()["detail"] == "Empty content"


def test_file_under_another_field_name_is_empty_content(client, auth, media_root, png_bytes):
    response = client.post("/upload/", {"image": SimpleUploadedFile("a.png", png_bytes)}, **auth)
    assert response.status_code == 400
    assert response.json()["detail"] == "Empty content"


def test_two_files_are_refused(client, auth, media_root, png_bytes):
    files = [SimpleUploadedFile("a.png", png_bytes), SimpleUploadedFile("b.png", png_bytes)]
    response = client.post("/upload/", {"file": files}, **auth)
    assert response.status_code == 400
    assert not (media_root / "images").exists()


def test_no_token_401_wrong_token_401(client, token, media_root, png_bytes):
    response = upload(client, "a.png", png_bytes)
    assert response.status_code == 401
    response = upload(client, "a.png", png_bytes, HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert response.status_code == 401
    assert not (media_root / "images").exists()


def test_session_login_cannot_upload(client, django_user_model, media_root, png_bytes):
    client.force_login(django_user_model.objects.create_user("clerk", password="a-long-test-password"))
    assert upload(client, "a.png", png_bytes).status_code == 401


def test_not_an_image_is_400(client, auth, media_root):
    response = upload(client, "fake.png", b"this is text, not a PNG\n" * 10, **auth)
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("Not a valid image: the content is not an image")
    assert not (media_root / "images" / "fake.png").exists()


def test_truncated_image_is_400(client, auth, media_root):
    jpeg = make_image("JPEG", size=(400, 300))
    response = upload(client, "cut.jpeg", jpeg[: len(jpeg) // 2], **auth)
    assert response.status_code == 400
    assert "damaged or truncated" in response.json()["file"][0]


def test_content_must_match_the_extension(client, auth, media_root, png_bytes):
    response = upload(client, "photo.jpeg", png_bytes, **auth)
    assert response.status_code == 400
    assert response.json() == {
        "file": ["Not a valid image: the content is PNG but the file name says JPEG; name the file after its content."]
    }


@pytest.mark.parametrize("name", ["page.html", "vector.svg", "script.js", "noextension", "archive.tar.gz"])
def test_non_image_extensions_are_400(client, auth, media_root, png_bytes, name):
    response = upload(client, name, png_bytes, **auth)  # even with real PNG content
    assert response.status_code == 400
    assert "the extension must be one of" in response.json()["file"][0]


def test_every_supported_format(client, auth, media_root):
    for fmt, name in [
        ("JPEG", "a.jpg"),
        ("PNG", "b.png"),
        ("GIF", "c.gif"),
        ("WEBP", "d.webp"),
        ("BMP", "e.bmp"),
        ("TIFF", "f.tiff"),
    ]:
        response = upload(client, name, make_image(fmt), **auth)
        assert response.status_code == 201, (name, response.content)


def test_empty_file_is_400(client, auth, media_root):
    response = raw_upload(client, "empty.png", b"", **auth)
    assert response.status_code == 400
    assert response.json() == {"file": ["The submitted file is empty."]}


def test_huge_upload_is_413(client, auth, media_root, settings):
    settings.CATALOG_MAX_UPLOAD_SIZE = 50_000
    big = make_image("BMP", size=(200, 200))  # ~120 kB
    assert len(big) > settings.CATALOG_MAX_UPLOAD_SIZE
    response = upload(client, "big.bmp", big, **auth)
    assert response.status_code == 413
    assert response.json() == {"detail": "Upload too large: the limit is 50000 bytes per image."}
    assert not (media_root / "images").exists()


def test_oversized_file_within_the_envelope_slack_is_413_too(client, auth, media_root, settings):
    big = make_image("BMP", size=(100, 100))  # ~30 kB, under limit + multipart slack
    settings.CATALOG_MAX_UPLOAD_SIZE = len(big) - 1
    response = upload(client, "big.bmp", big, **auth)
    assert response.status_code == 413


def test_default_limit_is_10_mib(settings):
    assert settings.CATALOG_MAX_UPLOAD_SIZE == 10 * 1024 * 1024


def test_too_many_pixels_is_400(client, auth, media_root, settings):
    settings.CATALOG_MAX_IMAGE_PIXELS = 1000
    response = upload(client, "wide.png", make_image("PNG", size=(100, 100)), **auth)
    assert response.status_code == 400
    assert "more than the limit of 1000 pixels" in response.json()["file"][0]


def test_decompression_bomb_is_400(client, auth, media_root, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    response = upload(client, "bomb.png", make_image("PNG", size=(100, 100)), **auth)
    assert response.status_code == 400
    assert "too many pixels" in response.json()["file"][0]


@pytest.mark.parametrize(
    "filename",
    [
        "../evil.png",
        "../../etc/cron.d/evil.png",
        "/etc/evil.png",
        "sub/dir.png",
        "..\\evil.png",
        "C:\\fakepath\\evil.png",
        "&#x2F;etc&#x2F;evil.png",  # HTML-escaped slashes, which Django unescapes
        "..",
        ".htaccess.png",
        "tab\there.png",
    ],
)
def test_unsafe_names_are_rejected_not_rewritten(client, auth, media_root, png_bytes, filename):
    response = raw_upload(client, filename, png_bytes, **auth)
    assert response.status_code == 400, response.content
    message = response.json()["file"][0]
    assert message.startswith("Invalid file name")
    assert list(media_root.rglob("*")) == []  # nothing written, not even under a "fixed" name
    assert not os.path.exists(os.path.join(media_root, "..", "evil.png"))


def test_unicode_and_spaces_in_names_are_fine(client, auth, media_root, png_bytes):
    response = raw_upload(client, "pêche blanche.png", png_bytes, **auth)
    assert response.status_code == 201, response.content
    assert (media_root / "images" / "pêche blanche.png").exists()


def test_name_too_long_is_400(client, auth, media_root, png_bytes):
    response = raw_upload(client, "a" * 300 + ".png", png_bytes, **auth)
    assert response.status_code == 400
    assert "longer than 255 bytes" in response.json()["file"][0]


def test_json_body_is_415(client, auth, media_root):
    response = client.post("/upload/", {"file": "x"}, content_type="application/json", **auth)
    assert response.status_code == 415


def test_get_is_405(client):
    assert client.get("/upload/").status_code == 405


def test_storage_never_renames(media_root, png_bytes):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    assert default_storage.save("images/x.png", ContentFile(png_bytes)) == "images/x.png"
    assert default_storage.save("images/x.png", ContentFile(b"other")) == "images/x.png"
    assert (media_root / "images" / "x.png").read_bytes() == b"other"
    assert default_storage.get_available_name("images/x.png") == "images/x.png"


def test_storage_refuses_paths_outside_media_root(media_root):
    from django.core.exceptions import SuspiciousFileOperation
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    with pytest.raises(SuspiciousFileOperation):
        default_storage.save("../outside.png", ContentFile(b"x"))


def test_pillow_gets_no_exotic_formats(client, auth, media_root):
    """EPS and friends would run external programs; only the listed formats are parsed."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    response = upload(client, "x.png", eps, **auth)
    assert response.status_code == 400
