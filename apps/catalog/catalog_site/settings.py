"""Django settings of the catalog site.

Everything that differs between hosts comes from ``CATALOG_*`` environment variables
or the file named by ``CATALOG_CONFIG`` (default ``/etc/storeops/catalog.env``); see
``catalog_site.conf`` and the README's "Configuration" table. There is no secret in
this file: without ``CATALOG_SECRET_KEY``/``CATALOG_SECRET_KEY_FILE`` the site refuses
to start unless ``CATALOG_DEBUG`` is on.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from catalog_site.conf import Config, ConfigError, parse_database_url

try:
    CONFIG = Config()
except ConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None


def _setting(getter, *args, **kwargs):
    try:
        return getter(*args, **kwargs)
    except ConfigError as exc:
        raise ImproperlyConfigured(str(exc)) from None


PACKAGE_DIR = Path(__file__).resolve().parent

DEBUG = _setting(CONFIG.bool, "CATALOG_DEBUG", False)

# Where the site keeps its state when the individual paths are not given.
DATA_DIR = Path(_setting(CONFIG.str, "CATALOG_DATA_DIR", ".")).resolve()

# --- secret key ---------------------------------------------------------------------
_secret = _setting(CONFIG.str, "CATALOG_SECRET_KEY")
_secret_file = _setting(CONFIG.str, "CATALOG_SECRET_KEY_FILE")
if not _secret and _secret_file:
    try:
        _secret = Path(_secret_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"CATALOG_SECRET_KEY_FILE={_secret_file}: {exc}") from None
if not _secret:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set CATALOG_SECRET_KEY or CATALOG_SECRET_KEY_FILE (in the environment or in "
            "/etc/storeops/catalog.env); `python -m catalog_site.keygen FILE` creates a key file. "
            "Only CATALOG_DEBUG=true runs without one (with a throw-away key)."
        )
    _secret = secrets.token_urlsafe(50)  # development only: sessions do not survive a restart
SECRET_KEY = _secret

ALLOWED_HOSTS = _setting(CONFIG.list, "CATALOG_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = _setting(CONFIG.list, "CATALOG_CSRF_TRUSTED_ORIGINS", [])

# --- applications -----------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "catalog_site.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Public reads of the catalog are answered here, from bytes kept per catalog version.
    "catalog_site.shop.middleware.FastReadMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "catalog_site.urls"
WSGI_APPLICATION = "catalog_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------
_database_url = _setting(CONFIG.str, "CATALOG_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
try:
    _database = parse_database_url(_database_url, base_dir=DATA_DIR)
except ConfigError as exc:
    raise ImproperlyConfigured(f"CATALOG_DATABASE_URL: {exc}") from None
if _database["ENGINE"].endswith("sqlite3"):
    # Keep the connection open between requests (each request does one version query),
    # let readers run while a writer writes (WAL), and take the write lock up front so
    # two workers writing at once wait for each other instead of failing.
    _database.setdefault("CONN_MAX_AGE", None)
    _options = _database.setdefault("OPTIONS", {})
    _options.setdefault("timeout", 20)
    _options.setdefault("transaction_mode", "IMMEDIATE")
    _options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
else:
    _database.setdefault("CONN_MAX_AGE", 600)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/api-auth/login/"
LOGIN_REDIRECT_URL = "/fruits/"

# --- i18n ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = _setting(CONFIG.str, "CATALOG_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static and media files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(_setting(CONFIG.str, "CATALOG_STATIC_ROOT", "") or DATA_DIR / "static").resolve()
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(_setting(CONFIG.str, "CATALOG_MEDIA_ROOT", "") or DATA_DIR / "media").resolve()
STORAGES = {
    "default": {"BACKEND": "catalog_site.shop.storage.ReplacingFileSystemStorage"},
    # Hashed names (cache-busting) once `collectstatic` has run; plain names otherwise.
    "staticfiles": {"BACKEND": "catalog_site.shop.storage.LenientManifestStaticFilesStorage"},
}
# Uploaded images in an S3 (or S3-compatible) bucket instead (several web hosts share one
# bucket): django-storages' S3 backend, objects public-read under CATALOG_S3_PREFIX; nginx
# proxies /media/ to the bucket, so image URLs stay /media/images/<name>. Credentials: the
# CATALOG_S3_ACCESS_KEY / CATALOG_S3_SECRET_KEY pair, or boto3's own chain when unset.
CATALOG_MEDIA_STORAGE = _setting(CONFIG.str, "CATALOG_MEDIA_STORAGE", "filesystem").strip().lower()
if CATALOG_MEDIA_STORAGE == "s3":
    from catalog_site.shop.storage import S3Storage

    if S3Storage is None:
        raise ImproperlyConfigured(
            "CATALOG_MEDIA_STORAGE=s3 needs django-storages and boto3 (pip install django-storages boto3)"
        )
    _bucket = _setting(CONFIG.str, "CATALOG_S3_BUCKET", "")
    if not _bucket:
        raise ImproperlyConfigured("CATALOG_MEDIA_STORAGE=s3 needs CATALOG_S3_BUCKET")
    _addressing = _setting(CONFIG.str, "CATALOG_S3_ADDRESSING_STYLE", "path")
    if _addressing not in ("path", "virtual", "auto"):
        raise ImproperlyConfigured(f"CATALOG_S3_ADDRESSING_STYLE={_addressing!r}: expected path, virtual or auto")
    STORAGES["default"] = {
        "BACKEND": "catalog_site.shop.storage.ReplacingS3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "location": _setting(CONFIG.str, "CATALOG_S3_PREFIX", "").strip("/"),
            "endpoint_url": _setting(CONFIG.str, "CATALOG_S3_ENDPOINT_URL", "") or None,
            "region_name": _setting(CONFIG.str, "CATALOG_S3_REGION", "") or None,
            "access_key": _setting(CONFIG.str, "CATALOG_S3_ACCESS_KEY", "") or None,
            "secret_key": _setting(CONFIG.str, "CATALOG_S3_SECRET_KEY", "") or None,
            "addressing_style": _addressing,
            "signature_version": "s3v4",
            "default_acl": _setting(CONFIG.str, "CATALOG_S3_ACL", "public-read") or None,
            "querystring_auth": False,
            "object_parameters": {
                "CacheControl": _setting(CONFIG.str, "CATALOG_S3_CACHE_CONTROL", "public, max-age=300")
            },
        },
    }
elif CATALOG_MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(f"CATALOG_MEDIA_STORAGE={CATALOG_MEDIA_STORAGE!r}: expected filesystem or s3")
FILE_UPLOAD_PERMISSIONS = 0o644  # nginx (another user) serves /media/ directly
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755
# Django serves /static/ and /media/ itself only when this is on (development, tests,
# a host without nginx). In production nginx serves both directories.
CATALOG_SERVE_FILES = _setting(CONFIG.bool, "CATALOG_SERVE_FILES", DEBUG)

# Behind nginx: the cached bodies of /, /fruits/, /feedback/ and /images/ are also files in
# CATALOG_ACCEL_DIR, and the answers are X-Accel-Redirects to CATALOG_ACCEL_URL + file (an
# `internal` nginx location serving that directory). Empty (the default): gunicorn sends them.
CATALOG_ACCEL_URL = _setting(CONFIG.str, "CATALOG_ACCEL_URL", "")
if CATALOG_ACCEL_URL and not (CATALOG_ACCEL_URL.startswith("/") and CATALOG_ACCEL_URL.endswith("/")):
    raise ImproperlyConfigured(f"CATALOG_ACCEL_URL={CATALOG_ACCEL_URL!r}: must start and end with '/' (e.g. /_accel/)")
CATALOG_ACCEL_DIR = Path(_setting(CONFIG.str, "CATALOG_ACCEL_DIR", "") or DATA_DIR / "accel").resolve()

# --- catalog limits -----------------------------------------------------------------
CATALOG_MAX_UPLOAD_SIZE = _setting(CONFIG.size, "CATALOG_MAX_UPLOAD_SIZE", 10 * 1024 * 1024)
CATALOG_MAX_IMAGE_PIXELS = _setting(CONFIG.int, "CATALOG_MAX_IMAGE_PIXELS", 40_000_000, minimum=1)
CATALOG_PAGE_SIZE = _setting(CONFIG.int, "CATALOG_PAGE_SIZE", 100, minimum=1)
CATALOG_MAX_PAGE_SIZE = _setting(CONFIG.int, "CATALOG_MAX_PAGE_SIZE", 1000, minimum=1)
CATALOG_SITE_TITLE = _setting(CONFIG.str, "CATALOG_SITE_TITLE", "Fruit Catalog")

# --- REST framework -----------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous write gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "catalog_site.shop.pagination.OptionalPageNumberPagination",
    "PAGE_SIZE": CATALOG_PAGE_SIZE,
}

# --- HTTPS behind the reverse proxy -------------------------------------------------
# On by default (off with CATALOG_DEBUG): nginx terminates TLS and sets
# X-Forwarded-Proto; gunicorn must only listen on 127.0.0.1 or a Unix socket.
CATALOG_TLS = _setting(CONFIG.bool, "CATALOG_TLS", not DEBUG)
if CATALOG_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _setting(CONFIG.bool, "CATALOG_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _setting(CONFIG.int, "CATALOG_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _setting(CONFIG.bool, "CATALOG_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _setting(CONFIG.bool, "CATALOG_HSTS_PRELOAD", True)
# Local health probes (curl http://127.0.0.1:8000/healthz) are not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- logging: everything to stderr (journald under systemd) ---------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": _setting(CONFIG.str, "CATALOG_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
