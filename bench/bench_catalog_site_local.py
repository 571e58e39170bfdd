# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: the catalog site's read path in gunicorn alone (no nginx), ours vs the naive one, same run.

Starts gunicorn (2 sync workers, the production WSGI app) on 127.0.0.1 against a temporary
SQLite database with 1,000 products and 20 reviews (tests/support's harness), runs a bounded
``wrk -t2 -c16 --latency`` per URL, prints requests/s, p99, the ratios and the load average,
and stops the gunicorn it started (by PID). Nothing leaves 127.0.0.1. The naive views
(``/naive/fruits/``: DRF ``ModelSerializer(many=True)``; ``/naive/``: the template rendered from
querysets per request) exist only here (``catalog_bench_urls.py``).

    .venv/bin/python bench/bench_catalog_site_local.py [--duration 5] [--check]
    make bench            # bench/run.sh runs it with every other bench/bench_*.py

``--check`` exits 1 when a target is missed (>= 1,000 req/s and p99 < 30 ms for GET /fruits/
and GET /). Through nginx, with the ceiling, see ``bench_catalog_site.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, '.ansible', 'collections'))

from ansible_collections.storeops.shop.tests.support import wrk  # noqa: E402  (after the path set-up)
from ansible_collections.storeops.shop.tests.support.catalog_site import CatalogSite, drain  # noqa: E402

TARGET_RPS = 1000.0
TARGET_P99_MS = 30.0

SEED = '''
import datetime, django
django.setup()
from django.db import transaction
from catalog_site.shop.fastpath import bump_catalog_version
from catalog_site.shop.models import Product, Review
DESCRIPTION = (
    "{name} is good for relieving heat, eliminating annoyance and quenching thirst. It contains a lot of "
    "water, which is good for relieving the symptoms of acute fever immediately. The sugar and salt it "
    "contains can diuretic and eliminate kidney inflammation. Batch {i}."
)
with transaction.atomic():
    Product.objects.bulk_create(
        Product(name="Fruit %%04d" %% i, weight=100 + i %% 400, description=DESCRIPTION.format(name="Fruit %%04d" %% i, i=i),
                image_name="%%03d.jpeg" %% i)
        for i in range(%(products)d)
    )
    Review.objects.bulk_create(
        Review(title="Review %%d" %% i, name="Customer %%d" %% i, date=datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
               feedback="Great fruit, friendly staff, fast delivery. " * 3)
        for i in range(%(reviews)d)
    )
    bump_catalog_version()
print(Product.objects.count(), Review.objects.count())
'''


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[3])
    parser.add_argument('--duration', type=int, default=5, help='seconds of load per URL (default 5)')
    parser.add_argument('--products', type=int, default=1000)
    parser.add_argument('--reviews', type=int, default=20)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--check', action='store_true', help='exit 1 if a target is missed')
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 30:
        parser.error('--duration must be between 1 and 30 seconds')
    if not wrk.available():
        sys.exit('wrk is not installed (apt-get install wrk)')

    data_dir = tempfile.mkdtemp(prefix='catalog-bench-')
    site = CatalogSite(
        data_dir,
        workers=args.workers,
        settings_module='catalog_bench_settings',
        pythonpath=[HERE],
        settings={'CATALOG_ALLOWED_HOSTS': '127.0.0.1', 'CATALOG_SERVE_FILES': 'false'},
        gunicorn_args=['--log-level', 'warning'],
    )
    before = wrk.loadavg()
    print(
        'seeding %d products, %d reviews into %s/db.sqlite3 ...' % (args.products, args.reviews, data_dir), flush=True
    )
    results = {}
    try:
        site.prepare()
        site.python_code(SEED % {'products': args.products, 'reviews': args.reviews})
        site.start()
        base = site.url
        print('gunicorn pid %d: %d sync workers on %s' % (site.pid, args.workers, base), flush=True)
        status, headers, body = fetch(base + '/fruits/')
        if status != 200:
            sys.exit('GET /fruits/ answered %d' % status)
        etag = headers['ETag']
        if body != fetch(base + '/naive/fruits/')[2]:
            sys.exit('the fast path and the DRF serializer disagree')
        sizes = {'/fruits/': len(body), '/': len(fetch(base + '/')[2])}
        for dummy in range(4):  # let every worker build its copy before measuring
            fetch(base + '/')
            fetch(base + '/fruits/')
        runs = [
            ('GET /fruits/ (ours: kept bytes + version check)', '/fruits/', None),
            ('GET / (ours: kept bytes + version check)', '/', None),
            ('GET /fruits/ If-None-Match (ours: 304)', '/fruits/', {'If-None-Match': etag}),
            ('GET / Accept-Encoding: gzip (ours, as browsers ask)', '/', {'Accept-Encoding': 'gzip'}),
            # the slow ones last: their queued requests must not spill into our runs
            ('GET /fruits/ (naive: DRF ModelSerializer)', '/naive/fruits/', None),
            ('GET / (naive: template per request)', '/naive/', None),
        ]
        for label, path, extra in runs:
            drain(base + '/healthz', threshold=0.02, timeout=30)
            print('  %s  %s ...' % (wrk.describe(args.duration), label), flush=True)
            results[label] = wrk.run(base + path, args.duration, extra)
    finally:
        site.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        print('gunicorn stopped', flush=True)

    print()
    print(
        'catalog: %d products (%s bytes of JSON, %s bytes of HTML), %d gunicorn sync workers, SQLite, no nginx'
        % (args.products, format(sizes['/fruits/'], ','), format(sizes['/'], ','), args.workers)
    )
    print('%-54s %9s %8s %12s' % ('endpoint', 'req/s', 'p99 ms', 'non-2xx/3xx'))
    for label, row in results.items():
        note = '  socket errors: %s' % row['socket_errors'] if row['socket_errors'] else ''
        print('%-54s %9.1f %8.2f %12d%s' % (label, row['rps'], row['p99_ms'], row['bad'], note))
    ours_fruits, ours_home = results[runs[0][0]], results[runs[1][0]]
    naive_fruits, naive_home = results[runs[4][0]], results[runs[5][0]]
    print()
    print('ratio GET /fruits/ ours / naive DRF serializer: %.1fx' % (ours_fruits['rps'] / naive_fruits['rps']))
    print('ratio GET /        ours / naive template:       %.1fx' % (ours_home['rps'] / naive_home['rps']))
    print(
        'load average before: %s  after: %s (1/5/15 min; %d cores shared by wrk and gunicorn)'
        % (before, wrk.loadavg(), os.cpu_count() or 0)
    )

    failed = []
    for label in (runs[0][0], runs[1][0]):
        row = results[label]
        ok = row['rps'] >= TARGET_RPS and row['p99_ms'] < TARGET_P99_MS and row['bad'] == 0
        print(
            'target >= %.0f req/s, p99 < %.0f ms: %s: %s'
            % (TARGET_RPS, TARGET_P99_MS, label, 'met' if ok else 'MISSED')
        )
        if not ok:
            failed.append(label)
    return 1 if (failed and args.check) else 0


if __name__ == '__main__':
    sys.exit(main())
