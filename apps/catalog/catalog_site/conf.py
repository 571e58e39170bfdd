"""Configuration from the environment and an optional ``KEY=VALUE`` file.

Every setting of the site is read here, by name ``CATALOG_*``. Values come from,
in order of precedence:

1. the process environment;
2. the file named by ``CATALOG_CONFIG`` (default ``/etc/storeops/catalog.env``; a
   missing default file is fine, a missing file that was named explicitly is an
   error). Its format is the one systemd's ``EnvironmentFile=`` reads: ``KEY=VALUE``
   per line, ``#`` comments, optional single or double quotes around the value;
3. the defaults in :mod:`catalog_site.settings`.

This module has no Django imports so that it can be used (and tested) on its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_CONFIG_FILE = "/etc/storeops/catalog.env"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class ConfigError(Exception):
    """A setting is missing or malformed (raised as ImproperlyConfigured by settings)."""


def parse_env_file(text: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (systemd EnvironmentFile / shell-like subset)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        match = _LINE.match(line)
        if not match:
            raise ConfigError(f"line {number}: expected KEY=VALUE, got {raw!r}")
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace('\\"', '"').replace("\\\\", "\\")
        values[key] = value
    return values


class Config:
    """Look settings up in the environment, then in the config file."""

    def __init__(self, environ: dict[str, str] | None = None):
        self.environ = dict(os.environ if environ is None else environ)
        explicit = self.environ.get("CATALOG_CONFIG")
        path = Path(explicit or DEFAULT_CONFIG_FILE)
        self.file_values: dict[str, str] = {}
        self.path: Path | None = None
        if explicit is not None and explicit == "":
            return  # CATALOG_CONFIG= (empty): read no file at all
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if explicit:
                raise ConfigError(f"CATALOG_CONFIG={explicit}: no such file") from None
            return
        except PermissionError as exc:
            raise ConfigError(f"cannot read the config file {path}: {exc}") from None
        try:
            self.file_values = parse_env_file(text)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        self.path = path

    def raw(self, name: str) -> str | None:
        if name in self.environ:
            return self.environ[name]
        return self.file_values.get(name)

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name}={value!r}: expected one of true/false, yes/no, on/off, 1/0")

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected an integer") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name}={number}: must be >= {minimum}")
        return number

    def size(self, name: str, default: int) -> int:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            return parse_size(value)
        except ValueError as exc:
            raise ConfigError(f"{name}={value!r}: {exc}") from None

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item for item in re.split(r"[\s,]+", value.strip()) if item]


_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)b?\s*$", re.IGNORECASE)


def parse_size(value: str) -> int:
    """``10485760``, ``10m``, ``10M``, ``512k``, ``1g`` -> bytes (nginx's units, 1024-based)."""
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError("expected a size in bytes, optionally with a k, m or g suffix (like nginx)")
    number, unit = match.groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


# --- DATABASE_URL ------------------------------------------------------------------

_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "sqlite3": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
}
# Query parameters that are Django settings of the connection, not driver OPTIONS.
_INT_PARAMS = {"conn_max_age": "CONN_MAX_AGE"}
_BOOL_PARAMS = {"conn_health_checks": "CONN_HEALTH_CHECKS", "atomic_requests": "ATOMIC_REQUESTS"}


def parse_database_url(url: str, base_dir: Path | None = None) -> dict:
    """Turn a ``DATABASE_URL`` into a Django ``DATABASES`` entry.

    * ``sqlite:////var/lib/storeops-catalog/db.sqlite3`` - absolute path (four slashes);
      ``sqlite:///db.sqlite3`` - relative to ``base_dir``; ``sqlite://:memory:`` - in memory.
    * ``postgres://user:password@host:5432/name?sslmode=require`` (also ``postgresql://``,
      ``pgsql://``). User and password are percent-decoded; a percent-encoded host such as
      ``%2Frun%2Fpostgresql`` is a Unix socket directory; an empty host means the
      driver's default (the local socket).
    * Query parameters become driver ``OPTIONS``, except ``conn_max_age`` (seconds, or
      ``none`` for unlimited), ``conn_health_checks`` and ``atomic_requests``, which are
      connection settings.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _ENGINES:
        raise ConfigError(f"unsupported database URL scheme {parts.scheme!r} (use sqlite:// or postgres://)")
    config: dict = {"ENGINE": _ENGINES[scheme]}
    options: dict = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _INT_PARAMS:
            if value.lower() in {"none", "unlimited"}:
                config[_INT_PARAMS[key]] = None
            else:
                try:
                    config[_INT_PARAMS[key]] = int(value)
                except ValueError:
                    raise ConfigError(f"database URL: {key}={value!r} is not an integer") from None
        elif key in _BOOL_PARAMS:
            config[_BOOL_PARAMS[key]] = value.lower() in _TRUE
        else:
            options[key] = int(value) if value.isdigit() else value

    if config["ENGINE"].endswith("sqlite3"):
        # urlsplit puts "sqlite://:memory:" in netloc, "sqlite:///x" in path "/x".
        path = unquote(parts.netloc + parts.path)
        if path in {"", ":memory:", "/:memory:"}:
            config["NAME"] = ":memory:"
        else:
            name = path[1:] if path.startswith("/") else path
            if not name.startswith("/") and base_dir is not None:
                name = str(Path(base_dir) / name)
            config["NAME"] = name
    else:
        name = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        if not name:
            raise ConfigError("database URL: the database name is missing (postgres://user@host/NAME)")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError("database URL: the port is not a number") from None
        config.update(
            {
                "NAME": name,
                "USER": unquote(parts.username or ""),
                "PASSWORD": unquote(parts.password or ""),
                "HOST": _raw_host(parts.netloc),
                "PORT": str(port or ""),
            }
        )
    if options:
        config["OPTIONS"] = options
    return config


def _raw_host(netloc: str) -> str:
    """The host part of a netloc, percent-decoded, case preserved (socket paths)."""
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):  # [ipv6]:port
        return host[1 : host.index("]")]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return unquote(host)
