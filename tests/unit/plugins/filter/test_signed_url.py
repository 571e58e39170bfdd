# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import time

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.storeops.shop.plugins.filter.signed_url import signed_url
from ansible_collections.storeops.shop.plugins.module_utils import _signed_url


def test_a_unix_time_and_a_path_in_the_private_tree():
    url = signed_url('s3cret', '2026/dec/cars.pdf', 1796342400, base_url='https://web:8443')
    sig = _signed_url.signature('s3cret', '/private/2026/dec/cars.pdf', 1796342400)
    assert url == 'https://web:8443/private/2026/dec/cars.pdf?md5=%s&expires=1796342400' % sig


def test_an_absolute_path_is_signed_as_given():
    assert signed_url('s', '/private/a.pdf', 1796342400).startswith('/private/a.pdf?md5=')


def test_seconds_from_now():
    before = int(time.time())
    url = signed_url('s', 'a.pdf', 3600)
    expires = int(url.rsplit('expires=', 1)[1])
    assert before + 3600 <= expires <= int(time.time()) + 3600


@pytest.mark.parametrize(
    'secret, path, expiry',
    [
        ('', 'a.pdf', 60),
        ('  ', 'a.pdf', 60),
        ('s', '', 60),
        ('s', 'a.pdf', 0),
        ('s', 'a.pdf', 'soon'),
        ('s', '../etc/passwd', 60),
        ('s', '/private/./a', 60),
        (None, 'a.pdf', 60),
    ],
)
def test_refused(secret, path, expiry):
    with pytest.raises(AnsibleFilterError):
        signed_url(secret, path, expiry)
