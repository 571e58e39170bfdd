"""GET /: the store front page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog_site.shop import fastpath
from catalog_site.shop.models import Product, Review

pytestmark = pytest.mark.django_db


def add_products(count, start=0):
    Product.objects.bulk_create(
        Product(name=f"Fruit {i}", weight=500, description=f"Juicy number {i}", image_name=f"{i:03}.jpeg")
        for i in range(start, start + count)
    )
    fastpath.bump_catalog_version()


def test_empty_store(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"No products yet." in response.content
    assert b"There is currently no feedback." in response.content


def test_every_product_with_image_name_weight_description(client):
    add_products(3)
    Product.objects.create(name="Watermelon", weight=500, description="Good for relieving heat.", image_name="010.jpeg")
    html = client.get("/").content.decode()
    assert html.count('<li class="product"') == 4
    assert '<img src="/media/images/010.jpeg" alt="Watermelon"' in html
    assert '<h3 class="name">Watermelon</h3>' in html
    assert '<p class="weight">500 lbs</p>' in html
    assert "Good for relieving heat." in html


def test_reviews_are_shown(client):
    Review.objects.create(title="Experienced salespeople", name="Alex H.", date="2020-02-02", feedback="Great team")
    html = client.get("/").content.decode()
    assert 'id="reviews"' in html
    assert "<h3>Experienced salespeople</h3>" in html
    assert '<time datetime="2020-02-02">2020-02-02</time>' in html
    assert "Great team" in html


def test_user_text_is_escaped(client):
    Product.objects.create(
        name="<script>alert(1)</script>", weight=1, description="<img src=x onerror=alert(1)>", image_name='a"b.png'
    )
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert 'src="/media/images/a%22b.png"' in html


def test_product_without_image_gets_a_placeholder(client):
    Product.objects.create(name="Plain", weight=1, description="", image_name="")
    assert b'class="no-image"' in client.get("/").content


def test_no_external_assets(client):
    add_products(2)
    Review.objects.create(title="T", name="N", date="2020-01-01", feedback="F")
    html = client.get("/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the page references its stylesheet and images"
    assert all(url.startswith(("/", "#")) for url in urls), urls
    assert "/static/shop/site.css" in urls
    assert "<style" not in html and "<script" not in html  # CSP: no inline style or script


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_query_count_does_not_grow_with_products(client):
    """No query per product: the same number of queries for 5 and for 300 products."""
    counts = []
    for total in (5, 300):
        add_products(total - Product.objects.count(), start=Product.objects.count())
        fastpath.clear_cache()
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/")
        assert response.content.decode().count('<li class="product"') == total
        counts.append(len(queries))
    assert counts[0] == counts[1] == 3  # version, products, reviews
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert len(queries) == 1  # kept: the version check only


def test_304_on_the_store_front(client):
    add_products(2)
    first = client.get("/")
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_post_is_405(client):
    assert client.post("/").status_code == 405


def test_static_files_exist():
    from django.contrib.staticfiles import finders

    assert finders.find("shop/site.css")
    assert finders.find("shop/favicon.svg")
