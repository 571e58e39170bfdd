# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read the lab mail user's INBOX over IMAPS (imaplib, CA-verified), as one JSON line.

    mailbox.py HOST USER PASSWORD_ENV CAFILE uidnext          {"uidnext": N}: the UID the next mail gets
    mailbox.py HOST USER PASSWORD_ENV CAFILE since UID         {"messages": [...]}: every mail with a UID >= UID

The alerts' subjects are fixed (the course's), so a test tells its own mails from older ones by
UID: it notes ``uidnext`` first and lists what came ``since`` then, in delivery order. (The
mailstack scenario's imap_check.py searches by a per-run subject instead.)
"""

import email
import email.policy
import imaplib
import json
import os
import re
import ssl
import sys


def main():
    host, user, password_env, cafile, action = sys.argv[1:6]
    context = ssl.create_default_context(cafile=cafile)
    with imaplib.IMAP4_SSL(host, 993, ssl_context=context, timeout=20) as imap:
        imap.login(user, os.environ[password_env])
        if action == 'uidnext':
            status, data = imap.status('INBOX', '(UIDNEXT)')
            if status != 'OK':
                raise SystemExit('IMAP STATUS failed: %r' % data)
            print(json.dumps({'uidnext': int(re.search(rb'UIDNEXT (\d+)', data[0]).group(1))}))
            return
        since = int(sys.argv[6])
        imap.select('INBOX', readonly=True)
        status, data = imap.uid('SEARCH', None, 'UID', '%d:*' % since)
        if status != 'OK':
            raise SystemExit('IMAP SEARCH failed: %r' % data)
        messages = []
        # "N:*" also matches the last mail when N is past it: keep only UIDs >= N.
        for uid in sorted(int(u) for u in data[0].split() if int(u) >= since):
            status, parts = imap.uid('FETCH', str(uid), '(RFC822)')
            msg = email.message_from_bytes(parts[0][1], policy=email.policy.default)
            messages.append(
                {
                    'uid': uid,
                    'subject': str(msg['Subject']),
                    'from': str(msg['From']),
                    'to': str(msg['To']),
                    'message_id': str(msg['Message-ID']),
                    'body': msg.get_body(('plain',)).get_content(),
                }
            )
    print(json.dumps({'messages': messages}))


if __name__ == '__main__':
    main()
