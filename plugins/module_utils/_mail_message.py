# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One mail message: addresses, attachments with their real MIME types, the message itself.

Private to the collection: it can change at any time.

Shared by ``storeops.shop.send_mail`` and the health-check script (no Ansible import here):
:class:`Spec` validates the content, :func:`build_message` makes the
``email.message.EmailMessage`` (plain-text body, optional HTML alternative, attachments
labelled by :func:`detect_mime_type`, a Date and a Message-ID in the sender's domain) and
:func:`compute_key` the default idempotency key.
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import errno
import hashlib
import json
import mimetypes
import os
import stat

from email.message import EmailMessage

MODULE_NAME = 'storeops.shop.send_mail'
KEY_SCHEMA = 'storeops.shop.send_mail/1'
DEFAULT_MAX_ATTACHMENT_SIZE = 20 * 1024 * 1024

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
    """A failure with a message meant for the user, and details for the task result.

    ``field`` names the option at fault (``to``, ``subject``, ...), ``errors`` lists
    several problems as ``_job.error_entry`` dicts (the attachments).
    """

    def __init__(self, msg, field=None, errors=None, **details):
        super(MailError, self).__init__(msg)
        self.msg = msg
        self.field = field
        self.errors = list(errors or [])
        self.details = details

    @property
    def reason(self):
        """The message without the ``field: `` prefix."""
        prefix = '%s: ' % self.field if self.field else ''
        return self.msg[len(prefix) :] if prefix and self.msg.startswith(prefix) else self.msg


def _field_error(field, reason):
    return MailError('%s: %s' % (field, reason), field=field)


# Characters that end a line for str.splitlines() or for a mail client: a header holding one
# would be folded into another header (header injection) or rejected by the email library.
_LINE_BREAKS = frozenset('\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029')


def control_character_problem(text):
    """What is wrong with ``text`` as a one-line header value, or None."""
    for char in text:
        if char in _LINE_BREAKS:
            return 'contains a line break (U+%04X); it must be a single line' % ord(char)
        if (ord(char) < 32 and char != '\t') or 0x7F <= ord(char) < 0xA0:
            return 'contains the control character U+%04X' % ord(char)
    return None


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
        return dict(
            path=self.path, filename=self.filename, mime_type=self.mime_type, size=self.size, sha256=self.sha256
        )


# --- addresses -------------------------------------------------------------------------


def parse_address(value, option):
    """Parse one address (``user@example.com`` or ``Name <user@example.com>``).

    Returns an ``email.headerregistry.Address``; raises :class:`MailError` naming
    ``option`` when the value is not exactly one complete address.
    """
    text = value.strip() if isinstance(value, str) else value
    if not text:
        raise _field_error(option, 'an empty address was given')
    problem = control_character_problem(text)
    if problem:
        raise _field_error(option, '%r %s' % (value, problem))
    # The bare address, to say plainly what is missing (the header parser fails on
    # "foo@" with an IndexError of its own).
    bare = text[text.rfind('<') + 1 : text.rfind('>')] if text.endswith('>') and '<' in text else text
    if '@' not in bare:
        raise _field_error(option, '%r is not a valid mail address (user@domain expected: there is no @)' % (value,))
    local, dummy, domain = bare.rpartition('@')
    if not domain.strip():
        raise _field_error(option, '%r is not a valid mail address (the domain after @ is missing)' % (value,))
    if not local.strip().strip('"'):
        raise _field_error(option, '%r is not a valid mail address (the user before @ is missing)' % (value,))
    try:
        header = _HEADER_FACTORY('to', text)
        addresses = header.addresses
    except Exception:  # the header parser raises a few kinds of errors on garbage
        raise _field_error(option, '%r is not a valid mail address (user@domain expected)' % (value,))
    if len(addresses) != 1:
        raise _field_error(
            option,
            '%r must be exactly one address, found %d (give a list to send to several)' % (value, len(addresses)),
        )
    address = addresses[0]
    # A non-ASCII local part is fine: it is sent with SMTPUTF8 (checked when sending).
    defects = [d for d in header.defects if not isinstance(d, email.errors.NonASCIILocalPartDefect)]
    if defects or not address.username or not address.domain:
        reason = '; '.join(str(defect) for defect in defects) or 'user@domain expected'
        raise _field_error(option, '%r is not a valid mail address (%s)' % (value, reason))
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
    return (
        sniff_mime_type(data)
        or guess_mime_type_from_name(filename)
        or ('text/plain' if _looks_like_text(data) else 'application/octet-stream')
    )


def read_attachments(paths, max_size=DEFAULT_MAX_ATTACHMENT_SIZE):
    """Read the attachment files, checking they exist, are regular files and are not too big.

    Every problem is found before any is reported, so one run names them all.
    ``max_size`` of 0 or None means no limit.
    """
    attachments = []
    problems = []

    def problem(path, message):
        problems.append({'file': path, 'line': None, 'field': 'attachments', 'message': message})

    for path in paths or []:
        name_problem = control_character_problem(os.path.basename(path))
        if name_problem:
            problem(path, 'the file name %s: rename the file' % name_problem)
            continue
        try:
            info = os.stat(path)
        except OSError as exc:
            problem(path, 'no such file' if exc.errno == errno.ENOENT else (exc.strerror or str(exc)))
            continue
        if not stat.S_ISREG(info.st_mode):
            problem(path, 'not a regular file')
            continue
        if max_size and info.st_size > max_size:
            problem(path, '%s is over max_attachment_size (%s)' % (format_size(info.st_size), format_size(max_size)))
            continue
        try:
            with open(path, 'rb') as handle:
                data = handle.read()
        except OSError as exc:
            problem(path, 'cannot read: %s' % (exc.strerror or exc))
            continue
        if max_size and len(data) > max_size:  # it grew between stat() and read()
            problem(path, '%s is over max_attachment_size (%s)' % (format_size(len(data)), format_size(max_size)))
            continue
        attachments.append(Attachment(os.path.abspath(path), data))
    if problems:
        raise MailError(
            'cannot attach %s: %s'
            % (
                'this file' if len(problems) == 1 else 'these files',
                '; '.join('%s: %s' % (p['file'], p['message']) for p in problems),
            ),
            field='attachments',
            errors=problems,
            headline='the message was not sent: cannot attach %s'
            % ('this file' if len(problems) == 1 else 'these files'),
        )
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

    def __init__(
        self, sender, to, subject, body='', cc=None, bcc=None, reply_to=None, html_body=None, attachments=None
    ):
        self.sender = parse_address(sender, 'sender')
        self.to = parse_addresses(to, 'to')
        self.cc = parse_addresses(cc, 'cc')
        self.bcc = parse_addresses(bcc, 'bcc')
        self.reply_to = parse_addresses(reply_to, 'reply_to')
        if not (self.to or self.cc or self.bcc):
            raise MailError('no recipients: give at least one address in to, cc or bcc', field='to')
        if subject is None:
            subject = ''
        problem = control_character_problem(subject)
        if problem:
            raise _field_error('subject', problem)
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
        msg.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename, params=params or None
        )
    return msg


def needs_smtputf8(spec):
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
