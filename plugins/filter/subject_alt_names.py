# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: subject_alt_names
author: storeops.shop team (@storeops)
version_added: 1.0.0
short_description: The subjectAltName of a certificate for a list of host names and addresses
description:
  - Turns host names and IP addresses into the value of OpenSSL's C(subjectAltName) extension,
    for example V(DNS:web.example.com,IP:192.0.2.10,IP:2001:db8::1).
  - IPv4 and IPv6 addresses (checked with Python's C(ipaddress)) become C(IP:) entries, everything else C(DNS:).
    Duplicates are dropped, the order is kept.
options:
  _input:
    description: Host names and addresses.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: A self-signed certificate for every name the site answers to
  ansible.builtin.command:
    argv: [openssl, req, -x509, -addext, "subjectAltName={{ ['web', '192.0.2.10'] | storeops.shop.subject_alt_names }}"]
"""

RETURN = r"""
_value:
  description: The C(subjectAltName) value.
  type: str
  sample: DNS:web,IP:192.0.2.10
"""

import ipaddress

from ansible.errors import AnsibleFilterError


def subject_alt_names(names):
    """``['web', '192.0.2.10', 'web']`` -> ``'DNS:web,IP:192.0.2.10'``."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise AnsibleFilterError('subject_alt_names: expected a list of host names and addresses, got %r' % (names,))
    entries = []
    for name in names:
        name = str(name).strip()
        if not name or any(char in name for char in ',\n\r') or ' ' in name:
            raise AnsibleFilterError('subject_alt_names: %r is not a host name or an address' % (name,))
        try:
            entry = 'IP:%s' % ipaddress.ip_address(name.strip('[]'))
        except ValueError:
            entry = 'DNS:%s' % name
        if entry not in entries:
            entries.append(entry)
    if not entries:
        raise AnsibleFilterError('subject_alt_names: the list of names is empty')
    return ','.join(entries)


class FilterModule(object):
    def filters(self):
        return {'subject_alt_names': subject_alt_names}
