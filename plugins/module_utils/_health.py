# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host health checks, and the cron job that mails their alerts without alert storms.

Private to the collection: it can change at any time.

The checks live here once, for their two users:

* the module ``storeops.shop.health_facts`` runs :func:`health_facts_job` (the job contract of
  ``_job``): every check's value, threshold and state as data, and how long ago the cron job
  last ran;
* the role ``storeops.shop.healthcheck`` copies this very file, with the files it imports
  (:data:`SHIPPED_FILES`), to the host and cron runs it every minute as the job's user::

      PYTHONPATH=/usr/local/lib/storeops-healthcheck python3 -P -m \\
          ansible_collections.storeops.shop.plugins.module_utils._health --config /etc/storeops-healthcheck/config.json

  so this file imports only the standard library, psutil and those files, never Ansible.

The course's checks (Module 4), done right:

* CPU usage is sampled over an interval (``psutil.cpu_percent(interval=1)``; without an interval
  the first call of a process, so every cron run, returns 0.0);
* available disk space is free/total of each checked mount point (``statvfs``: ``f_bavail`` over
  ``f_blocks``, what ``df`` shows as Avail over Size), not used-%;
* available memory is MemAvailable (``psutil.virtual_memory().available``), in MB of 1,048,576 bytes;
* ``localhost`` is resolved through the system resolver as IPv4 (``gethostbyname``: a lookup of
  any family can answer ``::1`` first) and compared with 127.0.0.1.

No alert storms (monit/Nagios semantics, kept in a JSON state file on the host): a check goes
from OK to failing, and its alert is mailed, only after N consecutive failed runs (2 for CPU, 1
for the rest); while it stays failing a reminder goes out every M minutes (off by default); when
it is OK again one recovery mail goes out. A mail that cannot be sent stays pending in the state
file (with its Message-ID and Date) and the run exits 2; the next run sends it, once.

Exit status of a job run: 0 every check OK and nothing pending; 1 a check is failing (its
mail, if due, was sent); 2 a mail could not be sent and is pending; 3 the job could not run
(configuration, state file or lock).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import syslog
import time

try:
    import psutil
except ImportError:  # the module reports it (run_module's requirements), the job logs it
    psutil = None
    HAS_PSUTIL = False
    PSUTIL_IMPORT_ERROR = 'psutil is not installed (Debian: apt-get install python3-psutil)'
else:
    HAS_PSUTIL = True
    PSUTIL_IMPORT_ERROR = None

from ansible_collections.storeops.shop.plugins.module_utils._fs import atomic_write_bytes
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry, format_error

# What the role copies to the host: this file and everything it imports, directly or not
# (the unit tests compare this list with the imports and with the role).
SHIPPED_FILES = ('_health.py', '_job.py', '_fs.py', '_mail_message.py', '_smtp.py')

MB = 1024 * 1024
LOCALHOST = 'localhost'
LOCALHOST_ADDRESS = '127.0.0.1'
SYSLOG_IDENT = 'storeops-healthcheck'
STATE_VERSION = 1
# A run waits this long for a previous one (that may be waiting for a slow SMTP server).
LOCK_TIMEOUT = 45.0
# A reminder is due at the first run at least M minutes after the last mail, less this
# (cron starts jobs a little late or early).
REMINDER_SLACK = 30.0
# Pending mails kept when the SMTP server stays unreachable; the oldest are dropped first.
MAX_PENDING = 100

DEFAULT_CONFIG_FILE = '/etc/storeops-healthcheck/config.json'
DEFAULT_STATE_FILE = '/var/lib/storeops-healthcheck/state.json'
DEFAULT_CRON_FILE = '/etc/cron.d/storeops-healthcheck'
COURSE_BODY = 'Please check your system and resolve the issue as soon as possible.'
RECOVERY_BODY = 'The problem is gone: this check is OK again. No action is needed.'

# The thresholds: the course's values. Shared by the module's options and the job's config.
THRESHOLDS = dict(
    cpu_max_percent=80.0,
    cpu_interval=1.0,
    disk_mounts=['/'],
    disk_min_free_percent=20.0,
    memory_min_available_mb=500.0,
)
FAILURES = dict(cpu_failures=2, disk_failures=1, memory_failures=1, localhost_failures=1)
JOB_DEFAULTS = dict(
    FAILURES,
    reminder_minutes=0,
    state_file=DEFAULT_STATE_FILE,
    host=None,
    mail_from='automation@example.com',
    mail_to=[],
    mail_body=COURSE_BODY,
    smtp_host='localhost',
    smtp_port=None,
    smtp_security=None,
    smtp_username=None,
    smtp_password_file=None,
    smtp_timeout=20,
    smtp_validate_certs=True,
    smtp_ca_path=None,
)
CONFIG_DEFAULTS = dict(THRESHOLDS, **JOB_DEFAULTS)
SECURITY_CHOICES = ('starttls', 'tls', 'none')


# --- numbers as people write them ---------------------------------------------------------


def fmt_number(value):
    """``80`` for 80.0, ``80.5`` for 80.5, ``1000000`` (never ``1e+06``)."""
    value = float(value)
    if value.is_integer():
        return '%d' % value
    return ('%.2f' % value).rstrip('0').rstrip('.')


def iso_utc(timestamp):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(timestamp)) if timestamp is not None else None


def readable_utc(timestamp):
    return time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(timestamp))


# --- validation (module options and the job's config file) ---------------------------------


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_thresholds(values, file=None):
    """Problems with the threshold settings, as ``_job.error_entry`` dicts."""
    errors = []

    def bad(field, message):
        errors.append(error_entry(message, file=file, field=field))

    for field, low, high in (('cpu_max_percent', 0, 100), ('disk_min_free_percent', 0, 100)):
        value = values.get(field)
        if not _is_number(value) or not low <= value <= high:
            bad(field, 'must be a number from %d to %d, got %r' % (low, high, value))
    interval = values.get('cpu_interval')
    if not _is_number(interval) or not 0 < interval <= 30:
        bad('cpu_interval', 'must be a number of seconds over 0 and at most 30, got %r' % (interval,))
    memory = values.get('memory_min_available_mb')
    if not _is_number(memory) or memory < 0:
        bad('memory_min_available_mb', 'must be a number of MB (1,048,576 bytes), 0 or more, got %r' % (memory,))
    mounts = values.get('disk_mounts')
    if not isinstance(mounts, list) or not mounts:
        bad('disk_mounts', 'must be a non-empty list of absolute paths, got %r' % (mounts,))
    else:
        for mount in mounts:
            if not isinstance(mount, str) or not mount.startswith('/'):
                bad('disk_mounts', 'must hold absolute paths, got %r' % (mount,))
            elif any(ord(char) < 32 for char in mount):
                bad('disk_mounts', '%r contains a control character' % (mount,))
        if len(set(m for m in mounts if isinstance(m, str))) != len(mounts):
            bad('disk_mounts', 'lists a mount point twice: %r' % (mounts,))
    return errors


def check_config(config, file=None, addresses=True):
    """Problems with a job configuration (thresholds, N, M, mail and SMTP settings).

    With ``addresses``, the mail addresses are parsed as the mail code will parse them (this
    imports the email package: the role's validation does it, a job run leaves it to the send).
    """
    errors = []

    def bad(field, message):
        errors.append(error_entry(message, file=file, field=field))

    if not isinstance(config, dict):
        return [error_entry('must be a JSON object, got %s' % type(config).__name__, file=file)]
    for field in sorted(set(config) - set(CONFIG_DEFAULTS)):
        bad(field, 'unknown setting (known: %s)' % ', '.join(sorted(CONFIG_DEFAULTS)))
    settings = dict(CONFIG_DEFAULTS, **config)
    errors.extend(check_thresholds(settings, file=file))
    for field in sorted(FAILURES):
        value = settings[field]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            bad(field, 'must be a whole number of consecutive failed runs from 1 to 1000, got %r' % (value,))
    reminder = settings['reminder_minutes']
    if not _is_number(reminder) or reminder < 0:
        bad('reminder_minutes', 'must be a number of minutes, 0 (no reminders) or more, got %r' % (reminder,))
    for field in ('state_file',):
        if not isinstance(settings[field], str) or not settings[field].startswith('/'):
            bad(field, 'must be an absolute path, got %r' % (settings[field],))
    for field in ('host', 'smtp_username'):
        if settings[field] is not None and not isinstance(settings[field], str):
            bad(field, 'must be a string or null, got %r' % (settings[field],))
    for field in ('smtp_password_file', 'smtp_ca_path'):
        if settings[field] is not None and (
            not isinstance(settings[field], str) or not settings[field].startswith('/')
        ):
            bad(field, 'must be an absolute path or null, got %r' % (settings[field],))
    for field in ('mail_from', 'smtp_host', 'mail_body'):
        if not isinstance(settings[field], str) or (field != 'mail_body' and not settings[field].strip()):
            bad(field, 'must be a non-empty string, got %r' % (settings[field],))
    recipients = settings['mail_to']
    if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
        bad('mail_to', 'must be a non-empty list of addresses, got %r' % (recipients,))
    port = settings['smtp_port']
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        bad('smtp_port', 'must be a port number or null (25, or 465 with smtp_security tls), got %r' % (port,))
    if settings['smtp_security'] is not None and settings['smtp_security'] not in SECURITY_CHOICES:
        bad(
            'smtp_security',
            'must be one of %s or null, got %r' % (', '.join(SECURITY_CHOICES), settings['smtp_security']),
        )
    timeout = settings['smtp_timeout']
    if not _is_number(timeout) or not 0 < timeout <= LOCK_TIMEOUT:
        bad('smtp_timeout', 'must be a number of seconds over 0 and at most %d, got %r' % (LOCK_TIMEOUT, timeout))
    if not isinstance(settings['smtp_validate_certs'], bool):
        bad('smtp_validate_certs', 'must be true or false, got %r' % (settings['smtp_validate_certs'],))
    if settings['smtp_password_file'] is not None and settings['smtp_username'] is None:
        bad('smtp_password_file', 'is set but smtp_username is not: give both to log in')
    if errors or not addresses:
        return errors
    # The addresses, as the mail code will parse them when it sends.
    from ansible_collections.storeops.shop.plugins.module_utils._mail_message import MailError, parse_address

    for field, values in (('mail_from', [settings['mail_from']]), ('mail_to', recipients)):
        for value in values:
            try:
                parse_address(value, field)
            except MailError as exc:
                bad(field, exc.reason)
    return errors


def load_config(path, addresses=True):
    """The job's settings from ``path`` (JSON), defaults filled in; :class:`JobError` when unusable."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except OSError as exc:
        raise JobError('cannot read the configuration', [error_entry(exc.strerror or str(exc), file=path)])
    try:
        config = json.loads(raw.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise JobError('the configuration is not UTF-8', [error_entry(str(exc), file=path)])
    except ValueError as exc:
        raise JobError(
            'the configuration is not valid JSON', [error_entry(exc.msg, file=path, line=getattr(exc, 'lineno', None))]
        )
    errors = check_config(config, file=path, addresses=addresses)
    if errors:
        raise JobError('the configuration is invalid', errors)
    return dict(CONFIG_DEFAULTS, **config)


# --- the checks ----------------------------------------------------------------------------


def _result(name, description, value, unit, threshold, alert_when, failing, message, error=None, **extra):
    result = dict(
        name=name,
        description=description,
        value=value,
        unit=unit,
        threshold=threshold,
        alert_when=alert_when,
        state='error' if error else ('failing' if failing else 'ok'),
        message=error or message,
    )
    result.update(extra)
    return result


def check_cpu(max_percent, interval):
    """CPU usage of the whole host over ``interval`` seconds; failing when over ``max_percent``."""
    description = 'CPU usage'
    rule = 'over %s%%' % fmt_number(max_percent)
    if psutil is None:
        return _result('cpu', description, None, '%', max_percent, rule, True, None, error=PSUTIL_IMPORT_ERROR)
    value = round(psutil.cpu_percent(interval=interval), 1)
    failing = value > max_percent
    return _result(
        'cpu',
        description,
        value,
        '%',
        max_percent,
        rule,
        failing,
        'CPU usage %s%% over %ss (alert when over %s%%)'
        % (fmt_number(value), fmt_number(interval), fmt_number(max_percent)),
    )


def check_disk(mount, min_free_percent):
    """Free/total space of the file system holding ``mount`` (df's Avail over Size)."""
    name = 'disk:%s' % mount
    description = 'Available disk space on %s' % mount
    rule = 'less than %s%%' % fmt_number(min_free_percent)
    try:
        stats = os.statvfs(mount)
    except OSError as exc:
        return _result(
            name,
            description,
            None,
            '%',
            min_free_percent,
            rule,
            True,
            None,
            mount=mount,
            error='cannot read %s: %s' % (mount, exc.strerror or exc),
        )
    total = stats.f_blocks * stats.f_frsize
    free = stats.f_bavail * stats.f_frsize
    if total <= 0:
        return _result(
            name,
            description,
            None,
            '%',
            min_free_percent,
            rule,
            True,
            None,
            mount=mount,
            error='%s is on a file system without a size' % mount,
        )
    value = round(100.0 * free / total, 1)
    failing = 100.0 * free / total < min_free_percent
    return _result(
        name,
        description,
        value,
        '%',
        min_free_percent,
        rule,
        failing,
        '%s%% available on %s (%s free of %s; alert when less than %s%%)'
        % (fmt_number(value), mount, _size(free), _size(total), fmt_number(min_free_percent)),
        mount=mount,
        free_bytes=free,
        total_bytes=total,
    )


def _size(size):
    for unit in ('bytes', 'KiB', 'MiB', 'GiB'):
        if size < 1024 or unit == 'GiB':
            return ('%d %s' % (size, unit)) if unit == 'bytes' else ('%.1f %s' % (size, unit))
        size /= 1024.0
    return ''  # pragma: no cover - not reached


def check_memory(min_available_mb):
    """MemAvailable in MB (1,048,576 bytes); failing when less than ``min_available_mb``."""
    description = 'Available memory'
    rule = 'less than %s MB' % fmt_number(min_available_mb)
    if psutil is None:
        return _result('memory', description, None, 'MB', min_available_mb, rule, True, None, error=PSUTIL_IMPORT_ERROR)
    available = psutil.virtual_memory().available
    value = round(available / float(MB), 1)
    failing = available < min_available_mb * MB
    return _result(
        'memory',
        description,
        value,
        'MB',
        min_available_mb,
        rule,
        failing,
        '%s MB available (alert when less than %s MB)' % (fmt_number(value), fmt_number(min_available_mb)),
        available_bytes=available,
    )


def check_localhost():
    """``localhost`` through the system resolver as IPv4 must be 127.0.0.1."""
    description = 'localhost resolves to %s' % LOCALHOST_ADDRESS
    rule = 'not %s' % LOCALHOST_ADDRESS
    try:
        address = socket.gethostbyname(LOCALHOST)
    except (socket.gaierror, socket.herror, UnicodeError) as exc:
        return _result(
            'localhost',
            description,
            None,
            '',
            LOCALHOST_ADDRESS,
            rule,
            True,
            'localhost cannot be resolved: %s' % (getattr(exc, 'strerror', None) or exc),
        )
    failing = address != LOCALHOST_ADDRESS
    return _result(
        'localhost',
        description,
        address,
        '',
        LOCALHOST_ADDRESS,
        rule,
        failing,
        'localhost resolves to %s%s' % (address, ', not %s' % LOCALHOST_ADDRESS if failing else ''),
    )


def run_checks(settings):
    """Every check, in a fixed order: cpu, disk:<mount>..., memory, localhost."""
    checks = [check_cpu(settings['cpu_max_percent'], settings['cpu_interval'])]
    checks.extend(check_disk(mount, settings['disk_min_free_percent']) for mount in settings['disk_mounts'])
    checks.append(check_memory(settings['memory_min_available_mb']))
    checks.append(check_localhost())
    return checks


def kind_of(name):
    """``disk`` for ``disk:/srv``, else the name."""
    return name.split(':', 1)[0]


def subjects(name, settings):
    """``(alert subject, recovery subject)`` of a check: the course's subjects with its threshold.

    With the default thresholds the alert subjects are exactly the course's:
    ``Error - CPU usage is over 80%``, ``Error - Available disk space is less than 20%``,
    ``Error - Available memory is less than 500MB``, ``Error - localhost cannot be resolved to 127.0.0.1``;
    the recovery subjects are ``Recovered - CPU usage is back under 80%``,
    ``Recovered - Available disk space is back over 20%``, ``Recovered - Available memory is back over 500MB``
    and ``Recovered - localhost resolves to 127.0.0.1 again``.
    """
    kind = kind_of(name)
    if kind == 'cpu':
        limit = fmt_number(settings['cpu_max_percent'])
        return 'Error - CPU usage is over %s%%' % limit, 'Recovered - CPU usage is back under %s%%' % limit
    if kind == 'disk':
        limit = fmt_number(settings['disk_min_free_percent'])
        return (
            'Error - Available disk space is less than %s%%' % limit,
            'Recovered - Available disk space is back over %s%%' % limit,
        )
    if kind == 'memory':
        limit = fmt_number(settings['memory_min_available_mb'])
        return (
            'Error - Available memory is less than %sMB' % limit,
            'Recovered - Available memory is back over %sMB' % limit,
        )
    if kind == 'localhost':
        return (
            'Error - localhost cannot be resolved to %s' % LOCALHOST_ADDRESS,
            'Recovered - localhost resolves to %s again' % LOCALHOST_ADDRESS,
        )
    raise ValueError('unknown check %r' % name)


# --- the state file ------------------------------------------------------------------------


def empty_state():
    return dict(version=STATE_VERSION, checks={}, pending=[], last_run=None)


def read_state(path):
    """The state in ``path``; an empty state when it does not exist.

    Raises ``OSError`` when it cannot be read and ``ValueError`` when it is not a state file.
    """
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return empty_state()
        raise
    state = json.loads(raw.decode('utf-8'))
    if (
        not isinstance(state, dict)
        or state.get('version') != STATE_VERSION
        or not isinstance(state.get('checks'), dict)
        or not isinstance(state.get('pending'), list)
    ):
        raise ValueError('not a version %d health-check state' % STATE_VERSION)
    state.setdefault('last_run', None)
    return state


def write_state(path, state):
    data = json.dumps(state, indent=1, sort_keys=True, ensure_ascii=False).encode('utf-8') + b'\n'
    atomic_write_bytes(path, data, mode=0o644)


# --- transitions: OK -> failing after N runs, reminders, one recovery ----------------------


def _details(settings, check, lines):
    host = settings.get('host') or socket.gethostname()
    head = ['Host: %s' % host, 'Check: %s' % check['description']]
    value = check['message'] if check['state'] != 'error' else 'cannot be measured: %s' % check['message']
    return '\n'.join(head + ['Value: %s' % value] + lines)


def _mail(settings, check, kind, subject, intro, lines, now):
    body = '%s\n\n%s\n' % (intro, _details(settings, check, lines))
    return dict(
        id='%s/%s/%d' % (check['name'], kind, int(now * 1000)),
        check=check['name'],
        kind=kind,
        subject=subject,
        body=body,
        created=now,
        message_id=None,
        attempts=0,
        last_error=None,
    )


def evaluate(state, checks, settings, now):
    """Update ``state['checks']`` with this run's ``checks`` and queue the mails that are due.

    Returns the list of queued mails (also appended to ``state['pending']``) and the log lines
    of state changes.
    """
    queued = []
    notes = []
    reminder = float(settings.get('reminder_minutes') or 0) * 60.0
    seen = set()
    for check in checks:
        name = check['name']
        seen.add(name)
        previous = state['checks'].get(name) or {}
        status = previous.get('status', 'ok')
        failures = int(previous.get('failures', 0))
        entry = dict(previous, value=check['value'], state=check['state'], message=check['message'], checked=now)
        alert_subject, recovery_subject = subjects(name, settings)
        needed = int(settings.get('%s_failures' % kind_of(name), 1))
        if check['state'] != 'ok':
            failures += 1
            entry['failures'] = failures
            if failures == 1:
                entry['first_failure'] = now
            if status == 'ok' and failures >= needed:
                entry.update(status='failing', since=entry.get('first_failure', now), notified=now)
                runs = '%d run%s in a row' % (failures, '' if failures == 1 else 's')
                since = 'Failing since: %s (%s)' % (readable_utc(entry['since']), runs)
                queued.append(_mail(settings, check, 'alert', alert_subject, settings['mail_body'], [since], now))
                notes.append('%s: failing (%s), alert queued' % (name, check['message']))
            elif status == 'ok':
                entry['status'] = 'ok'
                notes.append(
                    '%s: failed %d of %d runs needed for an alert (%s)' % (name, failures, needed, check['message'])
                )
            elif reminder and now - float(entry.get('notified') or 0) >= reminder - REMINDER_SLACK:
                entry['notified'] = now
                queued.append(
                    _mail(
                        settings,
                        check,
                        'reminder',
                        alert_subject,
                        settings['mail_body'],
                        [
                            'Failing since: %s (still failing; a reminder every %s minutes)'
                            % (readable_utc(entry['since']), fmt_number(reminder / 60.0))
                        ],
                        now,
                    )
                )
                notes.append('%s: still failing (%s), reminder queued' % (name, check['message']))
        else:
            entry['failures'] = 0
            entry.pop('first_failure', None)
            if status == 'failing':
                queued.append(
                    _mail(
                        settings,
                        check,
                        'recovery',
                        recovery_subject,
                        RECOVERY_BODY,
                        ['Failing from: %s to %s' % (readable_utc(entry['since']), readable_utc(now))],
                        now,
                    )
                )
                notes.append('%s: OK again (%s), recovery queued' % (name, check['message']))
            entry['status'] = 'ok'
            entry.pop('since', None)
            entry.pop('notified', None)
        state['checks'][name] = entry
    for name in sorted(set(state['checks']) - seen):
        notes.append('%s: no longer checked, forgotten' % name)
        del state['checks'][name]
    state['pending'].extend(queued)
    if len(state['pending']) > MAX_PENDING:
        dropped = state['pending'][: len(state['pending']) - MAX_PENDING]
        del state['pending'][: len(dropped)]
        notes.append(
            'dropped %s (more than %d pending): %s'
            % (
                'the oldest pending mail' if len(dropped) == 1 else 'the %d oldest pending mails' % len(dropped),
                MAX_PENDING,
                ', '.join(m['subject'] for m in dropped),
            )
        )
    return queued, notes


# --- sending the pending mails with the collection's mail code ------------------------------


def read_password(path):
    """The SMTP password: the first line of ``path`` (a file of its own, so the configuration holds no secret)."""
    from ansible_collections.storeops.shop.plugins.module_utils._mail_message import MailError

    try:
        with open(path, 'rb') as handle:
            lines = handle.read().decode('utf-8').splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MailError(
            'cannot read the SMTP password file %s: %s' % (path, getattr(exc, 'strerror', None) or exc),
            field='smtp_password_file',
        )
    return lines[0] if lines else ''


def connection_from(settings):
    from ansible_collections.storeops.shop.plugins.module_utils._smtp import Connection

    password = read_password(settings['smtp_password_file']) if settings['smtp_password_file'] else None
    return Connection(
        host=settings['smtp_host'],
        port=settings['smtp_port'],
        security=settings['smtp_security'],
        username=settings['smtp_username'],
        password=password,
        timeout=settings['smtp_timeout'],
        validate_certs=settings['smtp_validate_certs'],
        ca_path=settings['smtp_ca_path'],
    )


def send_pending(state, settings, save, log, now=None):
    """Send the pending mails in order; each one leaves the state (saved) once the server took it.

    Every pending mail gets its Message-ID and Date before the first attempt (saved), so each
    retry sends the same message. Stops at the first failure, which is recorded on that mail;
    it stays pending with the others. Returns the error text, or None.
    """
    if not state['pending']:
        return None
    import email.utils

    from ansible_collections.storeops.shop.plugins.module_utils._mail_message import (
        MailError,
        Spec,
        build_message,
        make_message_id,
    )
    from ansible_collections.storeops.shop.plugins.module_utils._smtp import deliver

    def failed(pending, exc):
        pending['attempts'] = int(pending.get('attempts') or 0) + 1
        pending['last_error'] = exc.msg
        pending['last_attempt'] = now if now is not None else time.time()
        return '%s (%s)' % (exc.msg, pending['subject'])

    try:
        conn = connection_from(settings)
        specs = [
            Spec(sender=settings['mail_from'], to=settings['mail_to'], subject=pending['subject'], body=pending['body'])
            for pending in state['pending']
        ]
    except MailError as exc:
        return failed(state['pending'][0], exc)
    new_ids = False
    for pending, spec in zip(state['pending'], specs):
        if not pending.get('message_id'):
            pending['message_id'] = make_message_id(spec)
            pending['date'] = email.utils.formatdate(pending['created'], localtime=True)
            new_ids = True
    if new_ids:
        save()
    for spec in specs:
        pending = state['pending'][0]
        msg = build_message(spec, message_id=pending['message_id'], date=pending['date'])
        warnings = []
        try:
            reply, dummy = deliver(conn, spec, msg, warnings)
        except MailError as exc:
            return failed(pending, exc)
        for warning in warnings:
            log.warning(warning)
        state['pending'].pop(0)
        save()
        log.info(
            'sent "%s" to %s: %s, Message-ID %s%s'
            % (
                pending['subject'],
                ', '.join(spec.recipients),
                reply,
                pending['message_id'],
                ' (after %d failed attempt%s)' % (pending['attempts'], '' if pending['attempts'] == 1 else 's')
                if pending.get('attempts')
                else '',
            )
        )
    return None


# --- the job run ---------------------------------------------------------------------------


class Log(object):
    """Messages to syslog (the journal on Debian), and to stderr when asked or on a terminal."""

    def __init__(self, echo=False):
        self.echo = echo
        syslog.openlog(SYSLOG_IDENT, syslog.LOG_PID, syslog.LOG_DAEMON)

    def _emit(self, priority, label, text):
        for line in text.splitlines() or ['']:
            syslog.syslog(priority, line)
        if self.echo:
            sys.stderr.write('%s%s\n' % (label, text))

    def info(self, text):
        self._emit(syslog.LOG_INFO, '', text)

    def warning(self, text):
        self._emit(syslog.LOG_WARNING, 'warning: ', text)

    def error(self, text):
        self._emit(syslog.LOG_ERR, 'error: ', text)


class Lock(object):
    """An exclusive lock on ``<state file>.lock``, waited for at most ``timeout`` seconds."""

    def __init__(self, path, timeout=None):
        self.path = path
        self.timeout = LOCK_TIMEOUT if timeout is None else timeout
        self.fd = None

    def acquire(self):
        """Take the lock; ``OSError`` (``EAGAIN`` when another run kept it past the timeout) otherwise."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    os.close(fd)
                    raise
                time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _owner_problem(state_file):
    """Root running the job by hand would leave root-owned state the job's user cannot write."""
    if os.geteuid() != 0:
        return None
    directory = os.path.dirname(state_file) or '/'
    try:
        owner = os.stat(directory).st_uid
    except OSError:
        return None
    if owner == 0:
        return None
    try:
        import pwd

        name = pwd.getpwuid(owner).pw_name
    except (ImportError, KeyError):
        name = str(owner)
    return (
        '%s belongs to %s: run the job as that user (runuser -u %s -- <the command in the cron entry>),'
        ' not as root' % (directory, name, name)
    )


def run_job(settings, log, now=None):
    """One run of the cron job with validated ``settings``. Returns the exit status."""
    state_file = settings['state_file']
    started = time.time() if now is None else now
    problem = _owner_problem(state_file)
    if problem:
        log.error(problem)
        return 3
    try:
        lock = Lock(state_file + '.lock').acquire()
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            log.error('another run still holds %s.lock after %ds: this run checks nothing' % (state_file, LOCK_TIMEOUT))
        else:
            log.error('cannot open the lock %s.lock: %s' % (state_file, exc.strerror or exc))
        return 3
    with lock:
        return _locked_run(settings, log, state_file, started, now)


def _locked_run(settings, log, state_file, started, now):
    try:
        state = read_state(state_file)
    except OSError as exc:
        log.error('cannot read the state file %s: %s' % (state_file, exc.strerror or exc))
        return 3
    except ValueError as exc:
        aside = '%s.corrupt-%d' % (state_file, int(started))
        log.error('the state file %s is unusable (%s): moved to %s, starting afresh' % (state_file, exc, aside))
        try:
            os.rename(state_file, aside)
        except OSError as rename_exc:
            log.error('cannot move %s aside: %s' % (state_file, rename_exc.strerror or rename_exc))
            return 3
        state = empty_state()
    checks = run_checks(settings)
    when = time.time() if now is None else now
    dummy, notes = evaluate(state, checks, settings, when)
    for note in notes:
        log.warning(note)

    def save():
        write_state(state_file, state)

    try:
        if state['pending']:
            save()  # the mails are kept before any attempt to send them
        problem = send_pending(state, settings, save, log, now=when)
        failing = [c['name'] for c in checks if c['state'] != 'ok']
        rc = 2 if problem else (1 if failing else 0)
        if problem:
            log.error(
                'cannot send mail: %s; %d mail%s pending, the next run tries again'
                % (problem, len(state['pending']), '' if len(state['pending']) == 1 else 's')
            )
        state['last_run'] = dict(
            started=started, finished=time.time() if now is None else now, rc=rc, pid=os.getpid(), failing=failing
        )
        save()
    except OSError as exc:
        log.error('cannot write the state file %s: %s' % (state_file, exc.strerror or exc))
        return 3
    summary = '; '.join('%s %s: %s' % (c['name'], c['state'], c['message']) for c in checks)
    (log.warning if failing else log.info)('run finished, exit %d: %s' % (rc, summary))
    return rc


def main(argv=None):
    """The cron job's command line. Returns the exit status."""
    import argparse

    parser = argparse.ArgumentParser(
        prog='python3 -m ansible_collections.storeops.shop.plugins.module_utils._health',
        description='storeops.shop health check: CPU, disk, memory and localhost; mails alerts and recoveries.',
    )
    parser.add_argument('--config', default=DEFAULT_CONFIG_FILE, help='the JSON configuration (default: %(default)s)')
    parser.add_argument('--check-config', action='store_true', help='only validate the configuration, then exit')
    parser.add_argument('--verbose', action='store_true', help='also print the log on stderr (default: on a terminal)')
    args = parser.parse_args(argv)
    log = Log(echo=args.verbose or sys.stderr.isatty())
    try:
        settings = load_config(args.config, addresses=args.check_config)
    except JobError as exc:
        for entry in exc.errors:
            log.error('%s: %s' % (exc.message, format_error(entry)))
        return 3
    if args.check_config:
        if args.verbose or sys.stderr.isatty():
            sys.stderr.write('%s: valid\n' % args.config)
        return 0
    try:
        return run_job(settings, log)
    except Exception as exc:  # a bug: in the journal with its traceback, not lost
        import traceback

        log.error('unexpected error: %s: %s\n%s' % (type(exc).__name__, exc, traceback.format_exc()))
        return 3


# --- the module's job ----------------------------------------------------------------------


def job_info(state_file, cron_file, max_age, now):
    """How the role's cron job is doing on this host, from its cron entry and state file."""
    info = dict(
        installed=os.path.exists(cron_file),
        cron_file=cron_file,
        state_file=state_file,
        last_run=None,
        last_run_age=None,
        last_rc=None,
        pending_mail=0,
        pending_subjects=[],
        max_age=max_age,
        error=None,
    )
    if not info['installed']:
        return info, None
    rule = 'over %s s' % fmt_number(max_age)
    try:
        installed_at = os.stat(cron_file).st_mtime
        state = read_state(state_file)
    except (OSError, ValueError) as exc:
        info['error'] = 'cannot read %s: %s' % (state_file, getattr(exc, 'strerror', None) or exc)
        return info, _result('job', 'Health-check job', None, 's', max_age, rule, True, None, error=info['error'])
    last = state.get('last_run') or {}
    pending = state.get('pending') or []
    info.update(pending_mail=len(pending), pending_subjects=[p.get('subject') for p in pending])
    if last.get('finished'):
        age = max(0.0, now - float(last['finished']))
        info.update(last_run=iso_utc(last['finished']), last_run_age=round(age, 1), last_rc=last.get('rc'))
        message = 'last run %s s ago, exit %s' % (fmt_number(round(age)), last.get('rc'))
    else:
        age = max(0.0, now - installed_at)
        message = 'never ran; installed %s s ago' % fmt_number(round(age))
    failing = age > max_age
    if pending:
        # Alerts that do not get out are as bad as a job that does not run.
        oldest = min(float(p.get('created') or now) for p in pending)
        stuck = max(0.0, now - oldest)
        message += ', %d mail%s pending for %s s' % (
            len(pending),
            '' if len(pending) == 1 else 's',
            fmt_number(round(stuck)),
        )
        failing = failing or stuck > max_age
    message += ' (failing when silent, or mail pending, for more than %s s)' % fmt_number(max_age)
    return info, _result('job', 'Health-check job', round(age, 1), 's', max_age, rule, failing, message)


def check_module_options(options):
    errors = check_thresholds(options)
    if not _is_number(options.get('job_max_age')) or options['job_max_age'] <= 0:
        errors.append(
            error_entry(
                'must be a number of seconds over 0, got %r' % (options.get('job_max_age'),), field='job_max_age'
            )
        )
    for field in ('job_state_file', 'job_cron_file'):
        if not isinstance(options.get(field), str) or not options[field].startswith('/'):
            errors.append(error_entry('must be an absolute path, got %r' % (options.get(field),), field=field))
    return errors


def health_facts_job(options, check_mode=False, diff=False):
    """The job of ``storeops.shop.health_facts``: read-only, the same in check mode."""
    errors = check_module_options(options)
    if errors:
        raise JobError('invalid options', errors)
    checks = run_checks(options)
    now = time.time()
    job, job_check = job_info(options['job_state_file'], options['job_cron_file'], options['job_max_age'], now)
    if job_check:
        checks.append(job_check)
    failing = [check['name'] for check in checks if check['state'] != 'ok']
    facts = dict(checked_at=iso_utc(now), failing=bool(failing), failing_checks=failing, checks=checks, job=job)
    return dict(changed=False, ansible_facts=dict(storeops_health=facts)), []


if __name__ == '__main__':
    raise SystemExit(main())
