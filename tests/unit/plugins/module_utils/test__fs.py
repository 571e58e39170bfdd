# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _fs


def test_atomic_write_replaces_and_sets_mode(tmp_path):
    target = tmp_path / 'out.bin'
    target.write_bytes(b'old')
    _fs.atomic_write_bytes(str(target), b'new content', mode=0o600)
    assert target.read_bytes() == b'new content'
    assert (target.stat().st_mode & 0o777) == 0o600
    assert os.listdir(tmp_path) == ['out.bin']


def test_atomic_output_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / 'out.bin'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with _fs.atomic_output(str(target)) as handle:
            handle.write(b'half')
            raise RuntimeError('crash mid-write')
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['out.bin']


def test_file_sha256_and_same_content(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 7)
    target = tmp_path / 'big'
    target.write_bytes(data)
    assert _fs.file_sha256(str(target)) == hashlib.sha256(data).hexdigest()
    assert _fs.same_content(str(target), data)
    assert not _fs.same_content(str(target), data[:-1])
    assert not _fs.same_content(str(tmp_path / 'missing'), b'')


def test_atomic_write_without_fsync_still_replaces_atomically(tmp_path):
    target = tmp_path / 'icon.jpeg'
    _fs.atomic_write_bytes(str(target), b'jpeg bytes', fsync=False)
    assert target.read_bytes() == b'jpeg bytes'
    assert os.listdir(tmp_path) == ['icon.jpeg']
