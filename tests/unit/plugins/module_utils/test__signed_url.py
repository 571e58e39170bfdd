# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The link signature, cross-checked with nginx's own recipe (its documentation's openssl
pipeline and example) and with the real nginx in the reportsite Molecule scenario."""

from __future__ import annotations

import base64
import hashlib
import subprocess

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _signed_url


def test_the_example_of_the_nginx_documentation():
    # ngx_http_secure_link_module: secure_link_md5 "$secure_link_expires$uri$remote_addr secret";
    # echo -n '2147483647/s/link127.0.0.1 secret' | openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =
    assert _signed_url.signature('secret', '/s/link127.0.0.1', 2147483647) == '_e4Nc3iduzkWRm01TBBNYw'


@pytest.mark.parametrize('uri', ['/private/2026/dec/cars.pdf', '/private/отчёт é & <q>.pdf', '/private/a b/c+d.csv'])
def test_same_as_the_openssl_pipeline(uri):
    text = '1796342400%s k3y_-s3cret' % uri
    pipeline = subprocess.run(
        "openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =",
        shell=True,
        input=text.encode('utf-8'),
        stdout=subprocess.PIPE,
        check=True,
    )
    assert _signed_url.signature('k3y_-s3cret', uri, 1796342400) == pipeline.stdout.decode().strip()


def test_base64url_without_padding():
    for expires in range(1000, 1100):
        sig = _signed_url.signature('s', '/private/x', expires)
        assert '=' not in sig and '+' not in sig and '/' not in sig and len(sig) == 22
        raw = base64.urlsafe_b64decode(sig + '==')
        assert raw == hashlib.md5(('%d/private/x s' % expires).encode()).digest()


def test_signed_url_encodes_the_path_and_signs_the_decoded_one():
    url = _signed_url.signed_url('https://web:8443/', 's', '/private/2026/dec/отчёт & x.pdf', 1796342400)
    path, query = url[len('https://web:8443') :].split('?')
    assert path == '/private/2026/dec/%D0%BE%D1%82%D1%87%D1%91%D1%82%20%26%20x.pdf'
    assert query == 'md5=%s&expires=1796342400' % _signed_url.signature(
        's', '/private/2026/dec/отчёт & x.pdf', 1796342400
    )


def test_expiry_and_changed_inputs_change_the_signature():
    base = _signed_url.signature('s', '/private/x', 100)
    assert base != _signed_url.signature('s', '/private/x', 101)
    assert base != _signed_url.signature('t', '/private/x', 100)
    assert base != _signed_url.signature('s', '/private/y', 100)
    assert _signed_url.expiry(60, now=1000) == 1060


@pytest.mark.parametrize('secret, uri', [('', '/p'), ('s', 'p'), ('a\nb', '/p')])
def test_refused(secret, uri):
    with pytest.raises(ValueError):
        _signed_url.signature(secret, uri, 1)
