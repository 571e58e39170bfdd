# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP client for the catalog site (``apps/catalog``), shared by catalog_upload and review_upload.

One :class:`CatalogClient` holds one ``requests.Session``: connections are kept alive and
reused (with nginx and TLS in front of the site that saves a TCP and a TLS handshake per
request). Every request has a timeout. Connection errors, timeouts and the gateway answers
502, 503 and 504 are retried with exponential backoff (honouring ``Retry-After``); a 4xx
is never retried. What finally goes wrong is raised as:

* :class:`CatalogAuthError` - 401/403: the token is missing, wrong or not allowed to write;
* :class:`CatalogHTTPError` - any other 4xx/5xx answer, with the status and the site's own
  message (DRF's ``detail`` or its field errors);
* :class:`CatalogTLSError` - the certificate could not be verified (never retried);
* :class:`CatalogUnavailable` - no usable answer after all retries (site down, 502-504).

All of them derive from :class:`CatalogError`. The token never appears in a message.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import traceback
from urllib.parse import quote, urljoin, urlsplit

from ansible.module_utils.basic import env_fallback

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

USER_AGENT = 'storeops.shop/1.0.0'
RETRY_STATUSES = frozenset((502, 503, 504))
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
BACKOFF = 0.5  # first pause; doubled after every failed attempt
MAX_PAUSE = 30.0  # longest pause between two attempts, Retry-After included
MAX_PAGES = 10000  # a site that keeps sending "next" links is broken
MEDIA_IMAGES = '/media/images/'
IMAGES_INDEX = '/images/'
# Requests in flight at most (image uploads); the connection pool holds as many.
CONCURRENCY = 4
# The catalog site's limits (apps/catalog serializers): checked before the first write, so
# that nothing is uploaded for a record the site would refuse.
LIMITS = {
    'product_name': 200,
    'description': 20000,
    'weight': 2147483647,
    'review_title': 200,
    'review_name': 100,
    'feedback': 20000,
}
_TAGS = re.compile(r'<(script|style)\b.*?</\1\s*>|<[^>]+>', re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r'\s+')


def catalog_argument_spec():
    """The connection options of the catalog modules (documented in ``storeops.shop.catalog``)."""
    return dict(
        url=dict(type='str', required=True, fallback=(env_fallback, ['STOREOPS_CATALOG_URL'])),
        token=dict(type='str', no_log=True, fallback=(env_fallback, ['STOREOPS_CATALOG_TOKEN'])),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=DEFAULT_TIMEOUT),
        retries=dict(type='int', default=DEFAULT_RETRIES),
    )


def client_from(options, **kwargs):
    """The :class:`CatalogClient` for a module's connection options."""
    return CatalogClient(
        options['url'],
        token=options.get('token'),
        validate_certs=options.get('validate_certs', True),
        ca_path=options.get('ca_path'),
        timeout=options.get('timeout', DEFAULT_TIMEOUT),
        retries=options.get('retries', DEFAULT_RETRIES),
        **kwargs,
    )


class CatalogError(Exception):
    """Something went wrong talking to the catalog site; ``str()`` is the full explanation."""

    def __init__(self, message, method=None, url=None, status=None):
        super(CatalogError, self).__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.status = status

    def __str__(self):
        return self.message


class CatalogHTTPError(CatalogError):
    """The site answered with a 4xx or 5xx status. ``payload`` is the parsed JSON body (or None)."""

    def __init__(self, message, method=None, url=None, status=None, payload=None, site_message=''):
        super(CatalogHTTPError, self).__init__(message, method, url, status)
        self.payload = payload
        self.site_message = site_message
        self.attempts = 1


class CatalogAuthError(CatalogHTTPError):
    """401 or 403: the token is missing, wrong, or may not write."""


class CatalogTLSError(CatalogError):
    """The site's certificate could not be verified."""


class CatalogUnavailable(CatalogError):
    """No usable answer after every retry: connection refused/reset, timeout, or 502/503/504."""

    def __init__(self, message, method=None, url=None, status=None, attempts=0):
        super(CatalogUnavailable, self).__init__(message, method, url, status)
        self.attempts = attempts


def site_message(payload, text=''):
    """A one-line summary of what the site said: DRF's ``detail``, field errors, or plain text."""
    if payload is None:
        text = _SPACE.sub(' ', _TAGS.sub(' ', text or '')).strip()
        return text[:300] + ('...' if len(text) > 300 else '')
    if isinstance(payload, dict):
        parts = []
        for key, value in payload.items():
            value = site_message(value)
            if key in ('detail', 'non_field_errors'):
                parts.append(value)
            else:
                parts.append('%s: %s' % (key, value))
        return '; '.join(part for part in parts if part)
    if isinstance(payload, (list, tuple)):
        return ' '.join(site_message(item) for item in payload)
    return str(payload)


def error_code(error):
    """The site's machine-readable error code (``{"code": "duplicate", ...}``), or None."""
    payload = getattr(error, 'payload', None)
    code = payload.get('code') if isinstance(payload, dict) else None
    return code if isinstance(code, str) else None


def is_duplicate(error):
    """True when the site says the object already exists.

    Our site answers 409 with ``code: duplicate``. A site of the course's kind answers 400
    with Django's own unique-check messages, which are matched as a fallback.
    """
    if not isinstance(error, CatalogHTTPError):
        return False
    if error.status == 409:
        return error_code(error) in ('duplicate', None)
    if error.status != 400:
        return False
    message = error.site_message or ''
    return 'already exists' in message or 'must make a unique set' in message


class _TokenAuth(object):
    """``Authorization: Token <token>`` on every request (also keeps ``~/.netrc`` out of it)."""

    def __init__(self, token):
        self._token = token

    def __call__(self, request):
        if self._token:
            request.headers['Authorization'] = 'Token %s' % self._token
        return request

    def __repr__(self):
        return '<token auth>'


def _pause_for(response, default):
    """The pause before the next attempt: ``Retry-After`` (seconds) if the site sent one."""
    value = response.headers.get('Retry-After') if response is not None else None
    if value and value.strip().isdigit():
        return min(max(float(value.strip()), default), MAX_PAUSE)
    return min(default, MAX_PAUSE)


class CatalogClient(object):
    """The catalog site's API: ``GET|POST /fruits/``, ``POST /upload/``, ``GET|POST /feedback/``.

    ``url`` is the site's base URL (``https://web.example`` or ``https://host/shop``).
    ``retries`` is the number of attempts after the first one; ``backoff`` the first pause
    in seconds, doubled after each attempt. ``sleep`` exists so that tests can record the
    pauses; it defaults to :func:`time.sleep`.
    """

    def __init__(
        self,
        url,
        token=None,
        validate_certs=True,
        ca_path=None,
        timeout=DEFAULT_TIMEOUT,
        retries=DEFAULT_RETRIES,
        backoff=BACKOFF,
        user_agent=USER_AGENT,
        sleep=time.sleep,
    ):
        if not HAS_REQUESTS:
            raise CatalogError('the Python library requests is required')
        parts = urlsplit(url or '')
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise CatalogError('url %r is not an http:// or https:// URL of the catalog site' % (url,))
        if parts.query or parts.fragment:
            raise CatalogError('url %r must not have a query string or fragment' % (url,))
        if timeout is None or timeout <= 0:
            raise CatalogError('timeout must be a positive number of seconds, got %r' % (timeout,))
        if retries is None or retries < 0:
            raise CatalogError('retries must be 0 or more, got %r' % (retries,))
        self.base = url.rstrip('/') + '/'
        self.has_token = bool(token)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.sleep = sleep
        self.requests_sent = 0
        self._count_lock = threading.Lock()
        self.session = requests.Session()
        self.session.auth = _TokenAuth(token)
        self.session.headers['User-Agent'] = '%s python-requests/%s' % (user_agent, requests.__version__)
        self.session.headers['Accept'] = 'application/json'
        # Retries are ours (they know which answers are worth retrying); the adapter's are off.
        adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=CONCURRENCY)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)
        # Passed with every request: a session's own verify loses to REQUESTS_CA_BUNDLE.
        self.verify = True
        if not validate_certs:
            self.verify = False
            try:
                from urllib3.exceptions import InsecureRequestWarning
                import urllib3

                urllib3.disable_warnings(InsecureRequestWarning)
            except ImportError:  # pragma: no cover - urllib3 comes with requests
                pass
        elif ca_path:
            self.verify = ca_path

    # --- plumbing ----------------------------------------------------------------

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def url_for(self, path):
        """Absolute URL of ``path`` (relative to the site's base URL)."""
        return urljoin(self.base, path.lstrip('/'))

    def request(self, method, path, expected=(200,), **kwargs):
        """Send one request, retrying what is worth retrying; return the response.

        ``expected`` lists the statuses that are answers (returned); any other status
        raises a :class:`CatalogHTTPError`. The response gets an ``attempts`` attribute:
        more than 1 means the request was retried, which matters for a POST whose first
        attempt may have reached the site.
        """
        url = path if path.startswith(('http://', 'https://')) else self.url_for(path)
        kwargs.setdefault('timeout', self.timeout)
        kwargs.setdefault('verify', self.verify)
        pause = self.backoff
        attempt = 0
        while True:
            attempt += 1
            response = None
            try:
                with self._count_lock:
                    self.requests_sent += 1
                response = self.session.request(method, url, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise CatalogTLSError(
                    '%s %s: the TLS connection failed: %s. If the site uses a certificate of its own CA (such as the '
                    'webserver role\'s self-signed one), give that CA certificate in ca_path; validate_certs=false '
                    'turns verification off.' % (method, url, _reason(exc)),
                    method,
                    url,
                )
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                problem = _reason(exc)
                if isinstance(exc, requests.exceptions.Timeout):
                    problem = 'no answer within %g seconds (%s)' % (self.timeout, problem)
                if attempt > self.retries:
                    raise CatalogUnavailable(
                        '%s %s: the catalog site is unreachable after %d attempt%s: %s'
                        % (method, url, attempt, '' if attempt == 1 else 's', problem),
                        method,
                        url,
                        attempts=attempt,
                    )
            except requests.exceptions.RequestException as exc:
                raise CatalogError('%s %s: %s' % (method, url, _reason(exc)), method, url)
            else:
                if response.status_code not in RETRY_STATUSES or response.status_code in expected:
                    response.attempts = attempt
                    if response.status_code in expected:
                        return response
                    error = self._http_error(method, url, response)
                    error.attempts = attempt
                    raise error
                if attempt > self.retries:
                    error = self._http_error(method, url, response)
                    raise CatalogUnavailable(
                        '%s after %d attempt%s' % (error.message, attempt, '' if attempt == 1 else 's'),
                        method,
                        url,
                        response.status_code,
                        attempts=attempt,
                    )
                response.close()
            self.sleep(_pause_for(response, pause))
            pause *= 2

    def _http_error(self, method, url, response):
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message = site_message(payload, response.text if payload is None else '')
        text = '%s %s: HTTP %d %s' % (method, url, response.status_code, response.reason or '')
        text = text.rstrip() + (': %s' % message if message else '')
        if response.status_code in (401, 403):
            if self.has_token:
                hint = 'the site refused the token: check the token option (the API token the webserver role created)'
            else:
                hint = 'the site needs a token to write: set the token option (or STOREOPS_CATALOG_TOKEN)'
            return CatalogAuthError('%s (%s)' % (text, hint), method, url, response.status_code, payload, message)
        return CatalogHTTPError(text, method, url, response.status_code, payload, message)

    # --- the API -------------------------------------------------------------------

    def get_json(self, path, **kwargs):
        response = self.request('GET', path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise CatalogError(
                'GET %s: the answer is not JSON (is url the catalog site?): %s'
                % (response.url, site_message(None, response.text)),
                'GET',
                response.url,
                response.status_code,
            )

    def list_all(self, path):
        """Every object of a list endpoint (``/fruits/``, ``/feedback/``).

        The site answers a plain GET with the whole list as a JSON array. A site that pages
        anyway (``{count, next, previous, results}``) is followed page by page.
        """
        data = self.get_json(path)
        if isinstance(data, list):
            return data
        items = []
        pages = 0
        while True:
            if not isinstance(data, dict) or not isinstance(data.get('results'), list):
                raise CatalogError(
                    'GET %s: expected a JSON list or a page {count, next, results}, got %s'
                    % (self.url_for(path), type(data).__name__),
                    'GET',
                    self.url_for(path),
                )
            items.extend(data['results'])
            following = data.get('next')
            pages += 1
            if not following:
                return items
            if pages >= MAX_PAGES:
                raise CatalogError('GET %s: more than %d pages; giving up' % (self.url_for(path), MAX_PAGES))
            if urlsplit(following).netloc not in ('', urlsplit(self.base).netloc):
                # Behind a proxy the site may not know its public host name: keep ours.
                parts = urlsplit(following)
                following = self.url_for(parts.path.lstrip('/') + ('?' + parts.query if parts.query else ''))
            data = self.get_json(following)

    def post_json(self, path, payload, expected=(201,)):
        """POST a JSON object; returns the object the site answered with."""
        response = self.request('POST', path, expected=expected, json=payload)
        try:
            return response.json(), response.attempts
        except ValueError:
            return {}, response.attempts

    def upload_image(self, name, data, path='/upload/', replace=False):
        """``POST /upload/`` with the image as multipart field ``file``.

        Returns the site's answer ``{name, url, size, sha256, result}`` where ``result`` is
        ``created``, ``replaced`` or ``unchanged`` (the site compares the content itself).
        Without ``replace`` the site refuses (409 ``name_taken``) to put other bytes under a
        name it already holds; a site of the course's kind ignores the field and replaces.
        """
        content_type = 'image/jpeg' if name.lower().endswith(('.jpg', '.jpeg', '.jpe')) else 'application/octet-stream'
        response = self.request(
            'POST',
            path,
            expected=(200, 201),
            files={'file': (name, data, content_type)},
            data={'replace': 'true' if replace else 'false'},
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        answer.setdefault('result', 'created' if response.status_code == 201 else 'unchanged')
        return answer

    def image_sha256(self, name, chunk_size=65536):
        """SHA-256 of the image ``name`` as the site serves it under ``/media/images/``, or None.

        None means the site does not have it (404) - or does not serve ``/media/`` at all,
        in which case the upload itself tells (the site answers ``unchanged``).
        """
        try:
            response = self.request(
                'GET',
                MEDIA_IMAGES + quote(name),
                expected=(200, 404),
                stream=True,
                headers={'Accept': '*/*', 'Accept-Encoding': 'identity'},
            )
        except CatalogHTTPError:
            return None  # 403, 500, ... on a static file: let the upload decide
        try:
            if response.status_code != 200:
                dummy = response.content  # read the (small) body: keeps the connection reusable
                return None
            digest = hashlib.sha256()
            for chunk in response.iter_content(chunk_size):
                digest.update(chunk)
            return digest.hexdigest()
        except (requests.exceptions.RequestException, OSError):
            return None  # a broken download proves nothing: upload, the site compares the content
        finally:
            response.close()

    def image_index(self):
        """``{name: {'sha256', 'size'}}`` of every image the site holds, from ``GET /images/``.

        None when the site has no such endpoint (a site of the course's kind): the caller then
        asks for each image it needs (:meth:`image_sha256`).
        """
        try:
            data = self.get_json(IMAGES_INDEX, expected=(200,))
        except CatalogHTTPError as exc:
            if exc.status in (404, 405, 406):
                return None
            raise
        except CatalogError as exc:
            if 'is not JSON' in exc.message:
                return None  # an HTML page: the route does not exist there
            raise
        if isinstance(data, dict) and isinstance(data.get('results'), list):
            data = data['results']
        if not isinstance(data, list):
            return None
        return dict(
            (entry['name'], {'sha256': entry.get('sha256'), 'size': entry.get('size')})
            for entry in data
            if isinstance(entry, dict) and isinstance(entry.get('name'), str)
        )

    def delete_image(self, name):
        """``DELETE /images/<name>``: True when it is gone, False when the site cannot delete images.

        A 404 may mean "no such image" or "no such endpoint" (a site with only the original
        API): the image is then looked for under ``/media/images/``.
        """
        try:
            response = self.request('DELETE', IMAGES_INDEX + quote(name), expected=(204, 404))
        except CatalogHTTPError as exc:
            if exc.status in (405, 501):
                return False
            raise
        return response.status_code == 204 or self.image_sha256(name) is None

    def check_token(self, path='/fruits/'):
        """Prove that the token may write, without writing: POST an empty object.

        An authenticated client gets 400 (field errors), a bad or missing token 401/403
        (raised as :class:`CatalogAuthError`).
        """
        self.request('POST', path, expected=(400,), json={})


def _reason(exc):
    """The most specific message of a requests exception (urllib3 nests them)."""
    reason = exc
    for dummy in range(5):
        inner = getattr(reason, 'reason', None)
        if inner is None and reason.args and isinstance(reason.args[0], Exception):
            inner = reason.args[0]
        if inner is None or inner is reason or isinstance(inner, str):
            break
        reason = inner
    text = str(reason)
    # urllib3: "<urllib3.connection.HTTPConnection object at 0x..>: Failed to establish ..."
    text = re.sub(r'<[\w.]+ object at 0x[0-9a-f]+>: ', '', text)
    return text or exc.__class__.__name__
