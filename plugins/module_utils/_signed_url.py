# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Links for nginx's ``secure_link`` module, as the reportsite role configures it.

Private to the collection: it can change at any time.

nginx is configured with::

    secure_link $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri <secret>";

so the signature is the base64url text (no ``=`` padding) of the binary MD5 of
``"<expires><uri> <secret>"``, where ``<uri>`` is the *decoded* path nginx sees as ``$uri``
(``/private/2026/dec/cars.pdf``) and ``<expires>`` a Unix time. The URL carries the path
percent-encoded (UTF-8) and ``?md5=<sig>&expires=<expires>``.
"""

from __future__ import annotations

import base64
import hashlib
import time

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from urllib import quote  # type: ignore

# Characters left as they are in a path of a URL (RFC 3986 pchar minus those nginx or a
# mail client may treat specially).
SAFE_PATH = "/-._~!$'()*+,;=:@"


def signature(secret, uri, expires):
    """The ``md5`` argument nginx expects for ``uri`` (decoded, starting with ``/``) until ``expires``."""
    if not secret:
        raise ValueError('the link secret is empty')
    if not uri.startswith('/'):
        raise ValueError('the path %r does not start with /' % (uri,))
    if '\n' in secret or '\r' in secret:
        raise ValueError('the link secret holds a line break')
    text = '%d%s %s' % (int(expires), uri, secret)
    digest = hashlib.md5(text.encode('utf-8')).digest()  # nosec - nginx's secure_link_md5 is MD5
    return base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


def quote_path(path):
    """``/private/2026/dec/отчёт é.pdf`` percent-encoded for a URL."""
    return quote(path.encode('utf-8'), safe=SAFE_PATH)


def expiry(expires_in, now=None):
    """The Unix time ``expires_in`` seconds from ``now`` (default: this moment)."""
    return int(time.time() if now is None else now) + int(expires_in)


def signed_path(secret, uri, expires):
    """``/private/x.pdf?md5=...&expires=...`` (path percent-encoded)."""
    return '%s?md5=%s&expires=%d' % (quote_path(uri), signature(secret, uri, expires), int(expires))


def signed_url(base_url, secret, uri, expires):
    """The full link: ``base_url`` (scheme, host, port, without a trailing ``/``) + :func:`signed_path`."""
    return (base_url or '').rstrip('/') + signed_path(secret, uri, expires)
