"""The read path: bytes kept per catalog version, ETags, one query per request, and a
write visible on the very next read - in this process and in any other."""

import gzip
import json

import pytest
from django.db import connection, transaction

from catalog_site.shop import fastpath
from catalog_site.shop.models import CatalogState, Product, Review
from tests.helpers import WATERMELON

pytestmark = pytest.mark.django_db


def add_products(count, start=0):
    Product.objects.bulk_create(
        Product(name=f"Fruit {i}", weight=i, description=f"Description {i}", image_name=f"{i:03}.jpeg")
        for i in range(start, start + count)
    )
    fastpath.bump_catalog_version()


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/plain, */*"])
def test_scripts_get_the_fast_path_with_an_etag(client, accept):
    add_products(3)
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get("/fruits/", **extra)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["ETag"].startswith('"')
    assert response["Cache-Control"] == "no-cache"
    assert response["Vary"] == "Accept, Accept-Encoding"
    assert len(response.json()) == 3


def test_fast_json_is_byte_for_byte_what_drf_renders(client):
    add_products(20)
    Product.objects.create(name="Pêche \u2028 <b>&", weight=3, description='quote " and \\ back', image_name="")
    fast = client.get("/fruits/").content
    drf = client.get("/fruits/?format=json").content  # query string: the DRF serializer path
    assert "ETag" not in client.get("/fruits/?format=json")
    assert fast == drf
    Review.objects.create(title="T", name="N", date="2020-01-02", feedback="F \u2029")
    assert client.get("/feedback/").content == client.get("/feedback/?format=json").content


def test_if_none_match_gets_304_without_a_body(client):
    add_products(3)
    first = client.get("/fruits/")
    again = client.get("/fruits/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert client.get("/fruits/", HTTP_IF_NONE_MATCH=f'W/{first["ETag"]}').status_code == 304
    assert client.get("/fruits/", HTTP_IF_NONE_MATCH=f'"other", {first["ETag"]}').status_code == 304
    assert client.get("/fruits/", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_etag_changes_with_a_write_and_the_old_one_gets_200(client, auth):
    add_products(2)
    old = client.get("/fruits/")["ETag"]
    post_json(client, "/fruits/", WATERMELON, **auth)
    response = client.get("/fruits/", HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200
    assert response["ETag"] != old
    assert "Watermelon" in [p["name"] for p in response.json()]


def test_etag_is_stable_across_processes_and_restarts(client):
    add_products(3)
    etag = client.get("/fruits/")["ETag"]
    fastpath.clear_cache()  # a freshly started worker
    assert client.get("/fruits/")["ETag"] == etag
    fastpath.bump_catalog_version()  # a version change without a content change
    assert client.get("/fruits/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_gzip_for_clients_that_accept_it(client):
    add_products(50)
    plain = client.get("/fruits/")
    zipped = client.get("/fruits/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] != plain["ETag"]
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(plain.content)
    assert "Content-Encoding" not in client.get("/fruits/", HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert client.get("/fruits/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code == 304


def test_head_has_the_headers_and_no_body(client):
    add_products(3)
    get = client.get("/fruits/")
    head = client.head("/fruits/")
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == str(len(get.content))
    assert head["ETag"] == get["ETag"]


def test_one_query_per_request_when_nothing_changed(client, django_assert_num_queries):
    add_products(100)
    with django_assert_num_queries(2):  # version + products: built once
        client.get("/fruits/")
    for _request in range(3):
        with django_assert_num_queries(1):  # the version check only
            assert len(client.get("/fruits/").json()) == 100


def test_write_in_this_process_is_visible_on_the_next_read(client, auth):
    assert client.get("/fruits/").json() == []
    post_json(client, "/fruits/", WATERMELON, **auth)
    assert [p["name"] for p in client.get("/fruits/").json()] == ["Watermelon"]
    assert b"Watermelon" in client.get("/").content


def test_write_by_another_process_is_visible_on_the_next_read(client):
    """Another worker writes: it commits the row and a new stamp, bypassing this
    process entirely (raw SQL, as another process's ORM would do). This process must
    serve the new data on its next request, with nothing but the database in common."""
    add_products(2)
    before = client.get("/fruits/").json()
    home_before = client.get("/").content
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO shop_product (name, weight, description, image_name) VALUES (%s, %s, %s, %s)",
            ["Made elsewhere", 7, "by another worker", "x.jpeg"],
        )
        cursor.execute("UPDATE shop_catalogstate SET version = version + 1, stamp = %s WHERE id = 1", ["f" * 32])
    after = client.get("/fruits/").json()
    assert len(after) == len(before) + 1 and after[-1]["name"] == "Made elsewhere"
    home_after = client.get("/").content
    assert home_after != home_before and b"Made elsewhere" in home_after


def test_kept_bytes_are_served_while_the_stamp_is_unchanged(client):
    """The other side of the contract: without a stamp change the process keeps serving
    what it built (that is the speed-up); writes that bypass the models must bump."""
    add_products(1)
    client.get("/fruits/")
    Product.objects.filter(pk=Product.objects.get().pk).update(weight=999)  # no signal
    assert client.get("/fruits/").json()[0]["weight"] == 0
    fastpath.bump_catalog_version()
    assert client.get("/fruits/").json()[0]["weight"] == 999


@pytest.mark.parametrize(
    "change",
    [
        lambda: Product.objects.create(name="New", weight=1, description="", image_name=""),
        lambda: Product.objects.filter(name="Fruit 0").first().delete(),
        lambda: Product.objects.filter(name__startswith="Fruit").delete(),  # queryset delete
        lambda: Review.objects.create(title="T", name="N", date="2020-01-01", feedback="F"),
    ],
)
def test_model_writes_outside_the_api_bump_the_version(client, change):
    add_products(2)
    version = CatalogState.objects.get(pk=1).version
    home = client.get("/").content
    change()
    assert CatalogState.objects.get(pk=1).version > version
    assert client.get("/").content != home


def test_admin_changes_bump_the_version(admin_client):
    add_products(1)
    product = Product.objects.get()
    version = CatalogState.objects.get(pk=1).version
    response = admin_client.post(
        f"/admin/shop/product/{product.pk}/change/",
        {"name": "Renamed", "weight": 5, "description": "d", "image_name": "x.jpeg"},
    )
    assert response.status_code == 302
    assert CatalogState.objects.get(pk=1).version == version + 1
    assert admin_client.get("/fruits/").json()[0]["name"] == "Renamed"


def test_failed_write_rolls_back_the_version_bump(client, auth):
    post_json(client, "/fruits/", WATERMELON, **auth)
    version = CatalogState.objects.get(pk=1).version
    assert post_json(client, "/fruits/", WATERMELON, **auth).status_code == 409  # duplicate
    assert CatalogState.objects.get(pk=1).version == version


def test_missing_state_row_still_serves_fresh_data(client):
    """After a flush (state row gone) nothing is kept; the next write recreates it."""
    add_products(1)
    CatalogState.objects.all().delete()
    assert len(client.get("/fruits/").json()) == 1
    Product.objects.create(name="Another", weight=1, description="", image_name="")
    assert len(client.get("/fruits/").json()) == 2
    assert CatalogState.objects.filter(pk=1).exists()


@pytest.mark.parametrize(
    "path, accept",
    [
        ("/fruits/?page=1", None),
        ("/fruits/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("/fruits/", "application/json; indent=4"),
    ],
)
def test_other_requests_take_the_drf_path(client, path, accept):
    add_products(2)
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get(path, **extra)
    assert response.status_code == 200
    assert "ETag" not in response


def test_unacceptable_accept_header_gets_drf_406(client):
    assert client.get("/fruits/", HTTP_ACCEPT="application/xml").status_code == 406


def test_accepts_gzip_parsing():
    assert fastpath.accepts_gzip("gzip")
    assert fastpath.accepts_gzip("deflate, gzip;q=0.5")
    assert not fastpath.accepts_gzip("gzip;q=0")
    assert not fastpath.accepts_gzip("br, deflate")
    assert not fastpath.accepts_gzip("")


def test_disallowed_host_is_400_on_the_fast_path_too(client):
    add_products(1)
    assert client.get("/fruits/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_views_answer_the_same_without_the_middleware(client, settings):
    """FastReadMiddleware is only a shortcut: the URLconf's views give the same bytes."""
    from django.test import Client

    add_products(3)
    with_middleware = {path: client.get(path) for path in ("/", "/fruits/", "/feedback")}
    assert all(r.wsgi_request.resolver_match is None for r in with_middleware.values())  # short-cut
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("FastReadMiddleware")]
    plain_client = Client()  # a client loads the middleware chain once: use a new one
    for path, expected in with_middleware.items():
        response = plain_client.get(path)
        assert response.wsgi_request.resolver_match is not None  # went through the URLconf
        assert response.content == expected.content
        assert response["ETag"] == expected["ETag"]
        assert response["X-Frame-Options"] == "DENY"


def test_fast_responses_carry_the_security_middleware_headers(client):
    response = client.get("/fruits/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
