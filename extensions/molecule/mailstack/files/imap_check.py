# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Log in over IMAPS as the mail user (imaplib, CA-verified) and report the messages with
a subject: how many, and each PDF attachment's content type and SHA-256. One JSON line.

    imap_check.py HOST USER PASSWORD_ENV CAFILE SUBJECT
"""

import email
import email.policy
import hashlib
import imaplib
import json
import os
import ssl
import sys


def main():
    host, user, password_env, cafile, subject = sys.argv[1:6]
    context = ssl.create_default_context(cafile=cafile)
    with imaplib.IMAP4_SSL(host, 993, ssl_context=context, timeout=20) as imap:
        imap.login(user, os.environ[password_env])
        imap.select('INBOX', readonly=True)
        status, data = imap.search('UTF-8', 'SUBJECT', '"%s"' % subject.replace('"', ''))
        if status != 'OK':
            raise SystemExit('IMAP search failed: %r' % data)
        messages = []
        for num in data[0].split():
            status, parts = imap.fetch(num, '(RFC822)')
            msg = email.message_from_bytes(parts[0][1], policy=email.policy.default)
            messages.append(
                {
                    'subject': str(msg['Subject']),
                    'from': str(msg['From']),
                    'attachments': [
                        {
                            'filename': part.get_filename(),
                            'content_type': part.get_content_type(),
                            'sha256': hashlib.sha256(part.get_payload(decode=True)).hexdigest(),
                        }
                        for part in msg.iter_attachments()
                    ],
                }
            )
    print(json.dumps({'count': len(messages), 'messages': messages}))


if __name__ == '__main__':
    main()
