#!/usr/bin/env bash
# Runs every Molecule scenario under extensions/molecule/ (or those named as arguments)
# against the running lab. Molecule needs the venv's ansible-* tools on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f "$root/inventories/lab/.vault-password" ] && export ANSIBLE_VAULT_PASSWORD_FILE="$root/inventories/lab/.vault-password"
export PATH="$root/.venv/bin:$PATH"
if [ ! -s inventories/lab/hosts.yml ]; then
  echo "the lab is not up: run 'make lab-up' first" >&2; exit 1
fi
scenarios=("$@")
# Without arguments: every scenario but scaleout, which needs a lab of other hosts
# (LAB_HOSTS="lb web1 web2 db s3"; tests/run-all.sh brings that lab up for it).
if [ ${#scenarios[@]} -eq 0 ]; then
  for f in extensions/molecule/*/molecule.yml; do
    s=$(basename "$(dirname "$f")"); [ "$s" = scaleout ] || scenarios+=("$s")
  done
fi
failed=()
for s in "${scenarios[@]}"; do
  echo "=== molecule test -s $s"
  start=$SECONDS
  if molecule test -s "$s"; then
    echo "=== $s passed in $((SECONDS - start)) s"
  else
    echo "=== $s FAILED after $((SECONDS - start)) s"; failed+=("$s")
  fi
done
echo "molecule: $(( ${#scenarios[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
