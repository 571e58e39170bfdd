"""Management commands the role runs."""

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

import catalog_site
from catalog_site.shop.models import CatalogState

pytestmark = pytest.mark.django_db

GIVEN = "s3cr3t-Token_value-for-the-role-0123456"


def run(*args, stdin=None, env=None):
    out = io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        call_command("ensure_api_token", *args, stdout=out)
    finally:
        sys.stdin = old_stdin
    return out.getvalue(), json.loads(out.getvalue())


def test_creates_user_and_token_once_and_never_prints_it():
    text, first = run("--username", "uploader")
    assert first == {
        "username": "uploader",
        "user_created": True,
        "token_created": True,
        "token_replaced": False,
        "changed": True,
    }
    key = Token.objects.get(user__username="uploader").key
    assert key not in text
    text, second = run("--username", "uploader")
    assert second["changed"] is False
    assert Token.objects.get(user__username="uploader").key == key
    user = Token.objects.get(key=key).user
    assert not user.has_usable_password() and not user.is_staff


def test_print_token_when_asked():
    _text, result = run("--username", "uploader", "--print-token")
    assert result["token"] == Token.objects.get(user__username="uploader").key


def test_token_from_env_is_set_then_idempotent(monkeypatch):
    monkeypatch.setenv("CATALOG_API_TOKEN", GIVEN)
    text, first = run("--username", "uploader", "--token-env", "CATALOG_API_TOKEN")
    assert first["changed"] is True and GIVEN not in text
    assert Token.objects.get(user__username="uploader").key == GIVEN
    _text, second = run("--username", "uploader", "--token-env", "CATALOG_API_TOKEN")
    assert second["changed"] is False


def test_token_value_replaces_a_generated_one(monkeypatch):
    run("--username", "uploader")
    old = Token.objects.get(user__username="uploader").key
    monkeypatch.setenv("TOKEN", GIVEN)
    _text, result = run("--username", "uploader", "--token-env", "TOKEN")
    assert result["token_replaced"] is True and result["changed"] is True
    assert Token.objects.get(user__username="uploader").key == GIVEN
    assert not Token.objects.filter(key=old).exists()


def test_token_from_stdin():
    _text, result = run("--username", "uploader", "--token-stdin", stdin=GIVEN + "\n")
    assert result["changed"] is True
    assert Token.objects.get(user__username="uploader").key == GIVEN
    _text, again = run("--username", "uploader", "--token-stdin", stdin=GIVEN)
    assert again["changed"] is False


@pytest.mark.parametrize("bad", ["short", "has space in the token value!!", "x" * 41, "ünïcode-token-value-here-123"])
def test_invalid_token_value_is_an_error(monkeypatch, bad):
    monkeypatch.setenv("TOKEN", bad)
    with pytest.raises(CommandError, match="20 to 40 characters"):
        run("--username", "uploader", "--token-env", "TOKEN")
    assert not Token.objects.exists()


def test_unset_env_var_is_an_error(monkeypatch):
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(CommandError, match="unset or empty"):
        run("--username", "uploader", "--token-env", "NOPE")


def test_token_of_another_user_is_refused(monkeypatch):
    monkeypatch.setenv("TOKEN", GIVEN)
    run("--username", "first", "--token-env", "TOKEN")
    with pytest.raises(CommandError, match="another user"):
        run("--username", "second", "--token-env", "TOKEN")


def test_the_token_works_for_writes(client, monkeypatch):
    monkeypatch.setenv("TOKEN", GIVEN)
    run("--username", "uploader", "--token-env", "TOKEN")
    response = client.post(
        "/fruits/",
        json.dumps({"name": "Kiwi", "weight": 1, "description": "", "image_name": ""}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {GIVEN}",
    )
    assert response.status_code == 201


def test_bump_catalog_version_command():
    version = CatalogState.objects.get(pk=1).version
    out = io.StringIO()
    call_command("bump_catalog_version", stdout=out)
    assert CatalogState.objects.get(pk=1).version == version + 1
    assert f"catalog version {version + 1}" in out.getvalue()


def test_keygen_creates_once_and_never_prints(tmp_path):
    path = tmp_path / "secret"
    env = {**os.environ, "PYTHONPATH": str(Path(catalog_site.__file__).resolve().parent.parent)}
    command = [sys.executable, "-m", "catalog_site.keygen", str(path)]
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert first.returncode == 0 and first.stdout.strip() == "created"
    key = path.read_text().strip()
    assert len(key) >= 50 and key not in first.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    second = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert second.stdout.strip() == "exists"
    assert path.read_text().strip() == key


def test_upgrading_a_site_with_images_indexes_them(tmp_path):
    """A site from before the image index (schema 0002) that holds `001.jpeg`-style files:
    `migrate` indexes them (real process, real files), so GET /images/ lists them and
    replace=false protects them from the first request on."""
    from ansible_collections.storeops.shop.tests.support.catalog_site import CatalogSite

    from tests.helpers import make_image

    site = CatalogSite(tmp_path)
    site.manage("migrate", "shop", "0002", "--noinput")
    images = tmp_path / "media" / "images"
    images.mkdir(parents=True)
    old = {"001.jpeg": make_image("JPEG", color=(1, 2, 3)), "002.png": make_image("PNG", color=(4, 5, 6))}
    for name, data in old.items():
        (images / name).write_bytes(data)
    (images / ".upload-x.part").write_bytes(b"half an upload")
    out = site.manage("migrate", "--noinput")
    assert "Applying shop.0004_index_stored_images... OK" in out
    listed = json.loads(
        site.python_code(
            "import django, json; django.setup()\n"
            "from catalog_site.shop.fastpath import image_rows\n"
            "print(json.dumps(image_rows()))"
        )
    )
    assert [(i["name"], i["size"], i["sha256"]) for i in listed] == [
        (name, len(data), hashlib.sha256(data).hexdigest()) for name, data in sorted(old.items())
    ]
    assert json.loads(site.manage("index_images"))["changed"] is False  # already right
