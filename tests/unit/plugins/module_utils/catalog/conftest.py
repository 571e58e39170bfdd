# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the catalog client and sync tests: the real catalog site, no mocks.

The harness itself lives in ``tests/support`` (shared with the site's own tests and the
benchmarks); this file only makes fixtures of it. Import helpers from there, not from here.

* ``catalog_server`` (session): ``apps/catalog`` migrated into a temporary data dir (SQLite),
  an API token made with the site's own ``ensure_api_token`` command, and gunicorn with
  2 sync workers on 127.0.0.1 (a free port), serving ``/media/`` itself. Stopped by its PID.
* ``site`` (per test): the same server, emptied through the API (products, reviews, images)
  and its media folder, and started again if a test stopped it.
* ``proxy`` (per test): a ``FaultProxy`` (a real HTTP/1.1 proxy on 127.0.0.1 that answers
  scripted faults) in front of the site.
* ``supplier``, ``reviews_dir`` (per test): folders of test data.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.storeops.shop.tests.support.catalog_site import ROOT, CatalogSite, free_port
from ansible_collections.storeops.shop.tests.support.fault_proxy import FaultProxy
from ansible_collections.storeops.shop.tests.support.images import jpeg_bytes

# Still importable from here for test modules written before tests/support existed; new code
# imports them from tests/support.
__all__ = ['ROOT', 'FaultProxy', 'free_port', 'jpeg_bytes']


@pytest.fixture(scope='session')
def catalog_server(tmp_path_factory):
    server = CatalogSite(tmp_path_factory.mktemp('catalog-site'))
    server.prepare()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def site(catalog_server):
    if not catalog_server.running():
        catalog_server.stop()
        catalog_server.start()
    catalog_server.reset()
    yield catalog_server
    if not catalog_server.running():  # a test stopped it: bring it back for the next one
        catalog_server.stop()
        catalog_server.start()


@pytest.fixture
def proxy(site):
    instance = FaultProxy(site.port)
    try:
        yield instance
    finally:
        instance.close()


# --- test data ------------------------------------------------------------------------------------


class Supplier(object):
    """A supplier-data folder: ``descriptions/NNN.txt`` and ``images/NNN.jpeg``."""

    def __init__(self, root):
        self.root = str(root)
        self.descriptions = os.path.join(self.root, 'descriptions')
        self.images = os.path.join(self.root, 'images')
        os.makedirs(self.descriptions, exist_ok=True)
        os.makedirs(self.images, exist_ok=True)

    def product(self, number, name=None, weight='500 lbs', description=None, image=True, text=None):
        stem = '%03d' % number
        name = name or 'Fruit %d' % number
        if text is None:
            text = '%s\n%s\n%s\n' % (name, weight, description or 'Description of %s.\nSecond line.' % name)
        with open(os.path.join(self.descriptions, stem + '.txt'), 'w', encoding='utf-8') as handle:
            handle.write(text)
        if image:
            self.image(number)
        return os.path.join(self.descriptions, stem + '.txt')

    def image(self, number, data=None, seed=None):
        path = os.path.join(self.images, '%03d.jpeg' % number)
        with open(path, 'wb') as handle:
            handle.write(jpeg_bytes(seed if seed is not None else number) if data is None else data)
        return path

    def products(self, count, start=1):
        return [self.product(number) for number in range(start, start + count)]


@pytest.fixture
def supplier(tmp_path):
    return Supplier(tmp_path / 'supplier-data')


@pytest.fixture
def make_supplier(tmp_path):
    """More deliveries: ``make_supplier('delivery-b')``."""
    return lambda name: Supplier(tmp_path / name)


@pytest.fixture
def reviews_dir(tmp_path):
    folder = tmp_path / 'feedback'
    folder.mkdir()
    return folder
