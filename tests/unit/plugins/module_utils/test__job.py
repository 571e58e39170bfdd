# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job contract: how a job's result, its errors and its JobError become the task result."""

from __future__ import annotations

from ansible_collections.storeops.shop.plugins.module_utils import _job


def test_error_entry_has_the_four_keys():
    assert _job.error_entry('bad weight', file='/d/004.txt', line=2, field='weight') == {
        'file': '/d/004.txt',
        'line': 2,
        'field': 'weight',
        'message': 'bad weight',
    }
    assert tuple(_job.error_entry('x')) == _job.ERROR_KEYS


def test_format_error_says_where_then_what():
    assert (
        _job.format_error(_job.error_entry('bad', file='/d/4.txt', line=2, field='weight'))
        == '/d/4.txt line 2 (weight): bad'
    )
    assert _job.format_error(_job.error_entry('bad', file='/d/4.txt')) == '/d/4.txt: bad'
    assert _job.format_error(_job.error_entry('must not be empty', field='subject')) == 'subject: must not be empty'
    assert _job.format_error(_job.error_entry('site down')) == 'site down'


def test_summary_lists_at_most_the_limit():
    errors = [_job.error_entry('bad %d' % i, file='f%d' % i) for i in range(13)]
    text = _job.summarize_errors(errors)
    assert text.count('bad ') == _job.MSG_ERROR_LIMIT
    assert text.endswith('... and 3 more (see errors)')
    assert _job.failure_message('3 of 13 failed', errors[:1]) == '3 of 13 failed: f0: bad 0'
    assert _job.failure_message('nothing to list', []) == 'nothing to list'


def test_execute_success_adds_empty_errors():
    def job(options, check_mode=False, diff=False):
        return {'changed': not check_mode, 'msg': 'done', 'seen': options['x']}, ['careful']

    result, warnings, failed = _job.execute(job, {'x': 1})
    assert (result, warnings, failed) == ({'changed': True, 'msg': 'done', 'seen': 1, 'errors': []}, ['careful'], False)
    result, dummy, failed = _job.execute(job, {'x': 1}, check_mode=True)
    assert result['changed'] is False and not failed


def test_execute_bad_items_fail_after_the_good_ones_with_a_summary():
    def job(options, check_mode=False, diff=False):
        return {'changed': True, 'msg': '1 of 2 files failed', 'errors': [_job.error_entry('empty', file='a')]}, []

    result, dummy, failed = _job.execute(job, {})
    assert failed and result['changed'] is True
    assert result['msg'] == '1 of 2 files failed: a: empty'


def test_execute_explicit_failed_without_errors():
    def job(options, check_mode=False, diff=False):
        return {'changed': True, 'msg': 'stopped half way', 'failed': True}, []

    result, dummy, failed = _job.execute(job, {})
    assert failed and 'failed' not in result and result['errors'] == [] and result['msg'] == 'stopped half way'


def test_execute_job_error_becomes_the_failure_result():
    def job(options, check_mode=False, diff=False):
        raise _job.JobError(
            'nothing was written', [_job.error_entry('no such folder', file='/x')], warnings=['w'], dest='/y'
        )

    result, warnings, failed = _job.execute(job, {})
    assert failed and warnings == ['w']
    assert result == {
        'changed': False,
        'dest': '/y',
        'errors': [_job.error_entry('no such folder', file='/x')],
        'msg': 'nothing was written: /x: no such folder',
    }


def test_job_error_text_is_the_task_message():
    exc = _job.JobError('the message was not sent', [_job.error_entry('bad', field='to')])
    assert str(exc) == exc.msg == 'the message was not sent: to: bad'


def test_missing_requirements():
    assert _job.missing_requirements([(True, 'Pillow', None), (False, 'boto3', 'tb')]) == [('boto3', 'tb')]
