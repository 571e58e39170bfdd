"""CATALOG_MEDIA_STORAGE=s3: uploaded images in a bucket of a real S3-compatible server (moto's
standalone server on 127.0.0.1; it stands in for S3 and enforces object ACLs for anonymous
GETs). /upload/ keeps the guarantees of the disk storage: the name kept as sent, the same
content changes nothing, a replacement is one PUT (a reader sees the old or the new object),
replace=false protects other content; the index (GET /images/, catalog-manage index_images)
reads the bucket; the endpoint down answers 503 and changes nothing."""

import hashlib
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.files.uploadedfile import SimpleUploadedFile

from ansible_collections.storeops.shop.tests.support.moto import free_port, moto_server
from catalog_site.shop.models import StoredImage
from tests.helpers import make_image
from tests.test_settings import manage, production_env_file

pytestmark = pytest.mark.django_db

KEY, SECRET = "AKIDCATALOGTESTKEY00", "catalog-test-secret"
RED = make_image("JPEG", color=(200, 20, 20))
GREEN = make_image("JPEG", color=(20, 200, 20))


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def s3_url(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


def client_for(url):
    return boto3.client(
        "s3", endpoint_url=url, aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name="us-east-1"
    )


def storage_options(url, bucket, **extra):
    return {
        "bucket_name": bucket,
        "location": "media",
        "endpoint_url": url,
        "region_name": "us-east-1",
        "access_key": KEY,
        "secret_key": SECRET,
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": "public-read",
        "querystring_auth": False,
        "object_parameters": {"CacheControl": "public, max-age=300"},
        **extra,
    }


@pytest.fixture
def bucket(settings, s3_url):
    """A fresh bucket, and the site's default storage pointed at it (as the settings module does
    for CATALOG_MEDIA_STORAGE=s3)."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3 = client_for(s3_url)
    s3.create_bucket(Bucket=name)
    settings.CATALOG_MEDIA_STORAGE = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "catalog_site.shop.storage.ReplacingS3Storage",
            "OPTIONS": storage_options(s3_url, name),
        },
    }
    return s3, name


def keys(s3, name):
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=name).get("Contents", []))


def anonymous_get(url):
    """GET without credentials: what nginx does when it proxies /media/ to the bucket."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def upload(client, name, content, auth, replace=None):
    data = {"file": SimpleUploadedFile(name, content)}
    if replace is not None:
        data["replace"] = replace
    return client.post("/upload/", data, **auth)


def test_upload_is_a_public_object_under_the_name_sent_with_its_sha256(client, auth, bucket, s3_url):
    s3, name = bucket
    response = upload(client, "001.jpeg", RED, auth)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "name": "001.jpeg",
        "url": "/media/images/001.jpeg",
        "size": len(RED),
        "sha256": sha(RED),
        "result": "created",
    }
    assert keys(s3, name) == ["media/images/001.jpeg"]
    head = s3.head_object(Bucket=name, Key="media/images/001.jpeg")
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == "public, max-age=300"
    assert head["Metadata"] == {"sha256": sha(RED)}
    status, body, _headers = anonymous_get(f"{s3_url}/{name}/media/images/001.jpeg")
    assert (status, body) == (200, RED)
    assert client.get("/images/").json() == [
        {"name": "001.jpeg", "size": len(RED), "sha256": sha(RED), "url": "/media/images/001.jpeg"}
    ]
    assert client.get("/healthz").json()["media_storage"] == "s3"


def test_same_content_again_is_unchanged_and_not_rewritten(client, auth, bucket):
    s3, name = bucket
    upload(client, "a.jpeg", RED, auth)
    before = s3.head_object(Bucket=name, Key="media/images/a.jpeg")
    time.sleep(1.1)  # a second PUT would move LastModified
    response = upload(client, "a.jpeg", RED, auth)
    assert response.status_code == 200
    assert response.json()["result"] == "unchanged"
    after = s3.head_object(Bucket=name, Key="media/images/a.jpeg")
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])


def test_other_content_replaces_the_same_key_never_a_new_name(client, auth, bucket, s3_url):
    s3, name = bucket
    upload(client, "a.jpeg", RED, auth)
    response = upload(client, "a.jpeg", GREEN, auth)
    assert response.status_code == 200
    assert response.json()["result"] == "replaced"
    assert keys(s3, name) == ["media/images/a.jpeg"]  # never a_Xy12abc.jpeg
    assert anonymous_get(f"{s3_url}/{name}/media/images/a.jpeg")[1] == GREEN
    assert s3.head_object(Bucket=name, Key="media/images/a.jpeg")["Metadata"]["sha256"] == sha(GREEN)


def test_replace_false_keeps_other_content_409(client, auth, bucket, s3_url):
    s3, name = bucket
    upload(client, "001.jpeg", RED, auth)
    response = upload(client, "001.jpeg", GREEN, auth, replace="false")
    assert response.status_code == 409
    assert response.json()["code"] == "name_taken"
    assert anonymous_get(f"{s3_url}/{name}/media/images/001.jpeg")[1] == RED
    assert upload(client, "001.jpeg", RED, auth, replace="false").json()["result"] == "unchanged"


def test_an_object_put_by_hand_without_metadata_is_protected_too(client, auth, bucket):
    """A bucket that already holds images (copied in with another tool) keeps them: replace=false
    reads the object's bytes once when it carries no sha256."""
    s3, name = bucket
    s3.put_object(Bucket=name, Key="media/images/old.jpeg", Body=RED, ContentType="image/jpeg")
    assert default_storage.sha256("images/old.jpeg") == sha(RED)
    response = upload(client, "old.jpeg", GREEN, auth, replace="false")
    assert response.status_code == 409
    assert response.json()["sha256"] == sha(RED)


def test_non_latin_names_are_kept(client, auth, bucket, s3_url):
    s3, name = bucket
    for image_name in ("Äpfel.jpeg", "жёлтый банан.jpeg", "トマト.jpeg"):
        response = upload(client, image_name, RED, auth)
        assert response.status_code == 201, response.content
        assert response.json()["url"] == f"/media/images/{quote(image_name)}"
        assert anonymous_get(f"{s3_url}/{name}/media/images/{quote(image_name)}")[0] == 200
    assert keys(s3, name) == sorted(f"media/images/{n}" for n in ("Äpfel.jpeg", "жёлтый банан.jpeg", "トマト.jpeg"))


def test_the_storage_refuses_a_name_outside_its_prefix_and_a_name_too_long(bucket):
    s3, name = bucket
    with pytest.raises(SuspiciousOperation):
        default_storage.save("../escape.jpeg", ContentFile(RED))
    with pytest.raises(SuspiciousOperation, match="too long"):
        default_storage.get_available_name("images/" + "a" * 300 + ".jpeg", max_length=100)
    assert keys(s3, name) == []


def test_delete_removes_the_object_and_the_row(client, auth, bucket):
    s3, name = bucket
    upload(client, "gone.jpeg", RED, auth)
    assert client.delete("/images/gone.jpeg", **auth).status_code == 204
    assert keys(s3, name) == []
    assert client.get("/images/gone.jpeg").status_code == 404


def test_index_images_reads_the_bucket(bucket):
    s3, name = bucket
    s3.put_object(Bucket=name, Key="media/images/b.jpeg", Body=GREEN)
    s3.put_object(Bucket=name, Key="media/images/.upload-x.part", Body=b"partial")
    s3.put_object(Bucket=name, Key="media/images/notes.txt", Body=b"text")
    s3.put_object(Bucket=name, Key="media/other/c.jpeg", Body=RED)  # not under images/
    call_command("index_images")
    rows = list(StoredImage.objects.values_list("name", "size", "sha256"))
    assert rows == [("b.jpeg", len(GREEN), sha(GREEN))]
    s3.delete_object(Bucket=name, Key="media/images/b.jpeg")
    call_command("index_images")
    assert not StoredImage.objects.exists()


def test_the_endpoint_down_is_a_503_and_nothing_changes(client, auth, settings, bucket):
    s3, name = bucket
    upload(client, "kept.jpeg", RED, auth)
    down = storage_options(f"http://127.0.0.1:{free_port()}", name)
    down["client_config"] = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "catalog_site.shop.storage.ReplacingS3Storage", "OPTIONS": down},
    }
    response = upload(client, "new.jpeg", GREEN, auth)
    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert response["Retry-After"] == "5"
    assert client.delete("/images/kept.jpeg", **auth).status_code == 503
    assert sorted(StoredImage.objects.values_list("name", flat=True)) == ["kept.jpeg"]  # rolled back
    assert keys(s3, name) == ["media/images/kept.jpeg"]


# --- the settings module with CATALOG_MEDIA_STORAGE=s3 (fresh processes) ---------------------


def test_settings_build_the_s3_storage_and_deploy_checks_stay_clean(tmp_path):
    env_file = production_env_file(
        tmp_path,
        CATALOG_MEDIA_STORAGE="s3",
        CATALOG_S3_BUCKET="shop-media",
        CATALOG_S3_ENDPOINT_URL="http://s3.lab:5000",
        CATALOG_S3_ACCESS_KEY=KEY,
        CATALOG_S3_SECRET_KEY=SECRET,
        CATALOG_S3_PREFIX="/media/",
    )
    script = (
        "from django.core.files.storage import storages; d = storages['default'];"
        "print(type(d).__name__, d.bucket_name, d.location, d.endpoint_url, d.default_acl, d.file_overwrite)"
    )
    result = manage("shell", "-v", "0", "-c", script, env_file=env_file)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "ReplacingS3Storage",
        "shop-media",
        "media",
        "http://s3.lab:5000",
        "public-read",
        "True",
    ]
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env_file=env_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"CATALOG_MEDIA_STORAGE": "s3"}, "CATALOG_MEDIA_STORAGE=s3 needs CATALOG_S3_BUCKET"),
        ({"CATALOG_MEDIA_STORAGE": "ftp"}, "CATALOG_MEDIA_STORAGE='ftp': expected filesystem or s3"),
        (
            {"CATALOG_MEDIA_STORAGE": "s3", "CATALOG_S3_BUCKET": "b", "CATALOG_S3_ADDRESSING_STYLE": "odd"},
            "CATALOG_S3_ADDRESSING_STYLE='odd'",
        ),
    ],
)
def test_bad_s3_settings_are_reported_clearly(tmp_path, extra, message):
    result = manage("check", env_file=production_env_file(tmp_path, **extra))
    assert result.returncode != 0
    assert message in result.stderr
