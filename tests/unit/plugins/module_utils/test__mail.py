# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for the mail code (_mail_message, _smtp, _sent_mail, the job _send_mail): message building offline, sending against real SMTP servers on 127.0.0.1.

The servers are aiosmtpd instances in this process (plain, STARTTLS, SMTPS, with AUTH),
with a handler that keeps every message's raw bytes. Faults are real too: a port where
nothing listens, a socket that accepts connections and never answers, a certificate the
client does not trust, a recipient the server refuses.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import email.utils
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
import zlib

import pytest
from aiosmtpd import controller as aiosmtpd_controller
from aiosmtpd import smtp as aiosmtpd_smtp

from ansible_collections.storeops.shop.plugins.module_utils import _mail_message, _send_mail, _sent_mail, _smtp
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError
from ansible_collections.storeops.shop.tests.support.catalog_site import free_port


SENDER = 'automation@example.com'
USER = 'student@example.com'
PASSWORD = 'It\'sASecr3t!'


# --- helpers ---------------------------------------------------------------------------


def png_bytes(width=2, height=1):
    """A real (tiny) PNG file."""

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b''.join(b'\x00' + b'\xff\x00\x00' * width for dummy in range(height))
    return (
        b'\x89PNG\r\n\x1a\n'
        + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
        + chunk(b'IDAT', zlib.compress(raw))
        + chunk(b'IEND', b'')
    )


PDF = (
    b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
    b'2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'
)


def parse(raw):
    return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)


class Recorder(object):
    """aiosmtpd handler keeping every accepted message; refuses the addresses in ``refuse``."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self.refuse_data = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table' % address
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 Ok'

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        self.messages.append(
            dict(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=envelope.original_content,
                tls=session.ssl is not None or server.transport.get_extra_info('ssl_object') is not None,
                login=session.auth_data.login if session.authenticated else None,
            )
        )
        return '250 2.0.0 Ok: queued as Q%d' % len(self.messages)


@contextlib.contextmanager
def smtp_server(**kwargs):
    handler = Recorder()
    controller = aiosmtpd_controller.Controller(handler, hostname='127.0.0.1', port=free_port(), **kwargs)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope='module')
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost and 127.0.0.1, made with openssl req."""
    directory = tmp_path_factory.mktemp('tls')
    cert, key = directory / 'cert.pem', directory / 'key.pem'
    subprocess.run(
        [
            'openssl',
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:prime256v1',
            '-nodes',
            '-keyout',
            str(key),
            '-out',
            str(cert),
            '-days',
            '2',
            '-subj',
            '/CN=localhost',
            '-addext',
            'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return str(cert), context


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b'automation' and auth_data.password == PASSWORD.encode()
    return aiosmtpd_smtp.AuthResult(success=ok, handled=False, auth_data=auth_data)


@contextlib.contextmanager
def silent_listener():
    """A socket that accepts connections (the kernel does) and never says a word."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def nobody_connected(sock):
    try:
        conn, dummy = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def make_args(tmp_path, **overrides):
    attachment = tmp_path / 'processed.pdf'
    if not attachment.exists():
        attachment.write_bytes(PDF)
    args = dict(
        sender=SENDER,
        to=[USER],
        subject='Upload Completed - Online Fruit Store',
        body='All fruits are uploaded to our website successfully. A detailed list is attached to this email.',
        attachments=[str(attachment)],
    )
    args.update(overrides)
    return args


def send(args, port, state_dir, check_mode=False, diff=False, idempotency_key=None, max_attachment_size='20MB', **conn):
    """Run the job with the module's options (defaults as the argument spec gives them)."""
    options = dict(
        cc=[],
        bcc=[],
        reply_to=[],
        body='',
        html_body=None,
        attachments=[],
        smtp_host='127.0.0.1',
        smtp_port=port,
        security=None,
        username=None,
        password=None,
        timeout=5,
        validate_certs=True,
        ca_path=None,
        idempotency_key=idempotency_key,
        state_dir=state_dir,
        max_attachment_size=str(max_attachment_size),
    )
    options.update(args)
    options.update(conn)
    return _send_mail.send_mail(options, check_mode=check_mode, diff=diff)


def run(tmp_path, port, args=None, check_mode=False, diff=False, **conn):
    return send(args or make_args(tmp_path), port, str(tmp_path / 'state'), check_mode=check_mode, diff=diff, **conn)


def state_files(tmp_path):
    directory = tmp_path / 'state'
    return sorted(p.name for p in directory.iterdir() if p.suffix == '.json') if directory.exists() else []


# --- MIME types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    'filename, data, expected',
    [
        ('report.pdf', PDF, 'application/pdf'),
        ('report.dat', PDF, 'application/pdf'),  # content wins
        ('report', PDF, 'application/pdf'),
        ('chart.png', png_bytes(), 'image/png'),
        ('chart', png_bytes(), 'image/png'),
        ('photo.jpg', b'\xff\xd8\xff\xe0\x00\x10JFIF\x00' + os.urandom(64), 'image/jpeg'),
        ('anim.gif', b'GIF89a' + os.urandom(32), 'image/gif'),
        ('scan.tif', b'II*\x00' + os.urandom(32), 'image/tiff'),
        ('pic', b'RIFF\x10\x00\x00\x00WEBPVP8 ' + os.urandom(16), 'image/webp'),
        ('notes.txt', b'hello\r\nworld\n', 'text/plain'),
        ('cars.csv', b'id,car\n1,Lamborghini\n', 'text/csv'),
        ('page.html', b'<p>hi</p>', 'text/html'),
        ('data.json', b'{"a": 1}', 'application/json'),
        ('README', 'Grüße\n'.encode('utf-8'), 'text/plain'),  # unknown name, UTF-8 text
        ('cars.csv.gz', b'\x1f\x8b\x08\x00' + os.urandom(32), 'application/gzip'),
        ('archive.tar.gz', b'not really gzip', 'application/gzip'),
        ('blob.xyz123', b'\x00\x01\x02\xfe\xff' + os.urandom(64), 'application/octet-stream'),  # unknowable: only then
    ],
)
def test_detect_mime_type(filename, data, expected):
    assert _mail_message.detect_mime_type(filename, data) == expected


def test_text_mentioning_pdf_header_stays_text():
    data = b'How to spot a PDF: it starts with %PDF-1.7\n'
    assert _mail_message.detect_mime_type('howto.txt', data) == 'text/plain'
    # ... also when the first KiB, where the PDF header is looked for, ends inside a UTF-8 character.
    head = b'About %PDF- headers: '
    data = head + b'x' * (1023 - len(head)) + 'ü and more text'.encode('utf-8')
    assert data[1023:1024] == b'\xc3'
    assert _mail_message.detect_mime_type('howto', data) == 'text/plain'


def test_pdf_after_a_little_junk():
    assert _mail_message.detect_mime_type('scan', b'\x00\x00junk\r\n' + PDF) == 'application/pdf'


# --- message building ------------------------------------------------------------------


def build(tmp_path, **overrides):
    spec = make_spec(tmp_path, **overrides)
    return spec, _mail_message.build_message(spec)


def make_spec(tmp_path, **overrides):
    args = make_args(tmp_path, **overrides)
    args['attachments'] = _mail_message.read_attachments(args['attachments'])
    return _mail_message.Spec(**args)


def test_message_headers_and_non_ascii_round_trip(tmp_path):
    subject = 'Sales summary für März – Ünïcødé ✓ ' + 'long ' * 20
    spec, msg = build(
        tmp_path,
        sender='Jörg Müller <automation@example.com>',
        subject=subject,
        to=['"Doe, John" <john@example.com>', 'Zoë <zoe@example.com>'],
        cc=['boss@example.com'],
        bcc=['audit@example.com'],
        reply_to=['Sales <sales@example.com>'],
        body='Grüße,\nthe robot\n',
    )
    raw = _mail_message.serialize(msg)
    assert max(raw) < 128, 'the message must be 7-bit clean'
    assert b'\r\n' in raw
    parsed = parse(raw)
    assert parsed['Subject'] == subject
    assert parsed['From'].addresses[0].display_name == 'Jörg Müller'
    assert parsed['From'].addresses[0].addr_spec == SENDER
    assert [a.display_name for a in parsed['To'].addresses] == ['Doe, John', 'Zoë']
    assert parsed['Cc'] == 'boss@example.com'
    assert parsed['Reply-To'] == 'Sales <sales@example.com>'
    assert 'Bcc' not in parsed
    assert parsed['Message-ID'].startswith('<') and parsed['Message-ID'].endswith('@example.com>')
    assert email.utils.parsedate_to_datetime(parsed['Date']).tzinfo is not None
    assert parsed['Auto-Submitted'] == 'auto-generated'
    assert parsed['MIME-Version'] == '1.0'
    assert parsed.get_body(('plain',)).get_content().replace('\r\n', '\n') == 'Grüße,\nthe robot\n'
    assert spec.recipients == ['john@example.com', 'zoe@example.com', 'boss@example.com', 'audit@example.com']


def test_message_ids_are_unique_and_in_the_idn_sender_domain(tmp_path):
    spec, first = build(tmp_path, sender='automation@bücher.example')
    dummy, second = build(tmp_path, sender='automation@bücher.example')
    assert first['Message-ID'] != second['Message-ID']
    assert first['Message-ID'].endswith('@xn--bcher-kva.example>')


def test_html_alternative_and_attachments(tmp_path):
    (tmp_path / 'chart.png').write_bytes(png_bytes())
    (tmp_path / 'notes.txt').write_bytes(b'line one\r\nline two, no final newline')
    (tmp_path / 'Bericht für März.pdf').write_bytes(PDF)
    paths = [str(tmp_path / name) for name in ('Bericht für März.pdf', 'chart.png', 'notes.txt')]
    spec, msg = build(tmp_path, html_body='<p>All fruits are <b>uploaded</b>.</p>', attachments=paths)
    parsed = parse(_mail_message.serialize(msg))
    assert parsed.get_content_type() == 'multipart/mixed'
    assert parsed.get_body(('html',)).get_content().strip() == '<p>All fruits are <b>uploaded</b>.</p>'
    assert parsed.get_body(('plain',)).get_content().startswith('All fruits')
    parts = list(parsed.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ('Bericht für März.pdf', 'application/pdf'),
        ('chart.png', 'image/png'),
        ('notes.txt', 'text/plain'),
    ]
    for part, path in zip(parts, paths):
        assert part.get_payload(decode=True) == open(path, 'rb').read()
    assert parts[2].get_content_charset() == 'utf-8'


def test_idempotency_key(tmp_path):
    def key(**overrides):
        return _mail_message.compute_key(make_spec(tmp_path, **overrides))

    base = key(to=['a@example.com', 'b@example.com'])
    assert base == key(to=['b@example.com', 'a@example.com']), 'recipient order does not matter'
    assert len(base) == 64
    assert base != key(to=['a@example.com'])
    assert base != key(to=['a@example.com', 'b@example.com'], subject='Other')
    assert base != key(to=['a@example.com', 'b@example.com'], html_body='<p>x</p>')
    assert base != key(to=['a@example.com', 'b@example.com'], bcc=['c@example.com'])
    (tmp_path / 'processed.pdf').write_bytes(PDF + b'% changed\n')
    assert base != key(to=['a@example.com', 'b@example.com']), 'attachment content is part of the key'


@pytest.mark.parametrize(
    'field, value, fragment',
    [
        ('sender', 'not-an-address', 'sender'),
        ('to', ['a@example.com, b@example.com'], 'exactly one address'),
        ('to', [''], 'empty address'),
        ('to', ['bad@'], 'not a valid mail address'),
        ('cc', ['x@example.com\nBcc: victim@example.com'], 'line break'),
        ('subject', 'Hello\nBcc: victim@example.com', 'single line'),
        ('to', ['foo@'], 'the domain after @ is missing'),
        ('to', ['"x"@'], 'the domain after @ is missing'),
        ('to', ['@example.com'], 'the user before @ is missing'),
        ('to', ['nobody'], 'there is no @'),
    ],
)
def test_invalid_input(tmp_path, field, value, fragment):
    with pytest.raises(_mail_message.MailError, match=fragment):
        build(tmp_path, **{field: value})


@pytest.mark.parametrize('char', ['\u2028', '\u2029', '\x85', '\v', '\f', '\x1c', '\r'])
def test_subject_with_any_line_break_is_refused_naming_the_field(tmp_path, char):
    with pytest.raises(_mail_message.MailError) as caught:
        build(tmp_path, subject='Hello%sBcc: victim@example.com' % char)
    assert caught.value.field == 'subject'
    assert 'line break (U+%04X)' % ord(char) in caught.value.reason


def test_subject_with_a_control_character_is_refused(tmp_path):
    with pytest.raises(_mail_message.MailError, match='control character U\\+0007') as caught:
        build(tmp_path, subject='bell\x07')
    assert caught.value.field == 'subject'


def test_attachment_name_with_a_newline_is_refused_before_connecting(tmp_path):
    odd = tmp_path / 'report\nBcc: x.pdf'
    odd.write_bytes(PDF)
    with silent_listener() as listener:
        with pytest.raises(JobError) as caught:
            send(make_args(tmp_path, attachments=[str(odd)]), listener.getsockname()[1], str(tmp_path / 'state'))
        assert nobody_connected(listener)
    assert caught.value.errors == [
        {
            'file': str(odd),
            'line': None,
            'field': 'attachments',
            'message': 'the file name contains a line break (U+000A); it must be a single line: rename the file',
        }
    ]


def test_no_recipients(tmp_path):
    with pytest.raises(_mail_message.MailError, match='no recipients'):
        build(tmp_path, to=[])


def test_default_state_dir():
    assert _sent_mail.default_state_dir(euid=0) == '/var/lib/storeops/sent-mail'
    assert _sent_mail.default_state_dir(euid=1000) == os.path.expanduser('~/.ansible/storeops_shop/sent_mail')


def test_default_ports():
    assert _smtp.Connection(security='tls').port == 465
    assert _smtp.Connection(security='starttls').port == 25
    assert _smtp.Connection().port == 25
    assert _smtp.Connection(security='none', port=2525).port == 2525


# --- failures found before connecting ------------------------------------------------


def test_attachment_problems_fail_before_connecting(tmp_path):
    big = tmp_path / 'big.bin'
    big.write_bytes(b'\x00' * 2048)
    args = make_args(tmp_path, attachments=[str(tmp_path / 'missing.pdf'), str(big), str(tmp_path)])
    with silent_listener() as listener:
        with pytest.raises(JobError) as caught:
            send(args, listener.getsockname()[1], str(tmp_path / 'state'), max_attachment_size=1024, timeout=2)
        assert nobody_connected(listener)
    message = caught.value.msg
    assert 'missing.pdf (attachments): no such file' in message
    assert 'big.bin (attachments): 2.0 KiB is over max_attachment_size (1.0 KiB)' in message
    assert 'not a regular file' in message
    assert [(e['field'], os.path.basename(e['file'])) for e in caught.value.errors] == [
        ('attachments', 'missing.pdf'),
        ('attachments', 'big.bin'),
        ('attachments', tmp_path.name),
    ]
    assert state_files(tmp_path) == []


def test_check_mode_connects_to_nothing_and_writes_nothing(tmp_path):
    with silent_listener() as listener:
        result, warnings = run(tmp_path, listener.getsockname()[1], check_mode=True, diff=True)
        assert nobody_connected(listener)
    assert result['changed'] is True
    assert result['sent'] is False
    assert result['message_id'] is None
    assert result['attachments'][0]['mime_type'] == 'application/pdf'
    assert 'Subject: Upload Completed - Online Fruit Store' in result['diff']['after']
    assert 'Attachment: processed.pdf (application/pdf, %d bytes)' % len(PDF) in result['diff']['after']
    assert not (tmp_path / 'state').exists()
    assert warnings == []


def test_state_dir_that_cannot_be_created_fails_before_sending(tmp_path):
    (tmp_path / 'afile').write_text('x')
    with smtp_server() as (handler, port):
        with pytest.raises(JobError, match='cannot create state_dir'):
            send(make_args(tmp_path), port, str(tmp_path / 'afile' / 'state'))
    assert handler.messages == []


# --- sending to a real server ------------------------------------------------------------


def test_send_once_then_idempotent(tmp_path):
    (tmp_path / 'blob.bin').write_bytes(bytes(range(256)) * 40)
    (tmp_path / 'notes.txt').write_bytes(b'no final newline\r\n.leading dot\n.')
    args = make_args(
        tmp_path,
        cc=['Boss <boss@example.com>'],
        bcc=['audit@example.com'],
        attachments=[str(tmp_path / n) for n in ('processed.pdf', 'blob.bin', 'notes.txt')],
    )
    with smtp_server() as (handler, port):
        with silent_listener() as listener:
            check, dummy = run(tmp_path, listener.getsockname()[1], args=args, check_mode=True)
        first, warnings = run(tmp_path, port, args=args)
        check_again, dummy = run(tmp_path, port, args=args, check_mode=True)
        again, dummy = run(tmp_path, port, args=args)
        assert len(handler.messages) == 1
    assert check['changed'] and not check['sent']
    assert first['changed'] and first['sent']
    assert first['tls'] is False
    assert first['smtp_response'] == '250 2.0.0 Ok: queued as Q1'
    assert not check_again['changed']
    assert not again['changed'] and not again['sent']
    assert again['message_id'] == first['message_id'] == check_again['message_id']
    assert again['sent_at'] == first['sent_at']
    assert first['idempotency_key'] == check['idempotency_key'] == again['idempotency_key']
    assert warnings == []

    received = handler.messages[0]
    assert received['mail_from'] == SENDER
    assert received['rcpt_tos'] == [USER, 'boss@example.com', 'audit@example.com']
    parsed = parse(received['raw'])
    assert parsed['Message-ID'] == first['message_id']
    assert 'Bcc' not in parsed and b'audit@example.com' not in received['raw']
    parts = list(parsed.iter_attachments())
    assert [p.get_content_type() for p in parts] == ['application/pdf', 'application/octet-stream', 'text/plain']
    for part, name in zip(parts, ('processed.pdf', 'blob.bin', 'notes.txt')):
        assert part.get_filename() == name
        assert part.get_payload(decode=True) == (tmp_path / name).read_bytes(), 'byte-identical attachment'
    assert [(a['filename'], a['mime_type'], a['size']) for a in first['attachments']] == [
        ('processed.pdf', 'application/pdf', len(PDF)),
        ('blob.bin', 'application/octet-stream', 10240),
        ('notes.txt', 'text/plain', 32),
    ]

    state_file = first['state_file']
    assert os.path.dirname(state_file) == str(tmp_path / 'state')
    assert os.path.basename(state_file) == hashlib.sha256(first['idempotency_key'].encode()).hexdigest() + '.json'
    assert os.stat(state_file).st_mode & 0o777 == 0o600
    assert os.stat(str(tmp_path / 'state')).st_mode & 0o777 == 0o700
    with open(state_file) as handle:
        record = json.load(handle)
    assert record['message_id'] == first['message_id']
    assert record['recipients'] == first['recipients']
    assert record['smtp_response'] == '250 2.0.0 Ok: queued as Q1'


def test_custom_key_sends_same_content_again_and_changed_content_is_new(tmp_path):
    with smtp_server() as (handler, port):
        run(tmp_path, port)
        second, dummy = run(tmp_path, port, args=make_args(tmp_path, subject='Another subject'))
        assert second['sent']
        state_dir = str(tmp_path / 'state')
        for dummy_run in range(2):
            result, dummy = send(make_args(tmp_path), port, state_dir, idempotency_key='alert-2024-05-31')
        assert result['idempotency_key'] == 'alert-2024-05-31' and not result['changed']
        assert len(handler.messages) == 3


def test_refused_recipient_sends_to_nobody_records_nothing_and_rerun_sends_once(tmp_path):
    args = make_args(tmp_path, to=[USER, 'nobody@example.com'])
    with smtp_server() as (handler, port):
        handler.refuse.add('nobody@example.com')
        with pytest.raises(JobError) as caught:
            run(tmp_path, port, args=args)
        assert handler.messages == []
        assert state_files(tmp_path) == []
        message = caught.value.msg
        assert 'refused the recipient' in message and 'nobody@example.com (550 5.1.1' in message
        assert 'User unknown' in message and 'sent to nobody' in message
        assert caught.value.details['refused_recipients']['nobody@example.com']['code'] == 550
        assert not os.path.exists(caught.value.details['state_file'])

        handler.refuse.clear()  # the mailbox was created
        first, dummy = run(tmp_path, port, args=args)
        again, dummy = run(tmp_path, port, args=args)
        assert first['sent'] and not again['changed']
        assert len(handler.messages) == 1
        assert handler.messages[0]['rcpt_tos'] == [USER, 'nobody@example.com']


def test_message_refused_at_data_records_nothing(tmp_path):
    with smtp_server() as (handler, port):
        handler.refuse_data = '554 5.7.1 Message rejected: spam'
        with pytest.raises(JobError, match='refused the message: 554 5.7.1 Message rejected: spam'):
            run(tmp_path, port)
    assert state_files(tmp_path) == []


def test_server_size_limit_checked_before_sending(tmp_path):
    (tmp_path / 'big.bin').write_bytes(os.urandom(8000))
    with smtp_server(data_size_limit=4000) as (handler, port):
        with pytest.raises(JobError, match='accepts at most 3.9 KiB'):
            run(tmp_path, port, args=make_args(tmp_path, attachments=[str(tmp_path / 'big.bin')]))
        assert handler.messages == []
    assert state_files(tmp_path) == []


def test_connection_refused(tmp_path):
    port = free_port()  # nothing listens there
    with pytest.raises(JobError, match='connection to 127.0.0.1:%d refused' % port):
        run(tmp_path, port)
    assert state_files(tmp_path) == []


def test_timeout_on_a_server_that_never_answers(tmp_path):
    with silent_listener() as listener:
        started = time.monotonic()
        with pytest.raises(JobError, match='timed out after 1s connecting to 127.0.0.1'):
            run(tmp_path, listener.getsockname()[1], timeout=1)
        assert time.monotonic() - started < 10
    assert state_files(tmp_path) == []


def test_international_addresses_use_smtputf8(tmp_path):
    args = make_args(tmp_path, to=['Jörg <jörg@example.com>'])
    with smtp_server() as (handler, port):
        result, dummy = run(tmp_path, port, args=args)
    assert result['recipients'] == ['jörg@example.com']
    assert handler.messages[0]['rcpt_tos'] == ['jörg@example.com']
    raw = handler.messages[0]['raw']
    assert 'jörg@example.com'.encode('utf-8') in raw
    parsed = email.parser.Parser(policy=email.policy.default).parsestr(raw.decode('utf-8'))
    assert parsed['To'].addresses[0].username == 'jörg'


def test_concurrent_runs_send_once(tmp_path):
    results, errors = [], []
    args = make_args(tmp_path)

    def worker(port):
        try:
            results.append(run(tmp_path, port, args=args)[0])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with smtp_server() as (handler, port):
        threads = [threading.Thread(target=worker, args=(port,)) for dummy in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert len(handler.messages) == 1
    assert sorted(r['sent'] for r in results) == [False, False, False, True]
    assert len(set(r['message_id'] for r in results)) == 1


# --- TLS and authentication ------------------------------------------------------------


def test_opportunistic_starttls_verifies_the_certificate(tmp_path, certificate):
    cert, context = certificate
    with smtp_server(tls_context=context) as (handler, port):
        with pytest.raises(JobError) as caught:
            run(tmp_path, port)  # self-signed, not trusted: never falls back to clear text
        assert (
            'TLS certificate verification failed during STARTTLS with 127.0.0.1:%d: self-signed' % port
            in caught.value.msg
        )
        assert 'ca_path' in caught.value.msg
        assert handler.messages == [] and state_files(tmp_path) == []

        result, dummy = run(tmp_path, port, ca_path=cert)
        assert result['sent'] and result['tls'] is True
        assert handler.messages[0]['tls'] is True

        other = make_args(tmp_path, subject='validate_certs=false')
        result, dummy = run(tmp_path, port, args=other, validate_certs=False)
        assert result['tls'] is True
        assert len(handler.messages) == 2


def test_security_none_ignores_starttls(tmp_path, certificate):
    with smtp_server(tls_context=certificate[1]) as (handler, port):
        result, dummy = run(tmp_path, port, security='none')
    assert result['tls'] is False and handler.messages[0]['tls'] is False


def test_required_starttls_not_offered(tmp_path):
    with smtp_server() as (handler, port):
        with pytest.raises(JobError, match='does not offer STARTTLS and security=starttls requires it'):
            run(tmp_path, port, security='starttls')
        assert handler.messages == []
    assert state_files(tmp_path) == []


def test_implicit_tls(tmp_path, certificate):
    cert, context = certificate
    with smtp_server(ssl_context=context) as (handler, port):
        result, dummy = run(tmp_path, port, security='tls', ca_path=cert)
    assert result['tls'] is True and handler.messages[0]['tls'] is True


def test_implicit_tls_against_a_plain_server(tmp_path):
    with smtp_server() as (handler, port):
        with pytest.raises(
            JobError, match='TLS failure connecting to 127.0.0.1:%d: .*security=tls needs a port' % port
        ):
            run(tmp_path, port, security='tls')
    assert state_files(tmp_path) == []


def test_auth_over_starttls_and_auth_failure(tmp_path, certificate):
    cert, context = certificate
    with smtp_server(tls_context=context, authenticator=authenticator, auth_require_tls=True) as (handler, port):
        with pytest.raises(JobError) as caught:
            run(tmp_path, port, ca_path=cert, security='starttls', username='automation', password='wrong')
        assert caught.value.msg.startswith(
            'the message was not sent: authentication as automation on 127.0.0.1:%d failed: 535' % port
        )
        assert caught.value.details['smtp_code'] == 535
        assert handler.messages == [] and state_files(tmp_path) == []

        result, warnings = run(
            tmp_path, port, ca_path=cert, security='starttls', username='automation', password=PASSWORD
        )
        assert result['sent'] and warnings == []
        assert handler.messages[0]['login'] == b'automation'


def test_password_never_sent_in_clear_by_default(tmp_path):
    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (handler, port):
        with pytest.raises(JobError, match='does not offer STARTTLS: refusing to send the password'):
            run(tmp_path, port, username='automation', password=PASSWORD)
        assert handler.messages == []
        # Allowed when asked for explicitly, with a warning.
        result, warnings = run(tmp_path, port, security='none', username='automation', password=PASSWORD)
        assert result['sent'] and handler.messages[0]['login'] == b'automation'
    assert warnings == ['security=none: the password for automation was sent to 127.0.0.1:%d unencrypted' % port]


def test_auth_not_offered(tmp_path):
    with smtp_server() as (handler, port):
        with pytest.raises(JobError, match='does not offer authentication'):
            run(tmp_path, port, security='none', username='automation', password=PASSWORD)
        assert handler.messages == []
