# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalog site (``apps/catalog``) under a real gunicorn on 127.0.0.1: the one harness
used by the unit tests of the catalog modules, the site's own multi-worker tests and the
benchmarks.

    site = CatalogSite(tmp_dir, workers=2)
    site.prepare()          # migrate + an API token made by the site's own ensure_api_token
    site.start()            # gunicorn on a free port; waits for /healthz; stops on failure
    ...                     # site.url, site.token, site.auth(), site.products()
    site.stop()             # SIGTERM to the PID we started, then SIGKILL after 20 s

``with CatalogSite(...) as site:`` does prepare + start, and stop at the end. The gunicorn
child gets ``PR_SET_PDEATHSIG``: if the process that started it dies (a killed pytest or
benchmark), the kernel sends gunicorn SIGTERM, so no run leaves a server behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
APP_DIR = os.path.join(ROOT, 'apps', 'catalog')
PR_SET_PDEATHSIG = 1


class SiteError(RuntimeError):
    """The site could not be prepared or did not come up (the message has the log's end)."""


def free_port(host='127.0.0.1'):
    """A TCP port that nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def die_with_parent():
    """``preexec_fn``: the child gets SIGTERM when the process that started it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL('libc.so.6', use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the stop() in a finally is all there is
        pass


def site_environment(data_dir, settings_module='catalog_site.settings', pythonpath=(), **settings):
    """The environment the site runs with: this process's, less every ``CATALOG_*`` and
    ``DJANGO_*`` variable, plus a test configuration (no config file, no TLS, a throw-away
    key, ``/media/`` served by Django) and ``settings`` (``CATALOG_LOG_LEVEL='INFO'``...)."""
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(('CATALOG_', 'DJANGO_')))
    env.update(
        PYTHONPATH=os.pathsep.join([APP_DIR] + [str(path) for path in pythonpath]),
        DJANGO_SETTINGS_MODULE=settings_module,
        CATALOG_CONFIG='',
        CATALOG_DEBUG='false',
        CATALOG_SECRET_KEY='test-only-' + 'k' * 50,
        CATALOG_DATA_DIR=str(data_dir),
        CATALOG_TLS='false',
        CATALOG_SERVE_FILES='true',
        CATALOG_ALLOWED_HOSTS='127.0.0.1 localhost',
        CATALOG_LOG_LEVEL='WARNING',
    )
    env.update((key, str(value)) for key, value in settings.items())
    return env


class CatalogSite(object):
    """The catalog site under gunicorn (sync workers) on 127.0.0.1, in its own data dir."""

    def __init__(
        self,
        data_dir,
        workers=2,
        settings_module='catalog_site.settings',
        pythonpath=(),
        settings=None,
        python=sys.executable,
        gunicorn_args=('--graceful-timeout', '5', '--timeout', '60'),
        username='uploader',
        wsgi_app='catalog_site.wsgi:application',
    ):
        self.wsgi_app = wsgi_app
        self.data_dir = str(data_dir)
        self.workers = workers
        self.python = python
        self.gunicorn_args = list(gunicorn_args)
        self.username = username
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.env = site_environment(self.data_dir, settings_module, pythonpath, **(settings or {}))
        self.token = None
        self.process = None
        self._log = None

    # --- set-up --------------------------------------------------------------------------

    @property
    def log_path(self):
        return os.path.join(self.data_dir, 'gunicorn.log')

    @property
    def media_images(self):
        return os.path.join(self.data_dir, 'media', 'images')

    def manage(self, *args, **kwargs):
        """Run ``catalog-manage ARGS`` in the site's environment; its stdout. ``input=`` feeds stdin."""
        result = subprocess.run(
            [self.python, '-m', 'catalog_site.manage'] + list(args),
            env=self.env,
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            input=kwargs.get('input'),
        )
        if result.returncode != 0:
            raise SiteError(
                'catalog-manage %s failed (exit %d):\n%s' % (' '.join(args), result.returncode, result.stderr[-3000:])
            )
        return result.stdout

    def python_code(self, code, timeout=300):
        """Run Python ``code`` in the site's environment (``django.setup()`` is up to it); its stdout."""
        result = subprocess.run(
            [self.python, '-c', code],
            env=self.env,
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise SiteError('python code in the site environment failed:\n%s' % result.stderr[-3000:])
        return result.stdout

    def prepare(self):
        """Migrate the database and make the API user's token (the site's own commands)."""
        os.makedirs(self.data_dir, exist_ok=True)
        self.manage('migrate', '--noinput')
        out = self.manage('ensure_api_token', '--username', self.username, '--print-token')
        self.token = json.loads(out)['token']
        return self

    # --- gunicorn -------------------------------------------------------------------------

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self, timeout=60):
        """Start gunicorn and wait until ``/healthz`` answers 200; stop it again on any failure."""
        if self.running():
            raise SiteError('gunicorn is already running (pid %d)' % self.pid)
        self._log = open(self.log_path, 'a')
        command = [
            self.python,
            '-m',
            'gunicorn',
            self.wsgi_app,
            '--workers',
            str(self.workers),
            '--worker-class',
            'sync',
            '--bind',
            '127.0.0.1:%d' % self.port,
        ] + self.gunicorn_args
        self.process = subprocess.Popen(
            command,
            env=self.env,
            cwd=self.data_dir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        try:
            self.wait_until_healthy(timeout)
        except BaseException:  # never leave a gunicorn behind, whatever went wrong (Ctrl-C included)
            self.stop()
            raise
        return self

    def wait_until_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url + '/healthz', timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # refused while binding, slow while the workers import Django
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SiteError(
                    'gunicorn did not come up (%s):\n%s'
                    % (
                        'exited %s' % self.process.returncode
                        if self.process.poll() is not None
                        else 'no answer in %d s' % timeout,
                        self.log_tail(),
                    )
                )
            time.sleep(0.1)

    def stop(self):
        """SIGTERM the gunicorn we started (by its PID) and wait for it; SIGKILL after 20 s."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, timeout=60):
        self.stop()
        return self.start(timeout)

    def log_tail(self, size=3000):
        try:
            with open(self.log_path, errors='replace') as handle:
                return handle.read()[-size:]
        except OSError:
            return '(no log)'

    def __enter__(self):
        if self.token is None:
            self.prepare()
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- the API, for set-up and checks ----------------------------------------------------

    def auth(self):
        return {'Authorization': 'Token %s' % self.token}

    def products(self):
        return requests.get(self.url + '/fruits/', timeout=10).json()

    def reviews(self):
        return requests.get(self.url + '/feedback/', timeout=10).json()

    def images(self):
        return requests.get(self.url + '/images/', timeout=10).json()

    def reset(self):
        """Empty the catalog through the API (products, reviews, then images), and the media folder."""
        with requests.Session() as session:
            session.headers.update(self.auth())
            for path, items in (('/fruits/', self.products()), ('/feedback/', self.reviews())):
                for item in items:
                    response = session.delete('%s%s%d/' % (self.url, path, item['id']), timeout=10)
                    if response.status_code != 204:
                        raise SiteError(
                            'DELETE %s%d/ answered %d: %s'
                            % (path, item['id'], response.status_code, response.text[:300])
                        )
            for image in self.images():
                response = session.delete('%s/images/%s' % (self.url, requests.utils.quote(image['name'])), timeout=10)
                if response.status_code not in (204, 404):
                    raise SiteError(
                        'DELETE /images/%s answered %d: %s' % (image['name'], response.status_code, response.text[:300])
                    )
        shutil.rmtree(self.media_images, ignore_errors=True)


def drain(url, session=None, threshold=0.05, timeout=15.0, probes=60, **request_kwargs):
    """Wait, bounded (``timeout`` seconds, ``probes`` requests), until three GETs of ``url`` in a
    row answer within ``threshold`` seconds: requests queued by a previous load run must not
    be counted against the next one. Returns whether the workers were seen idle."""
    get = (session or requests).get
    deadline = time.monotonic() + timeout
    fast = 0
    for dummy in range(probes):
        if fast >= 3:
            return True
        if time.monotonic() > deadline:
            return False
        start = time.monotonic()
        get(url, timeout=10, **request_kwargs)
        fast = fast + 1 if time.monotonic() - start < threshold else 0
        time.sleep(0.05)
    return fast >= 3
