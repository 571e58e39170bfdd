# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The delivery inbox with real archives, hostile ones included: nothing lands outside the work folder."""

from __future__ import annotations

import datetime
import io
import os
import stat
import tarfile
import zipfile

import pytest

from ansible_collections.storeops.shop.plugins.module_utils._inbox import delivery_inbox
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError

NOW = datetime.datetime(2026, 12, 2, 9, 30, tzinfo=datetime.timezone.utc)


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / 'inbox').mkdir()
    return {
        'inbox': str(tmp_path / 'inbox'),
        'work_dir': str(tmp_path / 'work'),
        'archive_dir': str(tmp_path / 'archive'),
        'rejected_dir': str(tmp_path / 'rejected'),
    }


def run(dirs, check_mode=False, **options):
    return delivery_inbox(dict(dirs, **options), check_mode=check_mode, now=NOW)[0]


def add(archive, name, data=b'', kind=tarfile.REGTYPE, linkname='', mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.size = kind, linkname, mode, len(data)
    archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def make_tar(path, members=None, top='supplier-data', mtime=None):
    """A supplier-data.tar.gz as the suppliers send it: top/descriptions/001.txt, top/images/001.tif."""
    with tarfile.open(str(path), 'w:gz') as archive:
        add(archive, top + '/descriptions/001.txt', b'Apple\n500 lbs\nSweet.\n')
        add(archive, top + '/images/001.tif', b'II*\x00not really')
        for member in members or []:
            add(archive, *member[:1], **member[1])
    if mtime:
        os.utime(str(path), (mtime, mtime))
    return str(path)


def outside(tmp_path):
    """Every file under tmp_path that is not in one of the four folders."""
    found = []
    for root, dummy, files in os.walk(str(tmp_path)):
        if not any(root.startswith(str(tmp_path / d)) for d in ('inbox', 'work', 'archive', 'rejected')):
            found.extend(os.path.join(root, name) for name in files)
    return found


def test_deliveries_in_arrival_order_unpacked_once(dirs, tmp_path):
    make_tar(tmp_path / 'inbox' / 'b-later.tar.gz', mtime=2000)
    make_tar(tmp_path / 'inbox' / 'a-earlier.tgz', mtime=1000)
    folder = tmp_path / 'inbox' / 'c-folder'
    (folder / 'descriptions').mkdir(parents=True)
    (folder / 'descriptions' / '001.txt').write_text('Pear\n10 lbs\n')
    os.utime(str(folder), (3000, 3000))
    (tmp_path / 'inbox' / 'notes.txt').write_text('not a delivery')
    (tmp_path / 'inbox' / '.half-copied.tar.gz').write_bytes(b'\x1f\x8b')
    result = run(dirs)
    assert result['changed'] is True and result['errors'] == []
    assert [d['name'] for d in result['deliveries']] == ['a-earlier', 'b-later', 'c-folder']
    first = result['deliveries'][0]
    assert first['path'] == os.path.join(dirs['work_dir'], 'a-earlier', 'supplier-data')
    with open(os.path.join(first['descriptions'], '001.txt'), encoding='utf-8') as handle:
        assert handle.read().startswith('Apple')
    assert result['deliveries'][2]['path'] == os.path.join(dirs['work_dir'], 'c-folder')  # descriptions/ at the top
    again = run(dirs)
    assert again['changed'] is False and [d['path'] for d in again['deliveries']] == [
        d['path'] for d in result['deliveries']
    ]
    assert sorted(os.listdir(dirs['inbox'])) == [
        '.half-copied.tar.gz',
        'a-earlier.tgz',
        'b-later.tar.gz',
        'c-folder',
        'notes.txt',
    ]  # nothing taken out of the inbox


def test_check_mode_unpacks_nothing(dirs, tmp_path):
    make_tar(tmp_path / 'inbox' / 'd.tar.gz')
    result = run(dirs, check_mode=True)
    assert result['changed'] is True and [d['name'] for d in result['deliveries']] == ['d']
    assert not os.path.exists(dirs['work_dir'])


@pytest.mark.parametrize(
    'member, reason',
    [
        (('supplier-data/../../escaped.txt', {'data': b'x'}), 'a path that leads out of the delivery (..)'),
        (('/tmp/absolute-escape.txt', {'data': b'x'}), 'an absolute path'),
        (
            ('supplier-data/images/link', {'kind': tarfile.SYMTYPE, 'linkname': '../../../../etc/passwd'}),
            'a link that points out of the delivery',
        ),
        (
            ('supplier-data/images/abs-link', {'kind': tarfile.SYMTYPE, 'linkname': '/etc/passwd'}),
            'a link to an absolute path',
        ),
        (
            ('supplier-data/images/hard', {'kind': tarfile.LNKTYPE, 'linkname': '../../outside'}),
            'a link that points out',
        ),
        (('supplier-data/images/null', {'kind': tarfile.CHRTYPE}), 'a device or other special file'),
        (('supplier-data/images/fifo', {'kind': tarfile.FIFOTYPE}), 'a device or other special file'),
    ],
)
def test_hostile_tar_members_are_refused_naming_archive_and_member(dirs, tmp_path, member, reason):
    evil = make_tar(tmp_path / 'inbox' / 'evil.tar.gz', [member])
    good = make_tar(tmp_path / 'inbox' / 'good.tar.gz', mtime=1)
    result = run(dirs)
    assert [d['name'] for d in result['deliveries']] == ['good']  # the good delivery is still unpacked
    assert len(result['errors']) == 1
    error = result['errors'][0]
    assert error['file'] == evil and error['field'] == member[0] and reason in error['message']
    assert result['rejected'] == [os.path.join(dirs['rejected_dir'], 'evil.20261202T093000Z.tar.gz')]
    assert os.listdir(dirs['inbox']) == ['good.tar.gz'] and os.path.exists(good)
    assert sorted(os.listdir(dirs['work_dir'])) == ['good']  # nothing of the evil one, no temporaries
    assert outside(tmp_path) == [] and not os.path.exists('/tmp/absolute-escape.txt')


def test_truncated_archive_and_one_without_descriptions(dirs, tmp_path):
    whole = open(make_tar(tmp_path / 'whole.tar.gz'), 'rb').read()
    (tmp_path / 'inbox' / 'cut.tar.gz').write_bytes(whole[: len(whole) // 2])
    with tarfile.open(str(tmp_path / 'inbox' / 'images-only.tar.gz'), 'w:gz') as archive:
        add(archive, 'supplier-data/images/001.tif', b'II*\x00')
    result = run(dirs)
    reasons = dict((os.path.basename(e['file']), e['message']) for e in result['errors'])
    assert reasons['cut.tar.gz'].startswith('refused: the archive is truncated or damaged')
    assert reasons['images-only.tar.gz'] == 'refused: there is no descriptions/ folder in it'
    assert result['deliveries'] == [] and os.listdir(dirs['work_dir']) == []


def make_zip(path, extra=()):
    with zipfile.ZipFile(str(path), 'w') as archive:
        archive.writestr('supplier-data/descriptions/001.txt', 'Apple\n500 lbs\n')
        for name, data, mode in extra:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return str(path)


@pytest.mark.parametrize(
    'extra, reason',
    [
        (('../../zip-escape.txt', 'x', stat.S_IFREG | 0o644), 'a path that leads out'),
        (('/tmp/zip-absolute.txt', 'x', stat.S_IFREG | 0o644), 'an absolute path'),
        (('supplier-data/images/link', '/etc/passwd', stat.S_IFLNK | 0o777), 'a symbolic link'),
    ],
)
def test_hostile_zip_members_are_refused(dirs, tmp_path, extra, reason):
    evil = make_zip(tmp_path / 'inbox' / 'evil.zip', [extra])
    result = run(dirs)
    assert result['errors'][0]['file'] == evil and result['errors'][0]['field'] == extra[0]
    assert reason in result['errors'][0]['message']
    assert outside(tmp_path) == [] and not os.path.exists('/tmp/zip-absolute.txt')


def test_a_good_zip_is_unpacked(dirs, tmp_path):
    make_zip(tmp_path / 'inbox' / 'shop.zip', [('supplier-data/images/001.tif', 'II*', stat.S_IFREG | 0o644)])
    result = run(dirs)
    assert result['errors'] == [] and os.path.isfile(os.path.join(result['deliveries'][0]['images'], '001.tif'))


def test_an_archive_bomb_is_refused(dirs, tmp_path):
    make_tar(tmp_path / 'inbox' / 'bomb.tar.gz', [('supplier-data/images/big', {'data': b'\0' * 100000})])
    result = run(dirs, max_size=50000)
    assert 'unpacks to more than max_size (50000 bytes)' in result['errors'][0]['message']


def test_archive_moves_the_delivery_with_a_date_stamp_and_never_deletes_it(dirs, tmp_path):
    make_tar(tmp_path / 'inbox' / 'supplier-data.tar.gz')
    run(dirs)
    result = run(dirs, state='archived', name='supplier-data')
    assert result['changed'] is True
    assert result['archived'] == os.path.join(dirs['archive_dir'], 'supplier-data.20261202T093000Z.tar.gz')
    assert os.path.isfile(result['archived']) and os.listdir(dirs['inbox']) == []
    assert os.listdir(dirs['work_dir']) == []
    assert run(dirs, state='archived', name='supplier-data')['changed'] is False
    # the same file name delivered again later is a new delivery, archived beside the first
    make_tar(tmp_path / 'inbox' / 'supplier-data.tar.gz')
    assert [d['name'] for d in run(dirs)['deliveries']] == ['supplier-data']
    second = run(dirs, state='archived', name='supplier-data')['archived']
    assert second.endswith('supplier-data.20261202T093000Z-2.tar.gz') and len(os.listdir(dirs['archive_dir'])) == 2


def test_an_interrupted_unpack_leaves_nothing_half_done(dirs, tmp_path):
    make_tar(tmp_path / 'inbox' / 'x.tar.gz')
    os.makedirs(os.path.join(dirs['work_dir'], '.x.abc123.tmp', 'supplier-data'))  # what a killed run leaves
    result = run(dirs)
    assert sorted(os.listdir(dirs['work_dir'])) == ['x'] and result['deliveries'][0]['name'] == 'x'


def test_bad_folders(dirs, tmp_path):
    with pytest.raises(JobError, match='does not exist'):
        run(dict(dirs, inbox=str(tmp_path / 'nope')))
    with pytest.raises(JobError, match='four different folders'):
        run(dict(dirs, work_dir=dirs['inbox']))
