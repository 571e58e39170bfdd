import pytest
from django.db import DatabaseError

from catalog_site.shop.models import CatalogState

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_ok(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert "no-cache" in response["Cache-Control"]


def test_reports_whether_uploads_can_be_stored(client, media_root, settings):
    assert client.get("/healthz").json()["media_writable"] is True
    settings.MEDIA_ROOT = media_root / "not-created-by-the-role"
    response = client.get("/healthz")
    assert response.status_code == 200  # reads still work: informational only
    assert response.json()["media_writable"] is False


def test_missing_state_row_is_503(client):
    CatalogState.objects.all().delete()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_database_error_is_503_without_details(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("connection refused by secret-host:5432")

    monkeypatch.setattr("django.db.models.query.QuerySet.first", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable or not migrated"}
    assert b"secret-host" not in response.content


def test_not_redirected_to_https_when_tls_is_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/fruits/").status_code == 301  # everything else is
