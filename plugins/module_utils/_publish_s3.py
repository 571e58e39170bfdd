# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job of storeops.shop.publish_report with ``backend: s3``: publish into a bucket.

Private to the collection: it can change at any time.

The bucket holds, under ``prefix``, the same two trees as the report site::

    <prefix>/<dest>            public-read objects; <prefix>/index.html lists them
    <prefix>/private/<dest>    private objects, reached through presigned GET URLs (SigV4)

A published file lives in one tree only (publishing it with the other visibility moves
it). Every object carries its SHA-256 in its metadata (``x-amz-meta-sha256``); that, not
the ETag (not an MD5 for multipart uploads), decides whether it must be sent again.

Order of work, so that a failure leaves nothing half-published: list the prefix first
(a missing bucket, refused credentials or an endpoint that is down fail the task before
anything is written), then the files, then the deletions of moved files, and the index
LAST, rendered from a fresh listing.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time
import traceback

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from urllib import quote  # type: ignore

from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry
from ansible_collections.storeops.shop.plugins.module_utils import _publish

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
    from botocore.exceptions import ProfileNotFound
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()

    class BotoCoreError(Exception):  # type: ignore  # noqa: N818 - names of botocore's, so that except clauses work
        pass

    class ClientError(Exception):  # type: ignore  # noqa: N818
        pass

    EndpointConnectionError = NoCredentialsError = ProfileNotFound = BotoCoreError
else:
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None

PUBLIC = _publish.PUBLIC
PRIVATE = _publish.PRIVATE
INDEX = _publish.INDEX
# SigV4 presigned URLs are valid for at most 7 days.
MAX_EXPIRES_IN = 7 * 24 * 3600

# How a module reaches a bucket: the one argument spec of publish_report's S3 options and of
# build_report's ``s3`` option (with the access and secret keys given together).
CONNECTION_ARGUMENT_SPEC = dict(
    region=dict(type='str'),
    endpoint_url=dict(type='str'),
    access_key=dict(type='str', no_log=True),
    secret_key=dict(type='str', no_log=True),
    session_token=dict(type='str', no_log=True),
    profile=dict(type='str'),
    timeout=dict(type='int', default=10),
)
CACHE_CONTROL = {PUBLIC: 'public, max-age=300', PRIVATE: 'private, no-store'}
INDEX_CACHE_CONTROL = 'no-cache'
ACL = {PUBLIC: 'public-read', PRIVATE: 'private'}
ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
# Characters left as they are in an object URL's path: S3 reads the path literally except
# for percent-escapes, and '+' has been read as a space by some S3 front ends.
S3_SAFE = "/-._~"
CREDENTIAL_CODES = frozenset(
    (
        'InvalidAccessKeyId',
        'SignatureDoesNotMatch',
        'InvalidToken',
        'ExpiredToken',
        'InvalidClientTokenId',
        'AuthorizationHeaderMalformed',
    )
)


def s3_quote(path):
    return quote(path.encode('utf-8'), safe=S3_SAFE)


def _code(exc):
    return str((getattr(exc, 'response', None) or {}).get('Error', {}).get('Code') or '')


def describe_error(exc, bucket):
    """A clear sentence for a boto3/botocore failure on ``bucket``."""
    if isinstance(exc, NoCredentialsError):
        return (
            'no AWS credentials: set access_key and secret_key, a profile, the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY '
            'environment variables, or run where an instance role gives them'
        )
    if isinstance(exc, EndpointConnectionError):
        return 'cannot reach the S3 endpoint (is it up? is endpoint_url right?): %s' % exc
    if isinstance(exc, ClientError):
        code = _code(exc)
        message = (getattr(exc, 'response', None) or {}).get('Error', {}).get('Message') or ''
        if code in ('NoSuchBucket', '404', 'NotFound'):
            return 'the bucket %r does not exist (or is in another account or region)' % bucket
        if code in CREDENTIAL_CODES:
            return (
                'the S3 endpoint refused the credentials (%s%s): check access_key/secret_key, the profile or AWS_*'
                % (
                    code,
                    ': ' + message if message else '',
                )
            )
        if code == 'AccessControlListNotSupported':
            return (
                'the bucket %r has ACLs disabled (Object Ownership "bucket owner enforced"): enable ACLs on it, the module '
                'sets canned ACLs (public-read, private)' % bucket
            )
        if code in ('AccessDenied', '403', 'AllAccessDisabled'):
            return 'access denied on bucket %r (%s): the credentials lack a permission' % (bucket, message or code)
        return 'S3 error on bucket %r: %s%s' % (bucket, code or type(exc).__name__, ': ' + message if message else '')
    return 'S3 request failed on bucket %r: %s: %s' % (bucket, type(exc).__name__, exc)


# ---------------------------------------------------------------------------- the bucket


class Bucket(object):
    """One bucket and prefix, through a boto3 client."""

    def __init__(self, options):
        self.name = options.get('bucket')
        self.prefix = normalize_prefix(options.get('prefix'))
        self.endpoint_url = (options.get('endpoint_url') or '').rstrip('/') or None
        try:
            session = boto3.session.Session(
                aws_access_key_id=options.get('access_key') or None,
                aws_secret_access_key=options.get('secret_key') or None,
                aws_session_token=options.get('session_token') or None,
                profile_name=options.get('profile') or None,
                region_name=options.get('region') or None,
            )
        except ProfileNotFound as exc:
            raise JobError(str(exc), errors=[error_entry(str(exc), field='profile')])
        self.region = options.get('region') or session.region_name or 'us-east-1'
        config = Config(
            signature_version='s3v4',
            s3={'addressing_style': 'path' if self.endpoint_url else 'auto'},
            retries={'max_attempts': 3, 'mode': 'standard'},
            connect_timeout=int(options.get('timeout') or 10),
            read_timeout=max(30, int(options.get('timeout') or 10)),
        )
        try:
            self.client = session.client('s3', region_name=self.region, endpoint_url=self.endpoint_url, config=config)
        except ValueError as exc:  # an endpoint_url botocore cannot use
            raise JobError('bad endpoint_url: %s' % exc, errors=[error_entry(str(exc), field='endpoint_url')])

    def key(self, visibility, rel):
        tree = rel if visibility == PUBLIC else '%s/%s' % (PRIVATE, rel)
        return '%s/%s' % (self.prefix, tree) if self.prefix else tree

    def index_key(self):
        return self.key(PUBLIC, INDEX)

    def split(self, key):
        """``(visibility, rel)`` of a key under the prefix, or None for the index and foreign keys."""
        rel = key[len(self.prefix) + 1 :] if self.prefix else key
        if self.prefix and not key.startswith(self.prefix + '/'):
            return None
        if not rel or rel == INDEX or rel.endswith('/'):
            return None
        if rel.startswith(PRIVATE + '/'):
            return PRIVATE, rel[len(PRIVATE) + 1 :]
        return PUBLIC, rel

    def listing(self, page_size=None):
        """``{key: {'size', 'mtime', 'etag'}}`` of every object under the prefix (paginated)."""
        objects = {}
        paginator = self.client.get_paginator('list_objects_v2')
        kwargs = {'Bucket': self.name}
        if self.prefix:
            kwargs['Prefix'] = self.prefix + '/'
        if page_size:
            kwargs['PaginationConfig'] = {'PageSize': int(page_size)}
        for page in paginator.paginate(**kwargs):
            for entry in page.get('Contents') or []:
                objects[entry['Key']] = {
                    'size': int(entry.get('Size') or 0),
                    'mtime': int(_timestamp(entry.get('LastModified'))),
                    'etag': (entry.get('ETag') or '').strip('"'),
                }
        return objects

    def head(self, key):
        """``{'sha256', 'content_type', 'cache_control'}`` of an object, or None when it is gone."""
        try:
            head = self.client.head_object(Bucket=self.name, Key=key)
        except ClientError as exc:
            if _code(exc) in ('404', 'NoSuchKey', 'NotFound'):
                return None
            raise
        return {
            'sha256': (head.get('Metadata') or {}).get('sha256'),
            'content_type': head.get('ContentType'),
            'cache_control': head.get('CacheControl'),
        }

    def is_public(self, key):
        acl = self.client.get_object_acl(Bucket=self.name, Key=key)
        return any(
            grant.get('Grantee', {}).get('URI') == ALL_USERS and grant.get('Permission') in ('READ', 'FULL_CONTROL')
            for grant in acl.get('Grants') or []
        )

    def upload(self, path_or_bytes, key, visibility, digest, ctype, cache_control=None):
        extra = {
            'ACL': ACL[visibility],
            'ContentType': ctype,
            'CacheControl': cache_control or CACHE_CONTROL[visibility],
            'Metadata': {'sha256': digest},
        }
        if isinstance(path_or_bytes, bytes):
            self.client.put_object(Bucket=self.name, Key=key, Body=path_or_bytes, **extra)
            return
        # upload_file goes multipart for big files (the ETag is then no MD5: the sha256 metadata is what counts)
        with open(path_or_bytes, 'rb') as handle:
            data_digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(_publish.CHUNK), b''):
                data_digest.update(chunk)
        if data_digest.hexdigest() != digest:
            raise ValueError(
                'the content changed while it was published (SHA-256 %s, expected %s)'
                % (data_digest.hexdigest(), digest)
            )
        self.client.upload_file(
            path_or_bytes, self.name, key, ExtraArgs=extra, Config=TransferConfig(use_threads=False)
        )

    def set_acl(self, key, visibility):
        self.client.put_object_acl(Bucket=self.name, Key=key, ACL=ACL[visibility])

    def delete(self, keys):
        """Delete ``keys`` (batches of 1000); the keys that could not be deleted, with why."""
        failed = []
        keys = list(keys)
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            answer = self.client.delete_objects(
                Bucket=self.name, Delete={'Objects': [{'Key': k} for k in batch], 'Quiet': True}
            )
            failed.extend((e.get('Key'), e.get('Code'), e.get('Message')) for e in answer.get('Errors') or [])
        return failed

    def public_url(self, key):
        """The object's URL: path-style on a custom endpoint, virtual-hosted on AWS (path-style for dotted names)."""
        if self.endpoint_url:
            return '%s/%s/%s' % (self.endpoint_url, s3_quote(self.name), s3_quote(key))
        if '.' in self.name:
            return 'https://s3.%s.amazonaws.com/%s/%s' % (self.region, self.name, s3_quote(key))
        return 'https://%s.s3.%s.amazonaws.com/%s' % (self.name, self.region, s3_quote(key))

    def index_url(self):
        return self.public_url(self.index_key())

    def presigned_url(self, key, expires_in):
        return self.client.generate_presigned_url(
            'get_object', Params={'Bucket': self.name, 'Key': key}, ExpiresIn=int(expires_in)
        )


def _timestamp(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    return time.time()


def normalize_prefix(prefix):
    """``reports/2026`` from ``/reports/2026/``; ValueError for ``..``, hidden or empty components."""
    prefix = (prefix or '').strip('/')
    if not prefix:
        return ''
    return _publish.validate_dest(prefix, visibility=None)


def check_options(options):
    """The options that can be refused before any request: ``(bucket name, expires_in)``."""
    errors = []
    bucket = options.get('bucket')
    if not bucket or not isinstance(bucket, str):
        errors.append(error_entry('backend=s3 needs bucket', field='bucket'))
    try:
        normalize_prefix(options.get('prefix'))
    except ValueError as exc:
        errors.append(error_entry(str(exc), field='prefix'))
    expires_in = options.get('expires_in')
    expires_in = _publish.DEFAULT_EXPIRES_IN if expires_in is None else int(expires_in)
    if expires_in <= 0:
        errors.append(error_entry('must be > 0', field='expires_in'))
    elif expires_in > MAX_EXPIRES_IN and (options.get('state') or 'present') == 'present':
        if (options.get('visibility') or PUBLIC) == PRIVATE:
            errors.append(
                error_entry(
                    '%d seconds is more than a presigned S3 URL (SigV4) allows: at most %d (7 days)'
                    % (expires_in, MAX_EXPIRES_IN),
                    field='expires_in',
                )
            )
    if errors:
        raise JobError('backend=s3: bad options', errors=errors)
    return bucket, expires_in


# ---------------------------------------------------------------------------- the job


def _line(visibility, rel, value):
    return '%s/%s %s' % (visibility, rel, value)


def _lines(bucket, objects, known):
    lines = []
    for key, info in objects.items():
        where = bucket.split(key)
        if where is None:
            continue
        value = known.get(key) or ('etag:%s' % info['etag'])
        lines.append(_line(where[0], where[1], value))
    return sorted(lines)


def publish_s3(options, check_mode=False, diff=False):
    """The module's job with ``backend: s3``: see plugins/modules/publish_report.py for the options."""
    name, expires_in = check_options(options)
    bucket = Bucket(options)
    state = options.get('state') or 'present'
    visibility = options.get('visibility') or PUBLIC
    title = options.get('index_title') or 'Reports'
    errors, warnings = [], []

    def fatal(exc, changed):
        raise JobError(describe_error(exc, name), changed=changed, bucket=name, prefix=bucket.prefix, files=[])

    try:
        objects = bucket.listing()  # first request: a bad bucket, credentials or endpoint stop here
    except (ClientError, BotoCoreError) as exc:
        fatal(exc, False)
    # key -> sha256 where a HEAD told it (before) or this run wrote or confirmed it (after)
    known = {'before': {}, 'after': {}}
    written = {'any': False}
    try:
        if state == 'absent':
            files = _unpublish(options, bucket, objects, check_mode, errors)
        else:
            files = _publish_present(options, bucket, objects, visibility, check_mode, errors, warnings, known, written)
    except EndpointConnectionError as exc:
        fatal(exc, written['any'])
    before = _lines(bucket, objects, known['before']) if diff else None

    index_changed = False
    index_url = None
    if options.get('index', True):
        index_url = bucket.index_url()
        try:
            index_changed = _update_index(bucket, objects, files, title, check_mode)
        except (ClientError, BotoCoreError) as exc:
            errors.append(error_entry(describe_error(exc, name), file=bucket.index_key(), field='index'))

    urls = {}
    expires = int(time.time()) + expires_in
    for item in files:
        if item['state'] == 'removed' or 'key' not in item:
            continue
        if item['visibility'] == PUBLIC:
            item['url'] = bucket.public_url(item['key'])
        else:
            item['url'] = bucket.presigned_url(item['key'], expires_in)
            item['expires'] = expires
        urls[item['dest']] = item['url']
    changed = index_changed or any(f['state'] != 'unchanged' for f in files)
    result = {
        'changed': changed,
        'files': files,
        'urls': urls,
        'index': {'changed': index_changed, 'url': index_url},
        'bucket': name,
        'prefix': bucket.prefix,
        'base_url': bucket.public_url(bucket.prefix + '/' if bucket.prefix else ''),
        'errors': errors,
    }
    if errors:
        result['msg'] = 'refused or failed %d item(s)' % len(errors)
    if diff:
        after = (
            _planned_lines(before, files)
            if check_mode
            else _after_lines(bucket, files, dict(known['before'], **known['after']))
        )
        header = 's3://%s/%s' % (name, bucket.prefix)
        result['diff'] = {
            'before': '\n'.join(before) + ('\n' if before else ''),
            'after': '\n'.join(after) + ('\n' if after else ''),
            'before_header': header,
            'after_header': header,
        }
    return result, warnings


def _after_lines(bucket, files, known):
    try:
        return _lines(bucket, bucket.listing(), known)
    except (ClientError, BotoCoreError):
        return _planned_lines([], files)


def _planned_lines(before, files):
    lines = dict(line.rsplit(' ', 1) for line in before)
    for item in files:
        if item['state'] == 'removed':
            lines.pop('%s/%s' % (item['visibility'], item['dest']), None)
        elif item['state'] in ('created', 'updated', 'moved'):
            other = PRIVATE if item['visibility'] == PUBLIC else PUBLIC
            lines.pop('%s/%s' % (other, item['dest']), None)
            lines['%s/%s' % (item['visibility'], item['dest'])] = item['sha256']
    return ['%s %s' % pair for pair in sorted(lines.items())]


def _publish_present(options, bucket, objects, visibility, check_mode, errors, warnings, known, written):
    if options.get('src') is None:
        raise JobError(
            'state=present needs src: the file, files or folder to publish',
            errors=[error_entry('missing', field='src')],
        )
    pairs, more_errors, more_warnings = _publish.expand_sources(options['src'], options.get('dest'))
    errors.extend(more_errors)
    warnings.extend(more_warnings)
    other = PRIVATE if visibility == PUBLIC else PUBLIC
    files = []
    for path, dest in pairs:
        try:
            rel = _publish.validate_dest(dest, visibility)
        except ValueError as exc:
            errors.append(error_entry(str(exc), file=path, field='dest'))
            continue
        try:
            digest, size = _publish.file_sha256(path), os.path.getsize(path)
        except OSError as exc:
            errors.append(error_entry('cannot read: %s' % exc.strerror, file=path, field='src'))
            continue
        key, other_key = bucket.key(visibility, rel), bucket.key(other, rel)
        ctype = _publish.content_type(rel)
        cache = CACHE_CONTROL[visibility]
        item = {'dest': rel, 'src': path, 'key': key, 'visibility': visibility, 'size': size, 'sha256': digest}
        item['content_type'] = ctype
        try:
            current = bucket.head(key) if key in objects else None
            if current is not None and current.get('sha256'):
                known['before'][key] = current['sha256']
            same = (
                current is not None
                and current.get('sha256') == digest
                and current.get('content_type') == ctype
                and current.get('cache_control') == cache
            )
            acl_only = same and bucket.is_public(key) != (visibility == PUBLIC)
            moved = other_key in objects
            if same and not acl_only:
                status = 'moved' if moved else 'unchanged'
            else:
                status = 'updated' if current is not None else 'created'
            item['state'] = status
            if moved:
                item['moved_from'] = other
            if not check_mode:
                if not same:
                    bucket.upload(path, key, visibility, digest, ctype)
                    written['any'] = True
                elif acl_only:
                    bucket.set_acl(key, visibility)
                    written['any'] = True
                if moved:
                    failed = bucket.delete([other_key])
                    written['any'] = True
                    for failed_key, code, message in failed:
                        errors.append(
                            error_entry(
                                'cannot delete %s: %s %s' % (failed_key, code, message), file=path, field='dest'
                            )
                        )
                known['after'][key] = digest
        except EndpointConnectionError:
            raise
        except (ClientError, BotoCoreError, OSError, ValueError) as exc:
            message = describe_error(exc, bucket.name) if isinstance(exc, (ClientError, BotoCoreError)) else str(exc)
            errors.append(error_entry(message, file=path, field='dest'))
            continue
        files.append(item)
    return files


def _unpublish(options, bucket, objects, check_mode, errors):
    dests = _publish._dest_list(options.get('dest'))
    if not dests:
        raise JobError(
            'state=absent needs dest: the path(s) to unpublish', errors=[error_entry('missing', field='dest')]
        )
    files, doomed = [], []
    for dest in dests:
        raw = dest.rstrip('/') if isinstance(dest, str) else dest
        try:
            rel = _publish.validate_dest(raw, visibility=None)
        except ValueError as exc:
            errors.append(error_entry(str(exc), field='dest'))
            continue
        if rel == INDEX:
            errors.append(error_entry('the generated index is not unpublished', field='dest'))
            continue
        for visibility in (PUBLIC, PRIVATE):
            key = bucket.key(visibility, rel)
            for candidate in sorted(objects):
                if candidate == key or candidate.startswith(key + '/'):
                    where = bucket.split(candidate)
                    if where is None or where[0] != visibility or candidate in doomed:
                        continue
                    doomed.append(candidate)
                    files.append({'dest': where[1], 'key': candidate, 'visibility': visibility, 'state': 'removed'})
    if doomed and not check_mode:
        failed = {k: (code, message) for k, code, message in bucket.delete(doomed)}
        for item in files:
            if item['key'] in failed:
                code, message = failed[item['key']]
                errors.append(error_entry('cannot delete: %s %s' % (code, message), file=item['key'], field='dest'))
        files = [f for f in files if f['key'] not in failed]
    return files


def _index_entries(bucket, objects):
    entries = []
    for key, info in objects.items():
        where = bucket.split(key)
        if where is not None and where[0] == PUBLIC:
            entries.append((where[1], info['size'], info['mtime']))
    entries.sort(key=lambda entry: entry[0])
    return entries


def _update_index(bucket, objects, files, title, check_mode):
    """Write ``<prefix>/index.html`` (public-read) when its bytes change, after every file; True when it did (or would)."""
    index_key = bucket.index_key()
    if check_mode:
        touched = any(f['visibility'] == PUBLIC and f['state'] != 'unchanged' for f in files)
        touched = touched or any(f.get('moved_from') == PUBLIC for f in files)
        if touched:
            return True
        fresh = objects
    else:
        fresh = bucket.listing()
    data = _publish.render_index(_index_entries(bucket, fresh), title, quote=s3_quote)
    digest = hashlib.sha256(data).hexdigest()
    current = bucket.head(index_key) if index_key in fresh else None
    if (
        current is not None
        and current.get('sha256') == digest
        and current.get('content_type') == _publish.INDEX_CONTENT_TYPE
        and current.get('cache_control') == INDEX_CACHE_CONTROL
        and bucket.is_public(index_key)
    ):
        return False
    if not check_mode:
        bucket.upload(data, index_key, PUBLIC, digest, _publish.INDEX_CONTENT_TYPE, INDEX_CACHE_CONTROL)
    return True


# ---------------------------------------------------------------------------- reading a prefix


def parse_s3_url(url):
    """``s3://bucket/some/prefix/`` -> ``('bucket', 'some/prefix')``; ValueError when it is not one."""
    if not isinstance(url, str) or not url.startswith('s3://'):
        raise ValueError('%r is not an s3://bucket/prefix URL' % (url,))
    bucket, _slash, prefix = url[len('s3://') :].partition('/')
    if not bucket:
        raise ValueError('%r names no bucket' % url)
    return bucket, normalize_prefix(prefix)


def fetch_prefix(options, url, folder, suffix='.csv', page_size=None):
    """Download the ``*suffix`` objects directly under ``url`` (s3://bucket/prefix) into ``folder``.

    As a folder is read: no "subfolders" (keys with a further ``/``), no hidden names, the
    suffix compared case-insensitively; the listing is paginated. ``options`` holds the
    connection options of :class:`Bucket` (endpoint_url, region, access_key, secret_key,
    session_token, profile, timeout). Returns ``({local path: s3 URL}, warnings)``; a
    missing bucket, refused credentials or an endpoint that is down raise :class:`JobError`.
    For ``build_report`` ``src: s3://...`` (csv_aggregate): fetch, then read the folder.
    """
    try:
        name, prefix = parse_s3_url(url)
    except ValueError as exc:
        raise JobError(str(exc), errors=[error_entry(str(exc), field='src')])
    bucket = Bucket(dict(options, bucket=name, prefix=prefix))
    warnings, fetched = [], {}
    try:
        objects = bucket.listing(page_size=page_size)
        for key in sorted(objects):
            rel = key[len(prefix) + 1 :] if prefix else key
            if '/' in rel or not rel.lower().endswith(suffix.lower()) or rel.startswith('.'):
                continue
            try:
                _publish.validate_dest(rel, visibility=None)
            except ValueError as exc:
                warnings.append('s3://%s/%s left out: %s' % (name, key, exc))
                continue
            path = os.path.join(folder, rel)
            bucket.client.download_file(name, key, path, Config=TransferConfig(use_threads=False))
            fetched[path] = 's3://%s/%s' % (name, key)
    except (ClientError, BotoCoreError) as exc:
        raise JobError(
            describe_error(exc, name), errors=[error_entry(describe_error(exc, name), file=url, field='src')]
        )
    return fetched, warnings
