#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection under ansible_collections/storeops/shop,
# in ansible-test's own per-test virtual environments (no docker), with no ignore entries.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.venv/bin"
pip_version=$("$bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages as g
class P: version = "3.11"
print(g(P)["pip"])')
cache=~/.ansible/test/cache
mkdir -p "$cache"
install -m 0644 "$root/tests/sanity/get_pip.py" "$cache/get_pip_${pip_version//./_}.py"
if ls "$root"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
  echo "tests/sanity/ignore-*.txt must not exist: fix the code instead" >&2
  exit 1
fi
dest=$("$root/tests/collection-copy.sh")
cd "$dest"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$bin/ansible-test" sanity --venv --python 3.11 --color no "$@" 2>&1 | tee "$log"
# A test whose tool is missing is skipped with a warning: that is a failure, not a pass.
if grep -q 'Required program ".*" not found' "$log"; then
  echo "ansible-test sanity skipped a test for a missing program (see the warning above; make deps installs it)" >&2
  exit 1
fi
# A run that tested nothing while there is code to test is a failure, not a pass.
if grep -q "All targets skipped" "$log" && [ -n "$(cd "$root" && git ls-files 'plugins/*.py')" ]; then
  echo "ansible-test sanity skipped every target although plugins/ has code" >&2
  exit 1
fi
