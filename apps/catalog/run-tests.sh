#!/usr/bin/env bash
# Runs the catalog site's test suite with the repository's .venv (or $PYTHON).
#   apps/catalog/run-tests.sh                  # everything (~20 s; includes a real 2-worker gunicorn)
#   apps/catalog/run-tests.sh -m "not gunicorn"  # without the multi-process test
#   CATALOG_DATABASE_URL=postgres://user@%2Frun%2Fpostgresql/catalog apps/catalog/run-tests.sh  # on PostgreSQL
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../../.venv/bin/python}
cd "$here"
# tests/support (the shared harness) is imported as the collection's package, through the
# link `make venv` makes; a skipped test fails the run (tests/support/no_skips.py).
export PYTHONPATH="$here/../../.ansible/collections${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m pytest -q -p ansible_collections.storeops.shop.tests.support.no_skips "$@"
