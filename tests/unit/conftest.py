# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every unit test runs: a skip (a missing library or tool, an importorskip) fails the run,
as a missing tool fails ansible-test sanity. `make deps` installs what the tests need."""
from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, 'wasxfail'):
        report.outcome = 'failed'
        report.longrepr = 'skipped, which the unit tests do not allow: %s' % (report.longrepr,)


def pytest_collectreport(report):
    if report.skipped:
        report.outcome = 'failed'
        report.longrepr = 'a test module was skipped, which the unit tests do not allow: %s' % (report.longrepr,)
