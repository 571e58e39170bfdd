# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one contract between a module and its job, and the one shape of a failure.

Private to the collection: it can change at any time.

A *job* is a plain function in ``plugins/module_utils/``::

    def job(options, check_mode=False, diff=False):
        ...
        return result, warnings

* ``options`` is the dict of validated module options (``module.params``);
* ``result`` becomes the task result. It holds ``changed`` and, when some items were bad,
  ``errors``: a list of :func:`error_entry` dicts ``{file, line, field, message}``. A
  non-empty ``errors`` (or ``failed: True``, for a run that stopped half way) fails the task
  *after* every good item was processed; ``msg`` is then the job's headline followed by at
  most :data:`MSG_ERROR_LIMIT` of the errors (:func:`failure_message`);
* ``warnings`` is a list of strings for ``module.warn``;
* a job raises :class:`JobError` when the task as a whole cannot run (a missing folder, a
  server that refuses the credentials); ``JobError.errors`` may list the causes.

A job never imports ``AnsibleModule``: the module's ``main()`` builds the AnsibleModule and
hands it to :func:`run_module`, the only code that talks to it. Jobs are unit-tested by
calling them with a dict.
"""

from __future__ import annotations

import os
import traceback

# How many errors the task's ``msg`` lists; all of them are in ``errors``.
MSG_ERROR_LIMIT = 10
ERROR_KEYS = ('file', 'line', 'field', 'message')


def error_entry(message, file=None, line=None, field=None):
    """One bad input: ``file`` (or None), 1-based ``line`` (or None), ``field`` (or None), ``message``."""
    return {'file': file, 'line': line, 'field': field, 'message': message}


def format_error(entry):
    """``/data/004.txt line 2 (weight): weight 'x' is not a number`` - where, then what."""
    where = entry.get('file') or ''
    if entry.get('line'):
        where = ('%s line %d' % (where, entry['line'])).strip()
    if entry.get('field'):
        where = ('%s (%s)' % (where, entry['field'])) if where else entry['field']
    return '%s: %s' % (where, entry.get('message')) if where else str(entry.get('message'))


def summarize_errors(errors, limit=MSG_ERROR_LIMIT):
    """The first ``limit`` errors in one line, then how many more there are."""
    shown = [format_error(entry) for entry in errors[:limit]]
    if len(errors) > limit:
        shown.append('... and %d more (see errors)' % (len(errors) - limit))
    return '; '.join(shown)


def failure_message(headline, errors, limit=MSG_ERROR_LIMIT):
    """A failed task's ``msg``: the job's headline, then at most ``limit`` errors."""
    if not errors:
        return headline
    listing = summarize_errors(errors, limit)
    return '%s: %s' % (headline, listing) if headline else listing


class JobError(Exception):
    """The task as a whole cannot run. ``details`` are added to the failure result.

    ``changed`` in ``details`` says whether something was written before the failure
    (default False).
    """

    def __init__(self, message, errors=None, warnings=None, **details):
        super(JobError, self).__init__(message)
        self.message = message
        self.errors = list(errors or [])
        self.warnings = list(warnings or [])
        self.details = details

    def __str__(self):
        return failure_message(self.message, self.errors)

    @property
    def msg(self):
        """The task's ``msg`` for this failure."""
        return str(self)


def execute(job, options, check_mode=False, diff=False):
    """Run ``job``; return ``(result, warnings, failed)`` with the failure folded into the result.

    Unexpected exceptions (bugs) are not caught here: :func:`run_module` reports them with
    their traceback.
    """
    try:
        result, warnings = job(options, check_mode=check_mode, diff=diff)
    except JobError as exc:
        result = dict(exc.details)
        result.setdefault('changed', False)
        result['errors'] = exc.errors
        result['msg'] = failure_message(exc.message, exc.errors)
        return result, exc.warnings, True
    result = dict(result)
    result.setdefault('errors', [])
    failed = bool(result.pop('failed', False)) or bool(result['errors'])
    if failed:
        result['msg'] = failure_message(result.get('msg', ''), result['errors'])
    return result, list(warnings), failed


def missing_requirements(requirements):
    """``[(library name, import traceback)]`` of the ``(has_it, name, traceback)`` triples that are missing."""
    return [(name, error) for has_it, name, error in requirements if not has_it]


def run_module(module, job, requirements=(), file_attributes_of=None):
    """The module side of the contract: the only code that talks to ``AnsibleModule``.

    ``requirements`` are ``(has_it, library name, import traceback)`` triples checked
    first. With ``file_attributes_of`` (a result key holding a path, for modules with
    ``add_file_common_args``) the file's mode, owner and group options are applied to
    that path after a successful job.
    """
    from ansible.module_utils.basic import missing_required_lib

    missing = missing_requirements(requirements)
    if missing:
        name, error = missing[0]
        module.fail_json(msg=missing_required_lib(name), exception=error)
    try:
        result, warnings, failed = execute(job, module.params, check_mode=module.check_mode, diff=module._diff)
    except Exception as exc:  # a bug: report it with its traceback
        module.fail_json(msg='unexpected error: %s: %s' % (type(exc).__name__, exc), exception=traceback.format_exc())
    for warning in warnings:
        module.warn(warning)
    if failed:
        module.fail_json(**result)
    path = result.get(file_attributes_of) if file_attributes_of else None
    if path and os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params, path=path)
        diff = result.get('diff') if isinstance(result.get('diff'), dict) else None
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'], diff=diff)
    module.exit_json(**result)
