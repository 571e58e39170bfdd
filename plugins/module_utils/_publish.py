# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job of storeops.shop.publish_report: put files into the report site's trees.

Private to the collection: it can change at any time.

The site (role storeops.shop.reportsite) has one root with two trees::

    <root>/public/    served as it is; <root>/public/index.html is the generated listing
    <root>/private/   served under /private/ only through secure_link-signed URLs

A published file lives in exactly one of them. Everything here runs on the site host
(the module), except :func:`expand_sources` and :func:`file_sha256`, which the action
plugin also runs on the controller to decide what to send.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
import time

from ansible_collections.storeops.shop.plugins.module_utils._fs import file_sha256
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry
from ansible_collections.storeops.shop.plugins.module_utils import _signed_url

PUBLIC = 'public'
PRIVATE = 'private'
VISIBILITIES = (PUBLIC, PRIVATE)
INDEX = 'index.html'
DEFAULT_CONFIG = '/etc/storeops/reportsite/site.json'
DEFAULT_EXPIRES_IN = 7 * 24 * 3600
CHUNK = 1024 * 1024
MAX_NAME_BYTES = 255

# The types the report site serves, by extension (the role's nginx ``types`` block, with
# ``charset utf-8`` on the text types); anything else is a download. The S3 backend sets
# the same Content-Type on each object.
CONTENT_TYPES = {
    'html': 'text/html; charset=utf-8',
    'htm': 'text/html; charset=utf-8',
    'csv': 'text/csv; charset=utf-8',
    'txt': 'text/plain; charset=utf-8',
    'css': 'text/css; charset=utf-8',
    'json': 'application/json; charset=utf-8',
    'pdf': 'application/pdf',
    'png': 'image/png',
    'svg': 'image/svg+xml',
    'jpg': 'image/jpeg',
    'jpeg': 'image/jpeg',
}
DEFAULT_CONTENT_TYPE = 'application/octet-stream'
INDEX_CONTENT_TYPE = CONTENT_TYPES['html']


def content_type(path):
    """The Content-Type the site serves ``path`` with (by its extension, case-insensitive)."""
    name = path.rsplit('/', 1)[-1]
    if '.' not in name:
        return DEFAULT_CONTENT_TYPE
    return CONTENT_TYPES.get(name.rsplit('.', 1)[-1].lower(), DEFAULT_CONTENT_TYPE)


# ---------------------------------------------------------------------------- paths


def validate_dest(dest, visibility=PUBLIC):
    """The normalised relative path of ``dest`` inside a tree, or ValueError saying why not.

    Refused: empty, absolute, ``.`` / ``..`` / empty components, dot files (temporary files
    are dot files), control characters, backslashes, names over 255 bytes; in the public
    tree also the generated ``index.html`` at the top and a first folder named ``private``
    (that URL prefix is the private tree's).
    """
    if not isinstance(dest, str) or not dest:
        raise ValueError('the path is empty')
    if dest.startswith('/'):
        raise ValueError('%r is absolute: give a path inside the tree, such as 2026/dec/cars.pdf' % dest)
    if any(ord(char) < 32 or ord(char) == 127 for char in dest):
        raise ValueError('%r holds a control character' % dest)
    if '\\' in dest:
        raise ValueError('%r holds a backslash' % dest)
    parts = dest.split('/')
    for part in parts:
        if part in ('', '.'):
            raise ValueError('%r has an empty or "." component' % dest)
        if part == '..':
            raise ValueError('%r leaves the tree (..)' % dest)
        if part.startswith('.'):
            raise ValueError('%r has a hidden component (%s)' % (dest, part))
        if len(part.encode('utf-8', 'surrogateescape')) > MAX_NAME_BYTES:
            raise ValueError('%r has a component longer than %d bytes' % (dest, MAX_NAME_BYTES))
    if visibility == PUBLIC:
        if parts == [INDEX]:
            raise ValueError('index.html at the top of the public tree is the generated index')
        if parts[0] == PRIVATE:
            raise ValueError(
                '%r: the public tree has no folder "private" at its top (that URL prefix is the private tree\'s)' % dest
            )
    return '/'.join(parts)


def join_dest(directory, name):
    """``2026/dec`` + ``cars.pdf``; an empty directory is the top of the tree."""
    directory = (directory or '').strip('/')
    return '%s/%s' % (directory, name) if directory else name


def expand_sources(src, dest):
    """The files to publish: ``([(source path, dest path)], errors, warnings)``.

    * one file: ``dest`` is its path in the tree, or the folder it goes into when ``dest``
      ends with ``/`` or is empty (then it keeps its name);
    * a folder: every regular file under it, with its relative path, goes under ``dest``
      (a folder of the tree; empty: the top). Dot files and dot folders are left out, and so
      are symbolic links (with a warning);
    * a list: each entry as above, ``dest`` being the folder.

    ``dest`` is not validated here (see :func:`validate_dest`); two sources that land on the
    same path are an error.
    """
    errors, warnings, items = [], [], []
    sources = src if isinstance(src, (list, tuple)) else [src]
    dest = str(dest) if isinstance(dest, int) and not isinstance(dest, bool) else (dest or '')
    if not isinstance(dest, str):
        return [], [error_entry('dest must be a path, got %r' % (dest,), field='dest')], warnings
    single = len(sources) == 1 and not isinstance(src, (list, tuple))
    for source in sources:
        if not isinstance(source, str) or not source:
            errors.append(error_entry('src entries must be non-empty paths, got %r' % (source,), field='src'))
            continue
        if os.path.isdir(source):
            for top, dirs, files in os.walk(source):
                dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
                for link in [d for d in dirs if os.path.islink(os.path.join(top, d))]:
                    warnings.append('%s is a symbolic link: left out' % os.path.join(top, link))
                    dirs.remove(link)
                for name in sorted(files):
                    if name.startswith('.'):
                        continue
                    path = os.path.join(top, name)
                    if os.path.islink(path) or not os.path.isfile(path):
                        warnings.append('%s is not a regular file: left out' % path)
                        continue
                    rel = os.path.relpath(path, source).replace(os.sep, '/')
                    items.append((path, join_dest(dest, rel)))
        elif os.path.isfile(source):
            if single and dest and not dest.endswith('/'):
                items.append((source, dest))
            else:
                items.append((source, join_dest(dest, os.path.basename(source))))
        else:
            errors.append(error_entry('no such file or folder', file=source, field='src'))
    seen = {}
    unique = []
    for path, target in items:
        if target in seen:
            errors.append(
                error_entry('%s and %s both go to %s' % (seen[target], path, target), file=path, field='dest')
            )
            continue
        seen[target] = path
        unique.append((path, target))
    return unique, errors, warnings


class Tree(object):
    """The site root on this host; resolves tree paths refusing every symbolic link."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def top(self, visibility):
        return os.path.join(self.root, visibility)

    def target(self, visibility, rel):
        """The absolute path of ``rel`` in the tree; ValueError when a component is a symlink
        (or not a folder) so that nothing is ever read or written through one."""
        top = self.top(visibility)
        if os.path.islink(top):
            raise ValueError('the %s tree %s is a symbolic link' % (visibility, top))
        path = top
        parts = rel.split('/')
        for index, part in enumerate(parts):
            path = os.path.join(path, part)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                return os.path.join(top, *parts)
            if stat.S_ISLNK(info.st_mode):
                raise ValueError(
                    '%s is a symbolic link: refused (it could lead out of the tree)' % '/'.join(parts[: index + 1])
                )
            if index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
                raise ValueError('%s is a file, not a folder' % '/'.join(parts[: index + 1]))
        return path

    def makedirs(self, visibility, rel):
        """Create the folders of ``rel`` (mode 0755), checking each again right before use."""
        top = self.top(visibility)
        if not os.path.isdir(top):
            os.makedirs(top, 0o755)
        path = top
        for part in rel.split('/')[:-1]:
            path = os.path.join(path, part)
            try:
                os.mkdir(path, 0o755)
            except FileExistsError:
                pass
            if os.path.islink(path) or not os.path.isdir(path):
                raise ValueError('%s is not a folder of the tree' % path)
        return path


def existing_sha256(path):
    """SHA-256 of a regular file, or None when there is none."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return 'not-a-file'
    return file_sha256(path)


def write_atomic(path, reader, expected_sha256, mode=0o644):
    """Copy ``reader`` into ``path`` through a temporary dot file in its folder, check the hash, rename."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path)[:200], suffix='.tmp', dir=directory)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, 'wb') as handle:
            for chunk in iter(lambda: reader.read(CHUNK), b''):
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if digest.hexdigest() != expected_sha256:
            raise ValueError(
                'the content changed while it was published (SHA-256 %s, expected %s)'
                % (digest.hexdigest(), expected_sha256)
            )
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def prune_empty_dirs(top, path):
    """Remove the now empty folders from ``path``'s parent up to (not including) ``top``."""
    directory = os.path.dirname(path)
    while directory != top and directory.startswith(top + os.sep):
        try:
            os.rmdir(directory)
        except OSError:
            return
        directory = os.path.dirname(directory)


# ---------------------------------------------------------------------------- the index


def listing(public_top):
    """``[(rel path, size, mtime)]`` of the public tree, sorted; no dot files, no symlinks, no index."""
    entries = []
    if not os.path.isdir(public_top) or os.path.islink(public_top):
        return entries
    for top, dirs, files in os.walk(public_top):
        dirs[:] = [d for d in dirs if not d.startswith('.') and not os.path.islink(os.path.join(top, d))]
        for name in files:
            if name.startswith('.'):
                continue
            path = os.path.join(top, name)
            rel = os.path.relpath(path, public_top).replace(os.sep, '/')
            if rel == INDEX:
                continue
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                entries.append((rel, info.st_size, int(info.st_mtime)))
    entries.sort(key=lambda entry: entry[0])
    return entries


def human_size(size):
    """``932 B``, ``1.5 KiB``, ``12.0 MiB``."""
    value = float(size)
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if value < 1024 or unit == 'GiB':
            return ('%d %s' % (size, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024
    return '%d B' % size  # pragma: no cover


STYLE = (
    'body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}'
    'h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}'
    'th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd}'
    'td.size,th.size{text-align:right;white-space:nowrap}td.date{white-space:nowrap}'
    'a{color:#0645ad;word-break:break-all}p.count{color:#666}'
)


def render_index(entries, title='Reports', quote=None):
    """The index page: one row per public file (Link, LastModified, Size), relative links.

    The bytes depend only on ``entries`` and ``title``, so an unchanged listing gives the
    same page. ``quote`` percent-encodes a path for a link (default: the site's).
    """
    esc = html.escape
    quote = quote or _signed_url.quote_path
    rows = []
    for rel, size, mtime in entries:
        stamp = time.gmtime(mtime)
        rows.append(
            '<tr><td class="link"><a href="%s">%s</a></td>'
            '<td class="date"><time datetime="%s">%s</time></td>'
            '<td class="size" data-bytes="%d" title="%d bytes">%s</td></tr>'
            % (
                esc('./' + quote(rel)),
                esc(rel),
                time.strftime('%Y-%m-%dT%H:%M:%SZ', stamp),
                time.strftime('%Y-%m-%d %H:%M:%S UTC', stamp),
                size,
                size,
                human_size(size),
            )
        )
    body = '\n'.join(rows) if rows else '<tr><td colspan="3">No reports yet.</td></tr>'
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>%(title)s</title>\n<style>%(style)s</style>\n</head>\n<body>\n<h1>%(title)s</h1>\n'
        '<table id="reports">\n<thead><tr><th scope="col">Link</th><th scope="col">LastModified</th>'
        '<th scope="col" class="size">Size</th></tr></thead>\n<tbody>\n%(body)s\n</tbody>\n</table>\n'
        '<p class="count">%(count)d %(noun)s</p>\n</body>\n</html>\n'
        % {
            'title': esc(title),
            'style': STYLE,
            'body': body,
            'count': len(entries),
            'noun': 'report' if len(entries) == 1 else 'reports',
        }
    ).encode('utf-8')


def update_index(public_top, title, check_mode):
    """Rewrite the index when its bytes would change; True when it did (or would)."""
    data = render_index(listing(public_top), title)
    path = os.path.join(public_top, INDEX)
    try:
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return False
    except OSError:
        pass
    if not check_mode:
        if not os.path.isdir(public_top):
            os.makedirs(public_top, 0o755)
        if os.path.islink(path):
            os.unlink(path)
        write_atomic(path, io.BytesIO(data), hashlib.sha256(data).hexdigest())
    return True


# ---------------------------------------------------------------------------- the job


def load_site(options):
    """``(root, base_url, index title)`` from the options, else from the role's site file."""
    root, base_url, title = options.get('root'), options.get('base_url'), options.get('index_title')
    config = options.get('config') or DEFAULT_CONFIG
    site = {}
    if not root or base_url is None or not title:
        try:
            with open(config, 'r', encoding='utf-8') as handle:
                site = json.load(handle)
        except FileNotFoundError:
            site = {}
        except (OSError, ValueError) as exc:
            raise JobError('cannot read the report site file %s: %s' % (config, exc))
        root = root or site.get('root')
        base_url = site.get('base_url', '') if base_url is None else base_url
    title = title or site.get('index_title') or 'Reports'
    if not root:
        raise JobError(
            'no report site here: set root, or provision the host with storeops.shop.reportsite (%s)' % config
        )
    return os.path.abspath(root), (base_url or '').rstrip('/'), title


def read_secret(options):
    path = options.get('secret_file')
    if not path:
        path = os.path.join(os.path.dirname(options.get('config') or DEFAULT_CONFIG), 'link-secret')
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            secret = handle.read().strip()
    except OSError as exc:
        raise JobError('cannot read the link secret %s (private files need it; run as root): %s' % (path, exc.strerror))
    if not secret:
        raise JobError('the link secret %s is empty' % path)
    return secret


def public_url(base_url, rel):
    return '%s/%s' % (base_url, _signed_url.quote_path(rel))


def private_uri(rel):
    return '/%s/%s' % (PRIVATE, rel)


def _dest_list(dest):
    if dest is None:
        return []
    dests = list(dest) if isinstance(dest, (list, tuple)) else [dest]
    return [str(d) if isinstance(d, int) and not isinstance(d, bool) else d for d in dests]


def unpublish(options, tree, check_mode, errors):
    """state=absent: remove each dest (file or folder) from both trees."""
    files = []
    dests = _dest_list(options.get('dest'))
    if not dests:
        raise JobError('state=absent needs dest: the path(s) to unpublish')
    for dest in dests:
        raw = dest.rstrip('/') if isinstance(dest, str) else dest
        try:
            rel = validate_dest(raw, visibility=None)
        except ValueError as exc:
            errors.append(error_entry(str(exc), field='dest'))
            continue
        for visibility in VISIBILITIES:
            if visibility == PUBLIC and rel == INDEX:
                errors.append(error_entry('the generated index is not unpublished', field='dest'))
                continue
            try:
                path = tree.target(visibility, rel)
            except ValueError as exc:
                errors.append(error_entry(str(exc), field='dest'))
                continue
            if not os.path.lexists(path):
                continue
            removed = []
            if os.path.isdir(path) and not os.path.islink(path):
                for top, _dirs, names in os.walk(path):
                    removed.extend(
                        os.path.relpath(os.path.join(top, n), tree.top(visibility)).replace(os.sep, '/') for n in names
                    )
                if not check_mode:
                    shutil.rmtree(path)
            else:
                removed.append(rel)
                if not check_mode:
                    os.unlink(path)
            if not check_mode:
                prune_empty_dirs(tree.top(visibility), path)
            files.extend({'dest': r, 'visibility': visibility, 'state': 'removed'} for r in sorted(removed))
    return files


def _tree_lines(tree):
    """``visibility/path sha256`` for every file of both trees: what diff mode compares."""
    lines = []
    for visibility in VISIBILITIES:
        top = tree.top(visibility)
        for rel, _size, _mtime in listing(top):
            lines.append('%s/%s %s' % (visibility, rel, file_sha256(os.path.join(top, rel))))
    return lines


def publish(options, check_mode=False, diff=False):
    """The module's job: see plugins/modules/publish_report.py for the options."""
    transfer_options = options.get('_transfer') or {}
    phase = transfer_options.get('phase') or 'apply'
    check = check_mode or phase == 'plan'
    root, base_url, title = load_site(options)
    tree = Tree(root)
    if not os.path.isdir(root):
        raise JobError('the report site root %s is not a folder' % root)
    state = options.get('state') or 'present'
    visibility = options.get('visibility') or PUBLIC
    expires_in = options.get('expires_in')
    expires_in = DEFAULT_EXPIRES_IN if expires_in is None else int(expires_in)
    if expires_in <= 0:
        raise JobError(
            'expires_in must be a positive number of seconds', errors=[error_entry('must be > 0', field='expires_in')]
        )
    errors = [dict(entry) for entry in transfer_options.get('errors') or []]
    warnings = list(transfer_options.get('warnings') or [])
    before = _tree_lines(tree) if diff else None

    if state == 'absent':
        files = unpublish(options, tree, check, errors)
        transfer = []
    else:
        files, transfer = _publish_present(options, tree, visibility, check, errors, warnings)

    index_changed = False
    if options.get('index', True):
        index_changed = update_index(tree.top(PUBLIC), title, check)
        if check and not index_changed:
            index_changed = any(f['visibility'] == PUBLIC and f['state'] != 'unchanged' for f in files) or any(
                f.get('moved_from') == PUBLIC for f in files
            )

    secret = None
    urls = {}
    expires = _signed_url.expiry(expires_in)
    for item in files:
        if item['state'] == 'removed':
            continue
        if item['visibility'] == PUBLIC:
            item['url'] = public_url(base_url, item['dest'])
        else:
            if secret is None:
                secret = read_secret(options)
            item['url'] = _signed_url.signed_url(base_url, secret, private_uri(item['dest']), expires)
            item['expires'] = expires
        urls[item['dest']] = item['url']
    changed = index_changed or any(f['state'] != 'unchanged' for f in files)
    result = {
        'changed': changed,
        'files': files,
        'urls': urls,
        'index': {'changed': index_changed, 'url': base_url + '/' if options.get('index', True) else None},
        'root': root,
        'base_url': base_url,
        'errors': errors,
    }
    if errors:
        result['msg'] = 'refused %d path(s)' % len(errors)
    if phase == 'plan':
        result['transfer'] = transfer
    if diff:
        if check:
            after = _planned_lines(before, files)
        else:
            after = _tree_lines(tree)
        result['diff'] = {
            'before': '\n'.join(before) + ('\n' if before else ''),
            'after': '\n'.join(after) + ('\n' if after else ''),
            'before_header': root,
            'after_header': root,
        }
    return result, warnings


def _planned_lines(before, files):
    lines = dict(line.rsplit(' ', 1) for line in before)
    for item in files:
        for visibility in VISIBILITIES:
            if item['state'] == 'removed' and item['visibility'] == visibility:
                lines.pop('%s/%s' % (visibility, item['dest']), None)
        if item['state'] in ('created', 'updated', 'moved'):
            other = PRIVATE if item['visibility'] == PUBLIC else PUBLIC
            lines.pop('%s/%s' % (other, item['dest']), None)
            lines['%s/%s' % (item['visibility'], item['dest'])] = item['sha256']
    return ['%s %s' % pair for pair in sorted(lines.items())]


def _items(options, errors, warnings):
    """``[(index, src label, dest, sha256, size, opener)]`` from the action plugin's manifest or ``src`` on this host."""
    manifest = (options.get('_transfer') or {}).get('manifest')
    if manifest is not None:
        bundle = options['_transfer'].get('bundle')
        state = {'tar': None}

        def opener_for(member):
            def opener():
                if state['tar'] is None:
                    state['tar'] = tarfile.open(bundle, 'r:')
                handle = state['tar'].extractfile(member)
                if handle is None:
                    raise ValueError('the transfer bundle has no file %s' % member)
                return handle

            return opener

        items = [
            (i, entry.get('src'), entry['dest'], entry['sha256'], entry['size'], opener_for(str(i)) if bundle else None)
            for i, entry in enumerate(manifest)
        ]
        return items, state
    if options.get('src') is None:
        raise JobError(
            'state=present needs src: the file, files or folder to publish',
            errors=[error_entry('missing', field='src')],
        )
    pairs, more_errors, more_warnings = expand_sources(options['src'], options.get('dest'))
    errors.extend(more_errors)
    warnings.extend(more_warnings)
    items = []
    for i, (path, dest) in enumerate(pairs):
        try:
            digest, size = file_sha256(path), os.path.getsize(path)
        except OSError as exc:
            errors.append(error_entry('cannot read: %s' % exc.strerror, file=path, field='src'))
            continue
        items.append((i, path, dest, digest, size, (lambda p=path: open(p, 'rb'))))
    return items, {'tar': None}


def _publish_present(options, tree, visibility, check, errors, warnings):
    items, state = _items(options, errors, warnings)
    files, transfer = [], []
    other = PRIVATE if visibility == PUBLIC else PUBLIC
    try:
        for index, label, dest, digest, size, opener in items:
            try:
                rel = validate_dest(dest, visibility)
                target = tree.target(visibility, rel)
                other_target = tree.target(other, rel)
            except ValueError as exc:
                errors.append(error_entry(str(exc), file=label, field='dest'))
                continue
            current = existing_sha256(target)
            if current == 'not-a-file':
                errors.append(
                    error_entry('%s is a folder in the %s tree' % (rel, visibility), file=label, field='dest')
                )
                continue
            moved = os.path.lexists(other_target) and not os.path.isdir(other_target)
            status = 'unchanged' if current == digest else ('updated' if current else 'created')
            if status == 'unchanged' and moved:
                status = 'moved'
            item = {
                'dest': rel,
                'src': label,
                'visibility': visibility,
                'state': status,
                'size': size,
                'sha256': digest,
            }
            if moved:
                item['moved_from'] = other
            if current != digest:
                transfer.append(index)
            if not check:
                try:
                    if current != digest:
                        if opener is None:
                            raise ValueError('no content was sent for this file')
                        tree.makedirs(visibility, rel)
                        target = tree.target(visibility, rel)
                        with contextlib.closing(opener()) as reader:
                            write_atomic(target, reader, digest)
                    if moved:
                        os.unlink(other_target)
                        prune_empty_dirs(tree.top(other), other_target)
                except (OSError, ValueError, KeyError, tarfile.TarError) as exc:
                    errors.append(error_entry(str(exc), file=label, field='dest'))
                    continue
            files.append(item)
    finally:
        if state.get('tar') is not None:
            state['tar'].close()
    return files, transfer
