# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Supplier deliveries arriving in an inbox folder: the job of ``storeops.shop.delivery_inbox``.

Private to the collection: it can change at any time.

A delivery is an archive (``.tar.gz``, ``.tgz``, ``.tar``, ``.zip``) or a folder, holding
``descriptions/`` and usually ``images/`` (at its top or one folder down, as the suppliers'
``supplier-data.tar.gz``). With ``state=open`` the deliveries in the inbox are taken in the
order they arrived (modification time, then name) and unpacked, each into a folder of its
own under ``work_dir``:

* tar members go through Python's ``tarfile`` extraction filter ``data`` (absolute paths,
  ``..``, links that point out, device files and other special files are refused); zip members
  are checked the same way by hand (``zipfile`` has no filter), symbolic links included;
* a truncated or unreadable archive, one without ``descriptions/``, or one larger than
  ``max_size`` unpacked is refused too;
* a refused delivery is moved to ``rejected_dir`` with the reason in the error, naming the
  archive and the member; nothing of it is left under ``work_dir``;
* unpacking goes to a temporary folder renamed into place, so an interrupted run leaves no
  half-unpacked delivery; a delivery already unpacked from the same bytes is not unpacked
  again.

With ``state=archived`` a processed delivery (``name``) moves from the inbox to
``archive_dir`` with a date stamp, and its folder under ``work_dir`` is removed. A delivery
is never deleted; what is still in the inbox is what the next run takes.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib

from ansible_collections.storeops.shop.plugins.module_utils._fs import file_sha256
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry

ARCHIVE_SUFFIXES = ('.tar.gz', '.tgz', '.tar', '.zip')
DEFAULT_MAX_SIZE = 10 * 1024**3
MAX_MEMBERS = 100000
_STAMP = '%Y%m%dT%H%M%SZ'


class Refused(Exception):
    """This delivery cannot be used; ``member`` is the archive member at fault, if any."""

    def __init__(self, message, member=None):
        super(Refused, self).__init__(message)
        self.message = message
        self.member = member


def delivery_name(filename):
    """``supplier-data.tar.gz`` -> ``supplier-data``; a folder keeps its name."""
    lower = filename.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if lower.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def _kind(path):
    if os.path.isdir(path) and not os.path.islink(path):
        return 'folder'
    lower = path.lower()
    if lower.endswith('.zip'):
        return 'zip'
    if lower.endswith(('.tar.gz', '.tgz', '.tar')):
        return 'tar'
    return None


def list_inbox(inbox):
    """The deliveries in ``inbox`` in arrival order: ``[(name, path, kind, mtime)]``; other files are left alone."""
    found = []
    try:
        entries = list(os.scandir(inbox))
    except OSError as exc:
        raise JobError(
            'cannot read the inbox',
            [error_entry('cannot list the folder: %s' % (exc.strerror or exc), file=inbox, field='inbox')],
        )
    for entry in entries:
        if entry.name.startswith('.'):
            continue  # hidden, or a delivery still being copied in as a dot file
        kind = _kind(entry.path)
        if kind is None:
            continue
        found.append((delivery_name(entry.name), entry.path, kind, entry.stat(follow_symlinks=False).st_mtime))
    found.sort(key=lambda item: (item[3], item[0]))
    return found


def _fingerprint(path, kind):
    """What identifies the delivery's content: the archive's SHA-256, or the folder's listing and sizes."""
    if kind != 'folder':
        return file_sha256(path)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            info = os.lstat(full)
            digest.update(
                ('%s\0%d\0%d\n' % (os.path.relpath(full, path), info.st_size, int(info.st_mtime))).encode(
                    'utf-8', 'surrogateescape'
                )
            )
    return digest.hexdigest()


def _check_size(total, count, max_size):
    if count > MAX_MEMBERS:
        raise Refused('more than %d members' % MAX_MEMBERS)
    if max_size and total > max_size:
        raise Refused('it unpacks to more than max_size (%d bytes)' % max_size)


HAS_FILTERS = hasattr(tarfile, 'data_filter')  # Python 3.11.4+, 3.12 (and distributions' backports)


def _member_problem(member, dest):
    """What the ``data`` filter would refuse in ``member``, for a Python without extraction filters."""
    name = member.name
    if name.startswith('/') or os.path.isabs(name):
        return 'an absolute path'
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([target, dest]) != dest:
        return 'a path that leads out of the delivery (..)'
    if (
        member.ischr()
        or member.isblk()
        or member.isfifo()
        or not (member.isfile() or member.isdir() or member.issym() or member.islnk())
    ):
        return 'a device or other special file'
    if member.issym() or member.islnk():
        if os.path.isabs(member.linkname):
            return 'a link to an absolute path'
        base = os.path.dirname(target) if member.issym() else dest
        if os.path.commonpath([os.path.realpath(os.path.join(base, member.linkname)), dest]) != dest:
            return 'a link that points out of the delivery'
    return None


def _unpack_tar(path, dest, max_size):
    dest = os.path.realpath(dest)
    try:
        with tarfile.open(path, 'r:*') as archive:
            members = archive.getmembers()
            _check_size(sum(member.size for member in members if member.isfile()), len(members), max_size)
            for member in members:
                if member.name.startswith('/'):  # the data filter would strip the slash; refuse it instead
                    raise Refused('an absolute path', member.name)
                if HAS_FILTERS:
                    try:
                        archive.extract(member, dest, filter='data')
                    except tarfile.FilterError as exc:
                        raise Refused(_filter_reason(exc), member.name)
                    continue
                problem = _member_problem(member, dest)
                if problem:
                    raise Refused(problem, member.name)
                if member.isfile() or member.isdir():
                    member.mode = (member.mode | 0o600) & 0o755 if member.isfile() else 0o755  # as the data filter
                member.uid = member.gid = 0
                member.uname = member.gname = ''
                archive.extract(member, dest, set_attrs=not member.issym())
    except Refused:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise Refused('no space left on device while unpacking')
        raise Refused('the archive is truncated or damaged (%s)' % (exc or type(exc).__name__))


def _filter_reason(exc):
    if isinstance(exc, tarfile.AbsolutePathError):
        return 'an absolute path'
    if isinstance(exc, tarfile.OutsideDestinationError):
        return 'a path that leads out of the delivery (..)'
    if isinstance(exc, tarfile.AbsoluteLinkError):
        return 'a link to an absolute path'
    if isinstance(exc, tarfile.LinkOutsideDestinationError):
        return 'a link that points out of the delivery'
    if isinstance(exc, tarfile.SpecialFileError):
        return 'a device or other special file'
    return str(exc)


def _unpack_zip(path, dest, max_size):
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_size(sum(member.file_size for member in members), len(members), max_size)
            for member in members:
                name = member.filename
                mode = member.external_attr >> 16
                if name.startswith('/') or name.startswith('\\') or (len(name) > 1 and name[1] == ':'):
                    raise Refused('an absolute path', name)
                parts = name.replace('\\', '/').split('/')
                if '..' in parts:
                    raise Refused('a path that leads out of the delivery (..)', name)
                if stat.S_ISLNK(mode):
                    raise Refused('a symbolic link (not allowed in a zip delivery)', name)
                if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: no Unix mode recorded
                    raise Refused('a device or other special file', name)
                target = os.path.join(dest, *[part for part in parts if part not in ('', '.')])
                if member.is_dir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.open(member) as source, open(target, 'wb') as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
    except Refused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, OSError, NotImplementedError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise Refused('no space left on device while unpacking')
        raise Refused('the archive is truncated or damaged (%s)' % (exc or type(exc).__name__))


def find_root(folder):
    """The folder of the delivery that holds ``descriptions/``: the top, or one folder down."""
    if os.path.isdir(os.path.join(folder, 'descriptions')):
        return folder
    subfolders = [
        entry.path
        for entry in os.scandir(folder)
        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith('.')
    ]
    inside = [path for path in subfolders if os.path.isdir(os.path.join(path, 'descriptions'))]
    if len(inside) == 1:
        return inside[0]
    if len(inside) > 1:
        raise Refused(
            'more than one folder holds descriptions/ (%s)' % ', '.join(sorted(os.path.basename(p) for p in inside))
        )
    raise Refused('there is no descriptions/ folder in it')


class Inbox(object):
    """The four folders and what is recorded of each unpacked delivery."""

    def __init__(self, options):
        self.inbox = os.path.abspath(options['inbox'])
        self.work = os.path.abspath(options['work_dir'])
        self.archive = os.path.abspath(options['archive_dir'])
        self.rejected = os.path.abspath(options['rejected_dir'])
        self.max_size = options.get('max_size', DEFAULT_MAX_SIZE)
        if not os.path.isdir(self.inbox):
            raise JobError(
                'nothing was done',
                [
                    error_entry(
                        'the inbox %s does not exist or is not a folder' % self.inbox, file=self.inbox, field='inbox'
                    )
                ],
            )
        folders = [self.inbox, self.work, self.archive, self.rejected]
        if len(set(folders)) != 4:
            raise JobError(
                'nothing was done',
                [
                    error_entry(
                        'inbox, work_dir, archive_dir and rejected_dir must be four different folders', field='work_dir'
                    )
                ],
            )

    def ensure(self, check_mode):
        if check_mode:
            return
        for folder in (self.work, self.archive, self.rejected):
            os.makedirs(folder, mode=0o750, exist_ok=True)

    def marker(self, name):
        return os.path.join(self.work, name, '.storeops-delivery')

    def unpacked(self, name, fingerprint):
        try:
            with open(self.marker(name), encoding='utf-8') as handle:
                return handle.read().strip() == fingerprint
        except OSError:
            return False

    def unpack(self, name, path, kind, fingerprint):
        """Unpack ``path`` into ``work_dir/<name>`` atomically; raise :class:`Refused`."""
        tmp = tempfile.mkdtemp(prefix='.%s.' % name, suffix='.tmp', dir=self.work)
        try:
            if kind == 'tar':
                _unpack_tar(path, tmp, self.max_size)
            elif kind == 'zip':
                _unpack_zip(path, tmp, self.max_size)
            else:
                _copy_folder(path, tmp)
            find_root(tmp)  # refuse a delivery without descriptions/ before it goes live
            with open(os.path.join(tmp, '.storeops-delivery'), 'w', encoding='utf-8') as handle:
                handle.write(fingerprint + '\n')
            final = os.path.join(self.work, name)
            if os.path.lexists(final):
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def clean_temporaries(self):
        try:
            leftovers = [
                entry.path
                for entry in os.scandir(self.work)
                if entry.name.startswith('.') and entry.name.endswith('.tmp') and entry.is_dir(follow_symlinks=False)
            ]
        except OSError:
            return
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)

    def move(self, path, folder, now):
        """Move ``path`` into ``folder`` with a date stamp; never over an existing file."""
        base = os.path.basename(path)
        name = delivery_name(base)
        suffix = base[len(name) :]
        target = os.path.join(folder, '%s.%s%s' % (name, now.strftime(_STAMP), suffix))
        counter = 1
        while os.path.lexists(target):
            counter += 1
            target = os.path.join(folder, '%s.%s-%d%s' % (name, now.strftime(_STAMP), counter, suffix))
        os.rename(path, target)
        return target


def _copy_folder(source, dest):
    """A delivery that arrived as a folder: copied (never moved) so its files are never changed."""
    for root, dirs, files in os.walk(source):
        relative = os.path.relpath(root, source)
        target_dir = dest if relative == '.' else os.path.join(dest, relative)
        os.makedirs(target_dir, exist_ok=True)
        for name in files:
            full = os.path.join(root, name)
            if os.path.islink(full):
                raise Refused('a symbolic link', os.path.relpath(full, source))
            if not stat.S_ISREG(os.lstat(full).st_mode):
                raise Refused('a device or other special file', os.path.relpath(full, source))
            shutil.copy2(full, os.path.join(target_dir, name))
        for name in dirs:
            if os.path.islink(os.path.join(root, name)):
                raise Refused('a symbolic link', os.path.relpath(os.path.join(root, name), source))


def _describe(inbox, name, path, kind, fingerprint, arrived):
    folder = os.path.join(inbox.work, name)
    root = find_root(folder) if os.path.isdir(folder) else folder
    return {
        'name': name,
        'source': path,
        'kind': kind,
        'arrived': datetime.datetime.fromtimestamp(arrived, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'sha256': fingerprint,
        'path': root,
        'descriptions': os.path.join(root, 'descriptions'),
        'images': os.path.join(root, 'images'),
    }


def open_deliveries(inbox, check_mode, now):
    """Unpack what is new in the inbox; refuse (and move aside) what cannot be used."""
    inbox.ensure(check_mode)
    if not check_mode:
        inbox.clean_temporaries()
    deliveries, errors, rejected = [], [], []
    changed = False
    names = set()
    for name, path, kind, arrived in list_inbox(inbox.inbox):
        try:
            if name in names:
                raise Refused('another delivery in the inbox has the same name %r' % name)
            names.add(name)
            fingerprint = _fingerprint(path, kind)
            if not inbox.unpacked(name, fingerprint):
                changed = True
                if not check_mode:
                    inbox.unpack(name, path, kind, fingerprint)
            deliveries.append(_describe(inbox, name, path, kind, fingerprint, arrived))
        except Refused as exc:
            errors.append(error_entry('refused: %s' % exc.message, file=path, field=exc.member))
            changed = True
            if not check_mode:
                rejected.append(inbox.move(path, inbox.rejected, now))
            else:
                rejected.append(path)
    return deliveries, errors, rejected, changed


def archive_delivery(inbox, name, check_mode, now):
    """Move a processed delivery to the archive with a date stamp; remove its unpacked copy."""
    matches = [item for item in list_inbox(inbox.inbox) if item[0] == name]
    work = os.path.join(inbox.work, name)
    if not matches:
        if os.path.isdir(work) and not check_mode:
            shutil.rmtree(work)
            return None, True
        return None, os.path.isdir(work)
    path = matches[0][1]
    if check_mode:
        return path, True
    inbox.ensure(False)
    target = inbox.move(path, inbox.archive, now)
    shutil.rmtree(work, ignore_errors=True)
    return target, True


def delivery_inbox(options, check_mode=False, diff=False, now=None):
    """The job of ``storeops.shop.delivery_inbox``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    inbox = Inbox(options)
    if options.get('state', 'open') == 'archived':
        name = options.get('name')
        if not name:
            raise JobError('nothing was done', [error_entry('is required with state=archived', field='name')])
        archived, changed = archive_delivery(inbox, name, check_mode, now)
        result = {
            'changed': changed,
            'archived': archived,
            'deliveries': [],
            'rejected': [],
            'msg': ('delivery %s archived as %s' % (name, archived))
            if archived
            else 'delivery %s is not in the inbox (already archived)' % name,
        }
        return result, []
    try:
        deliveries, errors, rejected, changed = open_deliveries(inbox, check_mode, now)
    except OSError as exc:
        raise JobError('the inbox could not be opened', [error_entry(str(exc.strerror or exc), file=exc.filename)])
    result = {
        'changed': changed,
        'deliveries': deliveries,
        'rejected': rejected,
        'errors': errors,
        'msg': '%d %s to process%s'
        % (
            len(deliveries),
            'delivery' if len(deliveries) == 1 else 'deliveries',
            ', %d refused' % len(errors) if errors else '',
        ),
    }
    if diff:
        result['diff'] = {
            'before': '',
            'after': ''.join('%s: unpacked to %s\n' % (d['name'], d['path']) for d in deliveries)
            + ''.join('%s: refused, moved to %s\n' % (e['file'], inbox.rejected) for e in errors),
        }
    return result, []
