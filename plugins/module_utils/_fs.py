# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File helpers shared by the modules: atomic writes and content hashes.

Everything a module writes goes through :func:`atomic_output`: the bytes land in a
temporary file in the destination's own directory and are renamed over the
destination only once complete, so a crash or ``kill -9`` never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile

CHUNK = 1024 * 1024


@contextlib.contextmanager
def atomic_output(path, mode=0o644, fsync=True):
    """Yield a binary file object; on success it replaces ``path`` atomically.

    On any exception the temporary file is removed and ``path`` is left untouched.
    ``fsync=False`` skips flushing the data to disk before the rename: the rename still
    protects against a killed process (as Ansible's own ``atomic_move``), and callers that
    write many small files and can re-verify them after a power failure (convert_images
    checks every output against its manifest) save a journal wait per file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data, mode=0o644, fsync=True):
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path, mode=mode, fsync=fsync) as handle:
        handle.write(data)


def file_sha256(path):
    """Hex SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def same_content(path, data):
    """True when ``path`` exists and holds exactly ``data``."""
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, 'rb') as handle:
            return handle.read() == data
    except OSError:
        return False
