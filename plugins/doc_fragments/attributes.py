# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """Attributes the collection's modules declare beyond ansible.builtin.action_common_attributes."""

    # storeops.shop.attributes.idempotent
    IDEMPOTENT = r"""
options: {}
attributes:
  idempotent:
    description:
      - Run twice in a row with the same options (outside check mode), the second run reports no change.
      - This holds as long as nothing else changed what the module reads or manages in between.
"""

    # storeops.shop.attributes.files
    FILES = r"""
options: {}
attributes:
  safe_file_operations:
    description:
      - Files are written to a temporary file in their own directory and renamed into place, so an interrupted
        run never leaves a partial file under the final name.
"""

    DOCUMENTATION = r"""
options: {}
"""
