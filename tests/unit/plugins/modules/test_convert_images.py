# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module as Ansible runs it: arguments in, JSON out."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.storeops.shop.plugins.modules import convert_images

from PIL import Image


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            convert_images.main()
    return caught.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def args(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('001.tif', '002.TIFF'):
        Image.new('RGBA', (90, 60), (255, 0, 255, 0)).save(str(src / name))
    (src / '003.tif').write_bytes(b'')
    return dict(src=str(src), dest=str(tmp_path / 'dest'), size=[30, 20], workers=1)


def test_check_run_check_idempotent_idempotent(capsys, args):
    (rc, check) = run_module(capsys, dict(args, pattern=['00[12]*'], _ansible_check_mode=True, _ansible_diff=True))
    assert rc == 0 and check['changed'] and check['counts']['converted'] == 2
    assert '001.jpeg (added from 001.tif)' in check['diff']['after']
    (rc, run) = run_module(capsys, dict(args, pattern=['00[12]*']))
    assert rc == 0 and run['changed'] and run['counts']['converted'] == 2
    assert [r['size'] for r in run['results']] == [[30, 20], [30, 20]]
    (rc, check_again) = run_module(capsys, dict(args, pattern=['00[12]*'], _ansible_check_mode=True))
    assert rc == 0 and not check_again['changed']
    (rc, again) = run_module(capsys, dict(args, pattern=['00[12]*']))
    assert rc == 0 and not again['changed'] and again['counts']['unchanged'] == 2


def test_bad_file_fails_after_converting_the_others(capsys, args):
    rc, result = run_module(capsys, args)
    assert rc == 1 and result['failed'] and result['changed']
    assert (
        result['msg'].startswith('1 of 3 files could not be converted')
        and '003.tif: empty file (0 bytes)' in result['msg']
    )
    # the collection's one failure shape
    assert result['errors'] == [
        {'file': args['src'] + '/003.tif', 'line': None, 'field': None, 'message': 'empty file (0 bytes)'}
    ]
    assert result['counts'] == {'total': 3, 'converted': 2, 'unchanged': 0, 'failed': 1}


@pytest.mark.parametrize(
    'extra,message',
    [
        ({'size': [0, 20]}, 'size must be two positive integers'),
        ({'size': [1, 2, 3]}, 'size must be two positive integers'),
        ({'quality': 101}, 'quality must be an integer from 1 to 100'),
        ({'background': '#ff000080'}, 'background must be opaque'),
        ({'background': 'no-such-colour'}, 'is not a colour'),
        ({'workers': 0}, 'workers: must be at least 1'),
        ({'max_pixels': 0}, 'max_pixels: must be at least 1'),
        ({'rotate': 45}, 'value of rotate must be one of'),
        ({'fit': 'stretch'}, 'value of fit must be one of'),
    ],
)
def test_bad_options(capsys, args, extra, message):
    rc, result = run_module(capsys, dict(args, **extra))
    assert rc == 1 and message in result['msg']


def test_missing_src_and_dest_file(capsys, args, tmp_path):
    rc, result = run_module(capsys, dict(args, src=str(tmp_path / 'nope')))
    assert rc == 1 and result['msg'] == 'src %s does not exist' % (tmp_path / 'nope')
    (tmp_path / 'file').write_text('x')
    rc, result = run_module(capsys, dict(args, dest=str(tmp_path / 'file')))
    assert rc == 1 and result['msg'] == 'dest %s exists and is not a directory' % (tmp_path / 'file')


def test_no_match_warns(capsys, args):
    rc, result = run_module(capsys, dict(args, pattern=['*.png']))
    assert rc == 0 and result['changed'] and result['counts']['total'] == 0  # dest was created
    assert 'no file in' in json.dumps(result.get('warnings'))


def test_missing_pillow(capsys, args, monkeypatch):
    monkeypatch.setattr(convert_images, 'HAS_PIL', False)
    monkeypatch.setattr(convert_images, 'PIL_IMPORT_ERROR', 'Traceback: No module named PIL')
    rc, result = run_module(capsys, args)
    assert rc == 1 and 'Failed to import the required Python library (Pillow)' in result['msg']


def test_shard_through_the_module(capsys, args):
    seen = []
    for index in range(2):
        rc, result = run_module(capsys, dict(args, pattern=['00[12]*'], shard={'index': index, 'count': 2}))
        assert rc == 0 and result['shard']['count'] == 2
        assert result['shard']['other_shards'] + result['counts']['total'] == 2
        seen += [r['src'] for r in result['results']]
    assert sorted(seen) == [args['src'] + '/001.tif', args['src'] + '/002.TIFF']


@pytest.mark.parametrize(
    'shard,message',
    [
        ({'index': 1, 'count': 1}, 'shard.index: index must be an integer from 0 to count - 1 (0), got 1'),
        ({'index': 0, 'count': 0}, 'shard.count: count must be an integer of at least 1, got 0'),
        ({'index': 0}, 'missing required arguments: count'),
    ],
)
def test_bad_shard_through_the_module(capsys, args, shard, message):
    rc, result = run_module(capsys, dict(args, shard=shard))
    assert rc == 1 and result['failed'] and not result.get('changed')
    assert message in result['msg']
