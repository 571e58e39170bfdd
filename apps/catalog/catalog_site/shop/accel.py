"""Let nginx send the bytes of each catalog version itself (``X-Accel-Redirect``).

With ``CATALOG_ACCEL_URL`` set (the role sets ``/_accel/``), every body the fast path keeps
(``fastpath``) is also written once, per content, as a file in ``CATALOG_ACCEL_DIR``:
``fruits-<digest>.json``, ``fruits-<digest>.json.gz``, ``storefront-<digest>.html`` ... A
200 is then an empty response carrying the headers (ETag, Cache-Control, Vary, the security
headers) and ``X-Accel-Redirect: /_accel/<file>``; nginx serves that file from an ``internal``
location, copying those headers (its config lists them: ``PASSED_HEADERS``). Only requests
that nginx marks with ``X-Catalog-Accel: on`` get a redirect (``requested``). Django still
checks the catalog version on every request and answers 304s itself, so a write is visible
on the next request from every worker, exactly as without nginx.

Files are named by a hash of their content: two workers that build the same version write
the same name (atomically: a temporary file renamed into place), a restarted worker finds
its files already there, and a file can never hold other bytes than its name says.
Building a new version deletes the same endpoint's older files, those unused for
``GRACE_SECONDS`` (a request that read the old version a moment ago may still be handing its
name to nginx), and, in a burst of writes, all but the ``RECENT_LIMIT`` newest that are older
than ``MIN_AGE_SECONDS``, so the directory stays small. Each request checks (one ``stat``) that its file is still there and writes it
again if not. When the directory cannot be written the bytes are sent by gunicorn, as
without nginx, and a warning is logged once.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import NamedTuple

from django.conf import settings

log = logging.getLogger(__name__)

GRACE_SECONDS = 60
RECENT_LIMIT = 8  # older files per endpoint kept within the grace period, at most
MIN_AGE_SECONDS = 2.0
TEMP_PREFIX = ".tmp-"

# Headers the fast path sets besides Content-Type and Cache-Control (which nginx copies from
# an X-Accel-Redirect answer by itself). nginx drops the others when it follows the redirect,
# so its internal location adds each back (`add_header NAME $upstream_http_NAME`): the role's
# nginx template lists exactly these (a test compares the two).
PASSED_HEADERS = (
    "ETag",
    "Content-Encoding",
    "Vary",
    "X-Frame-Options",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Strict-Transport-Security",
)

_warned: set[str] = set()


class File(NamedTuple):
    name: str
    path: str
    url: str


def enabled() -> bool:
    return bool(settings.CATALOG_ACCEL_URL)


def requested(request) -> bool:
    """nginx says, per request, that it has the internal location (``X-Catalog-Accel: on``,
    set by the role's proxy location, which overwrites what a client sends). Without it (a
    request straight to gunicorn, another proxy, an nginx not yet reloaded with the location
    during a deploy) the bytes are sent by gunicorn: an X-Accel-Redirect nobody follows would
    be an empty page."""
    return request.META.get("HTTP_X_CATALOG_ACCEL") == "on"


def _warn_once(what: str, exc: OSError) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("X-Accel-Redirect off for %s: %s (gunicorn sends the bytes itself)", what, exc)


def _write(path: str, body: bytes) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.chmod(temp, 0o644)  # nginx (another user) reads it
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def publish(key: str, digest: str, suffix: str, body: bytes) -> File | None:
    """The file holding ``body`` (written if missing, its mtime refreshed if present), or None
    when it cannot be written."""
    name = f"{key}-{digest}{suffix}"
    path = os.path.join(str(settings.CATALOG_ACCEL_DIR), name)
    try:
        try:
            present = os.stat(path).st_size == len(body)
        except FileNotFoundError:
            present = False
        if present:
            os.utime(path)  # in use again: another worker's clean() must keep it
        else:
            _write(path, body)
    except OSError as exc:
        _warn_once(name, exc)
        return None
    return File(name, path, f"{settings.CATALOG_ACCEL_URL}{name}")


def ensure(file: File, body: bytes) -> bool:
    """Per request: True when ``file`` is there with ``body``'s size (written again if it was
    removed meanwhile); False when nginx cannot be given it (the caller sends ``body``)."""
    try:
        if os.stat(file.path).st_size == len(body):
            return True
    except FileNotFoundError:
        pass
    except OSError as exc:
        _warn_once(file.name, exc)
        return False
    try:
        _write(file.path, body)
    except OSError as exc:
        _warn_once(file.name, exc)
        return False
    return True


def clean(key: str, keep: set[str]) -> int:
    """Delete ``key``'s older files (and stray temporary files), except ``keep``; the number
    deleted. A file goes when unused for GRACE_SECONDS, or sooner when more than
    RECENT_LIMIT newer ones exist and it is older than MIN_AGE_SECONDS (a burst of writes
    while visitors read makes a version per write: disk use stays bounded). A request hands
    its file name to nginx within milliseconds, far inside MIN_AGE_SECONDS."""
    directory = str(settings.CATALOG_ACCEL_DIR)
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    candidates = []
    for item in entries:
        if item.name in keep or not (item.name.startswith(f"{key}-") or item.name.startswith(TEMP_PREFIX)):
            continue
        try:
            if item.is_file(follow_symlinks=False):
                candidates.append((item.stat(follow_symlinks=False).st_mtime, item))
        except FileNotFoundError:  # another worker cleaned it first
            pass
    candidates.sort(key=lambda pair: pair[0], reverse=True)
    removed = 0
    for rank, (mtime, item) in enumerate(candidates):
        age = now - mtime
        if age > GRACE_SECONDS or (rank >= RECENT_LIMIT and age > MIN_AGE_SECONDS):
            try:
                os.unlink(item.path)
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                _warn_once(f"cleaning {item.name}", exc)
    return removed
