# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.storeops.shop.plugins.filter.subject_alt_names import subject_alt_names


def test_names_and_addresses():
    assert subject_alt_names(
        ['web', '10.213.77.11', 'web', 'localhost', '::1', '[2001:db8::1]', 'shop.example.com']
    ) == ('DNS:web,IP:10.213.77.11,DNS:localhost,IP:::1,IP:2001:db8::1,DNS:shop.example.com')


def test_a_dotted_name_that_is_not_an_address_is_dns():
    assert subject_alt_names(['1.2.3.4.example', '999.1.1.1']) == 'DNS:1.2.3.4.example,DNS:999.1.1.1'


@pytest.mark.parametrize('bad', ['web', [], ['a,b'], ['a b'], [''], ['x\nDNS:evil']])
def test_refused(bad):
    with pytest.raises(AnsibleFilterError):
        subject_alt_names(bad)
