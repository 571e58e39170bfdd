# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the catalog client and sync tests: the real catalog site, no mocks.

* ``catalog_server`` (session): ``apps/catalog`` migrated into a temporary data dir (SQLite),
  an API token made with the site's own ``ensure_api_token`` command, and gunicorn with
  2 sync workers on 127.0.0.1 (a free port), serving ``/media/`` itself. Stopped by its PID.
* ``site`` (per test): the same server, emptied through the API (and its media folder),
  and started again if a test stopped it.
* ``proxy`` (per test): a small real HTTP/1.1 proxy on 127.0.0.1 in front of the site that
  can answer a scripted status (503 ...), drop a connection, delay, or call a hook (to
  stop gunicorn after N requests). When gunicorn is down it answers 502 as nginx does.
"""

from __future__ import annotations

import collections
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 5)))
APP_DIR = os.path.join(ROOT, 'apps', 'catalog')
PYTHON = sys.executable
NGINX_502 = (b'<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>'
             b'</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n')
HOP_HEADERS = frozenset(('connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer',
                         'upgrade', 'content-length'))


def _die_with_parent():
    """In the child before exec: get SIGTERM if the process that started us dies (Linux), so
    that a killed test or benchmark run never leaves a gunicorn behind."""
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class CatalogServer(object):
    """The catalog site under gunicorn on 127.0.0.1, in its own data dir."""

    def __init__(self, data_dir):
        self.data_dir = str(data_dir)
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.process = None
        self.log = None
        self.env = dict((key, value) for key, value in os.environ.items()
                        if not key.startswith(('CATALOG_', 'DJANGO_')))
        self.env.update(
            PYTHONPATH=APP_DIR,
            DJANGO_SETTINGS_MODULE='catalog_site.settings',
            CATALOG_CONFIG='',
            CATALOG_DEBUG='false',
            CATALOG_SECRET_KEY='unit-test-only-' + 'k' * 50,
            CATALOG_DATA_DIR=self.data_dir,
            CATALOG_TLS='false',
            CATALOG_SERVE_FILES='true',
            CATALOG_ALLOWED_HOSTS='127.0.0.1 localhost',
            CATALOG_LOG_LEVEL='WARNING',
        )
        self.token = None

    @property
    def media_images(self):
        return os.path.join(self.data_dir, 'media', 'images')

    def manage(self, *args):
        result = subprocess.run([PYTHON, '-m', 'catalog_site.manage'] + list(args), env=self.env, cwd=self.data_dir,
                                capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def prepare(self):
        self.manage('migrate', '--noinput')
        out = self.manage('ensure_api_token', '--username', 'uploader', '--print-token')
        self.token = json.loads(out)['token']

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self, timeout=60):
        assert not self.running()
        self.log = open(os.path.join(self.data_dir, 'gunicorn.log'), 'a')
        self.process = subprocess.Popen(
            [PYTHON, '-m', 'gunicorn', 'catalog_site.wsgi:application', '--workers', '2', '--bind',
             '127.0.0.1:%d' % self.port, '--graceful-timeout', '5', '--timeout', '60'],
            env=self.env, cwd=self.data_dir, stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        try:
            self._wait_until_healthy(timeout)
        except BaseException:  # never leave a gunicorn behind, whatever went wrong (Ctrl-C included)
            self.stop()
            raise

    def _wait_until_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url + '/healthz', timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # refused while binding, slow while the workers import Django
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(self.data_dir, 'gunicorn.log')) as handle:
                    pytest.fail('gunicorn did not come up:\n' + handle.read()[-3000:])
            time.sleep(0.1)

    def stop(self):
        """SIGTERM the gunicorn we started (by its PID) and wait for it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def auth(self):
        return {'Authorization': 'Token %s' % self.token}

    def products(self):
        return requests.get(self.url + '/fruits/', timeout=10).json()

    def reviews(self):
        return requests.get(self.url + '/feedback/', timeout=10).json()

    def reset(self):
        """Empty the catalog through the API, and the media folder."""
        with requests.Session() as session:
            session.headers.update(self.auth())
            for path, items in (('/fruits/', self.products()), ('/feedback/', self.reviews())):
                for item in items:
                    response = session.delete('%s%s%d/' % (self.url, path, item['id']), timeout=10)
                    assert response.status_code == 204, response.text
        shutil.rmtree(self.media_images, ignore_errors=True)


@pytest.fixture(scope='session')
def catalog_server(tmp_path_factory):
    server = CatalogServer(tmp_path_factory.mktemp('catalog-site'))
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


# --- a real proxy that can misbehave --------------------------------------------------------


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _handle(self):
        proxy = self.server.proxy
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        with proxy.lock:
            proxy.count += 1
            number = proxy.count
            fault = proxy.faults.popleft() if proxy.faults else None
        if proxy.hook is not None:
            override = proxy.hook(number, self.command, self.path)
            if override is not None:  # the hook scripts this request's fault itself
                fault = override
        if isinstance(fault, tuple) and fault[0] == 'delay':
            time.sleep(fault[1])
            fault = None
        if fault == 'drop':
            proxy.record(self, None)
            self.close_connection = True
            return
        if isinstance(fault, int):
            fault = ('status', fault, {})
        if isinstance(fault, tuple) and fault[0] == 'status':
            payload = json.dumps({'detail': 'scripted %d from the test proxy' % fault[1]}).encode()
            proxy.record(self, fault[1])  # before answering: the client may look at the log at once
            self._answer(fault[1], [('Content-Type', 'application/json')] + list(fault[2].items()), payload)
            return
        headers = dict((key, value) for key, value in self.headers.items() if key.lower() not in HOP_HEADERS)
        try:
            upstream = http.client.HTTPConnection('127.0.0.1', proxy.upstream_port, timeout=60)
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            status, reason, response_headers = response.status, response.reason, response.getheaders()
            upstream.close()
        except OSError:
            proxy.record(self, 502)
            self._answer(502, [('Content-Type', 'text/html'), ('Server', 'nginx')], NGINX_502)
            return
        if fault == 'drop-after':  # the site did the work, the client never hears about it
            proxy.record(self, None)
            self.close_connection = True
            return
        proxy.record(self, status)
        self._answer(status, [(k, v) for k, v in response_headers if k.lower() not in HOP_HEADERS], data, reason)

    def _answer(self, status, headers, data, reason=None):
        self.send_response(status, reason)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _handle


class FaultProxy(object):
    """A real HTTP/1.1 keep-alive proxy on 127.0.0.1 with scripted faults.

    ``faults`` is consumed one entry per request: an int answers that status itself
    (``('status', 503, {'Retry-After': '1'})`` with extra headers),
    ``'drop'`` closes the connection without an answer, ``'drop-after'`` forwards the
    request and then closes the connection without passing the answer on,
    ``('delay', s)`` waits first, ``None`` forwards normally.
    """

    def __init__(self, upstream_port, ssl_context=None):
        self.upstream_port = upstream_port
        self.faults = collections.deque()
        self.hook = None
        self.lock = threading.Lock()
        self.count = 0
        self.log = []
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.proxy = self
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        scheme = 'https' if ssl_context is not None else 'http'
        self.url = '%s://127.0.0.1:%d' % (scheme, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()

    def record(self, handler, status):
        with self.lock:
            self.log.append({'port': handler.client_address[1], 'method': handler.command,
                             'path': handler.path, 'status': status})

    def requests_to(self, method, prefix):
        return [entry for entry in self.log if entry['method'] == method and entry['path'].startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(site):
    instance = FaultProxy(site.port)
    try:
        yield instance
    finally:
        instance.close()


# --- test data ------------------------------------------------------------------------------------


def jpeg_bytes(seed, size=(60, 40)):
    from PIL import Image
    buffer = io.BytesIO()
    Image.new('RGB', size, ((seed * 47) % 256, (seed * 91) % 256, (seed * 13) % 256)).save(buffer, 'JPEG', quality=90)
    return buffer.getvalue()


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
