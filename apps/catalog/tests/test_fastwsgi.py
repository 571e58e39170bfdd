"""FastReadApplication: the hot reads answered in front of Django's WSGI handler give the
same status, headers and bytes as Django; everything else is Django's."""

import io
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import DatabaseError

from catalog_site.shop import fastpath, views
from catalog_site.shop.fastwsgi import FastReadApplication
from catalog_site.shop.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


def environ(path, method="GET", query="", host="127.0.0.1", **headers):
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    env.update(headers)
    return env


def call(app, env):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    chunks = app(env, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return seen["status"], dict(seen["headers"]), body


@pytest.fixture
def apps(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    django_app = WSGIHandler()
    Product.objects.bulk_create(
        Product(name=f"Fruit {i}", weight=i, description=f"D {i}", image_name=f"{i}.jpeg") for i in range(30)
    )
    fastpath.bump_catalog_version()
    return FastReadApplication(django_app), django_app


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/", {}),
        ("/fruits/", {}),
        ("/fruits", {"HTTP_ACCEPT": "application/json"}),
        ("/feedback/", {}),
        ("/images/", {}),
        ("/", {"HTTP_ACCEPT_ENCODING": "gzip"}),
        ("/fruits/", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ],
)
def test_same_answer_as_django(apps, path, headers):
    fast, django_app = apps
    ours = call(fast, environ(path, **headers))
    theirs = call(django_app, environ(path, **headers))
    assert ours[0] == theirs[0] == "200 OK"
    assert ours[2] == theirs[2]
    assert ours[1] == theirs[1]


def test_it_really_skips_django(apps, monkeypatch):
    fast, django_app = apps
    monkeypatch.setattr(fast, "django_application", lambda env, start: pytest.fail("went to Django"))
    assert call(fast, environ("/fruits/"))[0] == "200 OK"


@pytest.mark.parametrize(
    "env",
    [
        environ("/fruits/", method="POST"),
        environ("/fruits/", query="page=1"),
        environ("/admin/"),
        environ("/fruits/", HTTP_ACCEPT="text/html"),
        environ("/fruits/", host="evil.example"),
        environ("/healthz"),
    ],
    ids=["post", "page", "admin", "browser", "bad-host", "healthz"],
)
def test_everything_else_goes_to_django(apps, env):
    fast, django_app = apps
    sent = []
    real = fast.django_application
    fast.django_application = lambda environ_, start: sent.append(environ_) or real(environ_, start)
    status, dummy, dummy = call(fast, env)
    assert sent, "not handed to Django"
    if env["HTTP_HOST"] == "evil.example":
        assert status.startswith("400")


def test_a_database_error_is_answered_by_django(apps, monkeypatch):
    fast, django_app = apps
    calls = []
    original = fastpath.current_stamp

    def flaky(using="default"):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("server closed the connection unexpectedly")
        return original(using)

    monkeypatch.setattr(fastpath, "current_stamp", flaky)
    status, dummy, body = call(fast, environ("/fruits/"))
    assert status == "200 OK" and len(calls) == 2  # the retry went through Django
    assert body.startswith(b"[")


def test_the_https_redirect_still_applies(settings, apps):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    fast = FastReadApplication(WSGIHandler())  # SecurityMiddleware reads its settings once
    status, headers, dummy = call(fast, environ("/fruits/", HTTP_X_FORWARDED_PROTO="http"))
    assert status.startswith("301") and headers["Location"] == "https://127.0.0.1/fruits/"


def test_head_has_no_body(apps):
    fast, dummy = apps
    status, headers, body = call(fast, environ("/fruits/", method="HEAD"))
    assert status == "200 OK" and body == b"" and int(headers["Content-Length"]) > 0


def test_the_production_entry_point_is_the_wrapper():
    from catalog_site import wsgi

    assert isinstance(wsgi.application, FastReadApplication)
    assert wsgi.application.routes.keys() == {
        "/",
        "/fruits",
        "/fruits/",
        "/feedback",
        "/feedback/",
        "/images",
        "/images/",
    }
    assert wsgi.application.routes["/images/"] is views.serve_images
