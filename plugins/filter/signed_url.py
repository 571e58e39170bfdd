# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: signed_url
author: storeops.shop team (@storeops)
version_added: 1.0.0
short_description: An expiring link to a private report, signed for nginx's secure_link
description:
  - Makes the link that the report site of P(storeops.shop.reportsite#role) accepts for a file of its private tree,
    without publishing anything (for a mail that carries a link).
  - The signature is what nginx computes with C(secure_link_md5 "$secure_link_expires$uri <secret>"); the base64url text
    of the MD5 of C(<expires><uri> <secret>), without C(=) padding, and the URL is C(<path>?md5=<signature>&expires=<expires>).
  - The input is the link secret (keep it in a C(no_log) variable; the role sets the fact C(reportsite_link_secret)).
options:
  _input:
    description: The link secret of the site.
    type: str
    required: true
  path:
    description:
      - The path of the file on the site, as nginx sees it (decoded), such as V(/private/2026/dec/cars.pdf).
        A path without a leading C(/private/) is taken as relative to the private tree (V(2026/dec/cars.pdf)).
    type: str
    required: true
  expiry:
    description:
      - When the link stops working. A number below 1000000000 is a number of seconds from now (V(3600)); a larger one
        is a Unix time.
    type: int
    required: true
  base_url:
    description: Put in front of the path, such as V(https://web.example.com:8443) (the fact C(reportsite_base_url)).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: A link valid for three days, for the mail
  ansible.builtin.set_fact:
    sales_link: >-
      {{ reportsite_link_secret | storeops.shop.signed_url('2026/dec/cars.pdf', 259200, base_url=reportsite_base_url) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The signed path (or URL with O(base_url)), percent-encoded.
  type: str
  sample: https://web.example.com:8443/private/2026/dec/cars.pdf?md5=7i3AbpWyH7GaLmzr4ZpQrw&expires=1796342400
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.storeops.shop.plugins.module_utils import _signed_url

RELATIVE_LIMIT = 1000000000


def signed_url(secret, path, expiry, base_url=''):
    """``secret | storeops.shop.signed_url('2026/dec/cars.pdf', 3600)``."""
    if not isinstance(secret, str) or not secret.strip():
        raise AnsibleFilterError('signed_url: the secret is empty')
    if not isinstance(path, str) or not path:
        raise AnsibleFilterError('signed_url: the path is empty')
    try:
        expiry = int(expiry)
    except (TypeError, ValueError):
        raise AnsibleFilterError(
            'signed_url: expiry must be a number (seconds from now, or a Unix time), got %r' % (expiry,)
        )
    if expiry <= 0:
        raise AnsibleFilterError('signed_url: expiry must be positive')
    if expiry < RELATIVE_LIMIT:
        expiry = _signed_url.expiry(expiry)
    uri = path if path.startswith('/') else '/private/' + path
    if '/../' in uri + '/' or '/./' in uri + '/':
        raise AnsibleFilterError('signed_url: %r has . or .. components' % (path,))
    try:
        return _signed_url.signed_url(base_url or '', secret.strip(), uri, expiry)
    except ValueError as exc:
        raise AnsibleFilterError('signed_url: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'signed_url': signed_url}
