# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for _health: the checks on this machine with real psutil, the alert state machine, and
whole job runs against a real SMTP server on 127.0.0.1 (aiosmtpd), including one that is down
(a port where nothing listens) and comes back.

Only two faults are simulated, because a unit test cannot make them for real on this machine:
``localhost`` resolving elsewhere and failing to resolve (``socket.gethostbyname`` replaced).
The Molecule scenario ``healthcheck`` makes every fault for real on a lab host.
"""

from __future__ import annotations

import ast
import email.parser
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import psutil
import pytest
import yaml
from aiosmtpd import controller as aiosmtpd_controller

from ansible_collections.storeops.shop.plugins.module_utils import _health
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, execute

MODULE_UTILS = os.path.dirname(os.path.abspath(_health.__file__))
ROOT = os.path.dirname(os.path.dirname(MODULE_UTILS))
COURSE_SUBJECTS = {
    'cpu': 'Error - CPU usage is over 80%',
    'disk': 'Error - Available disk space is less than 20%',
    'memory': 'Error - Available memory is less than 500MB',
    'localhost': 'Error - localhost cannot be resolved to 127.0.0.1',
}


class Recorder(object):
    def __init__(self):
        self.messages = []
        self.raw = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content)
        self.messages.append(
            email.parser.BytesParser(policy=email.policy.default).parsebytes(envelope.original_content)
        )
        return '250 OK'


def text_of(message):
    return message.get_content().replace('\r\n', '\n')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server(object):
    """An SMTP server on a fixed port that can be started and stopped (the port stays the same)."""

    def __init__(self):
        self.port = free_port()
        self.handler = Recorder()
        self.controller = None

    def start(self):
        self.controller = aiosmtpd_controller.Controller(self.handler, hostname='127.0.0.1', port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def subjects(self):
        return [str(msg['Subject']) for msg in self.handler.messages]


@pytest.fixture
def server():
    srv = Server()
    srv.start()
    yield srv
    srv.stop()


class Log(object):
    """Collects what the job logs (it logs to syslog otherwise)."""

    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(('info', text))

    def warning(self, text):
        self.lines.append(('warning', text))

    def error(self, text):
        self.lines.append(('error', text))

    def text(self, level=None):
        return '\n'.join(t for lvl, t in self.lines if level is None or lvl == level)


def settings(tmp_path, port, **overrides):
    config = dict(
        _health.CONFIG_DEFAULTS,
        mail_to=['student@example.com'],
        smtp_host='127.0.0.1',
        smtp_port=port,
        smtp_timeout=5,
        state_file=str(tmp_path / 'state.json'),
        host='monitor',
        cpu_max_percent=100.0,
        cpu_interval=0.1,
    )
    config.update(overrides)
    assert _health.check_config(config) == []
    return config


def write_config(tmp_path, **values):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(values))
    return str(path)


# --- subjects and numbers -------------------------------------------------------------------


def test_default_subjects_are_the_courses():
    defaults = dict(_health.CONFIG_DEFAULTS)
    for name, subject in COURSE_SUBJECTS.items():
        assert _health.subjects(name, defaults)[0] == subject
    assert _health.subjects('disk:/srv', defaults)[0] == COURSE_SUBJECTS['disk']
    assert _health.subjects('cpu', defaults)[1] == 'Recovered - CPU usage is back under 80%'
    assert _health.subjects('disk:/', defaults)[1] == 'Recovered - Available disk space is back over 20%'
    assert _health.subjects('memory', defaults)[1] == 'Recovered - Available memory is back over 500MB'
    assert _health.subjects('localhost', defaults)[1] == 'Recovered - localhost resolves to 127.0.0.1 again'
    assert _health.COURSE_BODY == 'Please check your system and resolve the issue as soon as possible.'


def test_subjects_name_the_threshold_set():
    values = dict(_health.CONFIG_DEFAULTS, cpu_max_percent=92.5, memory_min_available_mb=1000000)
    assert _health.subjects('cpu', values)[0] == 'Error - CPU usage is over 92.5%'
    assert _health.subjects('memory', values)[0] == 'Error - Available memory is less than 1000000MB'


def test_fmt_number():
    assert [_health.fmt_number(v) for v in (80, 80.0, 80.5, 0.125, 1e6)] == ['80', '80', '80.5', '0.12', '1000000']


# --- the checks, measured for real ------------------------------------------------------------


def test_disk_is_free_over_total_like_df(tmp_path):
    result = _health.check_disk(str(tmp_path), 20)
    stats = os.statvfs(str(tmp_path))
    expected = 100.0 * stats.f_bavail / stats.f_blocks
    assert result['name'] == 'disk:%s' % tmp_path and result['unit'] == '%'
    assert abs(result['value'] - expected) < 0.2
    # free/total, not 100 - used% (used% leaves out the blocks reserved for root)
    usage = psutil.disk_usage(str(tmp_path))
    assert result['free_bytes'] == stats.f_bavail * stats.f_frsize and result['total_bytes'] == usage.total
    assert result['state'] == ('failing' if expected < 20 else 'ok')
    assert _health.check_disk(str(tmp_path), 100)['state'] == 'failing'
    assert _health.check_disk(str(tmp_path), 0)['state'] == 'ok'


def test_disk_that_does_not_exist_is_an_error(tmp_path):
    result = _health.check_disk(str(tmp_path / 'missing'), 20)
    assert result['state'] == 'error' and result['value'] is None
    assert 'No such file or directory' in result['message']


def test_memory_is_memavailable_in_mib():
    result = _health.check_memory(500)
    with open('/proc/meminfo') as handle:
        meminfo = dict(line.split(':', 1) for line in handle)
    memavailable_kib = int(meminfo['MemAvailable'].split()[0])
    assert abs(result['value'] - memavailable_kib / 1024.0) < 256  # read a moment apart
    assert result['state'] == 'ok' and result['unit'] == 'MB'
    assert _health.check_memory(10**9)['state'] == 'failing'


def test_cpu_is_sampled_over_the_interval_even_in_a_new_process():
    """The course's solutions call cpu_percent() without an interval: 0.0 in every new process."""
    burner = subprocess.Popen(
        [sys.executable, '-c', 'import time\nend = time.time() + 3\nwhile time.time() < end: pass']
    )
    try:
        code = (
            'import json, time\nfrom ansible_collections.storeops.shop.plugins.module_utils import _health\n'
            'start = time.monotonic()\nr = _health.check_cpu(0, 0.5)\nr["took"] = time.monotonic() - start\n'
            'print(json.dumps(r))'
        )
        out = subprocess.run(
            [sys.executable, '-c', code], capture_output=True, text=True, check=True, env=os.environ
        ).stdout
    finally:
        burner.kill()
        burner.wait()
    result = json.loads(out)
    assert result['took'] >= 0.5
    assert result['value'] > 0 and result['state'] == 'failing'  # a busy core is more than 0 % of the host
    assert _health.check_cpu(100, 0.1)['state'] == 'ok'


def test_localhost_resolves_to_127_0_0_1():
    result = _health.check_localhost()
    assert (result['value'], result['state']) == ('127.0.0.1', 'ok')


def test_localhost_elsewhere_or_unresolvable(monkeypatch):
    # Simulated: /etc/hosts of the machine running the tests is not the tests' to break.
    monkeypatch.setattr(socket, 'gethostbyname', lambda name: '192.0.2.10')
    result = _health.check_localhost()
    assert (result['value'], result['state']) == ('192.0.2.10', 'failing')

    def fail(name):
        raise socket.gaierror(-2, 'Name or service not known')

    monkeypatch.setattr(socket, 'gethostbyname', fail)
    result = _health.check_localhost()
    assert result['value'] is None and result['state'] == 'failing'
    assert 'Name or service not known' in result['message']


# --- validation -------------------------------------------------------------------------------


def test_thresholds_are_validated():
    bad = dict(
        cpu_max_percent=101,
        cpu_interval=0,
        disk_mounts=['relative', '/ok', '/ok', '/new\nline'],
        disk_min_free_percent=-1,
        memory_min_available_mb='500',
    )
    fields = sorted(e['field'] for e in _health.check_thresholds(bad, file='/etc/x.json'))
    assert fields == [
        'cpu_interval',
        'cpu_max_percent',
        'disk_min_free_percent',
        'disk_mounts',
        'disk_mounts',
        'disk_mounts',
        'memory_min_available_mb',
    ]
    assert all(e['file'] == '/etc/x.json' for e in _health.check_thresholds(bad, file='/etc/x.json'))
    assert _health.check_thresholds(dict(_health.THRESHOLDS)) == []
    assert [e['field'] for e in _health.check_thresholds(dict(_health.THRESHOLDS, disk_mounts=[]))] == ['disk_mounts']


def test_config_is_validated_with_clear_errors():
    config = dict(
        mail_to=['foo@'],
        mail_from='automation@example.com',
        cpu_failures=0,
        colour='blue',
        smtp_security='ssl',
        smtp_port=70000,
        smtp_password_file='/etc/pw',
        smtp_timeout=True,
    )
    errors = _health.check_config(config, file='/etc/storeops-healthcheck/config.json')
    messages = dict((e['field'], e['message']) for e in errors)
    assert set(messages) == {
        'colour',
        'cpu_failures',
        'smtp_security',
        'smtp_port',
        'smtp_password_file',
        'smtp_timeout',
    }
    assert 'unknown setting' in messages['colour']
    assert 'smtp_username' in messages['smtp_password_file']
    # Addresses are checked once the rest is right, by the mail code that will send.
    errors = _health.check_config(dict(mail_to=['foo@', 'student@example.com'], mail_from='automation'))
    assert [(e['field'], 'domain' in e['message'] or 'no @' in e['message']) for e in errors] == [
        ('mail_from', True),
        ('mail_to', True),
    ]
    assert _health.check_config(dict(mail_to=[])) == [
        _health.error_entry("must be a non-empty list of addresses, got []", field='mail_to')
    ]
    assert _health.check_config(['not', 'an', 'object'])[0]['message'].startswith('must be a JSON object')


def test_security_choices_are_the_mail_codes():
    from ansible_collections.storeops.shop.plugins.module_utils import _smtp

    assert _health.SECURITY_CHOICES == _smtp.SECURITY_CHOICES


def test_a_bad_address_fails_the_check_and_the_send_not_the_checks(tmp_path, server):
    config = write_config(
        tmp_path,
        mail_to=['foo@'],
        smtp_host='127.0.0.1',
        smtp_port=server.port,
        state_file=str(tmp_path / 'state.json'),
        cpu_max_percent=100,
        cpu_interval=0.1,
        memory_min_available_mb=10**9,
    )
    assert _health.main(['--check-config', '--config', config]) == 3
    # A run still checks (and keeps the alert pending: the mail code refuses the address).
    assert _health.main(['--config', config]) == 2
    assert _health.read_state(str(tmp_path / 'state.json'))['pending'][0]['last_error'].startswith('to: ')


def test_load_config_names_the_file_and_line(tmp_path):
    path = tmp_path / 'config.json'
    path.write_text('{\n  "mail_to": ["a@example.com"],\n  "cpu_max_percent": ,\n}\n')
    with pytest.raises(JobError) as caught:
        _health.load_config(str(path))
    assert caught.value.errors[0]['file'] == str(path) and caught.value.errors[0]['line'] == 3
    with pytest.raises(JobError) as caught:
        _health.load_config(str(tmp_path / 'missing.json'))
    assert 'No such file' in caught.value.errors[0]['message']
    path.write_bytes(b'{"mail_to": ["\xff@example.com"]}')
    with pytest.raises(JobError, match='not UTF-8'):
        _health.load_config(str(path))
    path.write_text(json.dumps({'mail_to': ['a@example.com'], 'cpu_max_percent': 90}))
    loaded = _health.load_config(str(path))
    assert loaded['cpu_max_percent'] == 90 and loaded['disk_mounts'] == ['/'] and loaded['cpu_failures'] == 2


def test_check_config_command_line(tmp_path):
    good = write_config(tmp_path, mail_to=['a@example.com'])
    assert _health.main(['--check-config', '--config', good]) == 0
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'mail_to': ['a@example.com'], 'cpu_interval': 0}))
    assert _health.main(['--check-config', '--config', str(bad)]) == 3


# --- the state machine ---------------------------------------------------------------------


def result(name, state, value=1.0):
    return dict(
        name=name,
        description=name,
        value=value,
        unit='%',
        threshold=80,
        alert_when='over 80%',
        state=state,
        message='%s is %s' % (name, state),
    )


def run(state, states, now, **overrides):
    config = dict(_health.CONFIG_DEFAULTS, mail_to=['a@example.com'], host='monitor')
    config.update(overrides)
    queued, notes = _health.evaluate(state, [result(name, s) for name, s in states.items()], config, now)
    return [(m['check'], m['kind'], m['subject']) for m in queued], notes


def test_cpu_alerts_after_two_failed_runs_then_once_then_recovers_once():
    state = _health.empty_state()
    assert run(state, {'cpu': 'ok'}, 0)[0] == []
    assert run(state, {'cpu': 'failing'}, 60)[0] == []
    assert state['checks']['cpu']['failures'] == 1 and state['checks']['cpu']['status'] == 'ok'
    assert run(state, {'cpu': 'failing'}, 120)[0] == [('cpu', 'alert', COURSE_SUBJECTS['cpu'])]
    assert state['checks']['cpu']['since'] == 60  # failing since its first failed run
    assert run(state, {'cpu': 'failing'}, 180)[0] == []
    assert run(state, {'cpu': 'failing'}, 240)[0] == []
    assert run(state, {'cpu': 'ok'}, 300)[0] == [('cpu', 'recovery', 'Recovered - CPU usage is back under 80%')]
    assert run(state, {'cpu': 'ok'}, 360)[0] == []
    assert [m['kind'] for m in state['pending']] == ['alert', 'recovery']


def test_one_failed_cpu_run_between_good_ones_sends_nothing():
    state = _health.empty_state()
    for now, value in enumerate(['failing', 'ok', 'failing', 'ok', 'failing']):
        assert run(state, {'cpu': value}, now * 60)[0] == []
    assert state['pending'] == []


def test_other_checks_alert_at_the_first_failure():
    state = _health.empty_state()
    queued, dummy = run(state, {'disk:/': 'failing', 'memory': 'error', 'localhost': 'failing', 'cpu': 'ok'}, 0)
    assert queued == [
        ('disk:/', 'alert', COURSE_SUBJECTS['disk']),
        ('memory', 'alert', COURSE_SUBJECTS['memory']),
        ('localhost', 'alert', COURSE_SUBJECTS['localhost']),
    ]


def test_reminders_every_m_minutes_while_failing():
    state = _health.empty_state()
    assert run(state, {'disk:/': 'failing'}, 0, reminder_minutes=5)[0] == [('disk:/', 'alert', COURSE_SUBJECTS['disk'])]
    kinds = []
    for minute in range(1, 12):
        queued, dummy = run(state, {'disk:/': 'failing'}, minute * 60 + 2, reminder_minutes=5)
        kinds.append([k for c, k, s in queued])
    # cron's jitter (a run at 4:58 instead of 5:00) does not push a reminder to the next minute
    assert kinds == [[], [], [], [], ['reminder'], [], [], [], [], ['reminder'], []]
    reminder = state['pending'][1]
    assert reminder['subject'] == COURSE_SUBJECTS['disk'] and 'a reminder every 5 minutes' in reminder['body']


def test_mail_text():
    state = _health.empty_state()
    run(state, {'memory': 'failing'}, 1000000000)
    run(state, {'memory': 'ok'}, 1000000060)
    alert, recovery = state['pending']
    assert alert['body'].startswith(
        _health.COURSE_BODY + '\n\nHost: monitor\nCheck: memory\nValue: memory is failing\n'
    )
    assert 'Failing since: 2001-09-09 01:46:40 UTC (1 run in a row)' in alert['body']
    assert recovery['body'].startswith(_health.RECOVERY_BODY + '\n\n')
    assert 'Failing from: 2001-09-09 01:46:40 UTC to 2001-09-09 01:47:40 UTC' in recovery['body']


def test_checks_no_longer_configured_are_forgotten_without_mail():
    state = _health.empty_state()
    run(state, {'disk:/': 'ok', 'disk:/srv': 'failing'}, 0)
    queued, notes = run(state, {'disk:/': 'ok'}, 60)
    assert queued == [] and set(state['checks']) == {'disk:/'} and 'disk:/srv: no longer checked' in notes[0]


def test_pending_mail_is_capped(monkeypatch):
    monkeypatch.setattr(_health, 'MAX_PENDING', 3)
    state = _health.empty_state()
    for i in range(4):
        run(state, {'memory': 'failing' if i % 2 == 0 else 'ok'}, i * 60)
    queued, notes = run(state, {'memory': 'failing'}, 300)
    assert len(state['pending']) == 3 and [m['kind'] for m in state['pending']] == ['alert', 'recovery', 'alert']
    assert notes[-1].startswith('dropped the oldest pending mail (more than 3 pending): Recovered - ')
    state['pending'].clear()
    for i in range(5):
        run(state, {'memory': 'failing' if i % 2 == 0 else 'ok'}, 400 + i * 60)
    assert len(state['pending']) == 3


# --- whole runs against a real SMTP server ---------------------------------------------------


def test_a_run_mails_an_alert_once_then_a_recovery_once(tmp_path, server):
    log = Log()
    failing = settings(tmp_path, server.port, memory_min_available_mb=10.0**9)
    assert _health.run_job(failing, log) == 1
    assert server.subjects == ['Error - Available memory is less than 1000000000MB']
    assert _health.run_job(failing, log) == 1
    assert len(server.handler.messages) == 1
    assert _health.run_job(settings(tmp_path, server.port), log) == 0
    assert server.subjects[1] == 'Recovered - Available memory is back over 500MB'
    assert _health.run_job(settings(tmp_path, server.port), log) == 0
    assert len(server.handler.messages) == 2
    alert = server.handler.messages[0]
    assert str(alert['From']) == 'automation@example.com' and str(alert['To']) == 'student@example.com'
    assert alert['Auto-Submitted'] == 'auto-generated'
    assert text_of(alert).startswith(_health.COURSE_BODY + '\n\nHost: monitor\nCheck: Available memory\n')
    state = _health.read_state(failing['state_file'])
    assert state['pending'] == [] and state['last_run']['rc'] == 0 and state['checks']['memory']['status'] == 'ok'
    assert oct(os.stat(failing['state_file']).st_mode & 0o777) == '0o644'
    assert 'sent "Error - Available memory is less than 1000000000MB" to student@example.com' in log.text('info')


def test_smtp_down_keeps_the_alert_pending_and_it_arrives_once(tmp_path):
    srv = Server()  # not started yet: nothing listens on its port
    log = Log()
    failing = settings(tmp_path, srv.port, memory_min_available_mb=10.0**9)
    try:
        assert _health.run_job(failing, log) == 2
        state = _health.read_state(failing['state_file'])
        assert [m['subject'] for m in state['pending']] == ['Error - Available memory is less than 1000000000MB']
        first_id = state['pending'][0]['message_id']
        assert first_id and state['pending'][0]['attempts'] == 1 and 'refused' in state['pending'][0]['last_error']
        assert 'cannot send mail' in log.text('error') and '1 mail pending' in log.text('error')
        assert _health.run_job(failing, log) == 2
        state = _health.read_state(failing['state_file'])
        assert len(state['pending']) == 1 and state['pending'][0]['attempts'] == 2
        assert state['pending'][0]['message_id'] == first_id
        srv.start()
        assert _health.run_job(failing, log) == 1
        assert _health.run_job(failing, log) == 1
        assert srv.subjects == ['Error - Available memory is less than 1000000000MB']
        assert srv.handler.messages[0]['Message-ID'] == first_id
        assert 'after 2 failed attempts' in log.text('info')
    finally:
        srv.stop()


def test_alert_and_recovery_both_pending_go_out_in_order(tmp_path):
    srv = Server()
    log = Log()
    try:
        assert _health.run_job(settings(tmp_path, srv.port, memory_min_available_mb=10.0**9), log) == 2
        assert _health.run_job(settings(tmp_path, srv.port), log) == 2
        pending = _health.read_state(str(tmp_path / 'state.json'))['pending']
        assert [m['kind'] for m in pending] == ['alert', 'recovery']
        # Both have their Message-ID before the first attempt; only the first was tried.
        assert all(m['message_id'] for m in pending) and [m['attempts'] for m in pending] == [2, 0]
        ids = [m['message_id'] for m in pending]
        srv.start()
        assert _health.run_job(settings(tmp_path, srv.port), log) == 0
        assert srv.subjects == [
            'Error - Available memory is less than 1000000000MB',
            'Recovered - Available memory is back over 500MB',
        ]
        assert [m['Message-ID'] for m in srv.handler.messages] == ids
    finally:
        srv.stop()


def test_unreadable_password_file_keeps_the_mail_pending(tmp_path, server):
    log = Log()
    config = settings(
        tmp_path,
        server.port,
        memory_min_available_mb=10.0**9,
        smtp_username='automation',
        smtp_password_file=str(tmp_path / 'missing-password'),
    )
    assert _health.run_job(config, log) == 2
    assert 'cannot read the SMTP password file' in log.text('error') and server.handler.messages == []


def test_non_ascii_text_is_sent_encoded(tmp_path, server):
    log = Log()
    config = settings(
        tmp_path,
        server.port,
        memory_min_available_mb=10.0**9,
        host='Überwachung-監視',
        mail_body='Bitte prüfen – システムを確認してください。',
    )
    assert _health.run_job(config, log) == 1
    assert text_of(server.handler.messages[0]).startswith(
        'Bitte prüfen – システムを確認してください。\n\nHost: Überwachung-監視\n'
    )
    server.handler.raw[0].decode('ascii')  # sent 7-bit clean


def test_a_corrupt_state_file_is_moved_aside(tmp_path, server):
    log = Log()
    state_file = tmp_path / 'state.json'
    state_file.write_text('{"truncated": ')
    assert _health.run_job(settings(tmp_path, server.port), log) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('state.json.corrupt-')]
    assert _health.read_state(str(state_file))['last_run']['rc'] == 0
    assert 'unusable' in log.text('error')


def test_a_run_waits_for_the_lock_and_gives_up_after_the_timeout(tmp_path, server, monkeypatch):
    config = settings(tmp_path, server.port)
    holder = _health.Lock(config['state_file'] + '.lock').acquire()
    try:
        monkeypatch.setattr(_health, 'LOCK_TIMEOUT', 0.3)
        log = Log()
        start = time.monotonic()
        assert _health.run_job(config, log) == 3
        assert time.monotonic() - start >= 0.3 and 'another run still holds' in log.text('error')
        assert not os.path.exists(config['state_file'])
    finally:
        holder.__exit__()
    assert _health.run_job(config, Log()) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root')
def test_root_does_not_run_the_job_of_another_user(tmp_path, server):
    state_dir = tmp_path / 'state'
    state_dir.mkdir()
    os.chown(str(state_dir), 65534, 65534)
    log = Log()
    assert _health.run_job(settings(tmp_path, server.port, state_file=str(state_dir / 'state.json')), log) == 3
    assert 'run the job as that user' in log.text('error') and list(state_dir.iterdir()) == []


def test_the_job_command_line(tmp_path, server):
    config = write_config(
        tmp_path,
        mail_to=['student@example.com'],
        smtp_host='127.0.0.1',
        smtp_port=server.port,
        state_file=str(tmp_path / 'state.json'),
        cpu_max_percent=100,
        cpu_interval=0.1,
        memory_min_available_mb=10**9,
    )
    assert _health.main(['--config', config]) == 1
    assert server.subjects == ['Error - Available memory is less than 1000000000MB']
    bad = write_config(tmp_path, mail_to=['student@example.com'], cpu_interval=-1)
    assert _health.main(['--config', bad]) == 3


# --- stand-alone on a host without Ansible ---------------------------------------------------


def imported_collection_modules(path):
    tree = ast.parse(open(path).read())
    prefix = 'ansible_collections.storeops.shop.plugins.module_utils.'
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefix):
            names.add(node.module[len(prefix) :] + '.py')
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('ansible'):
            names.add('ANSIBLE:' + node.module)
        elif isinstance(node, ast.Import):
            names.update('ANSIBLE:' + a.name for a in node.names if a.name.split('.')[0] == 'ansible')
    return names


def test_shipped_files_are_the_import_closure_and_what_the_role_copies():
    closure, todo = set(), ['_health.py']
    while todo:
        name = todo.pop()
        closure.add(name)
        for imported in imported_collection_modules(os.path.join(MODULE_UTILS, name)):
            assert not imported.startswith('ANSIBLE:') or name == '_job.py', '%s imports %s' % (name, imported)
            if not imported.startswith('ANSIBLE:') and imported not in closure:
                todo.append(imported)
    assert closure == set(_health.SHIPPED_FILES)
    with open(os.path.join(ROOT, 'roles', 'healthcheck', 'vars', 'main.yml')) as handle:
        role_vars = yaml.safe_load(handle)
    assert role_vars['healthcheck_shipped_files'] == list(_health.SHIPPED_FILES)


def test_runs_stand_alone_with_python_m_and_without_ansible(tmp_path, server):
    """As the role installs it: the same files in a package tree, run by ``python3 -P -m`` with PYTHONPATH."""
    tree = tmp_path / 'lib'
    package = tree / 'ansible_collections' / 'storeops' / 'shop' / 'plugins' / 'module_utils'
    package.mkdir(parents=True)
    for level in (
        package,
        package.parent,
        package.parent.parent,
        package.parent.parent.parent,
        tree / 'ansible_collections',
    ):
        (level / '__init__.py').write_text('')
    for name in _health.SHIPPED_FILES:
        shutil.copy(os.path.join(MODULE_UTILS, name), str(package / name))
    config = write_config(
        tmp_path,
        mail_to=['student@example.com'],
        smtp_host='127.0.0.1',
        smtp_port=server.port,
        state_file=str(tmp_path / 'state.json'),
        cpu_max_percent=100,
        cpu_interval=0.1,
        memory_min_available_mb=10**9,
    )
    # Importing ansible fails in this interpreter, as on a host without Ansible.
    blocker = tmp_path / 'blocker'
    blocker.mkdir()
    (blocker / 'sitecustomize.py').write_text(
        'import sys\n'
        'class Block(object):\n'
        '    def find_spec(self, name, path=None, target=None):\n'
        '        if name == "ansible" or name.startswith("ansible."):\n'
        '            raise ImportError("no Ansible on this host: " + name)\n'
        'sys.meta_path.insert(0, Block())\n'
    )
    env = dict(os.environ, PYTHONPATH='%s:%s' % (tree, blocker))
    done = subprocess.run(
        [
            sys.executable,
            '-P',
            '-m',
            'ansible_collections.storeops.shop.plugins.module_utils._health',
            '--config',
            config,
            '--verbose',
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert 'alert queued' in done.stderr and server.subjects == ['Error - Available memory is less than 1000000000MB']
    code = (
        'import ansible_collections.storeops.shop.plugins.module_utils._health as h, sys\n'
        'print(h.__file__); print(sorted(m for m in sys.modules if m.split(".")[0] == "ansible"))'
    )
    done = subprocess.run([sys.executable, '-P', '-c', code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.splitlines() == [str(package / '_health.py'), '[]']


# --- the module's job --------------------------------------------------------------------------


def facts_options(tmp_path, **overrides):
    options = dict(
        _health.THRESHOLDS,
        job_max_age=180.0,
        job_state_file=str(tmp_path / 'state.json'),
        job_cron_file=str(tmp_path / 'cron'),
        cpu_interval=0.1,
    )
    options.update(overrides)
    return options


def facts(tmp_path, check_mode=False, **overrides):
    result, warnings = _health.health_facts_job(facts_options(tmp_path, **overrides), check_mode=check_mode)
    assert result['changed'] is False and warnings == []
    return result['ansible_facts']['storeops_health']


def test_facts_without_the_role(tmp_path):
    health = facts(tmp_path, disk_mounts=['/', str(tmp_path)])
    assert [c['name'] for c in health['checks']] == ['cpu', 'disk:/', 'disk:%s' % tmp_path, 'memory', 'localhost']
    assert health['job']['installed'] is False and health['job']['last_run'] is None
    assert set(health['checks'][0]) >= {
        'name',
        'description',
        'value',
        'unit',
        'threshold',
        'alert_when',
        'state',
        'message',
    }
    assert health['failing'] == bool(health['failing_checks'])
    assert facts(tmp_path, check_mode=True)['job'] == health['job']


def test_facts_job_never_ran_counts_from_the_cron_entry(tmp_path):
    cron = tmp_path / 'cron'
    cron.write_text('* * * * * storeops-health true\n')
    job = facts(tmp_path)['checks'][-1]
    assert job['name'] == 'job' and job['state'] == 'ok' and job['value'] < 5 and 'never ran' in job['message']
    os.utime(str(cron), (time.time() - 600, time.time() - 600))
    health = facts(tmp_path)
    assert health['checks'][-1]['state'] == 'failing' and health['failing'] and 'job' in health['failing_checks']


def test_facts_job_age_from_the_state_file(tmp_path, server):
    (tmp_path / 'cron').write_text('* * * * * storeops-health true\n')
    assert _health.run_job(settings(tmp_path, server.port), Log()) == 0
    health = facts(tmp_path)
    job = health['checks'][-1]
    assert job['state'] == 'ok' and job['value'] < 10 and health['job']['last_rc'] == 0
    assert health['job']['last_run'].endswith('Z') and health['job']['pending_mail'] == 0
    assert facts(tmp_path, job_max_age=0.001)['checks'][-1]['state'] == 'failing'


def test_facts_job_with_mail_pending_for_too_long_is_failing(tmp_path):
    (tmp_path / 'cron').write_text('* * * * * storeops-health true\n')
    srv = Server()
    config = settings(tmp_path, srv.port, memory_min_available_mb=10.0**9)
    assert _health.run_job(config, Log()) == 2
    health = facts(tmp_path)
    assert health['job']['pending_mail'] == 1 and health['checks'][-1]['state'] == 'ok'
    assert health['job']['pending_subjects'] == ['Error - Available memory is less than 1000000000MB']
    state = _health.read_state(config['state_file'])
    state['pending'][0]['created'] -= 600
    _health.write_state(config['state_file'], state)
    job = facts(tmp_path)['checks'][-1]
    assert job['state'] == 'failing' and '1 mail pending for 6' in job['message']


def test_facts_job_with_an_unusable_state_file_is_an_error(tmp_path):
    (tmp_path / 'cron').write_text('* * * * * storeops-health true\n')
    (tmp_path / 'state.json').write_text('[]')
    job = facts(tmp_path)['checks'][-1]
    assert job['state'] == 'error' and 'cannot read' in job['message']


def test_facts_bad_options_are_job_errors(tmp_path):
    result, warnings, failed = execute(
        _health.health_facts_job,
        facts_options(tmp_path, cpu_interval=0, disk_mounts=['srv'], job_max_age=-1, job_state_file='state.json'),
    )
    assert failed and result['changed'] is False
    assert sorted(e['field'] for e in result['errors']) == [
        'cpu_interval',
        'disk_mounts',
        'job_max_age',
        'job_state_file',
    ]
    assert result['msg'].startswith('invalid options: cpu_interval: must be a number of seconds over 0')
