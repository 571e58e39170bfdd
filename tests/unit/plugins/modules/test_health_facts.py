# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module as Ansible runs it: arguments in, JSON out, measured on this machine."""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.storeops.shop.plugins.modules import health_facts


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            health_facts.main()
    return caught.value.code, json.loads(capsys.readouterr().out)


def test_facts_are_set_and_nothing_changes(capsys, tmp_path):
    args = dict(
        cpu_interval=0.2,
        disk_mounts=['/', str(tmp_path)],
        job_cron_file=str(tmp_path / 'cron'),
        job_state_file=str(tmp_path / 'state.json'),
    )
    rc, result = run_module(capsys, args)
    assert rc == 0 and result['changed'] is False and result['errors'] == []
    health = result['ansible_facts']['storeops_health']
    assert [c['name'] for c in health['checks']] == ['cpu', 'disk:/', 'disk:%s' % tmp_path, 'memory', 'localhost']
    assert health['checks'][1]['threshold'] == 20.0 and health['checks'][3]['threshold'] == 500.0
    assert health['job']['installed'] is False
    rc, check = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert rc == 0 and check['changed'] is False
    assert [c['name'] for c in check['ansible_facts']['storeops_health']['checks']] == [
        c['name'] for c in health['checks']
    ]
    assert os.listdir(str(tmp_path)) == []  # it only reads


def test_bad_options_fail_with_errors_entries(capsys):
    rc, result = run_module(capsys, dict(cpu_max_percent=150, disk_mounts=['relative/path']))
    assert rc == 1 and result['failed']
    assert [(e['field'], e['file'], e['line']) for e in result['errors']] == [
        ('cpu_max_percent', None, None),
        ('disk_mounts', None, None),
    ]
    assert result['msg'].startswith('invalid options: cpu_max_percent: must be a number from 0 to 100, got 150.0')
