# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build one mail message, send it over SMTP at most once, remember that it was sent.

The steps, in the order :func:`run` performs them:

1. validate the addresses and read the attachments (existence and size are checked
   before anything touches the network);
2. compute the idempotency key (see :func:`compute_key`) and look it up in the state
   directory: a record there means the message was already sent, nothing else happens;
3. build the message (:func:`build_message`): ``email.message.EmailMessage`` with a
   plain-text body, an optional HTML alternative, attachments with their real MIME
   types (:func:`detect_mime_type`), a Date and a Message-ID in the sender's domain;
4. send it (:func:`send_message`): every recipient is offered to the server with
   ``RCPT TO`` first; if any is refused the transaction is reset and nobody gets the
   message, so a run either delivers to all recipients or to none;
5. record the key (a small JSON file written atomically) only after the server
   accepted the message.

Runs sharing a state directory are serialised with a lock, so two tasks sending the
same message at the same time (for example a task delegated to localhost for every
host of a play) send it once.
"""

from __future__ import annotations

import contextlib
import datetime
import email.errors
import email.policy
import email.utils
import errno
import fcntl
import hashlib
import json
import mimetypes
import os
import smtplib
import socket
import ssl
import stat

from email.message import EmailMessage

from ansible_collections.storeops.shop.plugins.module_utils._fs import atomic_write_bytes

MODULE_NAME = 'storeops.shop.send_mail'
KEY_SCHEMA = 'storeops.shop.send_mail/1'
SECURITY_CHOICES = ('starttls', 'tls', 'none')
DEFAULT_MAX_ATTACHMENT_SIZE = 20 * 1024 * 1024
DEFAULT_TIMEOUT = 30
ROOT_STATE_DIR = '/var/lib/storeops-shop/sent-mail'
USER_STATE_DIR = '~/.ansible/storeops_shop/sent_mail'
LOCK_NAME = '.lock'

# Messages are built 7-bit clean (non-ASCII text goes quoted-printable or base64) so that
# any server can relay them, with CRLF line ends as SMTP wants them.
POLICY = email.policy.SMTP.clone(cte_type='7bit')

_HEADER_FACTORY = email.policy.default.header_factory

# Signatures at the start of the content that identify a type for sure. They win over
# the file name: a PDF named "report.dat" is still sent as application/pdf.
_MAGIC = (
    (b'%PDF-', 'application/pdf'),
    (b'\x89PNG\r\n\x1a\n', 'image/png'),
    (b'\xff\xd8\xff', 'image/jpeg'),
    (b'GIF87a', 'image/gif'),
    (b'GIF89a', 'image/gif'),
    (b'II*\x00', 'image/tiff'),
    (b'MM\x00*', 'image/tiff'),
    (b'\x1f\x8b', 'application/gzip'),
    (b'%!PS-Adobe-', 'application/postscript'),
)

# What the transfer encoding mimetypes reports for a name such as "data.csv.gz" means
# for the file as a whole.
_ENCODING_TYPES = {
    'gzip': 'application/gzip',
    'bzip2': 'application/x-bzip2',
    'xz': 'application/x-xz',
    'compress': 'application/x-compress',
    'br': 'application/x-brotli',
}


class MailError(Exception):
    """A failure with a message meant for the user, and details for the task result."""

    def __init__(self, msg, **details):
        super(MailError, self).__init__(msg)
        self.msg = msg
        self.details = details


class Attachment(object):
    """A file read from disk, ready to be attached."""

    __slots__ = ('path', 'filename', 'data', 'mime_type', 'sha256')

    def __init__(self, path, data, filename=None, mime_type=None):
        self.path = path
        self.filename = filename or os.path.basename(path)
        self.data = data
        self.mime_type = mime_type or detect_mime_type(self.filename, data)
        self.sha256 = hashlib.sha256(data).hexdigest()

    @property
    def size(self):
        return len(self.data)

    def as_result(self):
        return dict(path=self.path, filename=self.filename, mime_type=self.mime_type, size=self.size, sha256=self.sha256)


class Connection(object):
    """How to reach the SMTP server."""

    def __init__(self, host='localhost', port=None, security=None, username=None, password=None,
                 timeout=DEFAULT_TIMEOUT, validate_certs=True, ca_path=None, local_hostname=None):
        if security is not None and security not in SECURITY_CHOICES:
            raise MailError('security must be one of %s, got %r' % (', '.join(SECURITY_CHOICES), security))
        if timeout is not None and timeout <= 0:
            raise MailError('timeout must be a positive number of seconds, got %r' % (timeout,))
        if password is not None and username is None:
            raise MailError('password is set but username is not: give both to log in')
        self.host = host
        self.security = security
        self.port = port if port is not None else default_port(security)
        self.username = username
        self.password = password
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.local_hostname = local_hostname

    @property
    def where(self):
        return '%s:%d' % (self.host, self.port)


def default_port(security):
    """465 for implicit TLS (SMTPS), 25 otherwise."""
    return 465 if security == 'tls' else 25


def default_state_dir(euid=None):
    """Where sent keys are recorded when ``state_dir`` is not given."""
    if euid is None:
        euid = os.geteuid()
    if euid == 0:
        return ROOT_STATE_DIR
    return os.path.expanduser(USER_STATE_DIR)


# --- addresses -------------------------------------------------------------------------


def parse_address(value, option):
    """Parse one address (``user@example.com`` or ``Name <user@example.com>``).

    Returns an ``email.headerregistry.Address``; raises :class:`MailError` naming
    ``option`` when the value is not exactly one complete address.
    """
    text = value.strip() if isinstance(value, str) else value
    if not text:
        raise MailError('%s: an empty address was given' % option)
    if '\r' in text or '\n' in text:
        raise MailError('%s: %r contains a line break' % (option, value))
    try:
        header = _HEADER_FACTORY('to', text)
    except Exception as exc:  # the header parser raises a few kinds of errors on garbage
        raise MailError('%s: %r is not a valid mail address: %s' % (option, value, exc))
    addresses = header.addresses
    if len(addresses) != 1:
        raise MailError('%s: %r must be exactly one address, found %d (give a list to send to several)'
                        % (option, value, len(addresses)))
    address = addresses[0]
    # A non-ASCII local part is fine: it is sent with SMTPUTF8 (checked when sending).
    defects = [d for d in header.defects if not isinstance(d, email.errors.NonASCIILocalPartDefect)]
    if defects or not address.username or not address.domain:
        reason = '; '.join(str(defect) for defect in defects) or 'user@domain expected'
        raise MailError('%s: %r is not a valid mail address (%s)' % (option, value, reason))
    return address


def parse_addresses(values, option):
    return [parse_address(value, option) for value in (values or [])]


# --- attachments -----------------------------------------------------------------------


def _looks_like_text(data, truncated=False):
    """UTF-8 without NUL bytes. With ``truncated``, ``data`` is a prefix that may end mid-character."""
    if b'\x00' in data:
        return False
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as exc:
        return truncated and exc.reason == 'unexpected end of data'
    return True


def sniff_mime_type(data):
    """The MIME type the content itself proves, or None."""
    for signature, mime_type in _MAGIC:
        if data.startswith(signature):
            return mime_type
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'image/webp'
    # PDF readers accept a little junk before the header; so do we, within 1 KiB.
    if b'%PDF-' in data[:1024] and not _looks_like_text(data[:1024], truncated=True):
        return 'application/pdf'
    return None


def guess_mime_type_from_name(filename):
    """The MIME type the file name suggests (mimetypes), or None."""
    mime_type, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding:
        # "report.csv.gz" is a gzip file, not a CSV file.
        return _ENCODING_TYPES.get(encoding, 'application/octet-stream')
    return mime_type


def detect_mime_type(filename, data):
    """The MIME type of an attachment.

    The content's signature decides first (PDF, PNG, JPEG, GIF, TIFF, WebP, gzip,
    PostScript), then the file name's extension (``mimetypes``, which also reads the
    host's ``/etc/mime.types``), then UTF-8 text without NUL bytes is ``text/plain``.
    Only what is none of these is sent as ``application/octet-stream``.
    """
    return (sniff_mime_type(data) or guess_mime_type_from_name(filename)
            or ('text/plain' if _looks_like_text(data) else 'application/octet-stream'))


def read_attachments(paths, max_size=DEFAULT_MAX_ATTACHMENT_SIZE):
    """Read the attachment files, checking they exist, are regular files and are not too big.

    Every problem is found before any is reported, so one run names them all.
    ``max_size`` of 0 or None means no limit.
    """
    attachments = []
    problems = []
    for path in paths or []:
        try:
            info = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                problems.append('%s: no such file' % path)
            else:
                problems.append('%s: %s' % (path, exc.strerror or exc))
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append('%s: not a regular file' % path)
            continue
        if max_size and info.st_size > max_size:
            problems.append('%s: %s is over max_attachment_size (%s)' % (path, format_size(info.st_size), format_size(max_size)))
            continue
        try:
            with open(path, 'rb') as handle:
                data = handle.read()
        except OSError as exc:
            problems.append('%s: cannot read: %s' % (path, exc.strerror or exc))
            continue
        if max_size and len(data) > max_size:  # it grew between stat() and read()
            problems.append('%s: %s is over max_attachment_size (%s)' % (path, format_size(len(data)), format_size(max_size)))
            continue
        attachments.append(Attachment(os.path.abspath(path), data))
    if problems:
        raise MailError('cannot attach %s: %s' % ('this file' if len(problems) == 1 else 'these files', '; '.join(problems)),
                        attachment_errors=problems)
    return attachments


def format_size(size):
    for unit in ('bytes', 'KiB', 'MiB', 'GiB'):
        if size < 1024 or unit == 'GiB':
            return ('%d %s' % (size, unit)) if unit == 'bytes' else ('%.1f %s' % (size, unit))
        size /= 1024.0
    return '%d bytes' % size  # pragma: no cover - not reached


# --- the message -----------------------------------------------------------------------


class Spec(object):
    """The message's content, validated."""

    def __init__(self, sender, to, subject, body='', cc=None, bcc=None, reply_to=None, html_body=None, attachments=None):
        self.sender = parse_address(sender, 'sender')
        self.to = parse_addresses(to, 'to')
        self.cc = parse_addresses(cc, 'cc')
        self.bcc = parse_addresses(bcc, 'bcc')
        self.reply_to = parse_addresses(reply_to, 'reply_to')
        if not (self.to or self.cc or self.bcc):
            raise MailError('no recipients: give at least one address in to, cc or bcc')
        if subject is None:
            subject = ''
        if '\r' in subject or '\n' in subject:
            raise MailError('subject must be a single line (it contains a line break)')
        self.subject = subject
        self.body = body or ''
        self.html_body = html_body or None
        self.attachments = list(attachments or [])

    @property
    def envelope_sender(self):
        return self.sender.addr_spec

    @property
    def recipients(self):
        """Envelope recipients, in order, without duplicates (To, then Cc, then Bcc)."""
        seen = set()
        result = []
        for address in self.to + self.cc + self.bcc:
            spec = address.addr_spec
            if spec.lower() not in seen:
                seen.add(spec.lower())
                result.append(spec)
        return result


def compute_key(spec):
    """Default idempotency key: SHA-256 over the message's content.

    Covers the sender, the To, Cc, Bcc and Reply-To addresses (each list sorted, so
    their order does not matter), the subject, the plain and HTML bodies and, for every
    attachment in order, its file name and the SHA-256 of its content. The Date and
    Message-ID headers and the SMTP settings are not part of it.
    """
    payload = {
        'schema': KEY_SCHEMA,
        'from': str(spec.sender),
        'to': sorted(str(a) for a in spec.to),
        'cc': sorted(str(a) for a in spec.cc),
        'bcc': sorted(str(a) for a in spec.bcc),
        'reply_to': sorted(str(a) for a in spec.reply_to),
        'subject': spec.subject,
        'body': spec.body,
        'html_body': spec.html_body,
        'attachments': [[a.filename, a.sha256] for a in spec.attachments],
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(',', ':')).encode('utf-8')
    return hashlib.sha256(blob).hexdigest()


def _idna(domain):
    try:
        domain.encode('ascii')
        return domain
    except UnicodeEncodeError:
        try:
            return domain.encode('idna').decode('ascii')
        except UnicodeError:
            return 'localhost.invalid'


def make_message_id(spec):
    """A new Message-ID in the sender's domain."""
    return email.utils.make_msgid(idstring='storeops', domain=_idna(spec.sender.domain))


def build_message(spec, message_id=None, date=None):
    """The ``EmailMessage`` for ``spec``. Bcc recipients are not written in the headers."""
    msg = EmailMessage(policy=POLICY)
    msg['From'] = spec.sender
    if spec.to:
        msg['To'] = spec.to
    if spec.cc:
        msg['Cc'] = spec.cc
    if spec.reply_to:
        msg['Reply-To'] = spec.reply_to
    msg['Subject'] = spec.subject
    msg['Date'] = date or email.utils.formatdate(localtime=True)
    msg['Message-ID'] = message_id or make_message_id(spec)
    # RFC 3834: tells vacation responders and the like not to answer.
    msg['Auto-Submitted'] = 'auto-generated'
    msg['X-Mailer'] = MODULE_NAME
    msg.set_content(spec.body)
    if spec.html_body:
        msg.add_alternative(spec.html_body, subtype='html')
    for attachment in spec.attachments:
        maintype, subtype = attachment.mime_type.split('/', 1)
        params = {}
        if maintype == 'text' and _looks_like_text(attachment.data):
            params['charset'] = 'utf-8'
        # Always bytes, always base64: the file arrives byte for byte, line ends included.
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename,
                           params=params or None)
    return msg


def _needs_smtputf8(spec):
    try:
        ''.join([spec.envelope_sender] + spec.recipients).encode('ascii')
    except UnicodeEncodeError:
        return True
    return False


def serialize(msg, smtputf8=False):
    policy = msg.policy.clone(utf8=True) if smtputf8 else msg.policy
    return msg.as_bytes(policy=policy)


def summarize(spec):
    """A readable summary of the message for the diff."""
    lines = ['From: %s' % spec.sender]
    for name, addresses in (('To', spec.to), ('Cc', spec.cc), ('Bcc', spec.bcc), ('Reply-To', spec.reply_to)):
        if addresses:
            lines.append('%s: %s' % (name, ', '.join(str(a) for a in addresses)))
    lines.append('Subject: %s' % spec.subject)
    if spec.html_body:
        lines.append('(with an HTML alternative, %d characters)' % len(spec.html_body))
    for attachment in spec.attachments:
        lines.append('Attachment: %s (%s, %d bytes)' % (attachment.filename, attachment.mime_type, attachment.size))
    lines.append('')
    lines.append(spec.body)
    text = '\n'.join(lines)
    return text if text.endswith('\n') else text + '\n'


# --- SMTP ------------------------------------------------------------------------------


def _reply_text(reply):
    if isinstance(reply, bytes):
        reply = reply.decode('utf-8', 'replace')
    return ' '.join(str(reply).split())


def _ssl_context(conn):
    if not conn.validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if conn.ca_path:
        if os.path.isdir(conn.ca_path):
            return ssl.create_default_context(capath=conn.ca_path)
        if not os.path.isfile(conn.ca_path):
            raise MailError('ca_path %s does not exist' % conn.ca_path)
        try:
            return ssl.create_default_context(cafile=conn.ca_path)
        except (ssl.SSLError, OSError) as exc:
            raise MailError('ca_path %s holds no usable CA certificate: %s' % (conn.ca_path, exc))
    return ssl.create_default_context()


def _explain_os_error(conn, exc, during):
    """A message for a network-level failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        hint = ('set ca_path to the CA certificate that signed the server\'s certificate, or validate_certs=false'
                ' for a self-signed test server')
        return ('TLS certificate verification failed %s %s: %s; %s'
                % (during, conn.where, getattr(exc, 'verify_message', None) or exc, hint))
    if isinstance(exc, ssl.SSLError):
        hint = ''
        if conn.security == 'tls':
            hint = ' (security=tls needs a port that speaks TLS from the start, usually 465; use starttls for 25 or 587)'
        return 'TLS failure %s %s: %s%s' % (during, conn.where, exc, hint)
    if isinstance(exc, socket.timeout) or isinstance(exc, TimeoutError):
        return 'timed out after %ss %s %s (no reply from the server; see the timeout option)' % (conn.timeout, during, conn.where)
    if isinstance(exc, ConnectionRefusedError):
        return 'connection to %s refused: no SMTP server listening there (check smtp_host, smtp_port and that the server runs)' % conn.where
    if isinstance(exc, socket.gaierror):
        return 'cannot resolve smtp_host %s: %s' % (conn.host, exc.strerror or exc)
    return 'network error with %s %s: %s' % (conn.where, during, getattr(exc, 'strerror', None) or exc)


class Session(object):
    """An open, greeted, possibly encrypted and authenticated SMTP session."""

    def __init__(self, conn, warnings):
        self.conn = conn
        self.warnings = warnings
        self.smtp = None
        self.tls = False
        self.step = 'connecting to'

    def __enter__(self):
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self.smtp is None:
            return
        smtp, self.smtp = self.smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            with contextlib.suppress(OSError):
                smtp.close()

    def _open(self):
        conn = self.conn
        context = _ssl_context(conn) if conn.security != 'none' else None
        if conn.security == 'tls':
            self.smtp = smtplib.SMTP_SSL(conn.host, conn.port, local_hostname=conn.local_hostname,
                                         timeout=conn.timeout, context=context)
            self.tls = True
        else:
            self.smtp = smtplib.SMTP(conn.host, conn.port, local_hostname=conn.local_hostname, timeout=conn.timeout)
        self.step = 'in the greeting of'
        self.smtp.ehlo_or_helo_if_needed()
        if conn.security in (None, 'starttls'):
            if self.smtp.has_extn('starttls'):
                self.step = 'during STARTTLS with'
                code, reply = self.smtp.starttls(context=context)
                if code != 220:
                    raise MailError('STARTTLS refused by %s: %d %s' % (conn.where, code, _reply_text(reply)))
                self.tls = True
                self.smtp.ehlo()
            elif conn.security == 'starttls':
                raise MailError('%s does not offer STARTTLS and security=starttls requires it'
                                ' (use security=tls for an SMTPS port such as 465, or security=none to send in clear text)'
                                % conn.where)
            elif conn.username:
                raise MailError('%s does not offer STARTTLS: refusing to send the password for %s in clear text'
                                ' (set security=none to allow it)' % (conn.where, conn.username))
        if conn.username:
            if not self.tls:
                self.warnings.append('security=none: the password for %s was sent to %s unencrypted' % (conn.username, conn.where))
            self.step = 'while logging in to'
            try:
                self.smtp.login(conn.username, conn.password or '')
            except smtplib.SMTPAuthenticationError as exc:
                raise MailError('authentication as %s on %s failed: %d %s'
                                % (conn.username, conn.where, exc.smtp_code, _reply_text(exc.smtp_error)),
                                smtp_code=exc.smtp_code)
            except smtplib.SMTPNotSupportedError:
                raise MailError('%s does not offer authentication (AUTH)%s; remove username/password or use the submission port'
                                % (conn.where, '' if self.tls else ' on an unencrypted connection'))
            except (smtplib.SMTPResponseException, smtplib.SMTPServerDisconnected):
                raise
            except smtplib.SMTPException as exc:
                raise MailError('login as %s on %s failed: %s' % (conn.username, conn.where, exc))
        self.step = 'while sending to'


def send_message(session, spec, msg):
    """Offer every recipient, then the data. All recipients accept it or nobody gets it.

    Returns the server's reply to the data as text, for example ``250 2.0.0 Ok: queued as 4Xb1``.
    """
    smtp = session.smtp
    where = session.conn.where
    smtputf8 = _needs_smtputf8(spec)
    if smtputf8 and not smtp.has_extn('smtputf8'):
        raise MailError('an address is not ASCII and %s does not support SMTPUTF8 (internationalized mail)' % where)
    data = serialize(msg, smtputf8=smtputf8)
    options = []
    if smtp.does_esmtp:
        limit = smtp.esmtp_features.get('size', '').strip()
        if limit.isdigit() and int(limit) and len(data) > int(limit):
            raise MailError('the message is %s and %s accepts at most %s (its SIZE limit)'
                            % (format_size(len(data)), where, format_size(int(limit))), message_size=len(data))
        if smtp.has_extn('size'):
            options.append('SIZE=%d' % len(data))
        if smtputf8:
            options.extend(['SMTPUTF8', 'BODY=8BITMIME'])
    code, reply = smtp.mail(spec.envelope_sender, options)
    if code != 250:
        _reset(smtp)
        raise MailError('%s refused the sender %s: %d %s' % (where, spec.envelope_sender, code, _reply_text(reply)),
                        smtp_code=code)
    refused = {}
    for recipient in spec.recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, _reply_text(reply))
    if refused:
        _reset(smtp)
        temporary = all(400 <= code < 500 for code, dummy in refused.values())
        raise MailError('%s refused %s: %s; the message was sent to nobody%s'
                        % (where, 'the recipient' if len(refused) == 1 else '%d recipients' % len(refused),
                           '; '.join('%s (%d %s)' % (rcpt, code, reply) for rcpt, (code, reply) in refused.items()),
                           ' (temporary failure, retrying later may work)' if temporary else ''),
                        refused_recipients=dict((rcpt, dict(code=code, message=reply)) for rcpt, (code, reply) in refused.items()))
    try:
        code, reply = smtp.data(data)
    except smtplib.SMTPDataError as exc:
        _reset(smtp)
        raise MailError('%s refused the message: %d %s' % (where, exc.smtp_code, _reply_text(exc.smtp_error)), smtp_code=exc.smtp_code)
    if code != 250:
        _reset(smtp)
        raise MailError('%s refused the message: %d %s' % (where, code, _reply_text(reply)), smtp_code=code)
    return '%d %s' % (code, _reply_text(reply))


def _reset(smtp):
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.rset()


def deliver(conn, spec, msg, warnings):
    """Connect, send, disconnect. Every failure becomes a :class:`MailError`.

    Returns ``(server reply, whether the connection was encrypted)``.
    """
    session = Session(conn, warnings)
    try:
        with session:
            reply = send_message(session, spec, msg)
            return reply, session.tls
    except MailError:
        raise
    except smtplib.SMTPConnectError as exc:
        raise MailError('%s refused the connection: %d %s' % (conn.where, exc.smtp_code, _reply_text(exc.smtp_error)),
                        smtp_code=exc.smtp_code)
    except smtplib.SMTPServerDisconnected as exc:
        # smtplib turns a timeout or a reset while reading a reply into this exception.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):
            raise MailError(_explain_os_error(conn, cause, session.step))
        raise MailError('the server closed the connection %s %s: %s' % (session.step, conn.where, exc or 'no reply'))
    except smtplib.SMTPResponseException as exc:
        raise MailError('SMTP error %s %s: %d %s' % (session.step, conn.where, exc.smtp_code, _reply_text(exc.smtp_error)),
                        smtp_code=exc.smtp_code)
    except smtplib.SMTPException as exc:
        raise MailError('SMTP error %s %s: %s' % (session.step, conn.where, exc))
    except (OSError, ssl.SSLError) as exc:
        raise MailError(_explain_os_error(conn, exc, session.step))


# --- the record of sent messages -------------------------------------------------------


class StateStore(object):
    """One JSON file per sent message, named after the SHA-256 of its idempotency key."""

    def __init__(self, directory):
        self.directory = os.path.abspath(os.path.expanduser(directory))

    def path_for(self, key):
        return os.path.join(self.directory, hashlib.sha256(key.encode('utf-8')).hexdigest() + '.json')

    def load(self, key, warnings=None):
        """The record for ``key``, or None when the key was never recorded.

        A record that cannot be parsed still counts as sent (never send twice).
        """
        path = self.path_for(key)
        try:
            with open(path, 'rb') as handle:
                raw = handle.read()
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise MailError('cannot read the record %s: %s' % (path, exc.strerror or exc))
        try:
            record = json.loads(raw.decode('utf-8'))
            if not isinstance(record, dict):
                raise ValueError('not an object')
        except ValueError as exc:
            if warnings is not None:
                warnings.append('the record %s is not valid JSON (%s); the message still counts as sent' % (path, exc))
            record = {}
        return record

    def prepare(self):
        """Create the directory (mode 0700) and check that records can be written there."""
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise MailError('cannot create state_dir %s: %s' % (self.directory, exc.strerror or exc))
        if not os.path.isdir(self.directory):
            raise MailError('state_dir %s is not a directory' % self.directory)
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise MailError('state_dir %s is not writable: the message could not be recorded as sent, so it is not sent'
                            % self.directory)

    @contextlib.contextmanager
    def lock(self):
        """Exclusive lock on the state directory for one check-send-record sequence."""
        path = os.path.join(self.directory, LOCK_NAME)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise MailError('cannot open the lock file %s: %s' % (path, exc.strerror or exc))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def record(self, key, record):
        data = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode('utf-8') + b'\n'
        atomic_write_bytes(self.path_for(key), data, mode=0o600)


# --- the job ---------------------------------------------------------------------------


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z')


def _already_sent(result, record):
    result.update(changed=False, sent=False, message_id=record.get('message_id'), sent_at=record.get('sent_at'))
    result.pop('diff', None)
    return result


def _send_and_record(spec, conn, store, key, warnings):
    """Send the message and record it. Returns what to add to the result."""
    msg = build_message(spec)
    message_id = msg['Message-ID']
    reply, tls = deliver(conn, spec, msg, warnings)
    sent_at = _utc_now()
    record = dict(
        module=MODULE_NAME,
        idempotency_key=key,
        message_id=message_id,
        sent_at=sent_at,
        sender=spec.envelope_sender,
        recipients=spec.recipients,
        subject=spec.subject,
        attachments=[dict(filename=a.filename, mime_type=a.mime_type, size=a.size, sha256=a.sha256) for a in spec.attachments],
        smtp_server=conn.where,
        smtp_response=reply,
    )
    try:
        store.record(key, record)
    except OSError as exc:
        raise MailError('the message WAS sent (Message-ID %s) but recording it in %s failed: %s;'
                        ' a re-run would send it again' % (message_id, store.path_for(key), exc.strerror or exc),
                        sent=True, message_id=message_id, changed=True)
    return dict(sent=True, message_id=message_id, sent_at=sent_at, smtp_response=reply, tls=tls)


def run(spec_args, conn, state_dir=None, idempotency_key=None, max_attachment_size=DEFAULT_MAX_ATTACHMENT_SIZE,
        check_mode=False, diff=False):
    """Send the message described by ``spec_args`` once.

    ``spec_args`` are :class:`Spec`'s arguments with ``attachments`` a list of paths.
    Returns ``(result, warnings)``. Raises :class:`MailError` on failure, after which
    nothing was recorded (its details name the key and the state file once known).
    """
    warnings = []
    args = dict(spec_args)
    args['attachments'] = read_attachments(args.get('attachments'), max_size=max_attachment_size)
    spec = Spec(**args)
    if idempotency_key is not None and not idempotency_key.strip():
        raise MailError('idempotency_key must not be empty (omit it to use the hash of the message)')
    key = idempotency_key if idempotency_key is not None else compute_key(spec)
    store = StateStore(state_dir if state_dir else default_state_dir())
    result = dict(
        changed=True,
        sent=False,
        idempotency_key=key,
        state_file=store.path_for(key),
        recipients=spec.recipients,
        attachments=[a.as_result() for a in spec.attachments],
        message_id=None,
    )
    record = store.load(key, warnings)
    if record is not None:
        return _already_sent(result, record), warnings
    if diff:
        result['diff'] = dict(before='', after=summarize(spec), before_header=result['state_file'],
                              after_header='message to %s' % ', '.join(spec.recipients))
    if check_mode:
        return result, warnings
    try:
        store.prepare()
        with store.lock():
            # Another run may have sent it while this one waited for the lock.
            record = store.load(key, warnings)
            if record is not None:
                return _already_sent(result, record), warnings
            result.update(_send_and_record(spec, conn, store, key, warnings))
    except MailError as exc:
        exc.details.setdefault('idempotency_key', key)
        exc.details.setdefault('state_file', result['state_file'])
        raise
    return result, warnings
