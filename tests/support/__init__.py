# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the tests and the benchmarks (not shipped code, not a conftest).

Import them by the collection's name, as the unit tests import the plugins::

    from ansible_collections.storeops.shop.tests.support.catalog_site import CatalogSite, free_port
    from ansible_collections.storeops.shop.tests.support import wrk

``.ansible/collections`` (made by ``make venv``) must be on ``sys.path``: ``tests/unit/run.sh``,
``apps/catalog/run-tests.sh`` and ``bench/run.sh`` put it there.

* ``catalog_site``: the catalog site (``apps/catalog``) under a real gunicorn on 127.0.0.1,
  its environment, ``migrate``, the API token, start, wait for ``/healthz``, stop by PID
  (and ``PR_SET_PDEATHSIG``, so a killed run never leaves a gunicorn behind); ``free_port``;
  ``drain`` (wait until the workers are idle).
* ``fault_proxy``: a real HTTP/1.1 proxy that answers scripted faults (503, dropped
  connections, delays) in front of a server.
* ``images``: small real JPEG files.
* ``wrk``: one bounded ``wrk`` run, parsed; the load average.
* ``no_skips``: a pytest plugin that turns every skip into a failure.
"""
