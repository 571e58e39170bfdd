"""Settings for the test suite: the real settings module, fed a test environment.

Nothing from /etc/storeops is read; files go to a temporary directory (each test that
uploads points MEDIA_ROOT at its own tmp_path). CATALOG_* variables already set in the
environment win, so ``CATALOG_DATABASE_URL=postgres://... ./run-tests.sh`` runs the
suite on PostgreSQL.
"""

import atexit
import os
import secrets
import shutil
import tempfile

os.environ["CATALOG_CONFIG"] = ""  # read no config file
os.environ.setdefault("CATALOG_SECRET_KEY", secrets.token_urlsafe(50))
if "CATALOG_DATA_DIR" not in os.environ:
    os.environ["CATALOG_DATA_DIR"] = tempfile.mkdtemp(prefix="catalog-tests-")
    atexit.register(shutil.rmtree, os.environ["CATALOG_DATA_DIR"], ignore_errors=True)
os.environ.setdefault("CATALOG_TLS", "false")
os.environ.setdefault("CATALOG_SERVE_FILES", "true")  # /media/ served by Django, as nginx would
os.environ.setdefault("CATALOG_DATABASE_URL", "sqlite:///db.sqlite3")  # tests use an in-memory copy

from catalog_site import settings as base  # noqa: E402  (after the environment is set)

globals().update({name: value for name, value in vars(base).items() if name.isupper()})

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation
STORAGES = {
    **base.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
