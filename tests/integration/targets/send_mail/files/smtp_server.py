# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the send_mail integration target.

smtp_server.py start --maildir DIR --pidfile FILE [--refuse-file FILE] [--tls CERT KEY] [--auth USER:PASSWORD]
    Starts the server in the background on a free port, writes its PID to FILE, prints
    {"pid": ..., "port": ...} once it accepts connections. Every accepted message is
    stored, byte for byte as received, in the Maildir DIR, after two headers giving
    its envelope (X-Envelope-From, X-Envelope-To). Addresses listed in the refuse file
    (one a line, read at every RCPT TO) get "550 5.1.1 User unknown". With --tls the
    server offers STARTTLS with that certificate; with --auth it requires AUTH (after
    STARTTLS) with that user and password. The server exits by itself after --lifetime
    seconds, in case nobody stops it.
smtp_server.py stop --pidfile FILE
    Stops the server started with that PID file (and only that process).
smtp_server.py free-port
    Prints a TCP port on 127.0.0.1 where nothing listens.
smtp_server.py inspect --maildir DIR
    Prints the stored messages as JSON: envelope, headers, MIME structure, and each
    attachment's name, type, size and SHA-256.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import hashlib
import json
import mailbox
import os
import signal
import socket
import ssl
import sys
import threading
import time


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Handler(object):
    def __init__(self, maildir, refuse_file):
        self.maildir = mailbox.Maildir(maildir, create=True)
        self.refuse_file = refuse_file
        self.lock = threading.Lock()

    def refused(self):
        if not self.refuse_file:
            return set()
        try:
            with open(self.refuse_file) as handle:
                return set(line.strip() for line in handle if line.strip())
        except OSError:
            return set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused():
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown' % address
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 Ok'

    async def handle_DATA(self, server, session, envelope):
        head = 'X-Envelope-From: <%s>\r\nX-Envelope-To: %s\r\n' % (
            envelope.mail_from,
            ', '.join('<%s>' % rcpt for rcpt in envelope.rcpt_tos),
        )
        with self.lock:
            key = self.maildir.add(head.encode('utf-8') + envelope.original_content)
        return '250 2.0.0 Ok: queued as %s' % key.split('.')[1]


def start(args):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        with os.fdopen(read_end, 'rb') as pipe:
            report = pipe.read().decode('utf-8')
        os.waitpid(pid, 0)
        if not report.startswith('{'):
            sys.stderr.write('the SMTP server did not start: %s\n' % report)
            return 1
        print(report)
        return 0

    # The child: its own session, no inherited stdio (Ansible waits for those pipes to close).
    os.close(read_end)
    os.setsid()
    if os.fork():
        os._exit(0)
    with open(os.devnull, 'rb') as devnull:
        os.dup2(devnull.fileno(), 0)
    log = os.open(args.pidfile + '.log', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        kwargs = {}
        if args.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(args.tls[0], args.tls[1])
            kwargs['tls_context'] = context
        if args.auth:
            user, password = args.auth.split(':', 1)

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = auth_data.login == user.encode() and auth_data.password == password.encode()
                return AuthResult(success=ok, handled=False, auth_data=auth_data)

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls))
        controller = Controller(
            Handler(args.maildir, args.refuse_file), hostname='127.0.0.1', port=free_port(), **kwargs
        )
        controller.start()
        with open(args.pidfile, 'w') as handle:
            handle.write('%d\n' % os.getpid())
        os.write(write_end, json.dumps(dict(pid=os.getpid(), port=controller.port)).encode('utf-8'))
    except Exception as exc:
        os.write(write_end, ('%s: %s' % (type(exc).__name__, exc)).encode('utf-8'))
        os._exit(1)
    os.close(write_end)

    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_event.set())
    stop_event.wait(args.lifetime)
    controller.stop()
    try:
        os.unlink(args.pidfile)
    except OSError:
        pass
    os._exit(0)


def _running(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def stop(args):
    try:
        with open(args.pidfile) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        print(json.dumps(dict(stopped=False, reason='no pid file')))
        return 0
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            ours = b'smtp_server.py' in handle.read()
    except OSError:
        ours = False
    if ours and _running(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
    try:
        os.unlink(args.pidfile)
    except OSError:
        pass
    print(json.dumps(dict(stopped=ours, pid=pid)))
    return 0


def inspect(args):
    messages = []
    folder = os.path.join(args.maildir, 'new')
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        with open(os.path.join(folder, name), 'rb') as handle:
            raw = handle.read()
        msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
        attachments = []
        for part in msg.iter_attachments():
            data = part.get_payload(decode=True)
            attachments.append(
                dict(
                    filename=part.get_filename(),
                    content_type=part.get_content_type(),
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
        body = msg.get_body(('plain',))
        messages.append(
            dict(
                envelope_from=str(msg['X-Envelope-From']),
                envelope_to=str(msg['X-Envelope-To']),
                headers=dict((key, str(value)) for key, value in msg.items() if not key.startswith('X-Envelope')),
                content_type=msg.get_content_type(),
                body=body.get_content().replace('\r\n', '\n') if body is not None else None,
                has_html=msg.get_body(('html',)) is not None,
                attachments=attachments,
                seven_bit=max(raw) < 128 if raw else True,
            )
        )
    print(json.dumps(dict(count=len(messages), messages=messages), indent=2, sort_keys=True))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    start_parser = commands.add_parser('start')
    start_parser.add_argument('--maildir', required=True)
    start_parser.add_argument('--pidfile', required=True)
    start_parser.add_argument('--refuse-file')
    start_parser.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    start_parser.add_argument('--auth', metavar='USER:PASSWORD')
    start_parser.add_argument('--lifetime', type=float, default=900)
    stop_parser = commands.add_parser('stop')
    stop_parser.add_argument('--pidfile', required=True)
    commands.add_parser('free-port')
    inspect_parser = commands.add_parser('inspect')
    inspect_parser.add_argument('--maildir', required=True)
    args = parser.parse_args()
    if args.command == 'start':
        return start(args)
    if args.command == 'stop':
        return stop(args)
    if args.command == 'free-port':
        print(free_port())
        return 0
    return inspect(args)


if __name__ == '__main__':
    sys.exit(main())
