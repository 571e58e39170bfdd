# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: storeops.shop.catalog_upload vs the naive ways, in the same run, same site.

    .venv/bin/python bench/bench_catalog_upload.py [--count 1000] [--uri-loop 20]
    .venv/bin/python bench/bench_catalog_upload.py --url https://web.lab.example --token T --ca-path ca.pem

Without ``--url`` it starts the catalog site (``apps/catalog``) under gunicorn with 2 sync
workers on 127.0.0.1 (a free port), SQLite in a temporary folder, ``/media/`` served by
Django (no nginx), and stops it by its PID at the end. With ``--url`` it talks to that
site only, with product names and image names that carry a per-run prefix.

Each phase uses its own set of ``--count`` products + 600x400 JPEG images (new names):

1. the module's code path (``_catalog_sync.sync_catalog``), first run: everything new;
2. the same, second run: nothing new (two GETs: the products and the image index);
3. the naive loop, as the course's scripts or an ``ansible.builtin.uri`` loop do it: per item
   a fresh ``requests.post`` to ``/upload/`` and one to ``/fruits/``, no session, no check;
4. the naive loop run again on the same items (it cannot know what is there);
5. with ``--uri-loop N`` (needs ansible-playbook): one ``ansible-playbook`` run with a single
   ``storeops.shop.catalog_upload`` task over ``--count`` new items, vs a playbook looping
   ``ansible.builtin.uri`` (upload, then POST) over N items and over 0 items; the loop's
   per-item cost is extrapolated to ``--count`` items (printed as such).

Not a test: nothing fails on a slow machine. On 2 cores, ``--count 1000 --uri-loop 20``
takes about 3 minutes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.ansible', 'collections'))
BIN = os.path.dirname(sys.executable)

import requests  # noqa: E402  (after the path set-up, like the module's own imports)

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import CatalogClient  # noqa: E402
from ansible_collections.storeops.shop.plugins.module_utils._catalog_sync import sync_catalog  # noqa: E402
from ansible_collections.storeops.shop.tests.support.catalog_site import CatalogSite  # noqa: E402


# --- data -----------------------------------------------------------------------------------------


def make_jpegs(count, seed=7):
    """``count`` different 600x400 JPEG files, like convert_images' output of supplier photos."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    base = Image.effect_noise((600, 400), 40).filter(ImageFilter.GaussianBlur(3)).convert('RGB')
    images = []
    for number in range(count):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        for dummy in range(6):
            x, y = rnd.randrange(560), rnd.randrange(360)
            draw.ellipse(
                (x, y, x + rnd.randrange(20, 200), y + rnd.randrange(20, 200)),
                fill=tuple(rnd.randrange(256) for dummy in range(3)),
            )
        draw.text((10, 10), 'fruit %d' % number, fill=(255, 255, 255))
        buffer = io.BytesIO()
        img.save(buffer, 'JPEG', quality=85)
        images.append(buffer.getvalue())
    return images


def write_set(folder, prefix, name_prefix, jpegs):
    """``folder/{descriptions,images}`` with one product per JPEG; returns the items."""
    descriptions = os.path.join(folder, 'descriptions')
    images = os.path.join(folder, 'images')
    os.makedirs(descriptions)
    os.makedirs(images)
    items = []
    for number, data in enumerate(jpegs, start=1):
        stem = '%s%04d' % (prefix, number)
        name = '%s%d' % (name_prefix, number)
        weight = 100 + number % 400
        text = 'Sweet, juicy and good for relieving heat. Product number %d.\nKeep cool.' % number
        with open(os.path.join(descriptions, stem + '.txt'), 'w') as handle:
            handle.write('%s\n%d lbs\n%s\n' % (name, weight, text))
        with open(os.path.join(images, stem + '.jpeg'), 'wb') as handle:
            handle.write(data)
        items.append(
            {
                'name': name,
                'weight': weight,
                'description': text,
                'image_name': stem + '.jpeg',
                'image_path': os.path.join(images, stem + '.jpeg'),
            }
        )
    return descriptions, images, items


# --- the ways -------------------------------------------------------------------------------------


def module_way(url, token, ca_path, descriptions, images):
    with CatalogClient(url, token=token, ca_path=ca_path) as client:
        started = time.perf_counter()
        result, dummy = sync_catalog(client, descriptions, images)
        elapsed = time.perf_counter() - started
        if result['errors'] or result['pending']:
            raise SystemExit('module run failed: %s' % result['msg'])
        return elapsed, result, client.requests_sent


def naive_way(url, token, ca_path, items):
    """What a course script or an ``ansible.builtin.uri`` loop does: one new connection per request."""
    headers = {'Authorization': 'Token %s' % token}
    verify = ca_path or True
    statuses = {}
    started = time.perf_counter()
    for item in items:
        with open(item['image_path'], 'rb') as handle:
            response = requests.post(
                url + '/upload/',
                files={'file': (item['image_name'], handle, 'image/jpeg')},
                headers=headers,
                verify=verify,
                timeout=30,
            )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        record = dict((key, item[key]) for key in ('name', 'weight', 'description', 'image_name'))
        response = requests.post(url + '/fruits/', json=record, headers=headers, verify=verify, timeout=30)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return time.perf_counter() - started, statuses


URI_PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Upload each image
      ansible.builtin.uri:
        url: "{{ url }}/upload/"
        method: POST
        headers:
          Authorization: "Token {{ token }}"
        body_format: form-multipart
        body:
          file:
            filename: "{{ item.image_path }}"
            mime_type: image/jpeg
        status_code: [200, 201]
        ca_path: "{{ ca_path | default(omit) }}"
      loop: "{{ items }}"
      loop_control:
        label: "{{ item.image_name }}"

    - name: Post each product
      ansible.builtin.uri:
        url: "{{ url }}/fruits/"
        method: POST
        headers:
          Authorization: "Token {{ token }}"
        body_format: json
        body:
          name: "{{ item.name }}"
          weight: "{{ item.weight }}"
          description: "{{ item.description }}"
          image_name: "{{ item.image_name }}"
        status_code: 201
        ca_path: "{{ ca_path | default(omit) }}"
      loop: "{{ items }}"
      loop_control:
        label: "{{ item.name }}"
"""

MODULE_PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: One module call for every product
      storeops.shop.catalog_upload:
        url: "{{ url }}"
        token: "{{ token }}"
        ca_path: "{{ ca_path | default(omit) }}"
        descriptions: "{{ descriptions }}"
        images: "{{ images }}"
"""


def ansible_playbook(workdir, name, text, extra):
    path = os.path.join(workdir, name)
    with open(path, 'w') as handle:
        handle.write(text)
    extra = dict(extra, ansible_python_interpreter=sys.executable)
    vars_file = os.path.join(workdir, name + '.vars.json')
    with open(vars_file, 'w') as handle:
        json.dump(extra, handle)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.ansible', 'collections'),
        ANSIBLE_NOCOLOR='1',
    )
    started = time.perf_counter()
    process = subprocess.run(
        [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e', '@' + vars_file, path],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit('%s failed:\n%s%s' % (name, process.stdout[-3000:], process.stderr[-3000:]))
    return elapsed


# --- main -----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--url', help='catalog site to use (default: start one on 127.0.0.1)')
    parser.add_argument(
        '--token',
        default=os.environ.get('STOREOPS_CATALOG_TOKEN'),
        help='API token for --url (default: $STOREOPS_CATALOG_TOKEN)',
    )
    parser.add_argument('--ca-path', help='CA certificate (PEM) for an https --url')
    parser.add_argument('--count', type=int, default=1000, help='products + images per phase (default 1000)')
    parser.add_argument(
        '--uri-loop',
        type=int,
        default=0,
        metavar='N',
        help='also run ansible-playbook: the module vs an ansible.builtin.uri loop over N items',
    )
    parser.add_argument('--workdir', help='keep the generated files here (default: a temporary folder)')
    args = parser.parse_args()
    if args.url and not args.token:
        parser.error('--url needs --token (or STOREOPS_CATALOG_TOKEN)')
    if args.count < 1 or args.uri_loop < 0:
        parser.error('--count must be at least 1 and --uri-loop at least 0')

    workdir = args.workdir or tempfile.mkdtemp(prefix='bench-catalog-')
    os.makedirs(workdir, exist_ok=True)
    site = None
    try:
        if args.url:
            url, token, where = args.url.rstrip('/'), args.token, args.url
        else:
            site = CatalogSite(
                os.path.join(workdir, 'site'),
                workers=2,
                username='bench',
                settings={'CATALOG_ALLOWED_HOSTS': '127.0.0.1'},
                gunicorn_args=['--graceful-timeout', '5'],
            )
            site.prepare()
            site.start()
            url, token = site.url, site.token
            where = '%s (local gunicorn, 2 sync workers, SQLite, /media/ served by Django)' % url
        run_id = '%x' % int(time.time()) if args.url else ''
        count = args.count

        started = time.perf_counter()
        jpegs = make_jpegs(count)
        average = sum(len(data) for data in jpegs) / len(jpegs) / 1024
        print(
            'catalog_upload benchmark: %d products + %d images (600x400 JPEG, %.0f KiB average) per phase -> %s'
            % (count, count, average, where)
        )
        print('  (test data made in %.1f s)' % (time.perf_counter() - started))

        d_mod, i_mod, dummy = write_set(
            os.path.join(workdir, 'module'), 'm%s' % run_id, 'Module fruit %s' % run_id, jpegs
        )
        t1, result, sent1 = module_way(url, token, args.ca_path, d_mod, i_mod)
        assert result['counts']['created'] == count, result['msg']
        print(
            'module code path, 1st run (all new):         %7.2f s  %6.0f products/s  %5d requests'
            % (t1, count / t1, sent1)
        )
        t2, result, sent2 = module_way(url, token, args.ca_path, d_mod, i_mod)
        assert result['changed'] is False and result['counts']['unchanged'] == count, result['msg']
        print(
            'module code path, 2nd run (nothing new):     %7.2f s  %6.0f products/s  %5d requests   '
            '1st/2nd = %.1fx' % (t2, count / t2, sent2, t1 / t2)
        )

        dummy, dummy, naive_items = write_set(
            os.path.join(workdir, 'naive'), 'n%s' % run_id, 'Naive fruit %s' % run_id, jpegs
        )
        n1, statuses1 = naive_way(url, token, args.ca_path, naive_items)
        print(
            'naive loop, 1st run (requests.post per request, no session, no check):  %7.2f s  statuses %s   '
            'naive/module = %.2fx' % (n1, statuses1, n1 / t1)
        )
        n2, statuses2 = naive_way(url, token, args.ca_path, naive_items)
        print(
            'naive loop, 2nd run (same items again):      %7.2f s  statuses %s   naive 2nd/module 2nd = %.1fx'
            % (n2, statuses2, n2 / t2)
        )
        print(
            '  (the naive 2nd run sends every image again and gets %d x 409 "already exists" for the products;'
            ' on a site without unique names it would have made %d duplicates)' % (statuses2.get(409, 0), count)
        )

        if args.uri_loop:
            extra = {'url': url, 'token': token}
            if args.ca_path:
                extra['ca_path'] = os.path.abspath(args.ca_path)
            d_one, i_one, dummy = write_set(
                os.path.join(workdir, 'playbook'), 'a%s' % run_id, 'Playbook fruit %s' % run_id, jpegs
            )
            tm = ansible_playbook(workdir, 'module.yml', MODULE_PLAYBOOK, dict(extra, descriptions=d_one, images=i_one))
            print('ansible-playbook, one catalog_upload task over %d new items:  %7.2f s' % (count, tm))
            dummy, dummy, uri_items = write_set(
                os.path.join(workdir, 'uri'), 'u%s' % run_id, 'Uri fruit %s' % run_id, jpegs[: args.uri_loop]
            )
            uri_items = [
                dict((k, item[k]) for k in ('name', 'weight', 'description', 'image_name', 'image_path'))
                for item in uri_items
            ]
            t0 = ansible_playbook(workdir, 'uri0.yml', URI_PLAYBOOK, dict(extra, items=[]))
            tu = ansible_playbook(workdir, 'uri.yml', URI_PLAYBOOK, dict(extra, items=uri_items))
            per_item = max(tu - t0, 0.0) / args.uri_loop
            extrapolated = t0 + per_item * count
            print(
                'ansible-playbook, uri loop (upload + POST) over %d items: %.2f s (empty loop %.2f s) -> %.3f s per '
                'item' % (args.uri_loop, tu, t0, per_item)
            )
            print(
                '  extrapolated to %d items: %.0f s   uri loop / one module call = %.1fx'
                % (count, extrapolated, extrapolated / tm)
            )
    finally:
        if site is not None:
            site.stop()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
