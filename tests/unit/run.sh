#!/usr/bin/env bash
# Unit tests for plugins/ (module_utils and modules) with the project's .venv, importing
# the collection as ansible_collections.storeops.shop through the link ansible.cfg uses.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PYTHONPATH="$root/.ansible/collections${PYTHONPATH:+:$PYTHONPATH}"
[ $# -gt 0 ] || set -- tests/unit
# A skip is a failure (tests/support/no_skips.py): install what a test needs instead.
exec "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider -p ansible_collections.storeops.shop.tests.support.no_skips "$@"
