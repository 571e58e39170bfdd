# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """The failure shape shared by every module of the collection (storeops.shop.job_errors)."""

    DOCUMENTATION = r"""
options: {}
notes:
  - "Failures have one shape in every module of this collection. Bad inputs are returned in RV(errors), a list with
    one entry per problem: C(file) (the input file, or V(null)), C(line) (1-based, or V(null)), C(field) (the option,
    record field or header at fault, or V(null)) and C(message) (what is wrong). The good items are processed first;
    then the task fails, and its C(msg) says what happened and lists the first ten entries of RV(errors)."
"""
