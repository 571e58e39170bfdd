#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: send_mail
author: storeops.shop team (@storeops)
short_description: Send one mail with attachments over SMTP, exactly once
version_added: 1.0.0
description:
  - Builds one message with Python's C(email.message.EmailMessage) and sends it with C(smtplib) to O(smtp_host).
  - The message has a plain-text O(body), optionally an HTML alternative (O(html_body)), and O(attachments) labelled with their
    real MIME type, a C(Date) and a C(Message-ID) in the domain of O(sender), and an C(Auto-Submitted) header (RFC 3834)
    so that vacation responders do not answer. Non-ASCII subjects, display names and attachment names are encoded
    (RFC 2047 and RFC 2231); non-ASCII text is sent quoted-printable or base64, so the message is 7-bit clean.
    Attachments are always base64-encoded bytes and arrive byte for byte as they are on disk.
  - B(Never sends the same message twice.) Each message has an O(idempotency_key). After the server accepted the message,
    the key is recorded in a small JSON file in O(state_dir) on the host that runs the module. When that file exists, the
    task reports C(changed=false), sends nothing and returns the recorded RV(message_id). A failed send records nothing,
    so the next run tries again.
  - All recipients or none. Every recipient is offered to the server (C(RCPT TO)) before the message is; if the server refuses
    any of them, the transaction is reset, nobody receives the message, nothing is recorded and the task fails naming each
    refused address with the server's code and reply.
  - Every attachment is checked (exists, regular file, readable, at most O(max_attachment_size)) before any connection is made.
  - Runs that share a O(state_dir) are serialised with a lock, so the same message sent by several hosts of a play through
    C(delegate_to) at the same moment still goes out once.
  - B(Why not community.general.mail:) it does not support check mode, attaches every file as C(application/octet-stream)
    whatever it is, and sends again on every run, so a re-run playbook mails everyone twice. This module does all three.
attributes:
  check_mode:
    support: full
    details:
      - Reads the attachments and looks the key up in O(state_dir), and reports C(changed=true) when the message would be
        sent. It does not connect to the server, so connection, TLS, authentication and refused recipient errors only show
        in a real run.
  diff_mode:
    support: partial
    details:
      - When a message is (or would be) sent, the diff shows its headers, the list of attachments with their MIME types and
        sizes, and the plain-text body. The HTML body and the attachments' contents are not shown.
  platform:
    platforms: posix
  idempotent:
    support: full
    details:
      - With the same content (or O(idempotency_key)) and O(state_dir), a message is sent once; later runs report no change.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - storeops.shop.attributes.idempotent
  - storeops.shop.job_errors
options:
  sender:
    description:
      - The author, for the C(From) header and the envelope sender, as V(user@example.com) or V(Display Name <user@example.com>).
      - Its domain is also the domain of the C(Message-ID).
    type: str
    required: true
  to:
    description:
      - Recipients for the C(To) header, each V(user@example.com) or V(Name <user@example.com>).
      - Give a YAML list. A plain string is split on commas by Ansible, which breaks display names such as V("Doe, John" <j@example.com>).
      - At least one of O(to), O(cc) or O(bcc) is required.
    type: list
    elements: str
  cc:
    description:
      - Recipients for the C(Cc) header.
    type: list
    elements: str
    default: []
  bcc:
    description:
      - Recipients that receive the message without appearing in any header.
    type: list
    elements: str
    default: []
  reply_to:
    description:
      - Addresses for the C(Reply-To) header.
    type: list
    elements: str
    default: []
  subject:
    description:
      - The subject, one line. Any characters, non-ASCII ones are encoded.
    type: str
    required: true
  body:
    description:
      - The plain-text body.
    type: str
    default: ''
  html_body:
    description:
      - An HTML version of the body. The message then carries both as a C(multipart/alternative) part and the reader's mail
        client chooses; O(body) should say the same in plain text.
    type: str
  attachments:
    description:
      - Files to attach, read on the host that runs the module. The attachment's name is the file's base name.
      - The MIME type comes from the content first (PDF, PNG, JPEG, GIF, TIFF, WebP, gzip, PostScript signatures), then from
        the file name's extension (Python's C(mimetypes), which also reads the host's C(/etc/mime.types)); UTF-8 text is
        C(text/plain). Only a file that is none of these is sent as C(application/octet-stream).
    type: list
    elements: path
    default: []
  max_attachment_size:
    description:
      - The largest attachment accepted, in bytes or with a unit (V(512KB), V(20MB), V(1GB); units are powers of 1024).
        V(0) means no limit.
      - Checked for every attachment before connecting. Base64 makes the message about a third bigger than its attachments;
        if the server announces a size limit (ESMTP C(SIZE)), a message over it also fails before it is sent.
    type: str
    default: 20MB
  smtp_host:
    description:
      - The SMTP server's name or address.
    type: str
    default: localhost
  smtp_port:
    description:
      - The SMTP server's port.
      - Defaults to V(465) when O(security=tls), V(25) otherwise. For the submission port with authentication, set V(587).
    type: int
  security:
    description:
      - How the connection is encrypted.
      - V(starttls) connects in clear text and upgrades the connection with C(STARTTLS). The task fails if the server does
        not offer C(STARTTLS).
      - V(tls) speaks TLS from the first byte (SMTPS, usually port 465).
      - V(none) never encrypts, even when the server offers C(STARTTLS).
      - B(When not set), C(STARTTLS) is used when the server offers it, and the message is sent in clear text when it does not
        (opportunistic TLS). This fallback never applies to credentials. If O(username) is set and the server does not offer
        C(STARTTLS), the task fails instead of sending the password unencrypted. Set V(none) to allow that. If the server offers
        C(STARTTLS) and the TLS handshake or the certificate check fails, the task fails too; it never falls back to clear
        text after a failed handshake.
    type: str
    choices: [starttls, tls, none]
  username:
    description:
      - Log in (SMTP C(AUTH)) as this user after the connection is encrypted. Without it, no login is attempted.
    type: str
  password:
    description:
      - The password for O(username).
    type: str
  timeout:
    description:
      - Seconds to wait for the connection and for each reply of the server.
    type: int
    default: 30
  validate_certs:
    description:
      - Check the server's certificate against the trusted CAs (O(ca_path) or the system's) and O(smtp_host).
      - Only set V(false) for a test server with a self-signed certificate. Prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) with the CA certificates to trust instead of the system's.
    type: path
  idempotency_key:
    description:
      - Identifies the message. A message whose key is recorded in O(state_dir) is not sent again.
      - By default, the SHA-256 of the message's content. That hash covers O(sender), O(to), O(cc), O(bcc) and O(reply_to)
        (each list sorted), O(subject), O(body), O(html_body) and, for every attachment, its name and the SHA-256 of its
        content. Change any of them and it is a new message. The C(Date), the C(Message-ID) and the connection options are
        not part of it.
      - Set your own key to send identical content again, for example an alert that may repeat daily
        (V(disk-alert-{{ ansible_date_time.date }})), or to make sure only one message goes out for one event whatever its
        content (V(sales-summary-2024-05)).
    type: str
  state_dir:
    description:
      - The directory where sent messages are recorded, one C(<sha256 of the key>.json) file each (mode 0600) plus a
        C(.lock) file. It is created (mode 0700) if missing.
      - It is on the host that runs the module, which is the controller when the task is delegated to C(localhost).
        Messages recorded in one state directory are not known to another.
      - Defaults to C(/var/lib/storeops/sent-mail) when the module runs as root, else to
        C(~/.ansible/storeops_shop/sent_mail) in the home directory of the user the module runs as.
      - Deleting a record makes the module send that message again.
    type: path
notes:
  - The record must outlive the run. In an execution environment (AWX, C(ansible-navigator)) the controller's file
    system is thrown away after each job, so a task delegated to C(localhost) there needs O(state_dir) on a persistent
    volume, or should run on a managed host instead; otherwise every job sends again.
  - If the module dies after the server accepted the message and before the record is written, or the record cannot be
    written (disk full), the message is sent again on the next run. The task fails and says so in that case.
  - Addresses with non-ASCII characters in the local part need a server that supports C(SMTPUTF8); the task fails clearly
    otherwise.
  - The module retries nothing. A temporary refusal (C(4xx)) is reported as such; use C(retries) and C(until) on the task to retry.
seealso:
  - module: community.general.mail
    description: Sends mail on every run, without check mode and with every attachment as C(application/octet-stream).
  - name: Python email.message.EmailMessage
    description: How the message is built.
    link: https://docs.python.org/3/library/email.message.html
"""

EXAMPLES = r"""
- name: Mail the processed update to the supplier, once
  storeops.shop.send_mail:
    sender: automation@example.com
    to:
      - "{{ ansible_user_id }}@example.com"
    subject: Upload Completed - Online Fruit Store
    body: All fruits are uploaded to our website successfully. A detailed list is attached to this email.
    attachments:
      - /tmp/processed.pdf

- name: Sales summary to two people through the submission port, with a login
  storeops.shop.send_mail:
    sender: Store automation <automation@example.com>
    to:
      - Sales <sales@example.com>
    cc:
      - "\"Doe, John\" <john@example.com>"
    subject: Sales summary for last month
    body: "{{ lookup('ansible.builtin.file', 'summary.txt') }}"
    html_body: "{{ lookup('ansible.builtin.template', 'summary.html.j2') }}"
    attachments:
      - /srv/reports/cars.pdf
      - /srv/reports/cars.csv
    smtp_host: mail.example.com
    smtp_port: 587
    security: starttls
    ca_path: /etc/ssl/certs/storeops-ca.pem
    username: automation
    password: "{{ vault_smtp_password }}"
  delegate_to: localhost
  run_once: true
  register: summary_mail

- name: Health alert that may be sent again the next day, but at most once a day
  storeops.shop.send_mail:
    sender: automation@example.com
    to:
      - "{{ ansible_user_id }}@example.com"
    subject: Error - Available disk space is less than 20%
    body: Please check your system and resolve the issue as soon as possible.
    idempotency_key: "{{ inventory_hostname }}-disk-{{ ansible_date_time.date }}"
"""

RETURN = r"""
sent:
  description: Whether this run sent the message. V(false) in check mode and when the message had been sent before.
  returned: success
  type: bool
  sample: true
idempotency_key:
  description: The key the message is recorded under, the default hash or O(idempotency_key).
  returned: success, and on failure once the message and its attachments were checked
  type: str
  sample: aff4a25e76dc34b6ab15253fcd9ebd4a2859f3b0c99733a2e3682efc32c9433a
state_file:
  description: The record of this message in O(state_dir). It exists once the message has been sent.
  returned: success, and on failure once the message and its attachments were checked
  type: str
  sample: /var/lib/storeops/sent-mail/5ab7e5bf620f1fd264472d0ed7b559a49bc068aaa3c2bdf8136ae13a681c2e28.json
message_id:
  description:
    - The C(Message-ID) of the message sent by this run, or the recorded one when it had been sent before.
    - V(null) in check mode when the message would be sent.
  returned: success
  type: str
  sample: <171234567890.12345.1234567890123456789.storeops@example.com>
sent_at:
  description: When the server accepted the message (UTC, ISO 8601), by this run or the one that sent it.
  returned: when the message has been sent
  type: str
  sample: '2024-05-31T06:00:12Z'
smtp_response:
  description: The server's reply to the message data, which often holds its queue ID.
  returned: when this run sent the message
  type: str
  sample: '250 2.0.0 Ok: queued as 4VqK2x1Zk9z9sXY'
tls:
  description: Whether the connection was encrypted (O(security=tls), or C(STARTTLS) was used).
  returned: when this run sent the message
  type: bool
  sample: true
recipients:
  description: The envelope recipients, from O(to), O(cc) and O(bcc), without duplicates.
  returned: success
  type: list
  elements: str
  sample: [student@example.com]
attachments:
  description: The attachments as sent (or to be sent).
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The file that was read.
      type: str
      sample: /tmp/processed.pdf
    filename:
      description: The attachment's name in the message.
      type: str
      sample: processed.pdf
    mime_type:
      description: The MIME type it was labelled with.
      type: str
      sample: application/pdf
    size:
      description: Its size in bytes.
      type: int
      sample: 18304
    sha256:
      description: The SHA-256 of its content.
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
smtp_code:
  description: The SMTP reply code of the failure (for example V(535) for wrong credentials).
  returned: failure, when the server answered with an error
  type: int
  sample: 535
errors:
  description:
    - Why the message was not sent, one entry per problem, in the collection's failure shape (see the notes). Each
      attachment problem (missing, not a regular file, unreadable, too big, a control character in its name) is an entry
      with C(file) and C(field=attachments); a bad address or subject names the option in C(field). Empty on success.
  returned: always
  type: list
  elements: dict
  sample: [{file: /tmp/processed.pdf, line: null, field: attachments, message: no such file}]
refused_recipients:
  description: The recipients the server refused, each with its code and reply. Nothing was sent to anybody.
  returned: failure, when the server refused recipients
  type: dict
  sample: {"nobody@example.com": {"code": 550, "message": "5.1.1 <nobody@example.com>: Recipient address rejected"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._job import run_module
from ansible_collections.storeops.shop.plugins.module_utils._send_mail import send_mail
from ansible_collections.storeops.shop.plugins.module_utils._smtp import DEFAULT_TIMEOUT, SECURITY_CHOICES


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sender=dict(type='str', required=True),
            to=dict(type='list', elements='str'),
            cc=dict(type='list', elements='str', default=[]),
            bcc=dict(type='list', elements='str', default=[]),
            reply_to=dict(type='list', elements='str', default=[]),
            subject=dict(type='str', required=True),
            body=dict(type='str', default=''),
            html_body=dict(type='str'),
            attachments=dict(type='list', elements='path', default=[]),
            max_attachment_size=dict(type='str', default='20MB'),
            smtp_host=dict(type='str', default='localhost'),
            smtp_port=dict(type='int'),
            security=dict(type='str', choices=list(SECURITY_CHOICES)),
            username=dict(type='str'),
            password=dict(type='str', no_log=True),
            timeout=dict(type='int', default=DEFAULT_TIMEOUT),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            idempotency_key=dict(type='str', no_log=False),
            state_dir=dict(type='path'),
        ),
        required_one_of=[('to', 'cc', 'bcc')],
        required_by=dict(password=('username',)),
        supports_check_mode=True,
    )
    run_module(module, send_mail)


if __name__ == '__main__':
    main()
