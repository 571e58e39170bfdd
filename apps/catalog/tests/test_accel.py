"""X-Accel-Redirect: the cached bodies as files that nginx sends (CATALOG_ACCEL_URL)."""

import gzip
import os
import re
import time
from pathlib import Path

import pytest

from catalog_site.shop import accel, fastpath
from catalog_site.shop.models import Product
from tests.helpers import WATERMELON, post_json

pytestmark = pytest.mark.django_db

TEMPLATE = Path(__file__).resolve().parents[3] / "roles" / "webserver" / "templates" / "nginx-catalog.conf.j2"


@pytest.fixture
def client(client):
    """A client whose requests come "through nginx": X-Catalog-Accel: on."""
    client.defaults["HTTP_X_CATALOG_ACCEL"] = "on"
    return client


@pytest.fixture
def accel_dir(settings, tmp_path):
    directory = tmp_path / "accel"
    settings.CATALOG_ACCEL_URL = "/_accel/"
    settings.CATALOG_ACCEL_DIR = directory
    accel._warned.clear()
    yield directory
    accel._warned.clear()


def add_products(count):
    Product.objects.bulk_create(
        Product(name=f"Fruit {i}", weight=i, description=f"Description {i}", image_name=f"{i:03}.jpeg")
        for i in range(count)
    )
    fastpath.bump_catalog_version()


def file_of(response, directory):
    target = response["X-Accel-Redirect"]
    assert target.startswith("/_accel/")
    return directory / target[len("/_accel/") :]


@pytest.mark.parametrize(
    "path, key, suffix",
    [
        ("/fruits/", "fruits", ".json"),
        ("/", "storefront", ".html"),
        ("/feedback/", "feedback", ".json"),
        ("/images/", "images", ".json"),
    ],
)
def test_a_200_is_an_empty_redirect_to_a_file_with_the_same_bytes(client, accel_dir, path, key, suffix):
    add_products(30)
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == "0"
    stored = file_of(response, accel_dir)
    assert re.fullmatch(rf"{key}-[0-9a-f]{{24}}{re.escape(suffix)}", stored.name)
    assert stored.stat().st_mode & 0o777 == 0o644  # nginx, another user, reads it
    assert stored.read_bytes() == fastpath.get_entry(key, lambda: b"unused").body
    assert response["ETag"] == '"%s"' % stored.name[len(key) + 1 : -len(suffix)]
    assert response["Cache-Control"] == "no-cache"


def test_the_file_is_what_drf_renders(client, accel_dir):
    add_products(20)
    stored = file_of(client.get("/fruits/"), accel_dir)
    assert stored.read_bytes() == client.get("/fruits/?format=json").content


def test_gzip_redirects_to_the_gzip_file(client, accel_dir):
    add_products(50)
    plain = file_of(client.get("/fruits/"), accel_dir).read_bytes()
    response = client.get("/fruits/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip"
    stored = file_of(response, accel_dir)
    assert stored.name.endswith(".json.gz")
    assert gzip.decompress(stored.read_bytes()) == plain
    assert response["ETag"].endswith('-gz"')


def test_304_and_head(client, accel_dir):
    add_products(5)
    first = client.get("/fruits/")
    again = client.get("/fruits/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and "X-Accel-Redirect" not in again
    head = client.head("/fruits/")
    assert head["X-Accel-Redirect"] == first["X-Accel-Redirect"]


def test_a_write_gives_a_new_file_and_the_old_one_stays_for_the_grace_period(client, auth, accel_dir):
    add_products(3)
    old = file_of(client.get("/fruits/"), accel_dir)
    post_json(client, "/fruits/", WATERMELON, **auth)
    new = file_of(client.get("/fruits/"), accel_dir)
    assert new != old
    assert b"Watermelon" in new.read_bytes()
    assert old.exists()  # a request that read the old version a moment ago may still hand it to nginx


def test_files_unused_for_the_grace_period_are_removed_on_the_next_version(client, auth, accel_dir):
    add_products(3)
    old = file_of(client.get("/fruits/"), accel_dir)
    stale_temp = accel_dir / ".tmp-crashed"
    stale_temp.write_bytes(b"half")
    other_key = file_of(client.get("/feedback/"), accel_dir)
    past = time.time() - accel.GRACE_SECONDS - 5
    for path in (old, stale_temp, other_key):
        os.utime(path, (past, past))
    post_json(client, "/fruits/", WATERMELON, **auth)
    new = file_of(client.get("/fruits/"), accel_dir)
    assert new.exists()
    assert not old.exists() and not stale_temp.exists()
    assert other_key.exists()  # /feedback/'s file is cleaned when /feedback/ changes, not before


def test_the_current_file_is_never_removed_however_old(client, auth, accel_dir):
    """Content that flips back (a product added, then deleted) reuses the older file: its mtime
    is refreshed, so another worker's clean-up keeps it."""
    add_products(2)
    first = file_of(client.get("/fruits/"), accel_dir)
    past = time.time() - accel.GRACE_SECONDS - 5
    os.utime(first, (past, past))
    created = post_json(client, "/fruits/", WATERMELON, **auth).json()
    client.get("/fruits/")
    client.delete(f"/fruits/{created['id']}/", **auth)
    again = file_of(client.get("/fruits/"), accel_dir)
    assert again == first and again.exists()
    assert again.stat().st_mtime > past + 1


def test_a_removed_file_is_written_again_on_the_next_request(client, accel_dir):
    add_products(3)
    stored = file_of(client.get("/fruits/"), accel_dir)
    content = stored.read_bytes()
    stored.unlink()
    assert file_of(client.get("/fruits/"), accel_dir).read_bytes() == content


def test_no_temporary_files_are_left(client, accel_dir):
    add_products(40)
    for path in ("/", "/fruits/", "/feedback/", "/images/"):
        client.get(path)
        client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert not [p for p in os.listdir(accel_dir) if p.startswith(".")]


def test_an_unwritable_directory_falls_back_to_sending_the_bytes(client, settings, tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the directory should be")
    settings.CATALOG_ACCEL_URL = "/_accel/"
    settings.CATALOG_ACCEL_DIR = blocker / "accel"
    accel._warned.clear()
    add_products(3)
    response = client.get("/fruits/")
    assert response.status_code == 200
    assert "X-Accel-Redirect" not in response
    assert len(response.json()) == 3
    assert "X-Accel-Redirect off" in caplog.text


@pytest.mark.parametrize("value", [None, "", "off", "1"])
def test_without_nginx_saying_so_the_bytes_come_from_gunicorn(client, accel_dir, value):
    """A request straight to gunicorn, or through an nginx that has no /_accel/ location (yet):
    an X-Accel-Redirect would be an empty page there."""
    add_products(3)
    if value is None:
        del client.defaults["HTTP_X_CATALOG_ACCEL"]
    else:
        client.defaults["HTTP_X_CATALOG_ACCEL"] = value
    response = client.get("/fruits/")
    assert "X-Accel-Redirect" not in response
    assert len(response.json()) == 3


def test_without_the_setting_the_bytes_come_from_gunicorn(client, settings, tmp_path):
    settings.CATALOG_ACCEL_URL = ""
    settings.CATALOG_ACCEL_DIR = tmp_path / "accel"
    add_products(3)
    response = client.get("/fruits/")
    assert "X-Accel-Redirect" not in response
    assert len(response.json()) == 3
    assert not (tmp_path / "accel").exists()


def test_nginx_passes_every_header_the_fast_path_sets(client, accel_dir, settings):
    """nginx drops an X-Accel-Redirect answer's headers except Content-Type and Cache-Control
    (and a few others): its internal location adds each one back. The role's template must list
    exactly accel.PASSED_HEADERS, and every header the fast path sets must be among them."""
    template = TEMPLATE.read_text()
    block = re.search(r"location /_accel/ \{(.*?)\n    \}", template, re.S)
    assert block, "the internal X-Accel location is missing from the nginx template"
    assert "internal;" in block.group(1)
    assert "proxy_set_header X-Catalog-Accel {{ 'on' if webserver_accel_redirect" in template
    passed = re.findall(r"add_header\s+(\S+)\s+\$upstream_http_(\S+);", block.group(1))
    assert {name for name, _var in passed} == set(accel.PASSED_HEADERS)
    for name, variable in passed:
        assert variable == name.lower().replace("-", "_")

    settings.SECURE_HSTS_SECONDS = 3600  # as in production (TLS on)
    settings.SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    add_products(50)
    copied_by_nginx = {"content-type", "cache-control", "x-accel-redirect", "content-length"}
    for path in ("/", "/fruits/", "/images/"):
        for extra in ({}, {"HTTP_ACCEPT_ENCODING": "gzip"}):
            response = client.get(path, secure=True, **extra)
            assert "X-Accel-Redirect" in response
            names = {name.lower() for name in response.headers}
            assert names - copied_by_nginx <= {name.lower() for name in accel.PASSED_HEADERS}, path


def test_a_burst_of_versions_keeps_the_directory_small(client, auth, accel_dir):
    """One version per write while visitors read: files older than 2 s beyond the 8 newest go
    at once; younger ones stay (a request may be handing one to nginx right now)."""
    add_products(2)
    client.get("/fruits/")
    now = time.time()
    for number in range(20):
        made = accel_dir / f"fruits-{number:024x}.json"
        made.write_bytes(b"[]")
        os.utime(made, (now - 5 - number, now - 5 - number))  # 5-24 s old: inside the grace period
    young = accel_dir / ("fruits-" + "f" * 24 + ".json")
    young.write_bytes(b"[]")
    post_json(client, "/fruits/", WATERMELON, **auth)
    current = file_of(client.get("/fruits/"), accel_dir)
    left = sorted(p.name for p in accel_dir.iterdir() if p.name.startswith("fruits-") and p.name.endswith(".json"))
    assert current.name in left and young.name in left
    old_left = [name for name in left if name not in (current.name, young.name)]
    # the 8 newest besides the current one: the young file, the previous version, and 6 of ours
    assert len(old_left) <= 7
    assert f"fruits-{0:024x}.json" in old_left  # the newest of the burst
    assert f"fruits-{19:024x}.json" not in old_left  # the oldest went
