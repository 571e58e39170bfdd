# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build one mail message, send it over SMTP at most once, remember that it was sent.

Private to the collection: it can change at any time.

The job of ``storeops.shop.send_mail``. The steps, in the order :func:`send_mail` performs them:

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

import datetime

from ansible.module_utils.common.text.formatters import human_to_bytes

from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry
from ansible_collections.storeops.shop.plugins.module_utils._mail_message import (
    MODULE_NAME,
    MailError,
    Spec,
    build_message,
    compute_key,
    read_attachments,
    summarize,
)
from ansible_collections.storeops.shop.plugins.module_utils._sent_mail import StateStore, default_state_dir
from ansible_collections.storeops.shop.plugins.module_utils._smtp import DEFAULT_TIMEOUT, Connection, deliver


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
        attachments=[
            dict(filename=a.filename, mime_type=a.mime_type, size=a.size, sha256=a.sha256) for a in spec.attachments
        ],
        smtp_server=conn.where,
        smtp_response=reply,
    )
    try:
        store.record(key, record)
    except OSError as exc:
        raise MailError(
            'the message WAS sent (Message-ID %s) but recording it in %s failed: %s;'
            ' a re-run would send it again' % (message_id, store.path_for(key), exc.strerror or exc),
            sent=True,
            message_id=message_id,
            changed=True,
            headline='the message WAS sent (Message-ID %s) but could not be recorded as sent' % message_id,
        )
    return dict(sent=True, message_id=message_id, sent_at=sent_at, smtp_response=reply, tls=tls)


def _check_options(options):
    """Option problems as error entries (found before anything is read or sent)."""
    errors = []
    key = options.get('idempotency_key')
    if key is not None and not key.strip():
        errors.append(
            error_entry('must not be empty (omit it to use the hash of the message)', field='idempotency_key')
        )
    try:
        max_size = human_to_bytes(options.get('max_attachment_size') or '0')
    except ValueError as exc:
        errors.append(error_entry(str(exc), field='max_attachment_size'))
        max_size = None
    else:
        if max_size < 0:
            errors.append(error_entry('must not be negative', field='max_attachment_size'))
    return errors, max_size


def connection_from(options):
    """The :class:`Connection` for the module's SMTP options."""
    return Connection(
        host=options['smtp_host'],
        port=options.get('smtp_port'),
        security=options.get('security'),
        username=options.get('username'),
        password=options.get('password'),
        timeout=options.get('timeout') or DEFAULT_TIMEOUT,
        validate_certs=options.get('validate_certs', True),
        ca_path=options.get('ca_path'),
    )


def send_mail(options, check_mode=False, diff=False):
    """The job: send the message the options describe, once. Returns ``(result, warnings)``.

    Raises :class:`JobError` (with ``errors`` naming the field at fault) when the message cannot
    be sent; nothing is recorded then, so a re-run tries again.
    """
    errors, max_size = _check_options(options)
    if errors:
        raise JobError('the message was not sent', errors)
    try:
        result, warnings = _send_once(options, connection_from(options), max_size, check_mode, diff)
    except MailError as exc:
        details = dict(exc.details)
        headline = details.pop('headline', None) or 'the message was not sent'
        raise JobError(headline, exc.errors or [error_entry(exc.reason, field=exc.field)], **details)
    return result, warnings


def _send_once(options, conn, max_attachment_size, check_mode, diff):
    warnings = []
    attachments = read_attachments(options.get('attachments'), max_size=max_attachment_size)
    spec = Spec(
        sender=options['sender'],
        to=options.get('to'),
        cc=options.get('cc'),
        bcc=options.get('bcc'),
        reply_to=options.get('reply_to'),
        subject=options['subject'],
        body=options.get('body'),
        html_body=options.get('html_body'),
        attachments=attachments,
    )
    idempotency_key = options.get('idempotency_key')
    key = idempotency_key if idempotency_key is not None else compute_key(spec)
    store = StateStore(options.get('state_dir') or default_state_dir())
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
        result['diff'] = dict(
            before='',
            after=summarize(spec),
            before_header=result['state_file'],
            after_header='message to %s' % ', '.join(spec.recipients),
        )
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
