"""Configuration: the parser, and the real settings module in fresh processes with a
production-like environment (``manage.py check --deploy`` must be clean behind TLS)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import catalog_site
from catalog_site.conf import Config, ConfigError, parse_database_url, parse_env_file, parse_size

APP_DIR = Path(catalog_site.__file__).resolve().parent.parent
SECRET = "k" * 10 + "Zq3-8vY_pL0xW2nR5tB7mC9dF1gH4jK6sA8eU0iO2yT4rE6wQ"


# --- the parsers ------------------------------------------------------------------------


def test_env_file_format():
    text = """
# comment
; also a comment
CATALOG_DEBUG=false
export CATALOG_ALLOWED_HOSTS = web.lab, localhost
CATALOG_SECRET_KEY='it''s=quoted'
CATALOG_SITE_TITLE="Fruit \\"Catalog\\""
EMPTY=
"""
    assert parse_env_file(text) == {
        "CATALOG_DEBUG": "false",
        "CATALOG_ALLOWED_HOSTS": "web.lab, localhost",
        "CATALOG_SECRET_KEY": "it''s=quoted",
        "CATALOG_SITE_TITLE": 'Fruit "Catalog"',
        "EMPTY": "",
    }
    with pytest.raises(ConfigError, match="line 1"):
        parse_env_file("not a setting")


def test_environment_wins_over_the_file(tmp_path):
    conf = tmp_path / "catalog.env"
    conf.write_text("CATALOG_PAGE_SIZE=10\nCATALOG_SITE_TITLE=From file\n")
    config = Config({"CATALOG_CONFIG": str(conf), "CATALOG_PAGE_SIZE": "20"})
    assert config.int("CATALOG_PAGE_SIZE", 100) == 20
    assert config.str("CATALOG_SITE_TITLE") == "From file"
    assert config.list("CATALOG_ALLOWED_HOSTS", ["x"]) == ["x"]


def test_default_file_is_read_if_it_exists(tmp_path, monkeypatch):
    default = tmp_path / "catalog.env"
    monkeypatch.setattr("catalog_site.conf.DEFAULT_CONFIG_FILE", str(default))
    assert Config({}).file_values == {} and Config({}).path is None  # absent: fine
    default.write_text("CATALOG_SITE_TITLE=Fruits\n")
    assert Config({}).str("CATALOG_SITE_TITLE") == "Fruits"


def test_missing_named_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        Config({"CATALOG_CONFIG": str(tmp_path / "nope.env")})
    assert Config({"CATALOG_CONFIG": ""}).file_values == {}


def test_typed_values():
    config = Config({"CATALOG_CONFIG": "", "B": "yes", "BAD": "maybe", "L": "a, b  c", "N": "x"})
    assert config.bool("B", False) is True
    with pytest.raises(ConfigError):
        config.bool("BAD", False)
    assert config.list("L", []) == ["a", "b", "c"]
    with pytest.raises(ConfigError):
        config.int("N", 1)


@pytest.mark.parametrize(
    "text, size", [("10485760", 10485760), ("10m", 10485760), ("10M", 10485760), ("512k", 524288), ("1g", 2**30)]
)
def test_sizes_like_nginx(text, size):
    assert parse_size(text) == size


def test_bad_size():
    with pytest.raises(ValueError):
        parse_size("ten megabytes")


def test_sqlite_urls(tmp_path):
    assert parse_database_url("sqlite:////var/lib/catalog/db.sqlite3")["NAME"] == "/var/lib/catalog/db.sqlite3"
    assert parse_database_url("sqlite:///db.sqlite3", base_dir=tmp_path)["NAME"] == str(tmp_path / "db.sqlite3")
    assert parse_database_url("sqlite://:memory:")["NAME"] == ":memory:"
    assert parse_database_url("sqlite://")["NAME"] == ":memory:"
    assert parse_database_url("sqlite:///db.sqlite3")["ENGINE"] == "django.db.backends.sqlite3"


def test_postgres_url():
    config = parse_database_url(
        "postgres://cat%40log:p%40ss%3Aw%2Frd@db.example:6543/catalog?sslmode=require&conn_max_age=60"
        "&conn_health_checks=true&connect_timeout=5"
    )
    assert config == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "catalog",
        "USER": "cat@log",
        "PASSWORD": "p@ss:w/rd",
        "HOST": "db.example",
        "PORT": "6543",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"sslmode": "require", "connect_timeout": 5},
    }


def test_postgres_socket_and_defaults():
    config = parse_database_url("postgresql://%2Frun%2FPostgreSQL/catalog")
    assert config["HOST"] == "/run/PostgreSQL" and config["PORT"] == "" and config["USER"] == ""
    assert parse_database_url("pgsql:///catalog")["HOST"] == ""
    assert parse_database_url("postgres://u@[::1]:5432/c")["HOST"] == "::1"
    assert parse_database_url("postgres://u@h/c?conn_max_age=none")["CONN_MAX_AGE"] is None


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://u@h/db", "unsupported database URL scheme"),
        ("postgres://u@h/", "database name is missing"),
        ("postgres://u@h:port/db", "port is not a number"),
        ("postgres://u@h/db?conn_max_age=soon", "not an integer"),
    ],
)
def test_bad_database_urls(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_database_url(url)


# --- the settings module in a fresh process ------------------------------------------------


def manage(*args, env_file=None, **env):
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("CATALOG_", "DJANGO_"))}
    environ.update({"PYTHONPATH": str(APP_DIR), "CATALOG_CONFIG": str(env_file) if env_file else "", **env})
    return subprocess.run(
        [sys.executable, "-m", "catalog_site.manage", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=env.get("CATALOG_DATA_DIR", "/"),
        timeout=120,
        check=False,
    )


def production_env_file(tmp_path, **extra):
    """What the role writes to /etc/storeops/catalog.env."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    values = {
        "CATALOG_SECRET_KEY": SECRET,
        "CATALOG_ALLOWED_HOSTS": "web.lab,localhost,127.0.0.1",
        "CATALOG_CSRF_TRUSTED_ORIGINS": "https://web.lab",
        "CATALOG_DATABASE_URL": f"sqlite:///{data_dir}/db.sqlite3",
        "CATALOG_STATIC_ROOT": str(data_dir / "static"),
        "CATALOG_MEDIA_ROOT": str(data_dir / "media"),
        **extra,
    }
    path = tmp_path / "catalog.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def test_check_deploy_is_clean_with_the_production_config(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env_file=production_env_file(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_catches_a_bad_config(tmp_path):
    """The deploy check above means something: without TLS it does complain."""
    env_file = production_env_file(tmp_path, CATALOG_TLS="false")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_file=env_file)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_debug_is_off_by_default_and_settings_show_the_config(tmp_path):
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.CATALOG_MAX_UPLOAD_SIZE, s.DATABASES['default']['ENGINE'])"
    )
    result = manage(
        "shell", "-v", "0", "-c", script, env_file=production_env_file(tmp_path, CATALOG_MAX_UPLOAD_SIZE="20m")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "['web.lab',",
        "'localhost',",
        "'127.0.0.1']",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "True",
        "31536000",
        str(20 * 1024 * 1024),
        "django.db.backends.sqlite3",
    ]


def test_secret_key_is_required(tmp_path):
    result = manage("check", CATALOG_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "Set CATALOG_SECRET_KEY or CATALOG_SECRET_KEY_FILE" in result.stderr


def test_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(SECRET + "\n")
    env_file = production_env_file(tmp_path, CATALOG_SECRET_KEY="", CATALOG_SECRET_KEY_FILE=str(key_file))
    result = manage(
        "shell", "-v", "0", "-c", "from django.conf import settings; print(len(settings.SECRET_KEY))", env_file=env_file
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(SECRET))


def test_debug_runs_without_a_key(tmp_path):
    result = manage("check", CATALOG_DEBUG="true", CATALOG_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_bad_values_are_reported_clearly(tmp_path):
    result = manage("check", env_file=production_env_file(tmp_path, CATALOG_DEBUG="perhaps"))
    assert result.returncode != 0
    assert "CATALOG_DEBUG='perhaps'" in result.stderr


def test_migrate_collectstatic_token_on_a_fresh_host(tmp_path):
    """The role's sequence, against the production config."""
    env_file = production_env_file(tmp_path)
    for args in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = manage(*args, env_file=env_file)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "db.sqlite3").exists()
    assert (tmp_path / "data" / "static" / "staticfiles.json").exists()  # hashed names for nginx
    assert list((tmp_path / "data" / "static" / "shop").glob("site.*.css"))
    result = manage("ensure_api_token", "--username", "uploader", env_file=env_file)
    assert result.returncode == 0, result.stderr
    assert '"changed": true' in result.stdout
    result = manage("ensure_api_token", "--username", "uploader", env_file=env_file)
    assert '"changed": false' in result.stdout
