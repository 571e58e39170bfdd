"""The image index: GET /images/, GET/DELETE /images/<name>, upload with replace=false,
catalog-manage index_images, and the catalog version they bump."""

import hashlib
import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog_site.shop import fastpath
from catalog_site.shop.models import CatalogState, Product, StoredImage
from tests.helpers import WATERMELON, make_image, post_json

pytestmark = pytest.mark.django_db

RED = make_image("JPEG", color=(200, 20, 20))
GREEN = make_image("JPEG", color=(20, 200, 20))


def upload(client, name, content, replace=None, **extra):
    data = {"file": SimpleUploadedFile(name, content)}
    if replace is not None:
        data["replace"] = replace
    return client.post("/upload/", data, **extra)


def version():
    return CatalogState.objects.get(pk=1).version


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- GET /images/ ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/images/", "/images"])
def test_empty_index_is_an_empty_json_list(client, media_root, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == []
    assert response["ETag"] and response["Cache-Control"] == "no-cache"


def test_index_lists_every_upload_sorted_by_name_with_size_sha256_and_url(client, auth, media_root):
    for name, data in (("b.jpeg", RED), ("a b.jpeg", GREEN), ("Äpfel.jpeg", RED), ("001.jpeg", GREEN)):
        assert upload(client, name, data, **auth).status_code == 201
    listed = client.get("/images/").json()
    assert [item["name"] for item in listed] == ["001.jpeg", "a b.jpeg", "b.jpeg", "Äpfel.jpeg"]  # code points
    assert listed[0] == {"name": "001.jpeg", "size": len(GREEN), "sha256": sha(GREEN), "url": "/media/images/001.jpeg"}
    assert listed[1]["url"] == "/media/images/a%20b.jpeg"
    assert listed[3]["url"] == "/media/images/%C3%84pfel.jpeg"
    assert client.get(listed[1]["url"]).status_code == 200  # the URL finds the file


def test_index_is_public_and_read_only(client, auth, media_root):
    assert client.get("/images/").status_code == 200
    response = client.post("/images/", {}, **auth)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_index_has_etag_304_gzip_and_head(client, auth, media_root):
    StoredImage.objects.bulk_create(StoredImage(name=f"{i:03}.jpeg", size=i, sha256="0" * 64) for i in range(50))
    fastpath.bump_catalog_version()
    first = client.get("/images/")
    assert client.get("/images/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    zipped = client.get("/images/", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    head = client.head("/images/")
    assert head.content == b"" and head["Content-Length"] == str(len(first.content))


def test_a_thousand_images_in_one_response_and_one_query_when_unchanged(client, django_assert_num_queries):
    StoredImage.objects.bulk_create(
        StoredImage(name=f"{i:04}.jpeg", size=1000 + i, sha256=f"{i:064x}") for i in range(1000)
    )
    fastpath.bump_catalog_version()
    with django_assert_num_queries(2):  # the version, then the index: built once
        assert len(client.get("/images/").json()) == 1000
    with django_assert_num_queries(1):  # the version check only
        assert len(client.get("/images/").json()) == 1000


def test_uploads_change_the_index_on_the_next_read(client, auth, media_root):
    assert client.get("/images/").json() == []  # cached now
    upload(client, "a.jpeg", RED, **auth)
    assert [i["sha256"] for i in client.get("/images/").json()] == [sha(RED)]
    upload(client, "a.jpeg", GREEN, **auth)  # replaced
    assert [i["sha256"] for i in client.get("/images/").json()] == [sha(GREEN)]


def test_created_and_replaced_bump_the_version_unchanged_does_not(client, auth, media_root):
    start = version()
    upload(client, "a.jpeg", RED, **auth)
    assert version() == start + 1
    upload(client, "a.jpeg", RED, **auth)
    assert version() == start + 1  # unchanged: nothing to rebuild
    upload(client, "a.jpeg", GREEN, **auth)
    assert version() == start + 2


def test_one_image(client, auth, media_root):
    upload(client, "a.jpeg", RED, **auth)
    response = client.get("/images/a.jpeg")
    assert response.status_code == 200
    assert response.json() == {"name": "a.jpeg", "size": len(RED), "sha256": sha(RED), "url": "/media/images/a.jpeg"}
    assert client.get("/images/a.jpeg/").status_code == 200
    missing = client.get("/images/none.jpeg")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


# --- POST /upload/ replace=false --------------------------------------------------------------


@pytest.mark.parametrize("flag", ["false", "0", "no", "False", "NO", "off"])
def test_replace_false_refuses_other_content_409_and_keeps_the_file(client, auth, media_root, flag):
    upload(client, "001.jpeg", RED, **auth)
    stored = media_root / "images" / "001.jpeg"
    os.utime(stored, (1_000_000_000, 1_000_000_000))
    start = version()
    response = upload(client, "001.jpeg", GREEN, replace=flag, **auth)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "name_taken"
    assert body["sha256"] == sha(RED)
    assert body["name"] == "001.jpeg"
    assert "001.jpeg" in body["detail"]
    assert stored.read_bytes() == RED and stored.stat().st_mtime == 1_000_000_000
    assert StoredImage.objects.get(name="001.jpeg").sha256 == sha(RED)
    assert version() == start
    assert sorted(os.listdir(media_root / "images")) == ["001.jpeg"]  # no temporary file left


def test_replace_false_same_content_is_unchanged_200(client, auth, media_root):
    upload(client, "001.jpeg", RED, **auth)
    response = upload(client, "001.jpeg", RED, replace="false", **auth)
    assert response.status_code == 200
    assert response.json()["result"] == "unchanged"


def test_replace_false_new_name_is_created_201(client, auth, media_root):
    response = upload(client, "002.jpeg", RED, replace="false", **auth)
    assert response.status_code == 201
    assert response.json()["result"] == "created"


@pytest.mark.parametrize("flag", [None, "", "true", "1", "yes", "on"])
def test_replace_true_is_the_default_and_replaces(client, auth, media_root, flag):
    upload(client, "001.jpeg", RED, **auth)
    response = upload(client, "001.jpeg", GREEN, replace=flag, **auth)
    assert response.status_code == 200
    assert response.json()["result"] == "replaced"
    assert (media_root / "images" / "001.jpeg").read_bytes() == GREEN


@pytest.mark.parametrize("flag", ["maybe", "2", "tru", "false false"])
def test_bad_replace_value_is_400_and_nothing_is_written(client, auth, media_root, flag):
    response = upload(client, "001.jpeg", RED, replace=flag, **auth)
    assert response.status_code == 400
    assert "replace" in response.json()
    assert not (media_root / "images" / "001.jpeg").exists()


def test_replace_false_protects_a_file_the_index_does_not_know(client, auth, media_root):
    """A site from before the index (or a file copied in by hand): its content counts."""
    (media_root / "images").mkdir()
    (media_root / "images" / "001.jpeg").write_bytes(RED)
    response = upload(client, "001.jpeg", GREEN, replace="false", **auth)
    assert response.status_code == 409
    assert response.json()["sha256"] == sha(RED)
    assert (media_root / "images" / "001.jpeg").read_bytes() == RED
    # same content: unchanged, and now indexed
    assert upload(client, "001.jpeg", RED, replace="false", **auth).json()["result"] == "unchanged"
    assert [i["name"] for i in client.get("/images/").json()] == ["001.jpeg"]


def test_an_indexed_image_whose_file_went_missing_is_written_again(client, auth, media_root):
    upload(client, "001.jpeg", RED, **auth)
    (media_root / "images" / "001.jpeg").unlink()
    response = upload(client, "001.jpeg", RED, replace="false", **auth)
    assert response.status_code == 201
    assert response.json()["result"] == "created"
    assert (media_root / "images" / "001.jpeg").read_bytes() == RED


def test_a_directory_under_the_name_is_409_not_a_file(client, auth, media_root):
    (media_root / "images" / "dir.jpeg").mkdir(parents=True)
    response = upload(client, "dir.jpeg", RED, **auth)
    assert response.status_code == 409
    assert response.json()["code"] == "not_a_file"
    assert not StoredImage.objects.exists()


# --- DELETE /images/<name> ---------------------------------------------------------------------


def test_delete_removes_file_and_entry_204(client, auth, media_root):
    upload(client, "a.jpeg", RED, **auth)
    client.get("/images/")  # cached
    start = version()
    response = client.delete("/images/a.jpeg", **auth)
    assert response.status_code == 204
    assert not (media_root / "images" / "a.jpeg").exists()
    assert not StoredImage.objects.exists()
    assert version() == start + 1
    assert client.get("/images/").json() == []
    assert client.delete("/images/a.jpeg", **auth).status_code == 404


def test_delete_with_trailing_slash(client, auth, media_root):
    upload(client, "a.jpeg", RED, **auth)
    assert client.delete("/images/a.jpeg/", **auth).status_code == 204


def test_delete_missing_is_404(client, auth, media_root):
    response = client.delete("/images/none.jpeg", **auth)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_delete_needs_the_token(client, token, media_root):
    upload(client, "a.jpeg", RED, HTTP_AUTHORIZATION=f"Token {token}")
    assert client.delete("/images/a.jpeg").status_code == 401
    assert client.delete("/images/a.jpeg", HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401
    assert (media_root / "images" / "a.jpeg").exists()


def test_session_login_cannot_delete(client, django_user_model, auth, media_root):
    upload(client, "a.jpeg", RED, **auth)
    client.force_login(django_user_model.objects.create_user("clerk", password="a-long-test-password"))
    assert client.delete("/images/a.jpeg").status_code == 401


def test_delete_of_an_image_in_use_is_409_naming_the_product(client, auth, media_root):
    upload(client, "010.jpeg", RED, **auth)
    post_json(client, "/fruits/", {**WATERMELON, "name": "Apple"}, **auth)
    response = client.delete("/images/010.jpeg", **auth)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "in_use"
    assert "used by product 'Apple'" in body["detail"]
    assert body["products"] == ["Apple"]
    assert (media_root / "images" / "010.jpeg").read_bytes() == RED
    assert StoredImage.objects.filter(name="010.jpeg").exists()
    Product.objects.all().delete()
    assert client.delete("/images/010.jpeg", **auth).status_code == 204


def test_in_use_lists_at_most_five_products(client, auth, media_root):
    upload(client, "010.jpeg", RED, **auth)
    for number in range(7):
        post_json(client, "/fruits/", {**WATERMELON, "name": f"Melon {number}"}, **auth)
    body = client.delete("/images/010.jpeg", **auth).json()
    assert body["products"] == [f"Melon {number}" for number in range(5)]
    assert "and others" in body["detail"]


def test_delete_of_a_file_the_index_does_not_know(client, auth, media_root):
    (media_root / "images").mkdir()
    (media_root / "images" / "old.jpeg").write_bytes(RED)
    assert client.delete("/images/old.jpeg", **auth).status_code == 204
    assert not (media_root / "images" / "old.jpeg").exists()


def test_delete_of_a_directory_is_refused(client, auth, media_root):
    (media_root / "images" / "dir.jpeg").mkdir(parents=True)
    response = client.delete("/images/dir.jpeg", **auth)
    assert response.status_code == 409
    assert response.json()["code"] == "not_a_file"
    assert (media_root / "images" / "dir.jpeg").is_dir()


@pytest.mark.parametrize(
    "path",
    [
        "/images/..",
        "/images/../db.sqlite3",
        "/images/..%2Fdb.sqlite3",
        "/images/..%2F..%2Fsecret.txt",
        "/images/%2e%2e%2Fsecret.txt",
        "/images/a%2Fb.jpeg",
        "/images/sub/a.jpeg",
        "/images/.hidden.jpeg",
        "/images/.upload-x.part",
        "/images/a%5C..%5Csecret.txt",
        "/images/a%00.jpeg",
        "/images/a%1B.jpeg",
        "/images/%20a.jpeg",
    ],
)
def test_unsafe_names_are_refused_400_and_nothing_outside_is_touched(client, auth, media_root, path):
    secret = media_root.parent / "secret.txt"
    secret.write_text("keep me")
    (media_root / "images" / "sub").mkdir(parents=True)
    (media_root / "images" / "sub" / "a.jpeg").write_bytes(RED)
    (media_root / "images" / ".hidden.jpeg").write_bytes(RED)
    response = client.delete(path, **auth)
    assert response.status_code == 400, (path, response.status_code, response.content)
    assert response.json()["code"] == "invalid_name"
    assert secret.read_text() == "keep me"
    assert (media_root / "images" / "sub" / "a.jpeg").exists()
    assert (media_root / "images" / ".hidden.jpeg").exists()
    assert client.get(path).status_code == 400


def test_product_save_and_image_delete_do_not_interleave(client, auth, media_root):
    """The product's transaction locks the image's index row (PostgreSQL: SELECT ... FOR
    UPDATE; SQLite: the write lock) so a delete sees the product or the product is refused
    nothing: here, in order, the delete after the product must refuse."""
    upload(client, "010.jpeg", RED, **auth)
    assert post_json(client, "/fruits/", WATERMELON, **auth).status_code == 201
    assert client.delete("/images/010.jpeg", **auth).status_code == 409


# --- catalog-manage index_images ------------------------------------------------------------------


def run_index(*args):
    from io import StringIO

    out = StringIO()
    call_command("index_images", *args, stdout=out)
    return json.loads(out.getvalue())


def test_index_images_adds_updates_removes_and_skips(media_root):
    images = media_root / "images"
    images.mkdir()
    (images / "001.jpeg").write_bytes(RED)
    (images / "002.png").write_bytes(GREEN)
    (images / ".upload-abc.part").write_bytes(b"partial")
    (images / "notes.txt").write_text("not an image")
    (images / "link.jpeg").symlink_to(images / "001.jpeg")
    (images / "folder.jpeg").mkdir()
    start = version()
    first = run_index()
    assert (first["added"], first["updated"], first["removed"], first["unchanged"], first["changed"]) == (
        2,
        0,
        0,
        0,
        True,
    )
    assert {item["name"] for item in first["skipped"]} == {"notes.txt", "link.jpeg", "folder.jpeg"}
    assert version() == start + 1
    assert {(r.name, r.size, r.sha256) for r in StoredImage.objects.all()} == {
        ("001.jpeg", len(RED), sha(RED)),
        ("002.png", len(GREEN), sha(GREEN)),
    }
    again = run_index()
    assert (again["unchanged"], again["changed"]) == (2, False)
    assert version() == start + 1

    (images / "001.jpeg").write_bytes(GREEN)
    (images / "002.png").unlink()
    dry = run_index("--dry-run")
    assert (dry["updated"], dry["removed"], dry["changed"]) == (1, 1, False)
    assert StoredImage.objects.count() == 2  # untouched
    done = run_index()
    assert (done["updated"], done["removed"], done["changed"]) == (1, 1, True)
    assert list(StoredImage.objects.values_list("name", "sha256")) == [("001.jpeg", sha(GREEN))]


def test_index_images_on_a_site_without_images(media_root):
    assert run_index()["changed"] is False
