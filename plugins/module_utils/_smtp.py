# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sending one message over SMTP: plain, STARTTLS or SMTPS, with login, all recipients or none.

Private to the collection: it can change at any time.

Shared by ``storeops.shop.send_mail`` and the health-check script (no Ansible import here).
Every failure becomes a :class:`MailError` whose message says what went wrong and where.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl

from ansible_collections.storeops.shop.plugins.module_utils._mail_message import (
    MailError,
    format_size,
    needs_smtputf8,
    serialize,
)

SECURITY_CHOICES = ('starttls', 'tls', 'none')
DEFAULT_TIMEOUT = 30


class Connection(object):
    """How to reach the SMTP server."""

    def __init__(
        self,
        host='localhost',
        port=None,
        security=None,
        username=None,
        password=None,
        timeout=DEFAULT_TIMEOUT,
        validate_certs=True,
        ca_path=None,
        local_hostname=None,
    ):
        if security is not None and security not in SECURITY_CHOICES:
            raise MailError(
                'security must be one of %s, got %r' % (', '.join(SECURITY_CHOICES), security), field='security'
            )
        if timeout is not None and timeout <= 0:
            raise MailError('timeout must be a positive number of seconds, got %r' % (timeout,), field='timeout')
        if password is not None and username is None:
            raise MailError('password is set but username is not: give both to log in', field='username')
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
            raise MailError('ca_path %s does not exist' % conn.ca_path, field='ca_path')
        try:
            return ssl.create_default_context(cafile=conn.ca_path)
        except (ssl.SSLError, OSError) as exc:
            raise MailError('ca_path %s holds no usable CA certificate: %s' % (conn.ca_path, exc), field='ca_path')
    return ssl.create_default_context()


def _explain_os_error(conn, exc, during):
    """A message for a network-level failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        hint = (
            'set ca_path to the CA certificate that signed the server\'s certificate, or validate_certs=false'
            ' for a self-signed test server'
        )
        return 'TLS certificate verification failed %s %s: %s; %s' % (
            during,
            conn.where,
            getattr(exc, 'verify_message', None) or exc,
            hint,
        )
    if isinstance(exc, ssl.SSLError):
        hint = ''
        if conn.security == 'tls':
            hint = (
                ' (security=tls needs a port that speaks TLS from the start, usually 465; use starttls for 25 or 587)'
            )
        return 'TLS failure %s %s: %s%s' % (during, conn.where, exc, hint)
    if isinstance(exc, socket.timeout) or isinstance(exc, TimeoutError):
        return 'timed out after %ss %s %s (no reply from the server; see the timeout option)' % (
            conn.timeout,
            during,
            conn.where,
        )
    if isinstance(exc, ConnectionRefusedError):
        return (
            'connection to %s refused: no SMTP server listening there (check smtp_host, smtp_port and that the server runs)'
            % conn.where
        )
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
            self.smtp = smtplib.SMTP_SSL(
                conn.host, conn.port, local_hostname=conn.local_hostname, timeout=conn.timeout, context=context
            )
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
                raise MailError(
                    '%s does not offer STARTTLS and security=starttls requires it'
                    ' (use security=tls for an SMTPS port such as 465, or security=none to send in clear text)'
                    % conn.where
                )
            elif conn.username:
                raise MailError(
                    '%s does not offer STARTTLS: refusing to send the password for %s in clear text'
                    ' (set security=none to allow it)' % (conn.where, conn.username)
                )
        if conn.username:
            if not self.tls:
                self.warnings.append(
                    'security=none: the password for %s was sent to %s unencrypted' % (conn.username, conn.where)
                )
            self.step = 'while logging in to'
            try:
                self.smtp.login(conn.username, conn.password or '')
            except smtplib.SMTPAuthenticationError as exc:
                raise MailError(
                    'authentication as %s on %s failed: %d %s'
                    % (conn.username, conn.where, exc.smtp_code, _reply_text(exc.smtp_error)),
                    smtp_code=exc.smtp_code,
                )
            except smtplib.SMTPNotSupportedError:
                raise MailError(
                    '%s does not offer authentication (AUTH)%s; remove username/password or use the submission port'
                    % (conn.where, '' if self.tls else ' on an unencrypted connection')
                )
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
    smtputf8 = needs_smtputf8(spec)
    if smtputf8 and not smtp.has_extn('smtputf8'):
        raise MailError('an address is not ASCII and %s does not support SMTPUTF8 (internationalized mail)' % where)
    data = serialize(msg, smtputf8=smtputf8)
    options = []
    if smtp.does_esmtp:
        limit = smtp.esmtp_features.get('size', '').strip()
        if limit.isdigit() and int(limit) and len(data) > int(limit):
            raise MailError(
                'the message is %s and %s accepts at most %s (its SIZE limit)'
                % (format_size(len(data)), where, format_size(int(limit))),
                message_size=len(data),
            )
        if smtp.has_extn('size'):
            options.append('SIZE=%d' % len(data))
        if smtputf8:
            options.extend(['SMTPUTF8', 'BODY=8BITMIME'])
    code, reply = smtp.mail(spec.envelope_sender, options)
    if code != 250:
        _reset(smtp)
        raise MailError(
            '%s refused the sender %s: %d %s' % (where, spec.envelope_sender, code, _reply_text(reply)), smtp_code=code
        )
    refused = {}
    for recipient in spec.recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, _reply_text(reply))
    if refused:
        _reset(smtp)
        temporary = all(400 <= code < 500 for code, dummy in refused.values())
        raise MailError(
            '%s refused %s: %s; the message was sent to nobody%s'
            % (
                where,
                'the recipient' if len(refused) == 1 else '%d recipients' % len(refused),
                '; '.join('%s (%d %s)' % (rcpt, code, reply) for rcpt, (code, reply) in refused.items()),
                ' (temporary failure, retrying later may work)' if temporary else '',
            ),
            refused_recipients=dict((rcpt, dict(code=code, message=reply)) for rcpt, (code, reply) in refused.items()),
        )
    try:
        code, reply = smtp.data(data)
    except smtplib.SMTPDataError as exc:
        _reset(smtp)
        raise MailError(
            '%s refused the message: %d %s' % (where, exc.smtp_code, _reply_text(exc.smtp_error)),
            smtp_code=exc.smtp_code,
        )
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
        raise MailError(
            '%s refused the connection: %d %s' % (conn.where, exc.smtp_code, _reply_text(exc.smtp_error)),
            smtp_code=exc.smtp_code,
        )
    except smtplib.SMTPServerDisconnected as exc:
        # smtplib turns a timeout or a reset while reading a reply into this exception.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):
            raise MailError(_explain_os_error(conn, cause, session.step))
        raise MailError('the server closed the connection %s %s: %s' % (session.step, conn.where, exc or 'no reply'))
    except smtplib.SMTPResponseException as exc:
        raise MailError(
            'SMTP error %s %s: %d %s' % (session.step, conn.where, exc.smtp_code, _reply_text(exc.smtp_error)),
            smtp_code=exc.smtp_code,
        )
    except smtplib.SMTPException as exc:
        raise MailError('SMTP error %s %s: %s' % (session.step, conn.where, exc))
    except (OSError, ssl.SSLError) as exc:
        raise MailError(_explain_os_error(conn, exc, session.step))
