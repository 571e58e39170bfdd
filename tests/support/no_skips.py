# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest plugin: a skipped test, or a test file skipped at import (``importorskip``), is a
failure, as a sanity test skipped for a missing program is. Missing tools and libraries must
be installed (``make venv``, ``make deps``), not silently left out. ``xfail`` is unchanged.

    python -m pytest -p ansible_collections.storeops.shop.tests.support.no_skips ...
"""

from __future__ import annotations

import pytest


def _as_failure(report, what):
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = 'failed'
    report.longrepr = '%s was skipped, and skips are failures here: %s' % (what, reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, 'wasxfail'):
        _as_failure(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        _as_failure(report, collector.nodeid or 'a test module')
