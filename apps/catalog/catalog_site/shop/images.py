"""Stored images: the file ``images/<name>`` in the media storage (``MEDIA_ROOT`` on this
host's disk, or the S3 bucket of ``CATALOG_MEDIA_STORAGE=s3``) and its ``StoredImage`` row,
changed together.

* ``store()``: one upload. In one transaction: lock the name's row (or insert it first, so a
  concurrent upload of the same name waits for this one or fails over to the "exists" path),
  decide created / replaced / unchanged / refused, write the file atomically, update the row
  (which bumps the catalog version). With ``replace=False`` a name that holds other content
  is refused before the file is touched.
* ``delete()``: refuses while a product's ``image_name`` points at the image.
* ``index_files()``: (re)build the rows from the files (the data migration and
  ``catalog-manage index_images``).

A file the index does not know (a site from before the index, a file copied in by hand)
still counts as "holding content": its SHA-256 is read from the file, so it is never
overwritten by ``replace=False`` either.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, transaction

from catalog_site.shop.models import Product, StoredImage
from catalog_site.shop.validators import expected_format, image_name_problem

log = logging.getLogger(__name__)

IN_USE_LIMIT = 5  # product names quoted in an "in use" answer


class NameTaken(Exception):
    """``replace=False`` and the name holds other content."""

    def __init__(self, name, sha256):
        super().__init__(name, sha256)
        self.name = name
        self.sha256 = sha256


class ImageInUse(Exception):
    def __init__(self, name, products):
        super().__init__(name, products)
        self.name = name
        self.products = products


class NoSuchImage(Exception):
    pass


class StorageUnavailable(Exception):
    """The media storage could not be read or written (disk error, the bucket's endpoint down or
    refusing): nothing was changed, the transaction is rolled back."""


try:
    from botocore.exceptions import BotoCoreError, ClientError

    _STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
except ImportError:
    _STORAGE_ERRORS = (OSError,)


def _storage_error(exc) -> StorageUnavailable:
    log.error("media storage error: %s", exc)
    return StorageUnavailable(str(exc))


def storage_name(name: str) -> str:
    return f"images/{name}"


def _file_sha256(name: str) -> str | None:
    """SHA-256 of the stored file, or None when there is none."""
    storage = default_storage
    if hasattr(storage, "sha256"):
        return storage.sha256(storage_name(name))
    if not storage.exists(storage_name(name)):
        return None
    digest = hashlib.sha256()
    with storage.open(storage_name(name), "rb") as stored:
        for chunk in stored.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def store(name: str, content, size: int, sha256: str, replace: bool = True, attempts: int = 3) -> str:
    """Store one validated upload; ``"created"``, ``"replaced"`` or ``"unchanged"``.

    Raises ``NameTaken`` (``replace=False``, other content under the name: nothing written),
    ``StorageUnavailable`` (nothing written, no row changed).
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return _store_locked(name, content, size, sha256, replace)
        except _STORAGE_ERRORS as exc:
            raise _storage_error(exc) from exc
        except IntegrityError:
            # Another upload inserted the row between our look and our insert (PostgreSQL; on
            # SQLite the write lock taken at BEGIN serializes uploads): look again.
            if attempt == attempts - 1:
                raise
            log.info("image %s: concurrent upload, retrying", name)
    raise AssertionError("unreachable")


def _store_locked(name, content, size, sha256, replace):
    row = StoredImage.objects.select_for_update().filter(name=name).first()
    inserted = row is None
    if inserted:
        existing = _file_sha256(name)  # None, or a file the index did not know (read once, then indexed)
        # Insert first: a concurrent upload of this name now waits for our commit (or fails
        # and retries), so the file below is written by one upload at a time.
        row = StoredImage(name=name, size=size, sha256=sha256)
        row.save()
    else:
        existing = row.sha256 if default_storage.exists(storage_name(name)) else None
    if existing is not None and existing != sha256 and not replace:
        raise NameTaken(name, existing)  # rolls back the insert; the file is untouched
    if existing == sha256:
        if not inserted and row.size != size:
            row.size = size
            row.save()
        return "unchanged"
    default_storage.save(storage_name(name), content)
    if not inserted:
        row.size, row.sha256 = size, sha256
        row.save()  # bumps the catalog version, in this transaction
    return "created" if existing is None else "replaced"


def entry(name: str) -> dict | None:
    row = StoredImage.objects.filter(name=name).values("name", "size", "sha256").first()
    if row is None:
        return None
    return {**row, "url": image_url(name)}


def image_url(name: str) -> str:
    """The image's URL path, percent-encoded (``/media/images/001.jpeg``)."""
    return f"{settings.MEDIA_URL}images/{quote(name)}"


def delete(name: str) -> None:
    """Remove the image and its row. ``NoSuchImage``, ``ImageInUse``, ``StorageUnavailable``."""
    try:
        _delete_locked(name)
    except _STORAGE_ERRORS as exc:
        raise _storage_error(exc) from exc


def _delete_locked(name: str) -> None:
    with transaction.atomic():
        row = StoredImage.objects.select_for_update().filter(name=name).first()
        on_disk = default_storage.exists(storage_name(name))
        if row is None and not on_disk:
            raise NoSuchImage(name)
        users = list(
            Product.objects.filter(image_name=name).order_by("id").values_list("name", flat=True)[: IN_USE_LIMIT + 1]
        )
        if users:
            raise ImageInUse(name, users)
        if row is not None:
            row.delete()  # bumps the catalog version
        if on_disk:
            default_storage.delete(storage_name(name))


def lock_for_product(image_name: str) -> None:
    """Called in the transaction that saves a product: a concurrent ``delete()`` of the image it
    names either finished before (the product then points at a missing image, as the API
    allows) or waits until the product is committed and then refuses."""
    if image_name:
        list(StoredImage.objects.select_for_update().filter(name=image_name).values_list("pk", flat=True))


# --- (re)building the index from the files -----------------------------------------------------


def _stored_name_problem(name: str) -> str | None:
    """Why a stored name is not one the site could have stored, or None."""
    problem = image_name_problem(name)
    if problem is None and expected_format(name) is None:
        problem = "not an image extension"
    return problem


def scan(directory: Path):
    """``(name, size, sha256)`` of every image file directly in ``directory`` that the site could
    have stored (a valid, non-hidden name with an image extension; regular files, not
    symlinks), sorted by name; and the names skipped, with why."""
    found, skipped = [], []
    if not directory.is_dir():
        return found, skipped
    for item in sorted(os.scandir(directory), key=lambda e: e.name):
        if item.name.startswith("."):
            continue  # uploads in progress (.upload-*.part) and other hidden files
        problem = _stored_name_problem(item.name)
        if problem is None and (item.is_symlink() or not item.is_file()):
            problem = "not a regular file"
        if problem:
            skipped.append((item.name, problem))
            continue
        digest = hashlib.sha256()
        size = 0
        with open(item.path, "rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
                size += len(block)
        found.append((item.name, size, digest.hexdigest()))
    return found, skipped


def scan_storage(storage, folder: str = "images"):
    """``scan()`` for a storage that is not a local folder (the S3 bucket): the objects directly
    under ``folder``, their size and SHA-256 (``storage.sha256``: the object's metadata)."""
    found, skipped = [], []
    _dirs, names = storage.listdir(folder)
    for name in sorted(names):
        if name.startswith("."):
            continue
        problem = _stored_name_problem(name)
        if problem:
            skipped.append((name, problem))
            continue
        key = f"{folder}/{name}"
        sha256 = storage.sha256(key) if hasattr(storage, "sha256") else None
        if sha256 is None:
            continue  # deleted since the listing
        found.append((name, storage.size(key), sha256))
    return found, skipped


def index_files(model, directory: Path | None = None, dry_run: bool = False) -> dict:
    """Make ``model``'s rows (``StoredImage``, or its historical version in a migration) match
    the files in ``directory`` (default: ``images/`` of the media storage, on disk or in the
    bucket). Counts of added / updated / removed / unchanged rows, and the skipped names. The
    caller bumps the catalog version when something changed."""
    if directory is None and not isinstance(default_storage, FileSystemStorage):
        found, skipped = scan_storage(default_storage)
    else:
        found, skipped = scan(Path(default_storage.location) / "images" if directory is None else directory)
    counts = {"added": 0, "updated": 0, "removed": 0, "unchanged": 0}
    with transaction.atomic():
        rows = {row.name: row for row in model.objects.select_for_update()}
        new = []
        for name, size, sha256 in found:
            row = rows.pop(name, None)
            if row is None:
                counts["added"] += 1
                new.append(model(name=name, size=size, sha256=sha256))
            elif (row.size, row.sha256) != (size, sha256):
                counts["updated"] += 1
                if not dry_run:
                    model.objects.filter(pk=row.pk).update(size=size, sha256=sha256)
            else:
                counts["unchanged"] += 1
        if new and not dry_run:
            model.objects.bulk_create(new)  # no signals: the caller bumps the version once
        counts["removed"] = len(rows)
        if rows and not dry_run:
            model.objects.filter(pk__in=[row.pk for row in rows.values()]).delete()
    counts["skipped"] = [{"name": name, "reason": reason} for name, reason in skipped]
    return counts
