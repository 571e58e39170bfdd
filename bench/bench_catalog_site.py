# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: the deployed catalog site (role webserver) through nginx over HTTPS, lab host ``web``.

Tops the site up to ``--products`` products (``Bench Fruit NNNN``, GET-then-POST: re-runs add
nothing), then runs a bounded ``wrk -t2 -c16 -d<duration>s --latency`` per endpoint: the fast
path ``GET /fruits/`` (JSON), ``GET /`` (store front, plain and gzipped), ``GET /fruits/`` +
``If-None-Match`` (304); in the same run the **ceiling**: nginx on the same host, in the same
server block (same TLS settings), sending the very same bytes as static files (copies put
under ``/media/bench-ceiling/`` for the run and removed after it), with the same wrk
parameters, each right after its endpoint, in ``--rounds`` rounds (default 2; the ratio is
the median of the rounds' ratios); and the naive way: DRF's ``ModelSerializer(many=True)`` list
(``/fruits/?format=json``, byte-identical). Prints req/s, p99, each endpoint as a ratio of its
ceiling, the fast/naive ratio, whether a write is visible at once on every worker (a PATCH,
then 20 reads on new connections), the load average before/after (wrk, nginx and gunicorn
share this machine's cores) and the targets (>= 1,000 req/s, p99 < 30 ms and >= 0.6x the
ceiling on /fruits/ and /): ``--check`` exits 1 on a miss.

    .venv/bin/python bench/bench_catalog_site.py [--duration 5] [--products 1000] [--check]
    make bench        # brings the lab up; bench/run.sh runs every bench/bench_*.py; about 30 s (+ the top-up)

Without --url it uses the lab (``make lab-up``) and provisions its host ``web`` with
``storeops.shop.site`` first if the site is not deployed there yet.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import statistics
import sys
import tempfile
import time
from urllib.parse import urlsplit

import requests
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.ansible', 'collections'))

from ansible_collections.storeops.shop.tests.support import wrk  # noqa: E402  (after the path set-up)
from ansible_collections.storeops.shop.tests.support.catalog_site import drain  # noqa: E402

LAB = os.path.join(ROOT, 'tests', 'lab', 'lab.py')
INVENTORY = os.path.join(ROOT, 'inventories', 'lab', 'hosts.yml')
TOKEN_FILE = '/etc/storeops/catalog-api-token'
CA_FILE = '/etc/storeops/catalog-tls.crt'
PREFIX = 'Bench Fruit'
BENCH_IMAGE = 'bench-fruit.jpeg'
TARGET_RPS = 1000.0
TARGET_P99_MS = 30.0
TARGET_CEILING_RATIO = 0.6
# Where the ceiling's static copies go on the lab host: under the site's /media/ location, so
# the same nginx server block, TLS settings and connection handling serve them.
CEILING_DIR = '/var/lib/storeops-catalog/media/bench-ceiling'
CEILING_URL = '/media/bench-ceiling'


def lab_read(path: str) -> str:
    """A file of the lab host ``web`` (lab.py exec); the caller decides whether to print it."""
    result = subprocess.run(
        [sys.executable, LAB, 'exec', 'web', '--', 'cat', path], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        sys.exit('could not read %s on the lab host web (lab.py exec): %s' % (path, result.stderr.strip()[:300]))
    return result.stdout


def ensure_deployed() -> None:
    """Provision the lab host ``web`` with ``storeops.shop.site`` unless the site is there
    already (its certificate exists), so ``make bench`` works on a fresh lab."""
    probe = subprocess.run(
        [sys.executable, LAB, 'exec', 'web', '--', 'test', '-s', CA_FILE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode == 0:
        return
    print('the lab host web has no catalog site yet: provisioning it with storeops.shop.site (1-2 min)', flush=True)
    command = [
        os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'),
        os.path.join(ROOT, 'playbooks', 'site.yml'),
        '-i',
        INVENTORY,
        '--limit',
        'web',
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        sys.exit('provisioning the lab host web took more than 900 s')
    if result.returncode != 0:
        sys.exit('provisioning the lab host web failed (%s):\n%s' % (' '.join(command), result.stdout[-3000:]))


def default_url() -> str:
    try:
        with open(INVENTORY) as handle:
            host = yaml.safe_load(handle)['all']['hosts']['web']['ansible_host']
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        sys.exit('no --url and no web ansible_host in %s (%s): is the lab up?' % (INVENTORY, exc))
    return 'https://%s' % host


def lab_run(argv, data=None) -> None:
    """Run a command on the lab host ``web`` as root (lab.py exec), ``data`` on its stdin."""
    result = subprocess.run(
        [sys.executable, LAB, 'exec', 'web', '--'] + argv, input=data, capture_output=True, timeout=60, check=False
    )
    if result.returncode != 0:
        sys.exit('%s on the lab host web failed: %s' % (' '.join(argv), result.stderr.decode(errors='replace')[:300]))


# --- 1. at least --products products -------------------------------------------------------


def small_jpeg() -> bytes:
    from PIL import Image  # only needed when no product image is served yet

    out = io.BytesIO()
    Image.new('RGB', (64, 64), (230, 120, 40)).save(out, 'JPEG', quality=80)
    return out.getvalue()


def pick_image(session: requests.Session, base: str, products: list, auth: dict) -> str:
    """An image name that /media/images/ serves: one already used (at most 5 probed), else
    upload one small JPEG once. (image_name is only checked for being a plain file name, not
    for existing, but a store front full of broken images would not be a fair page.)"""
    seen = []
    for product in products:
        name = product.get('image_name') or ''
        if name and name not in seen:
            seen.append(name)
        if len(seen) >= 5:
            break
    for name in seen:
        if session.head('%s/media/images/%s' % (base, name), timeout=10).status_code == 200:
            return name
    if session.head('%s/media/images/%s' % (base, BENCH_IMAGE), timeout=10).status_code != 200:
        response = session.post(
            base + '/upload/', files={'file': (BENCH_IMAGE, small_jpeg(), 'image/jpeg')}, headers=auth, timeout=30
        )
        if response.status_code not in (200, 201):
            sys.exit('POST /upload/ answered %d: %s' % (response.status_code, response.text[:300]))
        print('uploaded /media/images/%s (%s)' % (BENCH_IMAGE, response.json().get('result')), flush=True)
    return BENCH_IMAGE


def ensure_products(session: requests.Session, base: str, token: str, wanted: int) -> int:
    response = session.get(base + '/fruits/', headers={'Accept': 'application/json'}, timeout=30)
    response.raise_for_status()
    products = response.json()
    names = {p['name'] for p in products}
    count = len(products)
    missing = max(0, wanted - count)
    print('products on the site: %d (wanted >= %d): creating %d' % (count, wanted, missing), flush=True)
    if not missing:
        return count
    auth = {'Authorization': 'Token ' + token}
    image = pick_image(session, base, products, auth)
    created = 0
    start = time.monotonic()
    for i in range(1, wanted + 1):  # bounded: at most `wanted` POSTs
        if count >= wanted:
            break
        name = '%s %04d' % (PREFIX, i)
        if name in names:
            continue
        response = session.post(
            base + '/fruits/',
            headers=auth,
            timeout=30,
            json={
                'name': name,
                'weight': 100 + i % 400,
                'image_name': image,
                'description': '%s, made by bench/bench_catalog_site.py to give the store 1,000 products.' % name,
            },
        )
        if response.status_code == 201:
            created += 1
            count += 1
        elif response.status_code in (400, 409) and 'name' in response.json():
            count += 1  # created meanwhile by someone else: it counts
        else:
            sys.exit('POST /fruits/ %r answered %d: %s' % (name, response.status_code, response.text[:300]))
    print('created %d products in %.1f s' % (created, time.monotonic() - start), flush=True)
    return count


# --- 2. the runs ------------------------------------------------------------------------------


def place_ceiling(files: dict) -> None:
    """Put ``{name: bytes}`` on the lab host as static files that nginx serves under CEILING_URL."""
    lab_run(['install', '-d', '-m', '0755', CEILING_DIR])
    for name, data in files.items():
        lab_run(['sh', '-c', 'umask 022 && cat > "$0.tmp" && mv "$0.tmp" "$0"', '%s/%s' % (CEILING_DIR, name)], data)


def remove_ceiling() -> None:
    lab_run(['rm', '-rf', CEILING_DIR])


def write_visible_everywhere(session: requests.Session, base: str, token: str, reads: int = 20) -> str:
    """Change one product, then read /fruits/ ``reads`` times on new connections (nginx hands each
    to whichever gunicorn worker accepts it): every read must show the change. Changes it back."""
    products = session.get(base + '/fruits/', headers={'Accept': 'application/json'}, timeout=30).json()
    target = next((p for p in products if p['name'].startswith(PREFIX)), None)
    if target is None:
        return 'not checked (no %s product)' % PREFIX
    auth = {'Authorization': 'Token ' + token}
    url = '%s/fruits/%d/' % (base, target['id'])
    new_weight = target['weight'] + 1
    response = session.patch(url, json={'weight': new_weight}, headers=auth, timeout=30)
    if response.status_code != 200:
        sys.exit('PATCH %s answered %d: %s' % (url, response.status_code, response.text[:300]))
    stale = 0
    try:
        for dummy in range(reads):
            listed = requests.get(
                base + '/fruits/',
                headers={'Accept': 'application/json', 'Connection': 'close'},
                verify=session.verify,
                timeout=30,
            ).json()
            if next(p['weight'] for p in listed if p['id'] == target['id']) != new_weight:
                stale += 1
    finally:
        session.patch(url, json={'weight': target['weight']}, headers=auth, timeout=30)
    if stale:
        sys.exit('a write was not visible at once: %d of %d reads after it were stale' % (stale, reads))
    return 'yes: %d of %d reads right after a PATCH (new connections) showed it' % (reads, reads)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', help='the site (default: https://<web ansible_host> from inventories/lab)')
    parser.add_argument('--ca-path', help="the site's CA/certificate (default: fetched from the lab host)")
    parser.add_argument('--token', help='API token for the POSTs (default: read on the lab host; never printed)')
    parser.add_argument('--products', type=int, default=1000, help='products the site must have (default 1000)')
    parser.add_argument('--duration', type=int, default=5, help='seconds of load per endpoint (default 5)')
    parser.add_argument('--rounds', type=int, default=2, help='rounds of each endpoint beside its ceiling (default 2)')
    parser.add_argument('--check', action='store_true', help='exit 1 if a target is missed')
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 30:
        parser.error('--duration must be between 1 and 30 seconds')
    if not 1 <= args.rounds <= 5:
        parser.error('--rounds must be between 1 and 5')
    if not 0 <= args.products <= 10000:
        parser.error('--products must be between 0 and 10000')
    if not wrk.available():
        sys.exit('wrk is not installed (apt-get install wrk)')
    base = (args.url or default_url()).rstrip('/')
    if not args.url:
        ensure_deployed()
    if urlsplit(base).scheme != 'https':
        parser.error('--url must be https:// (the benchmark goes through nginx over TLS)')

    temp_ca = None
    ca_path = args.ca_path
    if not ca_path:
        handle = tempfile.NamedTemporaryFile('w', prefix='catalog-ca-', suffix='.pem', delete=False)
        with handle:
            handle.write(lab_read(CA_FILE))
        temp_ca = ca_path = handle.name
    try:
        return run(args, base, ca_path, lab=not args.url)
    finally:
        if temp_ca:
            os.unlink(temp_ca)


def run(args, base: str, ca_path: str, lab: bool) -> int:
    before = wrk.loadavg()
    print(
        'site %s (CA %s), %d cores here, load average before: %s' % (base, ca_path, os.cpu_count() or 0, before),
        flush=True,
    )
    with requests.Session() as session:
        # trust_env off: REQUESTS_CA_BUNDLE would override session.verify, and no proxy from
        # the environment may carry the traffic (wrk talks to the host directly too).
        session.trust_env = False
        session.verify = ca_path
        response = session.get(base + '/fruits/', headers={'Accept': 'application/json'}, timeout=30)
        response.raise_for_status()
        token = None
        if len(response.json()) < args.products:
            token = (args.token or lab_read(TOKEN_FILE)).strip()
            count = ensure_products(session, base, token, args.products)
        else:
            count = len(response.json())
            print('products on the site: %d (wanted >= %d): creating 0' % (count, args.products), flush=True)

        # What wrk will get: no Accept-Encoding (identity body, identity ETag).
        plain = {'Accept': 'application/json', 'Accept-Encoding': 'identity'}
        fast = session.get(base + '/fruits/', headers=plain, timeout=30)
        naive = session.get(base + '/fruits/?format=json', headers=plain, timeout=30)
        home = session.get(base + '/', headers={'Accept-Encoding': 'identity'}, timeout=30)
        home_gz = session.get(base + '/', headers={'Accept-Encoding': 'gzip'}, timeout=30, stream=True)
        home_gz_bytes = home_gz.raw.read(decode_content=False)
        for label, response in (('/fruits/', fast), ('/fruits/?format=json', naive), ('/', home), ('/ gzip', home_gz)):
            if response.status_code != 200:
                sys.exit('GET %s answered %d' % (label, response.status_code))
        etag = fast.headers.get('ETag')
        if not etag:
            sys.exit('GET /fruits/ has no ETag: not the fast path?')
        if naive.content != fast.content:
            sys.exit('GET /fruits/?format=json (DRF serializer) and GET /fruits/ (fast path) differ')
        if 'Allow' not in naive.headers or 'ETag' in naive.headers:
            print('warning: /fruits/?format=json does not look like the DRF view (Allow header, no ETag)')
        not_modified = session.get(base + '/fruits/', headers=dict(plain, **{'If-None-Match': etag}), timeout=30)
        if not_modified.status_code != 304:
            sys.exit('GET /fruits/ with If-None-Match answered %d, not 304' % not_modified.status_code)
        if home_gz.headers.get('Content-Encoding') != 'gzip':
            sys.exit('GET / with Accept-Encoding: gzip was not compressed')
        print(
            'catalog: %d products, /fruits/ %s bytes of JSON (ETag %s), / %s bytes of HTML (%s gzipped); '
            'naive body identical'
            % (
                count,
                format(len(fast.content), ','),
                etag,
                format(len(home.content), ','),
                format(len(home_gz_bytes), ','),
            ),
            flush=True,
        )

        l_fruits, l_home, l_home_gz = (
            'GET /fruits/ (fast path, JSON)',
            'GET / (store front)',
            'GET / Accept-Encoding: gzip',
        )
        endpoints = {
            l_fruits: ('/fruits/', {'Accept': 'application/json'}),
            l_home: ('/', {}),
            l_home_gz: ('/', {'Accept-Encoding': 'gzip'}),
        }
        ceilings = {}
        if lab:
            # The ceiling: nginx sending the very same bytes as static files (same host, server
            # block, TLS settings and wrk parameters): what no application can beat.
            copies = {'fruits.json': fast.content, 'storefront.html': home.content, 'storefront.html.gz': home_gz_bytes}
            place_ceiling(copies)
            for name, body in copies.items():
                copy = session.get(
                    '%s%s/%s' % (base, CEILING_URL, name),
                    headers={'Accept-Encoding': 'identity'},
                    timeout=30,
                    stream=True,
                )
                if copy.status_code != 200 or copy.raw.read(decode_content=False) != body:
                    sys.exit('the static copy %s%s/%s is not the same bytes' % (base, CEILING_URL, name))
            ceilings = {
                l_fruits: (
                    'ceiling: static copy of /fruits/',
                    CEILING_URL + '/fruits.json',
                    {'Accept': 'application/json'},
                ),
                l_home: ('ceiling: static copy of /', CEILING_URL + '/storefront.html', {}),
                l_home_gz: ('ceiling: static copy of / gzipped', CEILING_URL + '/storefront.html.gz', {}),
            }
        # Each endpoint right beside its ceiling, in --rounds rounds: the two cores are shared, so
        # a ratio is only fair between runs made under the same load.
        runs = []
        for dummy in range(args.rounds):
            for label, (path, headers) in endpoints.items():
                runs.append((label, path, headers))
                if label in ceilings:
                    runs.append(ceilings[label])
        runs.append(
            ('GET /fruits/ If-None-Match (304)', '/fruits/', {'Accept': 'application/json', 'If-None-Match': etag})
        )
        # the slow one last: requests it leaves queued must not spill into the others
        naive_label = 'GET /fruits/?format=json (naive: DRF)'
        runs.append((naive_label, '/fruits/?format=json', {'Accept': 'application/json'}))
        results = {}
        try:
            for label, path, headers in runs:
                drain(base + '/healthz', session=session)
                session.get(
                    base + path, headers=dict(headers, **{'Accept-Encoding': 'identity'}), timeout=30
                )  # warm-up
                print('  %s  %s ...' % (wrk.describe(args.duration), label), flush=True)
                results.setdefault(label, []).append(wrk.run(base + path, args.duration, headers))
            drain(base + '/healthz', session=session)
        finally:
            if lab:
                remove_ceiling()
        visible = 'not checked (no token)'
        if lab or args.token:
            visible = write_visible_everywhere(session, base, (token or args.token or lab_read(TOKEN_FILE)).strip())

    after = wrk.loadavg()
    ratios = {}
    for label, (ceiling_label, dummy, dummy) in ceilings.items():
        ratios[label] = [
            ours['rps'] / max(top['rps'], 0.01) for ours, top in zip(results[label], results[ceiling_label])
        ]
    print()
    print(
        '%-42s %5s %9s %8s %12s %9s %7s %9s'
        % ('endpoint', 'round', 'req/s', 'p99 ms', 'non-2xx/3xx', 'requests', 'MiB/s', 'x ceiling')
    )
    for label, rows in results.items():
        for number, row in enumerate(rows):
            note = '  socket errors: %s' % row['socket_errors'] if row['socket_errors'] else ''
            ratio = '%.2fx' % ratios[label][number] if label in ratios else ''
            values = (
                label,
                number + 1,
                row['rps'],
                row['p99_ms'],
                row['bad'],
                row['requests'],
                row['mb_s'],
                ratio,
                note,
            )
            print('%-42s %5d %9.1f %8.2f %12d %9d %7.1f %9s%s' % values)
    fast_row, naive_row = best(results[l_fruits]), results[naive_label][0]
    print()
    print(
        'ratio GET /fruits/ fast path / naive DRF serializer: %.1fx req/s, p99 %.1fx lower'
        % (fast_row['rps'] / max(naive_row['rps'], 0.01), naive_row['p99_ms'] / max(fast_row['p99_ms'], 0.001))
    )
    for label, values in ratios.items():
        print(
            'ratio %-36s / its ceiling (nginx, static file, same round): median %.2fx of %s%s'
            % (
                label,
                statistics.median(values),
                ' '.join('%.2f' % v for v in values),
                ' (target >= %.1fx)' % TARGET_CEILING_RATIO if label in (l_fruits, l_home) else '',
            )
        )
    print('a write visible at once on every worker: %s' % visible)
    print(
        'load average before: %s  after: %s (1/5/15 min; %d cores shared by wrk, nginx, gunicorn'
        ' and other sessions)' % (before, after, os.cpu_count() or 0)
    )
    missed = []
    for label in (l_fruits, l_home):
        row = best(results[label])
        ok = row['rps'] >= TARGET_RPS and row['p99_ms'] < TARGET_P99_MS and row['bad'] == 0
        if label in ratios:
            ok = ok and statistics.median(ratios[label]) >= TARGET_CEILING_RATIO
        print(
            'target >= %.0f req/s, p99 < %.0f ms%s: %-32s %s'
            % (
                TARGET_RPS,
                TARGET_P99_MS,
                ', >= %.1fx ceiling' % TARGET_CEILING_RATIO if ratios else '',
                label,
                'met' if ok else 'MISSED',
            )
        )
        if not ok:
            missed.append(label)
    if missed and args.check:
        return 1
    return 0


def best(rows):
    return max(rows, key=lambda row: row['rps'])


if __name__ == '__main__':
    sys.exit(main())
