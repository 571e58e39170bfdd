# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Folder-level tests of convert_images: idempotency, check/diff mode, bad input, safety."""

from __future__ import annotations

import errno
import faulthandler
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _convert_images as job
from ansible_collections.storeops.shop.plugins.module_utils import _image_convert as job_pipeline
from ansible_collections.storeops.shop.plugins.module_utils._convert_images import Spec, convert_folder
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, failure_message

from PIL import Image
from PIL import ImageDraw

SUPPLIER = Spec(size=[60, 40])


def supplier_image(path, colour=(200, 40, 40), size=(300, 200)):
    """Small stand-in for a supplier TIFF: RGBA, coloured disc, magenta hidden under the transparency."""
    img = Image.new('RGBA', size, (255, 0, 255, 0))
    ImageDraw.Draw(img).ellipse((size[0] // 6, size[1] // 6, size[0] * 5 // 6, size[1] * 5 // 6), fill=colour + (255,))
    img.save(str(path))
    return str(path)


@pytest.fixture
def folders(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    src.mkdir()
    for i, colour in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)]):
        supplier_image(src / ('%03d.tif' % (i + 1)), colour)
    return str(src), str(dest)


def actions(result):
    return {os.path.basename(item['src']): item['action'] for item in result['results']}


def listing(path):
    return sorted(os.listdir(path))


# --- the happy path and idempotency -----------------------------------------------------------


def test_converts_whole_folder_then_is_idempotent(folders):
    src, dest = folders
    result, warnings = convert_folder(src, dest, SUPPLIER, workers=2)
    assert result['changed'] and not result['errors'] and not warnings
    assert result['counts'] == {'total': 3, 'converted': 3, 'unchanged': 0, 'failed': 0}
    assert listing(dest) == ['.convert_images.json', '001.jpeg', '002.jpeg', '003.jpeg']
    for item in result['results']:
        assert item['size'] == [60, 40]
        with Image.open(item['dest']) as out:
            assert out.format == 'JPEG' and out.mode == 'RGB' and out.size == (60, 40)
            assert min(out.getpixel((1, 1))) >= 250  # background, not the magenta under it
    again, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert not again['changed']
    assert again['counts']['unchanged'] == 3
    assert [i['size'] for i in again['results']] == [[60, 40]] * 3


def test_sources_are_never_modified(folders):
    src, dest = folders
    before = {name: open(os.path.join(src, name), 'rb').read() for name in listing(src)}
    convert_folder(src, dest, SUPPLIER, workers=1)
    assert {name: open(os.path.join(src, name), 'rb').read() for name in listing(src)} == before


def test_touched_source_with_same_content_is_unchanged(folders):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    path = os.path.join(src, '002.tif')
    data = open(path, 'rb').read()
    os.unlink(path)
    with open(path, 'wb') as handle:  # a new file (new inode, new times), same bytes
        handle.write(data)
    os.utime(path, (time.time() + 100, time.time() + 100))
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert not result['changed']


def test_changed_source_reconverts_only_that_file(folders):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    stat = os.stat(os.path.join(src, '002.tif'))
    supplier_image(os.path.join(src, '002.tif'), (10, 10, 10))
    os.utime(os.path.join(src, '002.tif'), ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: content decides
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert actions(result) == {'001.tif': 'unchanged', '002.tif': 'converted', '003.tif': 'unchanged'}
    with Image.open(os.path.join(dest, '002.jpeg')) as out:
        assert max(out.getpixel((30, 20))) < 30


def test_changed_option_reconverts_everything(folders):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    result, dummy = convert_folder(src, dest, Spec(size=[60, 40], quality=50))
    assert result['counts']['converted'] == 3
    result, dummy = convert_folder(src, dest, Spec(size=[60, 40], quality=50))
    assert not result['changed']


def test_new_source_is_added(folders):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    supplier_image(os.path.join(src, '004.TIFF'))
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert actions(result)['004.TIFF'] == 'converted' and result['counts']['unchanged'] == 3


@pytest.mark.parametrize('damage', ['delete', 'edit', 'truncate'])
def test_damaged_output_is_rebuilt(folders, damage):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    path = os.path.join(dest, '001.jpeg')
    good = open(path, 'rb').read()
    if damage == 'delete':
        os.unlink(path)
    else:
        with open(path, 'wb') as handle:
            handle.write(good[:100] if damage == 'truncate' else good[:-1] + b'x')
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert actions(result)['001.tif'] == 'converted' and result['counts']['unchanged'] == 2
    assert open(path, 'rb').read() == good


def test_lost_manifest_does_not_rewrite_identical_outputs(folders):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    os.unlink(os.path.join(dest, job.MANIFEST))
    mtimes = {name: os.stat(os.path.join(dest, name)).st_mtime_ns for name in listing(dest)}
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert not result['changed']
    assert {name: os.stat(os.path.join(dest, name)).st_mtime_ns for name in mtimes} == mtimes


def test_corrupt_manifest_is_a_warning(folders):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    with open(os.path.join(dest, job.MANIFEST), 'w') as handle:
        handle.write('{not json')
    result, warnings = convert_folder(src, dest, SUPPLIER)
    assert not result['changed'] and 'manifest' in warnings[0]
    with open(os.path.join(dest, job.MANIFEST)) as handle:
        assert json.load(handle)['format'] == job.MANIFEST_FORMAT


# --- check and diff mode ------------------------------------------------------------------------


def test_check_mode_changes_nothing_and_predicts(folders):
    src, dest = folders
    result, dummy = convert_folder(src, dest, SUPPLIER, check_mode=True, diff=True)
    assert result['changed'] and result['counts']['converted'] == 3
    assert not os.path.exists(dest)
    assert [item['size'] for item in result['results']] == [[60, 40]] * 3
    assert result['diff']['before'] == ''
    assert result['diff']['after'].splitlines() == [
        '001.jpeg (added from 001.tif)',
        '002.jpeg (added from 002.tif)',
        '003.jpeg (added from 003.tif)',
    ]
    real, dummy = convert_folder(src, dest, SUPPLIER, diff=True)
    assert real['diff']['after'] == result['diff']['after']
    check, dummy = convert_folder(src, dest, SUPPLIER, check_mode=True, diff=True)
    assert not check['changed'] and check['diff']['after'] == ''
    mtimes = {name: os.stat(os.path.join(dest, name)).st_mtime_ns for name in listing(dest)}
    check, dummy = convert_folder(src, dest, Spec(size=[30, 20]), check_mode=True, diff=True)
    assert check['changed'] and check['counts']['converted'] == 3
    assert (
        '001.jpeg sha256:' in check['diff']['before'] and '001.jpeg (replaced from 001.tif)' in check['diff']['after']
    )
    assert {name: os.stat(os.path.join(dest, name)).st_mtime_ns for name in listing(dest)} == mtimes


def test_check_mode_reports_unreadable_headers(folders):
    src, dest = folders
    open(os.path.join(src, 'junk.tif'), 'wb').close()
    result, dummy = convert_folder(src, dest, SUPPLIER, check_mode=True)
    assert result['errors'] == [
        {'file': os.path.join(src, 'junk.tif'), 'line': None, 'field': None, 'message': 'empty file (0 bytes)'}
    ]


# --- bad input ------------------------------------------------------------------------------------


def test_bad_files_do_not_stop_the_others(folders):
    src, dest = folders
    open(os.path.join(src, 'empty.tif'), 'wb').close()
    with open(os.path.join(src, 'notes.tif'), 'w') as handle:
        handle.write('not an image\n')
    data = io.BytesIO()
    Image.new('RGBA', (400, 300), (1, 2, 3, 255)).save(data, 'TIFF')
    with open(os.path.join(src, 'cut.tif'), 'wb') as handle:
        handle.write(data.getvalue()[:5000])
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert result['errors'] and result['changed']
    assert result['counts'] == {'total': 6, 'converted': 3, 'unchanged': 0, 'failed': 3}
    assert listing(dest) == ['.convert_images.json', '001.jpeg', '002.jpeg', '003.jpeg']
    reasons = {os.path.basename(e['file']): e['message'] for e in result['errors']}
    assert reasons['empty.tif'] == 'empty file (0 bytes)'
    assert 'not an image' in reasons['notes.tif']
    assert 'truncated' in reasons['cut.tif']
    for name in ('empty.tif', 'notes.tif', 'cut.tif'):
        assert name in failure_message(result['msg'], result['errors'])
    assert result['msg'].startswith('3 of 6 files could not be converted')
    again, dummy = convert_folder(src, dest, SUPPLIER)
    assert again['errors'] and not again['changed'] and again['counts']['unchanged'] == 3


def test_missing_src(tmp_path):
    with pytest.raises(JobError, match='does not exist'):
        convert_folder(str(tmp_path / 'nope'), str(tmp_path / 'out'), SUPPLIER)


def test_src_is_a_file(tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(JobError, match='not a directory'):
        convert_folder(str(tmp_path / 'file'), str(tmp_path / 'out'), SUPPLIER)


def test_dest_is_a_file(folders, tmp_path):
    src, dummy = folders
    (tmp_path / 'taken').write_text('x')
    with pytest.raises(JobError, match='exists and is not a directory'):
        convert_folder(src, str(tmp_path / 'taken'), SUPPLIER)
    with pytest.raises(JobError, match='exists and is not a directory'):
        convert_folder(src, str(tmp_path / 'taken'), SUPPLIER, check_mode=True)


def test_dest_cannot_be_created(folders, monkeypatch):
    src, dest = folders

    def no_space(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device', path)

    monkeypatch.setattr(os, 'makedirs', no_space)
    with pytest.raises(JobError, match='no space left on device'):
        convert_folder(src, dest, SUPPLIER)


def test_no_space_left_while_writing(folders, monkeypatch):
    src, dest = folders

    def no_space(path, data, mode=0o644, fsync=True):
        raise OSError(errno.ENOSPC, 'No space left on device', path)

    monkeypatch.setattr(job, 'atomic_write_bytes', no_space)
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=1)
    assert result['errors'] and result['counts']['failed'] == 3
    assert 'no space left on device in %s' % dest in result['msg']
    assert [e['message'] for e in result['errors']] == [
        'no space left on device writing %s/%03d.jpeg' % (dest, i) for i in (1, 2, 3)
    ]


def test_no_space_for_the_manifest(folders, monkeypatch):
    src, dest = folders

    class Full(object):
        def __init__(self, path, mode=0o644):
            self.path = path

        def __enter__(self):
            raise OSError(errno.ENOSPC, 'No space left on device', self.path)

        def __exit__(self, *args):
            return False

    monkeypatch.setattr(job, 'atomic_output', Full)
    with pytest.raises(JobError, match='manifest.*no space left'):
        convert_folder(src, dest, SUPPLIER, workers=1)


def test_no_matching_files_is_a_warning(tmp_path):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'readme.txt').write_text('x')
    result, warnings = convert_folder(str(tmp_path / 'src'), str(tmp_path / 'dest'), SUPPLIER)
    assert result['counts']['total'] == 0 and 'no file' in warnings[0]


# --- names ---------------------------------------------------------------------------------------


def test_pattern_is_case_insensitive_and_skips_hidden_and_dirs(folders):
    src, dest = folders
    supplier_image(os.path.join(src, '005.TiF'))
    supplier_image(os.path.join(src, '.hidden.tif'))
    os.mkdir(os.path.join(src, 'folder.tif'))
    supplier_image(os.path.join(src, 'x.png'))
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert sorted(actions(result)) == ['001.tif', '002.tif', '003.tif', '005.TiF']
    result, dummy = convert_folder(src, dest, SUPPLIER, patterns=['*.PNG'])
    assert sorted(actions(result)) == ['x.png']


def test_output_name_collision_fails_the_second(folders):
    src, dest = folders
    supplier_image(os.path.join(src, '001.tiff'))
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert actions(result)['001.tiff'] == 'failed'
    assert 'already produced from 001.tif' in result['errors'][0]['message']
    assert result['counts']['converted'] == 3


def test_same_folder_as_the_course_script(folders):
    src, dummy = folders
    result, dummy = convert_folder(src, src, SUPPLIER)
    assert result['counts']['converted'] == 3
    result, dummy = convert_folder(src, src, SUPPLIER, patterns=['*'])  # outputs match too: left alone
    assert not result['changed'] and sorted(actions(result)) == ['001.tif', '002.tif', '003.tif']


@pytest.mark.parametrize('patterns', [['*'], ['*.jpg', '*.jpeg', '*.tif']])
def test_in_place_with_a_pattern_matching_the_outputs_works_on_every_run(folders, patterns):
    """Issue: every re-run failed '001.tif: output name 001.jpeg is already produced from 001.jpeg'."""
    src, dummy = folders
    for run in range(3):
        result, dummy = convert_folder(src, src, SUPPLIER, patterns=patterns)
        assert result['errors'] == [], (run, result['errors'])
        assert sorted(actions(result)) == ['001.tif', '002.tif', '003.tif']
        assert result['changed'] is (run == 0)
    assert listing(src) == ['.convert_images.json', '001.jpeg', '001.tif', '002.jpeg', '002.tif', '003.jpeg', '003.tif']


def test_in_place_a_users_own_jpeg_is_still_a_source(folders):
    src, dummy = folders
    Image.new('RGB', (300, 200), (10, 20, 30)).save(os.path.join(src, 'photo.jpg'))
    result, dummy = convert_folder(src, src, SUPPLIER, patterns=['*'])
    assert sorted(actions(result)) == ['001.tif', '002.tif', '003.tif', 'photo.jpg'] and not result['errors']
    again, dummy = convert_folder(src, src, SUPPLIER, patterns=['*'])
    assert not again['changed'] and not again['errors'] and sorted(actions(again)) == sorted(actions(result))


def test_a_dangling_symlink_that_matches_is_reported_not_skipped(folders):
    src, dest = folders
    os.symlink(os.path.join(src, 'gone.tif'), os.path.join(src, '004.tif'))
    result, dummy = convert_folder(src, dest, SUPPLIER)
    assert result['counts'] == {'total': 4, 'converted': 3, 'unchanged': 0, 'failed': 1}
    assert result['errors'] == [
        {
            'file': os.path.join(src, '004.tif'),
            'line': None,
            'field': None,
            'message': 'a symbolic link to %s, which does not exist' % os.path.join(src, 'gone.tif'),
        }
    ]


def test_max_pixels_refuses_before_decoding(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    Image.new('RGB', (400, 300), (1, 2, 3)).save(str(src / 'big.tif'))
    Image.new('RGB', (200, 100), (1, 2, 3)).save(str(src / 'small.tif'))
    result, dummy = convert_folder(str(src), str(tmp_path / 'out'), SUPPLIER, max_pixels=100000)
    assert actions(result) == {'big.tif': 'failed', 'small.tif': 'converted'}
    assert result['errors'][0]['message'] == 'refused: 400x300 is 120000 pixels, more than max_pixels (100000)'
    assert not os.path.exists(str(tmp_path / 'out' / 'big.jpeg'))
    check, dummy = convert_folder(str(src), str(tmp_path / 'out'), SUPPLIER, max_pixels=100000, check_mode=True)
    assert check['errors'][0]['message'].startswith('refused: 400x300')


def test_check_mode_says_would_and_writes_nothing(folders):
    src, dest = folders
    result, dummy = convert_folder(src, dest, SUPPLIER, check_mode=True)
    assert result['msg'] == 'check mode (nothing written): 3 would be converted, 0 unchanged'
    open(os.path.join(src, '009.tif'), 'wb').close()
    result, dummy = convert_folder(src, dest, SUPPLIER, check_mode=True)
    assert result['msg'] == (
        'check mode (nothing written): 1 of 4 files could not be checked (3 would be converted, 0 unchanged)'
    )
    assert not os.path.exists(dest)


def test_output_over_its_own_source_is_refused(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    Image.new('RGB', (20, 20)).save(str(src / 'a.jpeg'))
    before = (src / 'a.jpeg').read_bytes()
    result, dummy = convert_folder(str(src), str(src), SUPPLIER, patterns=['*.jpeg'])
    assert result['errors'] and 'overwrite its own source' in result['errors'][0]['message']
    assert (src / 'a.jpeg').read_bytes() == before


@pytest.mark.parametrize(
    'fmt,suffix,expected',
    [('png', None, 'a.png'), ('webp', None, 'a.webp'), ('jpeg', '.jpg', 'a.jpg'), ('jpeg', '', 'a')],
)
def test_suffix(tmp_path, fmt, suffix, expected):
    (tmp_path / 'src').mkdir()
    supplier_image(tmp_path / 'src' / 'a.tif')
    result, dummy = convert_folder(
        str(tmp_path / 'src'), str(tmp_path / 'dest'), Spec(size=[30, 20], output_format=fmt), suffix=suffix
    )
    assert os.path.basename(result['results'][0]['dest']) == expected
    with Image.open(result['results'][0]['dest']) as out:
        assert out.format == {'png': 'PNG', 'webp': 'WEBP', 'jpeg': 'JPEG'}[fmt]


def test_bad_suffix(folders):
    src, dest = folders
    with pytest.raises(JobError, match='suffix'):
        convert_folder(src, dest, SUPPLIER, suffix='/x.jpeg')


# --- safety ----------------------------------------------------------------------------------------


def test_stale_temporaries_from_a_killed_run_are_removed(folders):
    src, dest = folders
    os.makedirs(dest)
    stale = [os.path.join(dest, n) for n in ('.001.jpeg.k1l2e3d4.tmp', '.%s.abcdefgh.tmp' % job.MANIFEST)]
    for path in stale:
        with open(path, 'wb') as handle:
            handle.write(b'\xff\xd8 half a jpeg')
    other = os.path.join(dest, '.somebody-else.tmp')
    open(other, 'w').close()
    convert_folder(src, dest, SUPPLIER)
    assert not any(os.path.exists(path) for path in stale)
    assert os.path.exists(other)


def test_failed_write_leaves_old_output_and_no_temporary(folders, monkeypatch):
    src, dest = folders
    convert_folder(src, dest, SUPPLIER)
    old = open(os.path.join(dest, '001.jpeg'), 'rb').read()

    def broken_replace(*args):
        raise OSError(errno.EIO, 'I/O error')

    monkeypatch.setattr(job.os, 'replace', broken_replace)
    result, dummy = convert_folder(src, dest, Spec(size=[30, 20]), workers=1)
    assert result['counts']['failed'] == 3
    assert open(os.path.join(dest, '001.jpeg'), 'rb').read() == old
    assert not [n for n in os.listdir(dest) if n.endswith('.tmp')]


KILL_SCRIPT = '''
import sys
sys.path.insert(0, sys.argv[3])
from ansible_collections.storeops.shop.plugins.module_utils._convert_images import Spec, convert_folder
convert_folder(sys.argv[1], sys.argv[2], Spec(size=[150, 100]), workers=2)
'''


def test_kill_9_mid_run_leaves_no_partial_output_and_next_run_completes(tmp_path):
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    src.mkdir()
    for i in range(40):
        supplier_image(src / ('%03d.tif' % i), (i * 6, 100, 200), size=(1500, 1000))
    collections = os.path.abspath(os.path.join(os.path.dirname(job.__file__), '..', '..', '..', '..', '..'))
    proc = subprocess.Popen(
        [sys.executable, '-c', KILL_SCRIPT, str(src), str(dest), collections], start_new_session=True
    )
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if dest.is_dir() and len([n for n in os.listdir(str(dest)) if n.endswith('.jpeg')]) >= 3:
            break
        time.sleep(0.005)
    assert proc.poll() is None, 'the run finished before it could be killed'
    os.killpg(proc.pid, signal.SIGKILL)  # the module and its workers, as kill -9 on the task
    proc.wait()
    for name in os.listdir(str(dest)):
        if name.endswith('.jpeg'):
            with Image.open(str(dest / name)) as out:
                out.load()  # complete, decodable images only
                assert out.size == (150, 100)
    result, dummy = convert_folder(str(src), str(dest), Spec(size=[150, 100]), workers=2)
    assert result['counts']['failed'] == 0 and result['counts']['total'] == 40
    assert sorted(n for n in os.listdir(str(dest)) if not n.startswith('.')) == ['%03d.jpeg' % i for i in range(40)]
    assert [n for n in os.listdir(str(dest)) if n.startswith('.')] == [job.MANIFEST]
    final, dummy = convert_folder(str(src), str(dest), Spec(size=[150, 100]), workers=2)
    assert not final['changed']


def crash(task):
    """Stands in for process_file in a worker (inherited with the fork): dies as under the OOM killer."""
    os.kill(os.getpid(), signal.SIGKILL)


def crash_once(task):
    try:
        os.close(os.open(os.environ['CRASH_MARKER'], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return REAL_PROCESS_FILE(task)
    return crash(task)


def crash_on(name):
    def process_file(task):
        if os.path.basename(task[0]) == name:
            crash(task)
        return REAL_PROCESS_FILE(task)

    return process_file


REAL_PROCESS_FILE = job.process_file


def many_images(src, count, size=(120, 80)):
    src.mkdir()
    for i in range(count):
        supplier_image(src / ('%03d.tif' % i), (i * 6 % 256, 100, 200), size=size)
    return str(src)


def test_worker_that_always_crashes_is_reported_per_file(folders, monkeypatch):
    src, dest = folders
    monkeypatch.setattr(job, 'process_file', crash)
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert result['errors'] and result['counts']['failed'] == 3
    assert [error['message'] for error in result['errors']] == ['worker process died (killed by SIGKILL)'] * 3
    assert [os.path.basename(error['file']) for error in result['errors']] == ['001.tif', '002.tif', '003.tif']


def test_worker_killed_once_is_retried(folders, monkeypatch, tmp_path):
    src, dest = folders
    monkeypatch.setenv('CRASH_MARKER', str(tmp_path / 'crashed-once'))
    monkeypatch.setattr(job, 'process_file', crash_once)
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert not result['errors'], result['errors']
    # A file the dead worker had finished but not yet reported is checked again by the next
    # worker, which finds its output complete ('unchanged'). Every file is done either way.
    assert result['counts']['converted'] + result['counts']['unchanged'] == 3
    assert result['counts']['converted'] >= 1
    assert sorted(os.listdir(dest)) == ['.convert_images.json', '001.jpeg', '002.jpeg', '003.jpeg']
    assert (tmp_path / 'crashed-once').exists()


def test_a_crash_in_a_batch_fails_that_file_alone(tmp_path, monkeypatch):
    """A file that kills its worker every time is reported; the files batched with it are converted."""
    src = many_images(tmp_path / 'src', 40)
    dest = str(tmp_path / 'dest')
    names = sorted(os.listdir(src))
    batches = job.plan_batches([job._cost((os.path.join(src, name),)) for name in names], 2)
    victim = next(batch for batch in batches if len(batch) > 2)[1]  # in the middle of a batch
    monkeypatch.setattr(job, 'process_file', crash_on(names[victim]))
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert result['errors'] == [
        {
            'file': os.path.join(src, names[victim]),
            'line': None,
            'field': None,
            'message': 'worker process died (killed by SIGKILL)',
        }
    ]
    assert result['counts']['failed'] == 1 and result['counts']['converted'] + result['counts']['unchanged'] == 39
    expected = sorted(os.path.splitext(name)[0] + '.jpeg' for name in names if name != names[victim])
    assert sorted(n for n in os.listdir(dest) if not n.startswith('.')) == expected
    assert [n for n in os.listdir(dest) if n.startswith('.')] == [job.MANIFEST]  # no temporary left behind
    with open(os.path.join(dest, job.MANIFEST)) as handle:
        assert sorted(json.load(handle)['outputs']) == expected
    monkeypatch.setattr(job, 'process_file', REAL_PROCESS_FILE)
    again, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert again['counts'] == {'total': 40, 'converted': 1, 'unchanged': 39, 'failed': 0}


def test_batching_changes_no_output_and_no_error(tmp_path):
    """In batches over 2 workers or one by one in this process: the same bytes, results, errors and manifest."""
    src = tmp_path / 'src'
    many_images(src, 30, size=(90, 60))
    (src / '007.tif').write_bytes(b'')
    (src / '013.tif').write_bytes(b'not an image\n')
    data = io.BytesIO()
    Image.new('RGBA', (400, 300), (1, 2, 3, 255)).save(data, 'TIFF')
    (src / '021.tif').write_bytes(data.getvalue()[:5000])
    assert (
        max(len(batch) for batch in job.plan_batches([job._cost((str(path),)) for path in sorted(src.iterdir())], 2))
        > 5
    )
    runs = {}
    for workers in (1, 2):
        dest = tmp_path / ('dest-%d' % workers)
        result, dummy = convert_folder(str(src), str(dest), SUPPLIER, workers=workers)
        outputs = {name: (dest / name).read_bytes() for name in os.listdir(str(dest)) if not name.startswith('.')}
        with open(str(dest / job.MANIFEST)) as handle:
            manifest = json.load(handle)
        items = [dict(item, dest=os.path.basename(item['dest'])) for item in result['results']]
        runs[workers] = (outputs, manifest, items, result['errors'], result['counts'], result['msg'])
    assert runs[1] == runs[2]
    assert [os.path.basename(error['file']) for error in runs[2][3]] == ['007.tif', '013.tif', '021.tif']
    assert runs[2][4] == {'total': 30, 'converted': 27, 'unchanged': 0, 'failed': 3}


def test_plan_batches():
    mb = 1024 * 1024
    icon = 150 * 1024 + job._FILE_COST
    icons = [icon] * 1000
    batches = job.plan_batches(icons, 2)
    assert [i for batch in batches for i in batch] == list(range(1000))  # every task once, in order
    sizes = [len(batch) for batch in batches]
    assert sizes == sorted(sizes, reverse=True)  # smaller towards the end
    assert sizes[0] * icon <= job._MAX_BATCH_COST < (sizes[0] + 1) * icon  # as big as allowed at first
    assert all((len(batch) + 1) * icon > job._MIN_BATCH_COST for batch in batches[:-1])  # none too small
    assert len(batches[-2]) * icon <= job._MIN_BATCH_COST  # the last ones are small
    suppliers = [24 * mb + job._FILE_COST] * 40
    assert job.plan_batches(suppliers, 2) == [[i] for i in range(40)]  # 28 ms each: one per batch
    mixed = [100 * mb] + [icon] * 20 + [100 * mb]
    batches = job.plan_batches(mixed, 2)
    assert batches[0] == [0] and batches[-1] == [21] and all(len(batch) > 1 for batch in batches[1:-1])
    assert job.plan_batches([1], 4) == [[0]] and job.plan_batches([], 2) == []


def test_a_worker_that_dies_outside_any_file_does_not_hang_the_run(folders, monkeypatch):
    src, dest = folders
    monkeypatch.setattr(job, '_worker_loop', lambda *args: os._exit(3))
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert result['counts']['failed'] == 3
    assert {error['message'] for error in result['errors']} == {'worker process died (exit status 3)'}


def test_a_worker_dead_before_its_batch_arrives(folders, monkeypatch):
    """Writing to a worker that has just died (EPIPE) is no error: its files go to the next worker."""
    src, dest = folders
    real_loop, real_send = job._worker_loop, job._send
    first = []

    def die_at_once(*args):
        if not first:
            os._exit(5)
        return real_loop(*args)

    def send_late(fd, obj):
        if not first:
            first.append(fd)
            time.sleep(0.2)  # the first worker is gone by now
        return real_send(fd, obj)

    monkeypatch.setattr(job, '_worker_loop', die_at_once)
    monkeypatch.setattr(job, '_send', send_late)
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert not result['errors'] and result['counts']['converted'] == 3


def test_no_worker_can_be_started_converts_here(folders, monkeypatch):
    src, dest = folders

    def no_fork():
        raise OSError(errno.EAGAIN, 'Resource temporarily unavailable')

    monkeypatch.setattr(job.os, 'fork', no_fork)
    result, dummy = convert_folder(src, dest, SUPPLIER, workers=2)
    assert not result['errors'] and result['counts']['converted'] == 3


def group_alive(pgid):
    """Processes of group ``pgid`` that still run (a zombie waiting for its reaper does not count)."""
    alive = []
    for entry in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % entry) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != 'Z':
            alive.append(int(entry))
    return alive


def test_kill_9_of_the_module_alone_stops_its_workers(tmp_path):
    """Only the module's process is killed (not its group): its workers stop at the next file."""
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    many_images(src, 60, size=(1500, 1000))
    collections = os.path.abspath(os.path.join(os.path.dirname(job.__file__), '..', '..', '..', '..', '..'))
    proc = subprocess.Popen(
        [sys.executable, '-c', KILL_SCRIPT, str(src), str(dest), collections], start_new_session=True
    )
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if dest.is_dir() and len([n for n in os.listdir(str(dest)) if n.endswith('.jpeg')]) >= 3:
            break
        time.sleep(0.005)
    assert proc.poll() is None, 'the run finished before it could be killed'
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while group_alive(proc.pid) and time.time() < deadline:
        time.sleep(0.01)
    left = group_alive(proc.pid)
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail('workers %s still running 10 s after the module was killed' % left)
    written = len([n for n in os.listdir(str(dest)) if n.endswith('.jpeg')])
    assert written < 60, 'the orphaned workers went on converting'
    result, dummy = convert_folder(str(src), str(dest), Spec(size=[150, 100]), workers=2)
    assert result['counts']['failed'] == 0 and result['counts']['total'] == 60
    assert [n for n in os.listdir(str(dest)) if n.startswith('.')] == [job.MANIFEST]


def test_default_workers():
    assert job.default_workers() >= 1


def test_source_truncated_while_mapped_in_a_worker(tmp_path, monkeypatch):
    """Another process truncates a big source mid-conversion: SIGBUS in the worker, retried, reported."""
    src, dest = tmp_path / 'src', tmp_path / 'dest'
    src.mkdir()
    victim = str(src / 'big.tif')
    supplier_image(victim, size=(1500, 1000))  # 6 MB: memory-mapped by the workers
    supplier_image(str(src / 'small.tif'))
    marker = tmp_path / 'truncated'
    real_plain_tiff = job_pipeline.plain_tiff

    def truncate_first_time(data):
        layout = real_plain_tiff(data)
        if len(data) > 4 * 1024 * 1024 and not marker.exists():
            marker.write_text('x')
            os.truncate(victim, 4096)  # the mapped pages are gone: touching them is SIGBUS
        return layout

    monkeypatch.setattr(job_pipeline, 'plain_tiff', truncate_first_time)
    was_enabled = faulthandler.is_enabled()
    faulthandler.disable()  # the worker's SIGBUS is expected: no "Fatal Python error" dump
    try:
        result, dummy = convert_folder(str(src), str(dest), SUPPLIER, workers=2)
    finally:
        if was_enabled:
            faulthandler.enable()
    # small.tif may have been written by the crashed worker's batch before the SIGBUS; the
    # retry then finds its output complete and verified ('unchanged'). Either way it is done.
    assert actions(result)['big.tif'] == 'failed'
    assert actions(result)['small.tif'] in ('converted', 'unchanged')
    assert (dest / 'small.jpeg').is_file()
    assert 'truncated' in result['errors'][0]['message'] or 'not an image' in result['errors'][0]['message']
    assert marker.exists()


# --- shards -------------------------------------------------------------------------------------

SHARD_NAMES = ['%03d.tif' % i for i in range(1, 13)] + ['café.tif', 'Ölfass.TIF', '商品-7.tif', 'a b.tiff']


@pytest.fixture
def delivery(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for i, name in enumerate(SHARD_NAMES):
        supplier_image(src / name, ((i * 37) % 256, (i * 91) % 256, 120))
    (src / 'broken.tif').write_bytes(b'not an image')
    # a collision: both make same.jpeg, the first by name order wins in every run, sharded or not
    supplier_image(src / 'same.tif', (10, 10, 10))
    supplier_image(src / 'same.tiff', (20, 20, 20))
    return str(src)


def outputs(dest):
    """{name: bytes} of every output (the manifest left out)."""
    return {name: open(os.path.join(dest, name), 'rb').read() for name in listing(dest) if name != job.MANIFEST}


def error_files(result):
    return sorted(os.path.basename(error['file']) for error in result['errors'])


def test_shards_together_equal_one_run_byte_for_byte(delivery, tmp_path):
    whole, dummy = convert_folder(delivery, str(tmp_path / 'whole'), SUPPLIER, workers=2)
    count = 3
    union, errors, converted = {}, [], []
    for index in range(count):
        dest = str(tmp_path / ('shard%d' % index))
        result, dummy = convert_folder(delivery, dest, SUPPLIER, workers=2, shard={'index': index, 'count': count})
        assert result['shard']['index'] == index and result['shard']['count'] == count
        assert result['shard']['other_shards'] + result['counts']['total'] == whole['counts']['total']
        mine = outputs(dest)
        assert not set(mine) & set(union), 'an output made by two shards'
        union.update(mine)
        errors += error_files(result)
        converted += [os.path.basename(item['src']) for item in result['results'] if item['action'] == 'converted']
    assert union == outputs(str(tmp_path / 'whole'))
    assert sorted(errors) == error_files(whole) == ['broken.tif', 'same.tiff']
    assert sorted(converted) == sorted(
        os.path.basename(i['src']) for i in whole['results'] if i['action'] == 'converted'
    )
    assert len(converted) == len(set(converted))  # no file converted twice


def test_shards_into_one_dest_leave_each_other_alone(delivery, tmp_path):
    whole_dest, dest = str(tmp_path / 'whole'), str(tmp_path / 'dest')
    convert_folder(delivery, whole_dest, SUPPLIER, workers=1)
    first, dummy = convert_folder(delivery, dest, SUPPLIER, workers=1, shard={'index': 0, 'count': 2})
    after_first = outputs(dest)
    second, dummy = convert_folder(delivery, dest, SUPPLIER, workers=1, shard={'index': 1, 'count': 2})
    assert first['changed'] and second['changed']
    assert all(after_first[name] == data for name, data in outputs(dest).items() if name in after_first)
    assert outputs(dest) == outputs(whole_dest)
    # the manifest now knows every output: an unsharded run has nothing to do, and neither has a shard
    whole, dummy = convert_folder(delivery, dest, SUPPLIER, workers=1)
    assert whole['counts']['converted'] == 0 and whole['counts']['unchanged'] == len(outputs(dest))
    again, dummy = convert_folder(delivery, dest, SUPPLIER, workers=1, shard={'index': 0, 'count': 2})
    assert not again['changed']


def test_files_of_other_shards_are_not_deleted_or_reported(delivery, tmp_path):
    dest = str(tmp_path / 'dest')
    convert_folder(delivery, dest, SUPPLIER, workers=1)
    before = outputs(dest)
    manifest_before = json.load(open(os.path.join(dest, job.MANIFEST)))
    os.unlink(os.path.join(delivery, '001.tif'))  # a source gone: its output stays, as without shards
    for index in range(2):
        result, dummy = convert_folder(delivery, dest, SUPPLIER, workers=1, shard={'index': index, 'count': 2})
        assert not result['changed']
        names = {os.path.basename(item['src']) for item in result['results']}
        assert all(job.in_shard(name, {'index': index, 'count': 2}) for name in names)
    assert outputs(dest) == before
    assert json.load(open(os.path.join(dest, job.MANIFEST))) == manifest_before


def test_shard_is_stable_and_documented():
    # the documented rule, computed here independently: a host with another Python gets the same split
    import hashlib

    for name in SHARD_NAMES:
        assert job.shard_of(name, 5) == int(hashlib.sha256(name.encode('utf-8')).hexdigest(), 16) % 5
    # fixed values: a change of the rule (which would make old and new hosts overlap) fails here
    names = ('001.tif', '002.tif', '003.tif', 'café.tif', '商品-7.tif')
    assert [job.shard_of(name, 2) for name in names] == [1, 1, 0, 0, 0]
    assert [job.shard_of(name, 3) for name in names] == [1, 0, 0, 0, 2]
    assert job.shard_of('001.tif', 1) == 0
    # a name that is not UTF-8 (surrogate-escaped by os.listdir) is hashed as its raw bytes
    raw = os.fsdecode(b'caf\xe9.tif')
    assert job.shard_of(raw, 7) == int(hashlib.sha256(b'caf\xe9.tif').hexdigest(), 16) % 7


def test_shard_split_is_stable_across_runs(delivery, tmp_path):
    seen = []
    for run in range(2):
        result, dummy = convert_folder(
            delivery, str(tmp_path / ('d%d' % run)), SUPPLIER, workers=1, shard={'index': 1, 'count': 2}
        )
        seen.append(sorted(os.path.basename(item['src']) for item in result['results']))
    assert seen[0] == seen[1] and seen[0]


def test_an_empty_shard_is_a_warning(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    supplier_image(src / '001.tif')
    index = job.shard_of('001.tif', 2)
    result, warnings = convert_folder(
        str(src), str(tmp_path / 'dest'), SUPPLIER, workers=1, shard={'index': 1 - index, 'count': 2}
    )
    assert result['counts']['total'] == 0 and result['shard']['other_shards'] == 1
    assert warnings == ['no file of %s is in shard %d of 2 (1 in the other shards)' % (src, 1 - index)]


@pytest.mark.parametrize(
    'shard,field,message',
    [
        ({'index': 2, 'count': 2}, 'shard.index', 'index must be an integer from 0 to count - 1 (1), got 2'),
        ({'index': -1, 'count': 2}, 'shard.index', 'index must be an integer from 0 to count - 1 (1), got -1'),
        ({'index': 0, 'count': 0}, 'shard.count', 'count must be an integer of at least 1, got 0'),
        ({'index': 0, 'count': -3}, 'shard.count', 'count must be an integer of at least 1, got -3'),
        ({'index': 0, 'count': None}, 'shard.count', 'count must be an integer of at least 1, got None'),
    ],
)
def test_bad_shard_is_refused_before_anything_is_converted(folders, shard, field, message):
    src, dest = folders
    with pytest.raises(JobError) as caught:
        job.convert_images({'src': src, 'dest': dest, 'size': [60, 40], 'shard': shard})
    assert [(e['field'], e['message']) for e in caught.value.errors] == [(field, message)]
    assert not os.path.exists(dest)
