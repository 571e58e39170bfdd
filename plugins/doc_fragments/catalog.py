# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of the modules that talk to the catalog site (storeops.shop.catalog)."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the catalog site, for example V(https://web.lab.example) or V(https://shop.example.com/catalog).
      - The API paths C(/fruits/), C(/feedback/), C(/upload/) and C(/media/images/) are relative to it.
      - If not given, the value of the environment variable E(STOREOPS_CATALOG_URL) is used.
    type: str
    required: true
  token:
    description:
      - "The site's API token, sent in the header C(Authorization: Token <token>). Every write needs it; reads do not."
      - The C(storeops.shop.webserver) role creates it with C(catalog-manage ensure_api_token).
      - If not given, the value of the environment variable E(STOREOPS_CATALOG_TOKEN) is used.
      - Before its first write the module checks the token with a request that cannot write, so a wrong
        token fails the task with nothing written. Check mode does not need a token.
    type: str
  validate_certs:
    description:
      - Verify the site's TLS certificate. Only turn this off for a throw-away test site; use O(ca_path)
        for a certificate signed by your own CA.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with the CA certificate(s) to verify the site's certificate with, instead of the
        system's trust store. For the C(storeops.shop.webserver) role's self-signed certificate, give that certificate.
    type: path
  timeout:
    description:
      - Seconds to wait for the site to accept a connection and, then, for each answer.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is tried again after a connection error, a timeout, or a C(502), C(503)
        or C(504) answer, with a pause that starts at half a second and doubles each time (or what the
        site asks for in C(Retry-After), at most 30 seconds). A C(4xx) answer is never retried.
      - When the site still does not answer, the run stops; what was uploaded stays, and a re-run
        uploads the rest without duplicates.
    type: int
    default: 3
requirements:
  - requests >= 2.25 (on the host that runs the module, usually the controller with C(delegate_to=localhost))
"""
