#!/usr/bin/env bash
# ansible-test integration targets (tests/integration/targets/*) that run on the controller,
# with the project's .venv as the Python that runs the modules. Targets that need lab hosts
# are Molecule scenarios instead (extensions/molecule/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! ls -d "$root"/tests/integration/targets/*/ >/dev/null 2>&1; then
  echo "no integration targets"; exit 0
fi
dest=$("$root/tests/collection-copy.sh")
cd "$dest"
exec "$root/.venv/bin/ansible-test" integration --local --python 3.11 --color no "$@"
