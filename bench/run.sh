#!/usr/bin/env bash
# Runs every benchmark in bench/ (or those named): each compares the collection's way
# with the naive way of doing the same job, in the same run, and prints the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f "$root/inventories/lab/.vault-password" ] && export ANSIBLE_VAULT_PASSWORD_FILE="$root/inventories/lab/.vault-password"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
export PYTHONPATH="$root/.ansible/collections${PYTHONPATH:+:$PYTHONPATH}"
benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
  for f in bench/bench_*.py; do [ -e "$f" ] && benches+=("$f"); done
fi
[ ${#benches[@]} -gt 0 ] || { echo "no benchmarks yet"; exit 0; }
for b in "${benches[@]}"; do
  echo "=== $b"
  "$root/.venv/bin/python" "$b"
done
