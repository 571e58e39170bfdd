#!/usr/bin/env bash
# `make demo`: provisions the running lab with the collection, runs the jobs on sample
# data and prints where to look. The lab stays up for you to explore; `make lab-down`
# removes it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
start=$SECONDS
ansible-playbook storeops.shop.site -i inventories/lab
python3 - <<'PY'
import yaml
inv = yaml.safe_load(open('inventories/lab/hosts.yml'))
hosts = {n: v['ansible_host'] for n, v in inv['all']['hosts'].items() if 'ansible_host' in v}
print('\n=== storeops.shop demo: what is running')
for name, addr in sorted(hosts.items()):
    print(f'  {name:<8} {addr:<15} ssh -i /var/lib/storeops-lab/ssh/id_ed25519 root@{addr}')
print('\n  inventory:   inventories/lab/hosts.yml')
print('  run again:   .venv/bin/ansible-playbook storeops.shop.site -i inventories/lab')
print('  a host:      python3 tests/lab/lab.py exec web -- systemctl status')
print('  clean up:    make lab-down')
PY
echo "demo finished in $((SECONDS - start)) s (after lab-up)"
