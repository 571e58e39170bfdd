# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""reportsite_secret.py SECRET_FILE NGINX_INCLUDE

Makes the report site's link secret once (32 random bytes, base64url, mode 0600 root) and
nginx's secure_link_md5 line from it (mode 0600: nginx's master process reads it as root).
Runs on the site host, so the secret never travels; prints "changed" or "ok", never the secret.
"""

import os
import secrets
import sys
import tempfile


def write(path, text):
    fd, tmp = tempfile.mkstemp(prefix='.secret.', dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(secret_file, include):
    os.umask(0o077)
    changed = False
    try:
        with open(secret_file) as handle:
            secret = handle.read().strip()
    except FileNotFoundError:
        secret = ''
    if not secret:
        secret = secrets.token_urlsafe(32)
        write(secret_file, secret + '\n')
        changed = True
    line = 'secure_link_md5 "$secure_link_expires$uri %s";\n' % secret
    try:
        with open(include) as handle:
            current = handle.read()
    except FileNotFoundError:
        current = None
    if current != line:
        write(include, line)
        changed = True
    for path in (secret_file, include):
        info = os.stat(path)
        if info.st_mode & 0o077 or info.st_uid != 0:
            os.chown(path, 0, 0)
            os.chmod(path, 0o600)
            changed = True
    print('changed' if changed else 'ok')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
