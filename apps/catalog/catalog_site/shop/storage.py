"""Storage classes: uploads keep their name (replace, never rename) and are written
atomically, on this host's disk or in an S3 bucket; static files get hashed names once
``collectstatic`` has run."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage


class KeepNameMixin:
    """The name asked for, or a refusal: never a new name (Django's ``icon_Ab3xYz1.png``), never
    a name cut short (django-storages' answer to a long name)."""

    def get_available_name(self, name, max_length=None):
        name = str(name).replace("\\", "/")
        if max_length is not None and len(name) > max_length:
            raise SuspiciousFileOperation(f"Storage can not find an available filename for {name!r}: too long.")
        return name


class ReplacingFileSystemStorage(KeepNameMixin, FileSystemStorage):
    """``FileSystemStorage`` that never invents a new name.

    Django's default answer to "this name exists" is to save ``icon_Ab3xYz1.png``
    instead, which would leave the product pointing at the old image. Here a save under
    an existing name replaces that file, atomically (write a temporary file in the same
    directory, then ``rename`` over the old one), so nginx never serves half a file. The
    upload view only saves when the content differs.
    """

    def _save(self, name, content):
        full_path = self.path(name)  # safe_join: raises SuspiciousFileOperation outside MEDIA_ROOT
        directory = os.path.dirname(full_path)
        if not os.path.isdir(directory):
            old_umask = None
            if self.directory_permissions_mode is not None:
                old_umask = os.umask(0o777 & ~self.directory_permissions_mode)
            try:
                os.makedirs(directory, exist_ok=True)
            finally:
                if old_umask is not None:
                    os.umask(old_umask)
        if os.path.isdir(full_path) or os.path.islink(full_path):
            raise SuspiciousFileOperation(f"{name!r} exists and is not a regular file.")
        fd, tmp_path = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_path, self.file_permissions_mode if self.file_permissions_mode is not None else 0o644)
            os.replace(tmp_path, full_path)
        except BaseException:
            try:
                os.unlink(tmp_path)
            except FileNotFoundError:
                pass
            raise
        return str(name).replace("\\", "/")

    def delete(self, name):
        """Remove a stored file (or a symlink, not what it points at); never a directory."""
        full_path = self.path(name)
        if os.path.isdir(full_path) and not os.path.islink(full_path):
            raise SuspiciousFileOperation(f"{name!r} is a directory, not a stored file.")
        try:
            os.remove(full_path)
        except FileNotFoundError:
            pass

    def sha256(self, name) -> str | None:
        """SHA-256 of a stored regular file, or None if there is none."""
        full_path = self.path(name)
        if not os.path.isfile(full_path) or os.path.islink(full_path):
            return None
        digest = hashlib.sha256()
        with open(full_path, "rb") as stored:
            for block in iter(lambda: stored.read(1024 * 1024), b""):
                digest.update(block)
        return digest.hexdigest()


def _content_sha256(content) -> str:
    digest = hashlib.sha256()
    if hasattr(content, "seek"):
        content.seek(0)
    for chunk in content.chunks():
        digest.update(chunk)
    content.seek(0)
    return digest.hexdigest()


try:
    from botocore.exceptions import ClientError
    from storages.backends.s3 import S3Storage
except ImportError:  # CATALOG_MEDIA_STORAGE=s3 needs django-storages and boto3 (settings says so)
    S3Storage = None

if S3Storage is not None:

    class ReplacingS3Storage(KeepNameMixin, S3Storage):
        """Uploads in an S3 (or S3-compatible) bucket, with the guarantees of the disk storage.

        * The name is kept: a save under an existing name replaces that object
          (``file_overwrite``), a name too long is refused instead of being cut short.
        * Atomic replacement: an S3 PUT (or the completion of a multipart upload) makes the
          new object visible at once and whole; a reader gets the old bytes or the new ones.
        * Same content, no change: the upload view compares SHA-256s before it saves. Each
          object carries its SHA-256 as ``x-amz-meta-sha256``, so ``sha256()`` is one HEAD
          (an object stored without it, e.g. copied in by hand, is read once).
        """

        def __init__(self, **settings):
            settings["file_overwrite"] = True
            super().__init__(**settings)

        def _get_write_parameters(self, name, content=None):
            params = self.get_object_parameters(name)
            # The type follows the name (whose extension the upload view checked against the
            # bytes), as nginx does for files on disk; never the client's Content-Type.
            params["ContentType"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if self.default_acl and "ACL" not in params:
                params["ACL"] = self.default_acl
            if content is not None:
                params["Metadata"] = {**params.get("Metadata", {}), "sha256": _content_sha256(content)}
            return params

        def sha256(self, name) -> str | None:
            """SHA-256 of a stored object (its metadata, or its bytes), or None if there is none."""
            key = self._normalize_name(name)
            try:
                head = self.connection.meta.client.head_object(Bucket=self.bucket_name, Key=key)
            except ClientError as err:
                if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    return None
                raise
            recorded = (head.get("Metadata") or {}).get("sha256", "")
            if len(recorded) == 64:
                return recorded
            digest = hashlib.sha256()
            with self.open(name, "rb") as stored:
                for chunk in stored.chunks():
                    digest.update(chunk)
            return digest.hexdigest()


class LenientManifestStaticFilesStorage(ManifestStaticFilesStorage):
    """Hashed static names after ``collectstatic``; plain names (instead of a server
    error on every page) when a file is not collected, e.g. before ``collectstatic``."""

    manifest_strict = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            return name
