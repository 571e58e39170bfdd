# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile the catalog site with supplier descriptions + images, and with review files.

Private to the collection: it can change at any time.

The jobs of ``storeops.shop.catalog_upload`` (:func:`catalog_upload`) and
``storeops.shop.review_upload`` (:func:`review_upload`):

1. Parse the local files (``_descriptions`` / ``_reviews``); every bad file becomes an
   error entry (file, line, field, what) and the good ones carry on. For products, a
   description whose image ``<stem><image_suffix>`` is missing fails here too, and so does
   a second file with a name already used by another file, and a record the site's limits
   would refuse (name length, weight, text length): nothing is uploaded for those.
2. Read what the site has: ``GET /fruits/`` (or ``/feedback/``), all of it in one plain
   list, and, on our site, ``GET /images/``, the SHA-256 of every image it holds. A site of
   the course's kind has no such index: each image is then fetched and hashed instead.
3. Images are stored under names that cannot collide (``image_names=content``, the
   default): ``<stem>-<first 12 hex digits of the SHA-256>.jpeg``. Every delivery numbers
   its files from ``001``, so the plain file name of a new delivery's picture would replace
   the picture of another delivery's product. With ``image_names=file`` the plain name is
   kept, and an item whose name holds another picture on the site is refused, naming the
   product that uses it. Either way no upload ever changes a picture that is on the site:
   uploads ask the site not to replace (``replace=false``, 409 ``name_taken``).
4. Uploads run :data:`CONCURRENCY` at a time over one keep-alive connection pool; products
   are posted one by one in the delivery's order (the store front lists them in creation
   order), each only after its image is on the site. A product the site refuses takes its
   freshly uploaded image with it (``DELETE /images/<name>``), so no orphan picture stays.
5. An item the site rejects (4xx, 500) fails alone. When the site stops answering
   (connection refused, timeouts, 502/503/504 after the client's retries) or refuses the
   token, the run stops: what is done stays done, the rest is reported as ``pending``, and
   the next run finishes the job without duplicates.

Before the first write the token is checked with a request that cannot write (an empty
POST the site rejects with 400 when the token is good, 401 when not), so a wrong token
fails the task with nothing written. Check mode does only GET requests.
"""

from __future__ import annotations

import concurrent.futures
import os

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import (
    CONCURRENCY,
    LIMITS,
    CatalogAuthError,
    CatalogError,
    CatalogHTTPError,
    CatalogTLSError,
    CatalogUnavailable,
    client_from,
    error_code,
    is_duplicate,
)
from ansible_collections.storeops.shop.plugins.module_utils._descriptions import parse_descriptions
from ansible_collections.storeops.shop.plugins.module_utils._fs import file_sha256
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry
from ansible_collections.storeops.shop.plugins.module_utils._reviews import parse_reviews
from ansible_collections.storeops.shop.plugins.module_utils._textfiles import ParseError

PRODUCTS_PATH = '/fruits/'
REVIEWS_PATH = '/feedback/'
UPLOAD_PATH = '/upload/'
PRODUCT_FIELDS = ('name', 'weight', 'description', 'image_name')
REVIEW_FIELDS = ('title', 'name', 'date', 'feedback')
IMAGE_NAMES = ('content', 'file')
HASH_DIGITS = 12
# Products per POST on our site (it creates a list in one transaction, in order): at most
# BATCH; fewer (at least BATCH_EARLY) when the next image is not up yet, so products show up
# on the store front while the rest of the delivery uploads.
BATCH = 100
BATCH_EARLY = 20
# Errors that mean "the site as a whole is not usable now": stop instead of failing every item.
STOPPERS = (CatalogUnavailable, CatalogAuthError, CatalogTLSError)


class SyncError(JobError):
    """The job cannot start (an input folder is missing, an option is wrong); nothing was written."""


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


def _too_long(value, limit):
    return len(value) > limit


class _Run(object):
    """Bookkeeping shared by both jobs: outcomes, warnings, the stop reason."""

    def __init__(self, client, check_mode, write_path, noun):
        self.client = client
        self.check_mode = check_mode
        self.write_path = write_path
        self.noun = noun
        self.created = []
        self.unchanged = []
        self.errors = []
        self.pending = []
        self.different = []
        self.warnings = []
        self.stopped = None  # the error that stopped the run, if any
        self.token_checked = False
        self.changed = False
        self.total = 0

    def ensure_can_write(self):
        """Check the token once, before the first write (never in check mode)."""
        if self.token_checked or self.check_mode:
            return
        self.client.check_token(self.write_path)
        self.token_checked = True

    def fail(self, path, message, line=None, field=None):
        self.errors.append(error_entry(message, file=path, line=line, field=field))

    def stop(self, error, files):
        """Record why the run stopped; ``files`` are not done."""
        self.stopped = error
        self.pending = list(files)

    def summary(self, extra=''):
        parts = ['%d created' % len(self.created), '%d unchanged' % len(self.unchanged)]
        if self.errors:
            parts.append('%d failed' % len(self.errors))
        if self.pending:
            parts.append('%d not done' % len(self.pending))
        text = '%d %s: %s%s' % (self.total, self.noun, ', '.join(parts), extra)
        if self.check_mode:
            text = 'check mode (nothing written): ' + text.replace('created', 'to create')
        return text

    def headline(self, promise, extra=''):
        """The ``msg`` of a failed task (the errors are listed after it by the job contract)."""
        parts = []
        if self.stopped is not None:
            done = self.total - len(self.pending)
            parts.append(
                'Stopped after %d of %d %s: %s. %sRe-run the task when the site answers again: what is already '
                'on the site is not sent again.' % (done, self.total, self.noun, self.stopped, promise)
            )
        parts.append('(%s)' % self.summary(extra))
        if self.errors:
            parts.append('%s failed' % _plural(len(self.errors), 'file'))
        return ' '.join(parts)

    def finish(self, result, promise, extra=''):
        result['errors'] = self.errors
        result['pending'] = self.pending
        result['warnings'] = self.warnings
        if self.errors or self.pending:
            result['failed'] = True
            result['msg'] = self.headline(promise, extra)
        else:
            result['msg'] = self.summary(extra)
        warnings = result.pop('warnings')
        return result, warnings


def _parse_folder(parse, folder, what, run):
    """Parse a folder with ``parse``; its bad files go to ``run.errors``, good items are returned."""
    if not os.path.isdir(folder):
        raise SyncError(
            'nothing was written',
            [error_entry('%s folder %s does not exist or is not a folder' % (what, folder), file=folder, field=what)],
        )
    try:
        items, errors = parse(folder)
    except ParseError as exc:
        raise SyncError('nothing was written', [exc.to_entry()])
    run.errors.extend(error.to_entry() for error in errors)
    run.total = len(items) + len(errors)
    return items


def _stopped(run, exc):
    """A stopper before anything was written fails the task with just that error."""
    if not run.token_checked and not run.check_mode and isinstance(exc, CatalogAuthError):
        raise SyncError('nothing was written', [error_entry(str(exc), field='token')])


# --- products and images ----------------------------------------------------------------


def stored_name(stem, suffix, sha256, naming):
    """The name an image is stored under on the site (see the module docstring)."""
    if naming == 'file':
        return stem + suffix
    return '%s-%s%s' % (stem, sha256[:HASH_DIGITS], suffix)


def _product_problem(product):
    """What the site's limits would refuse in a parsed product: (field, message) or None."""
    if _too_long(product['name'], LIMITS['product_name']):
        return 'name', 'the name is %d characters long; the site takes at most %d' % (
            len(product['name']),
            LIMITS['product_name'],
        )
    if product['weight'] > LIMITS['weight']:
        return 'weight', 'weight %d is more than the site takes (%d)' % (product['weight'], LIMITS['weight'])
    if _too_long(product['description'], LIMITS['description']):
        return 'description', 'the description is %d characters long; the site takes at most %d' % (
            len(product['description']),
            LIMITS['description'],
        )
    return None


def _load_products(descriptions, images, image_suffix, naming, run):
    """Parse the descriptions and pair each with its image; bad ones go to ``run.errors``."""
    if not image_suffix:
        raise SyncError(
            'nothing was written', [error_entry('must not be empty (for example .jpeg)', field='image_suffix')]
        )
    if not os.path.isdir(images):
        raise SyncError(
            'nothing was written',
            [error_entry('images folder %s does not exist or is not a folder' % images, file=images, field='images')],
        )
    products = _parse_folder(parse_descriptions, descriptions, 'descriptions', run)
    items = []
    names = {}
    for product in products:
        image_path = os.path.join(images, product['stem'] + image_suffix)
        if not os.path.isfile(image_path):
            run.fail(product['file'], 'no image for this description: %s does not exist' % image_path)
            continue
        if product['name'] in names:
            run.fail(
                product['file'],
                'product name %r is already used by %s; names must be unique'
                % (product['name'], names[product['name']]),
                line=1,
                field='name',
            )
            continue
        problem = _product_problem(product)
        if problem:
            run.fail(
                product['file'],
                problem[1],
                line=1 if problem[0] == 'name' else 2 if problem[0] == 'weight' else 3,
                field=problem[0],
            )
            continue
        try:
            sha256 = file_sha256(image_path)
        except OSError as exc:
            run.fail(image_path, 'cannot read the image: %s' % (exc.strerror or exc))
            continue
        names[product['name']] = product['file']
        name = stored_name(product['stem'], image_suffix, sha256, naming)
        record = {
            'name': product['name'],
            'weight': product['weight'],
            'description': product['description'],
            'image_name': name,
        }
        items.append({'file': product['file'], 'record': record, 'image_path': image_path, 'sha256': sha256})
    return items


class _Images(object):
    """What the site holds under each image name: from its index, or asked name by name."""

    def __init__(self, client, site_products):
        self.client = client
        self.index = client.image_index()
        self.users = {}
        for product in site_products.values():
            if product.get('image_name'):
                self.users.setdefault(product['image_name'], product.get('name'))
        self._asked = {}

    def sha256(self, name):
        if self.index is not None:
            entry = self.index.get(name)
            return entry and entry.get('sha256')
        if name not in self._asked:
            self._asked[name] = self.client.image_sha256(name)
        return self._asked[name]

    def user(self, name):
        """The product on the site whose picture ``name`` is, or None."""
        return self.users.get(name)


def _upload(client, item):
    """Runs in a worker thread: upload one image, never replacing; returns the site's answer."""
    with open(item['image_path'], 'rb') as handle:
        data = handle.read()
    return client.upload_image(item['record']['image_name'], data, UPLOAD_PATH, replace=False)


def _image_uploaded(run, item, answer, report):
    """Check the site's answer to an upload; False when the item failed."""
    name = item['record']['image_name']
    stored = answer.get('sha256')
    if stored and stored != item['sha256']:
        run.fail(
            item['image_path'],
            'the site stored other bytes than were sent (SHA-256 %s, sent %s); product %r '
            'not created' % (stored, item['sha256'], item['record']['name']),
        )
        return False
    if answer.get('result') == 'unchanged':  # the site had it after all (it does not serve /media/, or a race)
        report['unchanged'].append(name)
        return True
    report['created'].append(name)
    report['diff'].append((name, None, item['sha256']))
    item['uploaded'] = True
    run.changed = True
    return True


def _upload_refused(run, item, exc):
    name = item['record']['image_name']
    if error_code(exc) == 'name_taken':
        run.fail(
            item['image_path'],
            'the site holds another picture under %s; it was not replaced and product %r '
            'was not created' % (name, item['record']['name']),
            field='image_name',
        )
    else:
        run.fail(item['image_path'], 'image upload refused, product %r not created: %s' % (item['record']['name'], exc))


def _remove_orphan(run, item):
    """The site refused a product whose image this run uploaded: take the image back."""
    name = item['record']['image_name']
    try:
        removed = run.client.delete_image(name)
    except CatalogError as exc:
        removed = False
        reason = str(exc)
    else:
        reason = 'the site cannot delete images'
    if not removed:
        run.warnings.append(
            '%s: the image %s uploaded for the refused product %r is still on the site (%s)'
            % (item['file'], name, item['record']['name'], reason)
        )


def _create(run, path, item, key_of, refetch):
    """POST one record; duplicates (a racing client, or our own retried POST) are handled.

    Returns True when the record is on the site afterwards.
    """
    try:
        created, dummy = run.client.post_json(path, item['record'])
    except STOPPERS:
        raise
    except CatalogHTTPError as exc:
        if not is_duplicate(exc):
            run.fail(item['file'], 'refused by the site: %s' % exc)
            return False
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
            item['status'] = 'created'
        else:
            run.unchanged.append(dict(item['key'], file=item['file']))
            item['status'] = 'unchanged'
        return True
    run.created.append(created)
    run.changed = True
    item['status'] = 'created'
    return True


def _plan_products(run, items, site, images, report):
    """Decide per item: already on the site, image to upload, product to post. Returns the items to do."""
    todo = []
    for item in items:
        record = item['record']
        item['key'] = {'name': record['name']}
        existing = site.get(record['name'])
        if existing is not None:
            item['status'] = 'unchanged'
            run.unchanged.append({'name': record['name'], 'file': item['file']})
            differences = _first_differences(record, existing, ('weight', 'description'))
            theirs = images.sha256(existing.get('image_name') or '') if existing.get('image_name') else None
            if theirs != item['sha256']:
                differences['image'] = {'site': existing.get('image_name') or None, 'file': item['image_path']}
            if differences:
                run.different.append({'name': record['name'], 'file': item['file'], 'fields': differences})
            item['record'] = existing
            continue
        name = record['image_name']
        held = images.sha256(name)
        if held == item['sha256']:
            item['upload'] = False
            report['unchanged'].append(name)
        elif held is not None or images.user(name):
            user = images.user(name)
            run.fail(
                item['image_path'],
                'the site holds another picture under %s%s; it is not replaced, and product %r '
                'was not created (image_names=content gives every picture a name of its own)'
                % (name, ", the picture of product %r" % user if user else '', record['name']),
                field='image_name',
            )
            continue
        else:
            item['upload'] = True
        todo.append(item)
    return todo


def _create_batch(run, batch, refetch):
    """POST consecutive products as one list (our site creates them in order, in one transaction).

    If the site refuses the list (one product it would refuse, or a duplicate), each product is
    posted on its own, which says which one and why. A refused product takes its new image back.
    """
    try:
        created, attempts = run.client.post_json(PRODUCTS_PATH, [item['record'] for item in batch])
    except STOPPERS:
        raise
    except CatalogHTTPError as exc:
        if exc.attempts > 1 and is_duplicate(exc):
            # An earlier attempt of this very list may have been committed before the answer was lost.
            site = refetch()
            if all(item['record']['name'] in site for item in batch):
                for item in batch:
                    run.created.append(site[item['record']['name']])
                    item['status'] = 'created'
                run.changed = True
                return
        for item in batch:
            if not _create(run, PRODUCTS_PATH, item, lambda rec: rec['name'], refetch) and item.get('uploaded'):
                _remove_orphan(run, item)
        return
    if not isinstance(created, list) or len(created) != len(batch):
        raise CatalogError(
            'POST %s: the site answered a list of %d products with %r'
            % (run.client.url_for(PRODUCTS_PATH), len(batch), created)
        )
    for item, record in zip(batch, created):
        run.created.append(record)
        item['status'] = 'created'
    run.changed = True


def _run_products(run, todo, report, refetch, bulk):
    """Upload the images (several at a time) and post the products in order, each after its image.

    With ``bulk`` (our site) the products whose images are up are posted a list at a time
    (:data:`BATCH` at most); a site with the original API gets one POST per product.
    """
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=CONCURRENCY)
    futures = {}
    ready = []
    try:
        for item in todo:
            if item['upload']:
                futures[id(item)] = pool.submit(_upload, run.client, item)
        for index, item in enumerate(todo):
            try:
                future = futures.get(id(item))
                if future is not None:
                    if bulk and len(ready) >= BATCH_EARLY and not future.done():
                        # post what is ready while this image goes up
                        _create_batch(run, ready, refetch)
                        ready = []
                    try:
                        answer = future.result()
                    except STOPPERS:
                        raise
                    except CatalogHTTPError as exc:
                        _upload_refused(run, item, exc)
                        continue
                    except OSError as exc:
                        run.fail(item['image_path'], 'cannot read the image: %s' % (exc.strerror or exc))
                        continue
                    if not _image_uploaded(run, item, answer, report):
                        continue
                if bulk:
                    ready.append(item)
                    if len(ready) >= BATCH:
                        _create_batch(run, ready, refetch)
                        ready = []
                elif not _create(run, PRODUCTS_PATH, item, lambda rec: rec['name'], refetch) and item.get('uploaded'):
                    _remove_orphan(run, item)
            except STOPPERS as exc:
                _stopped(run, exc)
                run.stop(exc, [rest['file'] for rest in ready + todo[index:] if 'status' not in rest])
                ready = []
                break
            except CatalogError as exc:  # anything else the site says about this one item
                run.fail(item['file'], str(exc))
        if ready:
            try:
                _create_batch(run, ready, refetch)
            except STOPPERS as exc:
                _stopped(run, exc)
                run.stop(exc, [rest['file'] for rest in ready])
    finally:
        for future in futures.values():
            future.cancel()
        pool.shutdown(wait=True)


def sync_catalog(
    client, descriptions, images, image_suffix='.jpeg', image_names='content', check_mode=False, diff=False
):
    """Upload missing images and products; see the module docs. Returns ``(result, warnings)``."""
    if image_names not in IMAGE_NAMES:
        raise SyncError(
            'nothing was written', [error_entry('must be one of %s' % ', '.join(IMAGE_NAMES), field='image_names')]
        )
    run = _Run(client, check_mode, PRODUCTS_PATH, 'products')
    items = _load_products(descriptions, images, image_suffix, image_names, run)
    report = {'created': [], 'unchanged': [], 'diff': []}

    def refetch():
        return dict((record.get('name'), record) for record in client.list_all(PRODUCTS_PATH))

    if items:
        try:
            site = refetch()
            known = _Images(client, site)
            todo = _plan_products(run, items, site, known, report)
            if check_mode:
                for item in todo:
                    item['status'] = 'created'
                    run.created.append(dict(item['record']))
                    if item['upload']:
                        report['created'].append(item['record']['image_name'])
                        report['diff'].append((item['record']['image_name'], None, item['sha256']))
            elif todo:
                run.ensure_can_write()
                _run_products(run, todo, report, refetch, bulk=known.index is not None)
        except CatalogError as exc:  # before the first write (GET /fruits/, the index, the token check)
            _stopped(run, exc)
            raise SyncError('nothing was written', [error_entry(str(exc))])

    for entry in run.different:
        run.warnings.append(
            '%s: product %r is on the site with a different %s (left as it is: the module only '
            'creates missing products)' % (entry['file'], entry['name'], ', '.join(sorted(entry['fields'])))
        )
    changes = report.pop('diff')
    products = [
        {
            'name': item['record']['name'],
            'weight': item['record']['weight'],
            'file': item['file'],
            'image_name': item['record']['image_name'],
            'status': item['status'],
        }
        for item in items
        if item.get('status')
    ]
    image_text = '; images: %d uploaded, %d unchanged' % (len(report['created']), len(report['unchanged']))
    result = {
        'changed': run.changed or (check_mode and bool(run.created or report['created'])),
        'created': run.created,
        'unchanged': run.unchanged,
        'different': run.different,
        'products': products,
        'images': report,
        'counts': {
            'created': len(run.created),
            'unchanged': len(run.unchanged),
            'failed': len(run.errors),
            'pending': len(run.pending),
            'images_created': len(report['created']),
            'images_unchanged': len(report['unchanged']),
        },
    }
    if diff:
        result['diff'] = {
            'before': {'products': {}, 'images': {}},
            'after': {
                'products': dict((rec['name'], rec) for rec in run.created),
                'images': dict((name, 'sha256:' + local) for name, dummy, local in changes),
            },
            'before_header': client.url_for(PRODUCTS_PATH),
            'after_header': client.url_for(PRODUCTS_PATH),
        }
    return run.finish(result, 'No product was posted without its image. ', image_text)


# --- reviews ----------------------------------------------------------------------------


def review_key(record):
    """What makes a review unique on the site: (name, date, title)."""
    return (record.get('name'), str(record.get('date')), record.get('title'))


def _review_problem(review):
    for field, limit in (('title', 'review_title'), ('name', 'review_name'), ('feedback', 'feedback')):
        if _too_long(review[field], LIMITS[limit]):
            return field, 'the %s is %d characters long; the site takes at most %d' % (
                field,
                len(review[field]),
                LIMITS[limit],
            )
    return None


def _load_reviews(src, run):
    reviews = _parse_folder(parse_reviews, src, 'src', run)
    items = []
    seen = {}
    for review in reviews:
        record = dict((field, review[field]) for field in REVIEW_FIELDS)
        key = review_key(record)
        problem = _review_problem(review)
        if problem:
            run.fail(review['file'], problem[1], line={'title': 1, 'name': 2}.get(problem[0], 4), field=problem[0])
            continue
        if key in seen:
            run.fail(
                review['file'],
                'the same review (title %r, name %r, date %s) is already in %s'
                % (record['title'], record['name'], record['date'], seen[key]),
            )
            continue
        seen[key] = review['file']
        items.append(
            {
                'file': review['file'],
                'record': record,
                'key': {'title': record['title'], 'name': record['name'], 'date': record['date']},
            }
        )
    return items


def sync_reviews(client, src, check_mode=False, diff=False):
    """POST the reviews of ``src`` that the site does not have yet. Returns ``(result, warnings)``."""
    run = _Run(client, check_mode, REVIEWS_PATH, 'reviews')
    items = _load_reviews(src, run)

    def refetch():
        return dict((review_key(record), record) for record in client.list_all(REVIEWS_PATH))

    try:
        site = refetch() if items else {}
    except CatalogError as exc:
        _stopped(run, exc)
        raise SyncError('nothing was written', [error_entry(str(exc))])
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
            _stopped(run, exc)
            run.stop(exc, [rest['file'] for rest in items[index:]])
            break
        except CatalogError as exc:
            run.fail(item['file'], str(exc))

    for entry in run.different:
        run.warnings.append(
            '%s: the review %r by %s on %s is on the site with a different text (left as it is)'
            % (entry['file'], entry['title'], entry['name'], entry['date'])
        )
    result = {
        'changed': bool(run.changed or (check_mode and run.created)),
        'created': run.created,
        'unchanged': run.unchanged,
        'different': run.different,
        'counts': {
            'created': len(run.created),
            'unchanged': len(run.unchanged),
            'failed': len(run.errors),
            'pending': len(run.pending),
        },
    }
    if diff:
        result['diff'] = {
            'before': {'reviews': []},
            'after': {'reviews': run.created},
            'before_header': client.url_for(REVIEWS_PATH),
            'after_header': client.url_for(REVIEWS_PATH),
        }
    return run.finish(result, 'No review was posted twice. ')


# --- the jobs ---------------------------------------------------------------------------


def _connected(options, work):
    try:
        with client_from(options) as client:
            return work(client)
    except CatalogError as exc:
        raise SyncError('nothing was written', [error_entry(str(exc))])


def catalog_upload(options, check_mode=False, diff=False):
    """The job of ``storeops.shop.catalog_upload``."""
    return _connected(
        options,
        lambda client: sync_catalog(
            client,
            options['descriptions'],
            options['images'],
            image_suffix=options.get('image_suffix', '.jpeg'),
            image_names=options.get('image_names', 'content'),
            check_mode=check_mode,
            diff=diff,
        ),
    )


def review_upload(options, check_mode=False, diff=False):
    """The job of ``storeops.shop.review_upload``."""
    return _connected(options, lambda client: sync_reviews(client, options['src'], check_mode=check_mode, diff=diff))
