# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Modules run in this process here, as they run on a managed host."""

from __future__ import annotations

import pytest

from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def as_on_a_managed_host(monkeypatch):
    """A controller-side import elsewhere in the test session (a filter plugin's test) makes
    ansible-core route module warnings to the controller's display; a module on a host returns them."""
    monkeypatch.setattr(_internal, 'is_controller', False)
