# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile the catalog site with supplier descriptions + images, and with review files.

The logic of ``storeops.shop.catalog_upload`` and ``storeops.shop.review_upload``:

1. Parse the local files (``_descriptions`` / ``_reviews``); every bad file becomes a
   failure entry (file, line, what) and the good ones carry on. For products, a
   description whose image ``<stem><image_suffix>`` is missing fails here too, and so
   does a second file with a name already used by another file.
2. Read what the site has: ``GET /fruits/`` (or ``/feedback/``), all of it in one plain
   list (pages are followed if the site pages anyway).
3. Per item, in file order: an image is uploaded only when the site does not serve the
   same bytes under ``/media/images/<name>`` (compared by SHA-256); a product is POSTed
   only when no product of that name exists, and only after its image is on the site.
   Reviews are POSTed when no review with the same (name, date, title) exists.
4. An item the site rejects (4xx, 500) fails alone. When the site stops answering
   (connection refused, timeouts, 502/503/504 after the client's retries) or refuses the
   token, the run stops: what is done stays done, the rest is reported as ``pending``,
   and the next run finishes the job without duplicates.

Before the first write the token is checked with a request that cannot write (an empty
POST the site rejects with 400 when the token is good, 401 when not), so a wrong token
fails the task with nothing written. Check mode does only GET requests.
"""

from __future__ import annotations

import os

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import (
    CatalogAuthError,
    CatalogError,
    CatalogHTTPError,
    CatalogTLSError,
    CatalogUnavailable,
    is_duplicate,
)
from ansible_collections.storeops.shop.plugins.module_utils._descriptions import parse_descriptions
from ansible_collections.storeops.shop.plugins.module_utils._fs import file_sha256
from ansible_collections.storeops.shop.plugins.module_utils._job import error_entry, format_error
from ansible_collections.storeops.shop.plugins.module_utils._reviews import parse_reviews
from ansible_collections.storeops.shop.plugins.module_utils._textfiles import ParseError

PRODUCTS_PATH = '/fruits/'
REVIEWS_PATH = '/feedback/'
UPLOAD_PATH = '/upload/'
PRODUCT_FIELDS = ('name', 'weight', 'description', 'image_name')
REVIEW_FIELDS = ('title', 'name', 'date', 'feedback')
MESSAGE_LIMIT = 20
# Errors that mean "the site as a whole is not usable now": stop instead of failing every item.
STOPPERS = (CatalogUnavailable, CatalogAuthError, CatalogTLSError)


class SyncError(Exception):
    """The job cannot start (an input folder is missing, an option is wrong)."""


def failure(path, line, message, field=None):
    """A failure entry in the collection's one shape (``_job.error_entry``)."""
    return error_entry(message, file=path, line=line, field=field)


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def _first_differences(local, remote, fields):
    """Fields whose value on the site differs from the local file's: ``{field: {site, file}}``."""
    found = {}
    for field in fields:
        mine = local.get(field)
        theirs = remote.get(field)
        if isinstance(mine, str) and isinstance(theirs, str):
            same = mine.strip() == theirs.strip()
        else:
            same = mine == theirs
        if not same:
            found[field] = {'site': theirs, 'file': mine}
    return found


class _Run(object):
    """Bookkeeping shared by both jobs: outcomes, warnings, the stop reason."""

    def __init__(self, client, check_mode, write_path):
        self.client = client
        self.check_mode = check_mode
        self.write_path = write_path
        self.created = []
        self.unchanged = []
        self.errors = []
        self.pending = []
        self.different = []
        self.warnings = []
        self.stopped = None          # the error that stopped the run, if any
        self.token_checked = False
        self.changed = False
        self.total = 0

    def ensure_can_write(self):
        """Check the token once, before the first write (never in check mode)."""
        if self.token_checked or self.check_mode:
            return
        self.client.check_token(self.write_path)
        self.token_checked = True

    def stop(self, error, items, index):
        """Record why the run stopped at ``items[index]``; the rest is pending."""
        self.stopped = error
        self.pending = [item['file'] for item in items[index:]]

    def summary(self, noun, total, extra=''):
        parts = ['%d created' % len(self.created), '%d unchanged' % len(self.unchanged)]
        if self.errors:
            parts.append('%d failed' % len(self.errors))
        if self.pending:
            parts.append('%d not done' % len(self.pending))
        text = '%d %s: %s%s' % (total, noun, ', '.join(parts), extra)
        if self.check_mode:
            text = 'check mode (nothing written): ' + text.replace('created', 'to create')
        return text

    def failure_message(self, noun, total, extra=''):
        """The ``msg`` of a failed task: why, then each bad file."""
        lines = []
        if self.stopped is not None:
            done = total - len(self.pending)
            lines.append('Stopped after %d of %d %s: %s. No product was posted without its image; re-run the task '
                         'when the site answers again - what is already on the site is not sent again.'
                         % (done, total, noun, self.stopped))
        if self.errors:
            shown = [format_error(entry) for entry in self.errors[:MESSAGE_LIMIT]]
            if len(self.errors) > MESSAGE_LIMIT:
                shown.append('... and %d more (see errors)' % (len(self.errors) - MESSAGE_LIMIT))
            lines.append('%s failed: %s' % (_plural(len(self.errors), 'file'), '; '.join(shown)))
        lines.append('(%s)' % self.summary(noun, total, extra))
        return ' '.join(lines)


# --- products and images ----------------------------------------------------------------


def _parse_folder(parse, folder, run):
    """Parse a folder with ``parse``; its bad files go to ``run.errors``, good items are returned."""
    try:
        items, errors = parse(folder)
    except ParseError as exc:
        raise SyncError(str(exc))
    run.errors.extend(error.to_entry() for error in errors)
    run.total = len(items) + len(errors)
    return items


def _load_products(descriptions, images, image_suffix, run):
    """Parse the descriptions and pair each with its image; bad ones go to ``run.errors``."""
    if not os.path.isdir(descriptions):
        raise SyncError('descriptions folder %s does not exist or is not a folder' % descriptions)
    if not os.path.isdir(images):
        raise SyncError('images folder %s does not exist or is not a folder' % images)
    if not image_suffix:
        raise SyncError('image_suffix must not be empty (for example .jpeg)')
    products = _parse_folder(parse_descriptions, descriptions, run)
    items = []
    names = {}
    for product in products:
        image_name = product['stem'] + image_suffix
        image_path = os.path.join(images, image_name)
        if not os.path.isfile(image_path):
            run.errors.append(failure(product['file'], None, 'no image for this description: %s does not exist'
                                      % image_path))
            continue
        if product['name'] in names:
            run.errors.append(failure(product['file'], 1, 'product name %r is already used by %s; names must be unique'
                                      % (product['name'], names[product['name']])))
            continue
        names[product['name']] = product['file']
        record = {'name': product['name'], 'weight': product['weight'], 'description': product['description'],
                  'image_name': image_name}
        items.append({'file': product['file'], 'record': record, 'image_path': image_path})
    return items


def _sync_image(run, item, images):
    """Make the site serve the item's image; return False if that failed (the item failed).

    The image the site serves under ``/media/images/<name>`` is fetched and compared by
    SHA-256 first: the same bytes are never sent again. After an upload, the SHA-256 the
    site reports for what it stored must be the local one.
    """
    client = run.client
    name = item['record']['image_name']
    try:
        local = file_sha256(item['image_path'])
    except OSError as exc:
        run.errors.append(failure(item['image_path'], None, 'cannot read the image: %s' % (exc.strerror or exc)))
        return False
    remote = client.image_sha256(name)
    if remote == local:
        images['unchanged'].append(name)
        return True
    if run.check_mode:
        images['updated' if remote else 'created'].append(name)
        images['diff'].append((name, remote, local))
        return True
    run.ensure_can_write()
    try:
        with open(item['image_path'], 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        run.errors.append(failure(item['image_path'], None, 'cannot read the image: %s' % (exc.strerror or exc)))
        return False
    try:
        answer = client.upload_image(name, data, UPLOAD_PATH)
    except STOPPERS:
        raise
    except CatalogHTTPError as exc:
        run.errors.append(failure(item['image_path'], None, 'image upload refused, product %r not created: %s'
                                  % (item['record']['name'], exc)))
        return False
    stored = answer.get('sha256')
    if stored and stored != local:
        run.errors.append(failure(item['image_path'], None, 'the site stored other bytes than were sent (SHA-256 %s, '
                                  'sent %s); product %r not created' % (stored, local, item['record']['name'])))
        return False
    result = answer.get('result')
    if result == 'unchanged':  # the site had it after all (it does not serve /media/, or a race)
        images['unchanged'].append(name)
        return True
    images['updated' if result == 'replaced' else 'created'].append(name)
    images['diff'].append((name, remote, local))
    run.changed = True
    return True


def _create(run, path, item, key_of, refetch):
    """POST one record; duplicates (a racing client, or our own retried POST) are handled."""
    try:
        created, dummy = run.client.post_json(path, item['record'])
    except STOPPERS:
        raise
    except CatalogHTTPError as exc:
        if not is_duplicate(exc):
            run.errors.append(failure(item['file'], None, 'refused by the site: %s' % exc))
            return
        # It exists now. Either another client created it after our GET, or an earlier
        # attempt of this very POST reached the site before the connection broke.
        try:
            existing = refetch().get(key_of(item['record']))
        except STOPPERS:
            raise
        except CatalogError:
            existing = None
        if existing is not None and exc.attempts > 1:
            run.created.append(existing)
            run.changed = True
        else:
            run.unchanged.append(dict(item['key'], file=item['file']))
        return
    run.created.append(created)
    run.changed = True


def sync_catalog(client, descriptions, images, image_suffix='.jpeg', check_mode=False, diff=False):
    """Upload missing images and products; see the module docs. Returns the module result.

    ``result['errors']`` and ``result['pending']`` non-empty mean the task must fail;
    ``result['warnings']`` are for ``module.warn``.
    """
    run = _Run(client, check_mode, PRODUCTS_PATH)
    items = _load_products(descriptions, images, image_suffix, run)
    site = {}
    if items:
        site = dict((record.get('name'), record) for record in client.list_all(PRODUCTS_PATH))
    image_report = {'created': [], 'updated': [], 'unchanged': [], 'diff': []}

    def refetch():
        return dict((record.get('name'), record) for record in client.list_all(PRODUCTS_PATH))

    for index, item in enumerate(items):
        record = item['record']
        item['key'] = {'name': record['name']}
        try:
            existing = site.get(record['name'])
            if not _sync_image(run, item, image_report):
                continue
            if existing is not None:
                run.unchanged.append({'name': record['name'], 'file': item['file']})
                differences = _first_differences(record, existing, PRODUCT_FIELDS[1:])
                if differences:
                    run.different.append({'name': record['name'], 'file': item['file'], 'fields': differences})
                continue
            if check_mode:
                run.created.append(dict(record))
                continue
            run.ensure_can_write()
            _create(run, PRODUCTS_PATH, item, lambda rec: rec['name'], refetch)
        except STOPPERS as exc:
            if not run.token_checked and not check_mode and isinstance(exc, CatalogAuthError):
                raise  # nothing was written: fail the task with just this error
            run.stop(exc, items, index)
            break
        except CatalogError as exc:  # anything else the site says about this one item
            run.errors.append(failure(item['file'], None, str(exc)))

    for entry in run.different:
        run.warnings.append('%s: product %r is on the site with a different %s (left as it is: the module only '
                            'creates missing products)' % (entry['file'], entry['name'], ', '.join(sorted(entry['fields']))))
    changes = image_report.pop('diff')
    total = run.total
    image_text = '; images: %d uploaded, %d replaced, %d unchanged' % (
        len(image_report['created']), len(image_report['updated']), len(image_report['unchanged']))
    result = {
        'changed': run.changed or (check_mode and bool(run.created or image_report['created'] or image_report['updated'])),
        'created': run.created,
        'unchanged': run.unchanged,
        'errors': run.errors,
        'pending': run.pending,
        'different': run.different,
        'images': image_report,
        'counts': {
            'created': len(run.created),
            'unchanged': len(run.unchanged),
            'failed': len(run.errors),
            'pending': len(run.pending),
            'images_created': len(image_report['created']),
            'images_updated': len(image_report['updated']),
            'images_unchanged': len(image_report['unchanged']),
        },
        'warnings': run.warnings,
    }
    if run.errors or run.pending:
        result['msg'] = run.failure_message('products', total, image_text)
    else:
        result['msg'] = run.summary('products', total, image_text)
    if diff:
        before_images = dict((name, remote and 'sha256:' + remote) for name, remote, local in changes)
        after_images = dict((name, 'sha256:' + local) for name, remote, local in changes)
        result['diff'] = {
            'before': {'products': {}, 'images': before_images},
            'after': {'products': dict((rec['name'], rec) for rec in run.created), 'images': after_images},
            'before_header': client.url_for(PRODUCTS_PATH),
            'after_header': client.url_for(PRODUCTS_PATH),
        }
    return result


# --- reviews ----------------------------------------------------------------------------


def review_key(record):
    """What makes a review unique on the site: (name, date, title)."""
    return (record.get('name'), str(record.get('date')), record.get('title'))


def _load_reviews(src, run):
    if not os.path.isdir(src):
        raise SyncError('src folder %s does not exist or is not a folder' % src)
    reviews = _parse_folder(parse_reviews, src, run)
    items = []
    seen = {}
    for review in reviews:
        record = dict((field, review[field]) for field in REVIEW_FIELDS)
        key = review_key(record)
        if key in seen:
            run.errors.append(failure(review['file'], None, 'the same review (title %r, name %r, date %s) is already in %s'
                                      % (record['title'], record['name'], record['date'], seen[key])))
            continue
        seen[key] = review['file']
        items.append({'file': review['file'], 'record': record,
                      'key': {'title': record['title'], 'name': record['name'], 'date': record['date']}})
    return items


def sync_reviews(client, src, check_mode=False, diff=False):
    """POST the reviews of ``src`` that the site does not have yet. Returns the module result."""
    run = _Run(client, check_mode, REVIEWS_PATH)
    items = _load_reviews(src, run)

    def refetch():
        return dict((review_key(record), record) for record in client.list_all(REVIEWS_PATH))

    site = refetch() if items else {}
    for index, item in enumerate(items):
        try:
            existing = site.get(review_key(item['record']))
            if existing is not None:
                run.unchanged.append(dict(item['key'], file=item['file']))
                differences = _first_differences(item['record'], existing, ('feedback',))
                if differences:
                    run.different.append(dict(item['key'], file=item['file'], fields=differences))
                continue
            if check_mode:
                run.created.append(dict(item['record']))
                continue
            run.ensure_can_write()
            _create(run, REVIEWS_PATH, item, review_key, refetch)
        except STOPPERS as exc:
            if not run.token_checked and not check_mode and isinstance(exc, CatalogAuthError):
                raise
            run.stop(exc, items, index)
            break
        except CatalogError as exc:
            run.errors.append(failure(item['file'], None, str(exc)))

    for entry in run.different:
        run.warnings.append('%s: the review %r by %s on %s is on the site with a different text (left as it is)'
                            % (entry['file'], entry['title'], entry['name'], entry['date']))
    total = run.total
    result = {
        'changed': bool(run.changed or (check_mode and run.created)),
        'created': run.created,
        'unchanged': run.unchanged,
        'errors': run.errors,
        'pending': run.pending,
        'different': run.different,
        'counts': {
            'created': len(run.created),
            'unchanged': len(run.unchanged),
            'failed': len(run.errors),
            'pending': len(run.pending),
        },
        'warnings': run.warnings,
    }
    result['msg'] = (run.failure_message if run.errors or run.pending else run.summary)('reviews', total)
    if diff:
        result['diff'] = {
            'before': {'reviews': []},
            'after': {'reviews': run.created},
            'before_header': client.url_for(REVIEWS_PATH),
            'after_header': client.url_for(REVIEWS_PATH),
        }
    return result
