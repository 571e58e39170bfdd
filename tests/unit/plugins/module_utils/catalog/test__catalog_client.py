# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP client against the real catalog site (gunicorn on 127.0.0.1), through a real
misbehaving proxy for the faults: 503s, dropped connections, slow answers, TLS."""

from __future__ import annotations

import hashlib
import os
import ssl
import subprocess
import time

import pytest
import requests

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import (
    CatalogAuthError,
    CatalogClient,
    CatalogError,
    CatalogHTTPError,
    CatalogTLSError,
    CatalogUnavailable,
    error_code,
    is_duplicate,
    site_message,
)

from ansible_collections.storeops.shop.tests.support.catalog_site import free_port
from ansible_collections.storeops.shop.tests.support.fault_proxy import FaultProxy
from ansible_collections.storeops.shop.tests.support.images import jpeg_bytes

WATERMELON = {'name': 'Watermelon', 'weight': 500, 'description': 'Good for relieving heat.', 'image_name': '010.jpeg'}


class Sleeps(list):
    """Records the pauses between attempts (and still pauses)."""

    def __call__(self, seconds):
        self.append(round(seconds, 3))
        time.sleep(seconds)


def client_for(url, token=None, **kwargs):
    kwargs.setdefault('backoff', 0.01)
    kwargs.setdefault('sleep', Sleeps())
    return CatalogClient(url, token=token, **kwargs)


def test_list_all_reads_the_plain_list_and_follows_pages(site):
    with requests.Session() as session:
        for number in range(5):
            product = dict(WATERMELON, name='Melon %d' % number)
            assert session.post(site.url + '/fruits/', json=product, headers=site.auth()).status_code == 201
    client = client_for(site.url)
    plain = client.list_all('/fruits/')
    assert [item['name'] for item in plain] == ['Melon %d' % number for number in range(5)]
    before = client.requests_sent
    paged = client.list_all('/fruits/?page=1&page_size=2')
    assert paged == plain
    assert client.requests_sent - before == 3  # 2 + 2 + 1


def test_one_connection_is_kept_alive_for_all_requests(proxy):
    client = client_for(proxy.url)
    for dummy in range(5):
        client.list_all('/fruits/')
        client.image_sha256('nothing.jpeg')
    assert len(proxy.log) == 10
    assert len(set(entry['port'] for entry in proxy.log)) == 1


def test_a_4xx_is_not_retried_and_says_what_the_site_said(site, proxy):
    client = client_for(proxy.url, token=site.token)
    with pytest.raises(CatalogHTTPError) as caught:
        client.post_json('/fruits/', dict(WATERMELON, weight='500 lbs'))
    error = caught.value
    assert error.status == 400 and error.attempts == 1
    assert str(error).startswith(
        'POST %s/fruits/: HTTP 400 Bad Request: weight: A valid integer is required' % proxy.url
    )
    assert len(proxy.requests_to('POST', '/fruits/')) == 1
    assert client.sleep == []


def test_duplicate_is_recognised(site):
    client = client_for(site.url, token=site.token)
    record, attempts = client.post_json('/fruits/', WATERMELON)
    assert attempts == 1 and record['id'] and record['name'] == 'Watermelon'
    with pytest.raises(CatalogHTTPError) as caught:
        client.post_json('/fruits/', WATERMELON)
    assert is_duplicate(caught.value)
    assert 'A product with this name already exists.' in str(caught.value)


def test_wrong_token_is_an_authentication_error_without_the_token_in_it(site, proxy):
    client = client_for(proxy.url, token='not-the-right-token-1234')
    with pytest.raises(CatalogAuthError) as caught:
        client.check_token()
    message = str(caught.value)
    assert caught.value.status == 401
    assert 'HTTP 401 Unauthorized: Invalid token.' in message
    assert 'check the token option' in message
    assert 'not-the-right-token-1234' not in message
    assert len(proxy.log) == 1
    assert site.products() == []


def test_missing_token_says_a_token_is_needed(site):
    with pytest.raises(CatalogAuthError, match='the site needs a token to write: set the token option'):
        client_for(site.url).check_token()


def test_good_token_passes_the_check_without_writing(site):
    client_for(site.url, token=site.token).check_token()
    assert site.products() == []


def test_503_twice_then_success(proxy):
    proxy.faults.extend([503, 503])
    client = client_for(proxy.url)
    assert client.list_all('/fruits/') == []
    assert [entry['status'] for entry in proxy.log] == [503, 503, 200]
    assert client.sleep == [0.01, 0.02]


def test_retry_after_is_honoured(proxy):
    proxy.faults.append(('status', 503, {'Retry-After': '1'}))
    client = client_for(proxy.url)
    assert client.list_all('/feedback/') == []
    assert client.sleep == [1.0]


def test_gives_up_after_the_retries_with_the_status_and_the_sites_message(proxy):
    proxy.faults.extend([504] * 10)
    client = client_for(proxy.url, retries=2)
    with pytest.raises(CatalogUnavailable) as caught:
        client.list_all('/fruits/')
    assert caught.value.attempts == 3 and caught.value.status == 504
    assert str(caught.value) == (
        'GET %s/fruits/: HTTP 504 Gateway Timeout: scripted 504 from the test proxy after 3 attempts' % proxy.url
    )
    assert len(proxy.log) == 3


def test_500_is_not_retried(proxy):
    proxy.faults.append(500)
    client = client_for(proxy.url)
    with pytest.raises(CatalogHTTPError) as caught:
        client.list_all('/fruits/')
    assert not isinstance(caught.value, CatalogUnavailable)
    assert len(proxy.log) == 1


def test_connection_refused_is_retried_then_reported():
    url = 'http://127.0.0.1:%d' % free_port()
    client = client_for(url, retries=2)
    with pytest.raises(CatalogUnavailable) as caught:
        client.list_all('/fruits/')
    message = str(caught.value)
    assert message.startswith('GET %s/fruits/: the catalog site is unreachable after 3 attempts: ' % url)
    assert 'Connection refused' in message
    assert client.sleep == [0.01, 0.02]


def test_a_dropped_connection_is_retried(proxy):
    proxy.faults.append('drop')
    client = client_for(proxy.url)
    assert client.list_all('/fruits/') == []
    assert len(client.sleep) == 1


def test_a_slow_answer_times_out_and_is_retried(proxy):
    proxy.faults.append(('delay', 1.5))
    client = client_for(proxy.url, timeout=0.5)
    started = time.monotonic()
    assert client.list_all('/fruits/') == []
    assert len(client.sleep) == 1
    assert time.monotonic() - started < 1.5


def test_a_slow_site_reports_the_timeout(proxy):
    proxy.faults.extend([('delay', 1.0)] * 2)
    client = client_for(proxy.url, timeout=0.3, retries=1)
    with pytest.raises(CatalogUnavailable, match=r'after 2 attempts: no answer within 0\.3 seconds'):
        client.list_all('/fruits/')


@pytest.mark.parametrize(
    'status, payload, message, expected',
    [
        (409, {'code': 'duplicate', 'name': ['A product with this name already exists.']}, '', True),
        (409, {'detail': 'conflict'}, '', True),
        (409, {'code': 'name_taken', 'detail': 'another picture'}, '', False),
        (
            400,
            {'name': ['A product with this name already exists.']},
            'name: A product with this name already exists.',
            True,
        ),
        (
            400,
            {'non_field_errors': ['The fields name, date, title must make a unique set.']},
            'The fields name, date, title must make a unique set.',
            True,
        ),
        (400, {'weight': ['A valid integer is required.']}, 'weight: A valid integer is required.', False),
        (500, None, 'boom', False),
    ],
)
def test_duplicates_by_status_and_code_and_by_the_old_sites_words(status, payload, message, expected):
    error = CatalogHTTPError('POST /fruits/: HTTP %d' % status, 'POST', '/fruits/', status, payload, message)
    assert is_duplicate(error) is expected


def test_upload_create_unchanged_replace_and_image_hash(site):
    client = client_for(site.url, token=site.token)
    first, second = jpeg_bytes(1), jpeg_bytes(2)
    assert client.image_sha256('010.jpeg') is None
    answer = client.upload_image('010.jpeg', first)
    assert answer['result'] == 'created' and answer['url'] == '/media/images/010.jpeg'
    assert client.image_sha256('010.jpeg') == hashlib.sha256(first).hexdigest() == answer['sha256']
    assert client.upload_image('010.jpeg', first)['result'] == 'unchanged'
    with pytest.raises(CatalogHTTPError) as caught:
        client.upload_image('010.jpeg', second)  # replace=False: the site keeps the picture it has
    assert caught.value.status == 409 and error_code(caught.value) == 'name_taken'
    assert client.image_sha256('010.jpeg') == hashlib.sha256(first).hexdigest()
    assert client.image_index()['010.jpeg'] == {'sha256': hashlib.sha256(first).hexdigest(), 'size': len(first)}
    assert client.upload_image('010.jpeg', second, replace=True)['result'] == 'replaced'
    assert client.image_sha256('010.jpeg') == hashlib.sha256(second).hexdigest()


def test_upload_of_a_non_image_says_why(site):
    client = client_for(site.url, token=site.token)
    with pytest.raises(
        CatalogHTTPError, match=r'HTTP 400 Bad Request: file: Not a valid image: the content is not an image'
    ):
        client.upload_image('bad.jpeg', b'this is not a jpeg')


@pytest.mark.parametrize(
    'url, message',
    [
        ('ftp://127.0.0.1/', 'is not an http:// or https:// URL'),
        ('127.0.0.1:8000', 'is not an http:// or https:// URL'),
        ('http://127.0.0.1/?x=1', 'must not have a query string'),
    ],
)
def test_bad_urls(url, message):
    with pytest.raises(CatalogError, match=message):
        CatalogClient(url)


def test_base_url_with_a_path():
    client = CatalogClient('https://example.invalid/shop')
    assert client.url_for('/fruits/') == 'https://example.invalid/shop/fruits/'
    assert client.url_for('media/images/a.jpeg') == 'https://example.invalid/shop/media/images/a.jpeg'


def test_an_html_page_is_not_json(site):
    with pytest.raises(CatalogError, match=r'the answer is not JSON \(is url the catalog site\?\)'):
        client_for(site.url).get_json('/')


def test_site_message_flattens_drf_errors():
    assert site_message({'detail': 'Invalid token.'}) == 'Invalid token.'
    assert site_message({'name': ['Too long.'], 'weight': ['Bad.', 'Worse.']}) == 'name: Too long.; weight: Bad. Worse.'
    assert site_message({'non_field_errors': ['Exists.']}) == 'Exists.'
    assert site_message(None, '<html><title>502 Bad Gateway</title><h1>502 Bad Gateway</h1></html>') == (
        '502 Bad Gateway 502 Bad Gateway'
    )


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def tls_files(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1 signed by it, made with openssl."""
    folder = str(tmp_path_factory.mktemp('tls'))

    def openssl(*args):
        subprocess.run(('openssl',) + args, cwd=folder, check=True, capture_output=True, timeout=60)

    openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=storeops test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
    )
    openssl(
        'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'
    )
    with open(os.path.join(folder, 'ext.cnf'), 'w') as handle:
        handle.write(
            'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n'
            'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n'
        )
    openssl(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
    )
    return folder


@pytest.fixture
def tls_proxy(site, tls_files):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(tls_files, 'server.pem'), os.path.join(tls_files, 'server.key'))
    instance = FaultProxy(site.port, ssl_context=context)
    try:
        yield instance
    finally:
        instance.close()


def test_tls_is_verified_by_default_and_not_retried(tls_proxy):
    client = client_for(tls_proxy.url)
    with pytest.raises(CatalogTLSError) as caught:
        client.list_all('/fruits/')
    assert 'CERTIFICATE_VERIFY_FAILED' in str(caught.value)
    assert 'give that CA certificate in ca_path' in str(caught.value)
    assert client.sleep == []


def test_tls_with_ca_path(site, tls_proxy, tls_files):
    client = client_for(tls_proxy.url, token=site.token, ca_path=os.path.join(tls_files, 'ca.pem'))
    client.post_json('/fruits/', WATERMELON)
    assert [item['name'] for item in client.list_all('/fruits/')] == ['Watermelon']
    assert len(set(entry['port'] for entry in tls_proxy.log)) == 1  # one TLS handshake for both


def test_tls_without_verification(tls_proxy):
    assert client_for(tls_proxy.url, validate_certs=False).list_all('/fruits/') == []
