# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared ``main()`` of the modules that sync a folder to the catalog site.

catalog_upload and review_upload differ only in their own options and in the sync they
run; connecting, error handling and how the result becomes the task's outcome live here.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CatalogClient,
    CatalogError,
    catalog_argument_spec,
)
from ansible_collections.storeops.shop.plugins.module_utils._catalog_sync import SyncError


def run_catalog_module(options, sync):
    """Run a sync module: ``options`` is its own argument spec, ``sync(client, params,
    check_mode, diff)`` returns the result dict (with ``warnings``, ``errors``, ``pending``)."""
    argument_spec = catalog_argument_spec()
    argument_spec.update(options)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)

    params = module.params
    try:
        with CatalogClient(params['url'], token=params['token'], validate_certs=params['validate_certs'],
                           ca_path=params['ca_path'], timeout=params['timeout'], retries=params['retries']) as client:
            result = sync(client, params, module.check_mode, module._diff)
    except (CatalogError, SyncError) as exc:
        module.fail_json(msg='%s (nothing was written)' % exc, changed=False)
    except Exception as exc:  # pragma: no cover - a bug: report it with its traceback
        module.fail_json(msg='unexpected error: %s' % exc, exception=traceback.format_exc())

    for warning in result.pop('warnings'):
        module.warn(warning)
    if result['errors'] or result['pending']:
        module.fail_json(**result)
    module.exit_json(**result)
