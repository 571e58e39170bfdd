# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The record of sent messages that makes ``storeops.shop.send_mail`` send a message once.

Private to the collection: it can change at any time.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os

from ansible_collections.storeops.shop.plugins.module_utils._fs import atomic_write_bytes
from ansible_collections.storeops.shop.plugins.module_utils._mail_message import MailError

ROOT_STATE_DIR = '/var/lib/storeops/sent-mail'
USER_STATE_DIR = '~/.ansible/storeops_shop/sent_mail'
LOCK_NAME = '.lock'


def default_state_dir(euid=None):
    """Where sent keys are recorded when ``state_dir`` is not given."""
    if euid is None:
        euid = os.geteuid()
    if euid == 0:
        return ROOT_STATE_DIR
    return os.path.expanduser(USER_STATE_DIR)


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
            raise MailError('cannot create state_dir %s: %s' % (self.directory, exc.strerror or exc), field='state_dir')
        if not os.path.isdir(self.directory):
            raise MailError('state_dir %s is not a directory' % self.directory, field='state_dir')
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise MailError(
                'state_dir %s is not writable: the message could not be recorded as sent, so it is not sent'
                % self.directory,
                field='state_dir',
            )

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
