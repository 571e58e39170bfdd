# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: storeops.shop.publish_report vs an ansible.builtin.copy loop, same run, same host.

    .venv/bin/python bench/bench_publish_report.py [--files 1000] [--copy-loop 50] [--local]

Target: the lab's ``web`` host (``inventories/lab``, written by ``make lab-up``) over SSH; the
report site is provisioned there first with ``storeops.shop.reportsite`` when it is missing.
``--local`` (or no lab) publishes on this machine instead (connection local, a temporary root).

Each phase is one ``ansible-playbook`` run, timed from the outside (Ansible's start-up included):

1. ``publish_report``, first run: ``--files`` small CSV files (~200 bytes each, different content)
   from one folder on the controller, in one task: hashed, one plan call, one archive, one apply call;
2. the same task again with nothing changed: one plan call, no transfer, no write (target: ≥ 10x
   faster than 1);
3. ``ansible.builtin.copy`` in a loop (the naive way: one task item, one transfer and one module
   run per file) over ``--copy-loop`` files, and the same loop again (unchanged: every item still
   hashes remotely); a playbook with an empty loop gives Ansible's fixed cost, so the per-file cost
   is extrapolated to ``--files`` files (printed as such).

4. in this process, the module's job itself (``_publish.publish``, as the module runs it on the
   host) on the same files into a temporary root: first run vs no-op re-run with the action
   plugin's manifest, i.e. what the content hashes save once Ansible's fixed per-task cost
   (building and starting the module, ~0.5-1 s) is left out.

Prints times and the ratios. Cleans up what it published. Not a test: nothing fails on a slow
machine. On 2 cores with the lab: about 1 minute.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
LAB_INVENTORY = os.path.join(ROOT, 'inventories', 'lab')

PUBLISH = r"""
- hosts: bench
  gather_facts: false
  tasks:
    - name: Start the clock
      ansible.builtin.set_fact:
        bench_t0: "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"

    - name: Publish the folder in one task
      storeops.shop.publish_report:
        src: "{{ src }}/"
        dest: "{{ dest }}/"
        root: "{{ site_root | default(omit) }}"
        base_url: "{{ site_base_url | default(omit) }}"
        state: "{{ publish_state | default('present') }}"
      register: published

    - name: Stop the clock
      ansible.builtin.set_fact:
        bench_t1: "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"

    - name: Report
      ansible.builtin.copy:
        content: "{{ {'changed': published.changed, 'files': published.files | length, 'task': bench_t1 | float - bench_t0 | float,
                      'states': published.files | map(attribute='state') | unique | list} | to_json }}"
        dest: "{{ report }}"
        mode: "0644"
      delegate_to: localhost
"""

COPY_LOOP = r"""
- hosts: bench
  gather_facts: false
  tasks:
    - name: One copy per file
      ansible.builtin.copy:
        src: "{{ src }}/{{ item }}"
        dest: "{{ copy_dest }}/"
        mode: "0644"
      loop: "{{ names }}"
"""

PROVISION = r"""
- hosts: bench
  gather_facts: true
  tasks:
    - name: Look for the report site
      ansible.builtin.stat:
        path: /etc/storeops/reportsite/site.json
      register: bench_site

    - name: Provision it when it is missing
      ansible.builtin.include_role:
        name: storeops.shop.reportsite
      when: not bench_site.stat.exists
"""

CLEANUP = r"""
- hosts: bench
  gather_facts: false
  tasks:
    - name: Remove the copy loop's files
      ansible.builtin.file:
        path: "{{ copy_dest }}"
        state: absent
"""


def inventory(local, tmp):
    if local:
        path = os.path.join(tmp, 'inventory.json')
        with open(path, 'w') as handle:
            json.dump(
                {
                    'all': {
                        'hosts': {
                            'bench': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
                        }
                    }
                },
                handle,
            )
        return path
    return LAB_INVENTORY


def run(playbook, inventory_path, extra, tmp, limit='web'):
    path = os.path.join(tmp, 'playbook.yml')
    with open(path, 'w') as handle:
        handle.write(playbook)
    extra_path = os.path.join(tmp, 'extra.json')
    with open(extra_path, 'w') as handle:
        json.dump(extra, handle)
    env = dict(
        os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), PATH=BIN + os.pathsep + os.environ.get('PATH', '')
    )
    vault = os.path.join(LAB_INVENTORY, '.vault-password')
    if os.path.exists(vault):
        env['ANSIBLE_VAULT_PASSWORD_FILE'] = vault
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory_path, path, '-e', '@' + extra_path]
    if inventory_path == LAB_INVENTORY:
        argv += ['-l', limit]
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit('ansible-playbook failed (rc %d)' % proc.returncode)
    return elapsed


def lab_playbook(text):
    """The lab inventory has no host "bench": target web."""
    return text.replace('- hosts: bench', '- hosts: web')


def job_phase(src, tmp):
    """The job alone, in-process: first run (writes + fsync per file) vs no-op (hashes only)."""
    sys.path.insert(0, os.path.join(ROOT, '.ansible', 'collections'))
    from ansible_collections.storeops.shop.plugins.module_utils import _publish

    root = os.path.join(tmp, 'job-site')
    os.makedirs(root)
    times = []
    for dummy in range(2):
        started = time.perf_counter()
        pairs, errors, dummy_warnings = _publish.expand_sources(src + '/', 'bench/')
        manifest = [
            {'src': path, 'dest': dest, 'sha256': _publish.file_sha256(path), 'size': os.path.getsize(path)}
            for path, dest in pairs
        ]
        result, dummy_warnings = _publish.publish(
            {
                'root': root,
                'base_url': 'https://bench.invalid',
                'src': src,
                'remote_src': True,
                'dest': 'bench/',
                'index': True,
            }
        )
        del manifest, errors
        times.append((time.perf_counter() - started, result['changed']))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--files', type=int, default=1000)
    parser.add_argument('--copy-loop', type=int, default=50)
    parser.add_argument('--local', action='store_true', help='publish on this machine, not on the lab host')
    args = parser.parse_args()
    local = args.local or not os.path.exists(os.path.join(LAB_INVENTORY, 'hosts.yml'))
    tmp = tempfile.mkdtemp(prefix='bench-publish-')
    try:
        src = os.path.join(tmp, 'src')
        os.makedirs(src)
        names = []
        for number in range(args.files):
            name = 'day-%04d.csv' % number
            names.append(name)
            with open(os.path.join(src, name), 'w') as handle:
                handle.write(
                    'date,case_record_type,count\n'
                    + ''.join('2026-12-%02d,type-%d,%d\n' % (1 + number % 28, k, number * 7 + k) for k in range(8))
                )
        inv = inventory(local, tmp)
        fix = (lambda text: text) if local else lab_playbook
        run_id = '%d' % (time.time() * 1000)
        extra = {'src': src, 'dest': 'bench-%s' % run_id, 'report': os.path.join(tmp, 'report.json')}
        if local:
            extra.update(site_root=os.path.join(tmp, 'site'), site_base_url='https://bench.invalid')
            os.makedirs(extra['site_root'])
            extra['copy_dest'] = os.path.join(tmp, 'copied')
        else:
            extra['copy_dest'] = '/tmp/bench-copy-%s' % run_id
            run(fix(PROVISION), inv, {}, tmp)
        (job_first, changed1), (job_noop, changed2) = job_phase(src, tmp)
        if not changed1 or changed2:
            raise SystemExit('the job did not behave: changed %r then %r' % (changed1, changed2))
        where = 'this machine (connection local)' if local else 'the lab host web (SSH)'
        print('publish_report vs ansible.builtin.copy: %d small files to %s' % (args.files, where))

        def publish(state='present'):
            seconds = run(fix(PUBLISH), inv, dict(extra, publish_state=state), tmp)
            with open(extra['report']) as handle:
                return seconds, json.load(handle)

        first, report1 = publish()
        noop, report2 = publish()
        if (
            report1['files'] != args.files
            or report1['states'] != ['created']
            or report2['changed']
            or report2['states'] != ['unchanged']
        ):
            raise SystemExit('unexpected results: first %r, re-run %r' % (report1, report2))
        count = min(args.copy_loop, args.files)
        empty = run(fix(COPY_LOOP), inv, dict(extra, names=[]), tmp)
        loop_first = run(fix(COPY_LOOP), inv, dict(extra, names=names[:count]), tmp)
        loop_again = run(fix(COPY_LOOP), inv, dict(extra, names=names[:count]), tmp)
        per_file = (loop_first - empty) / count
        per_file_again = (loop_again - empty) / count
        loop_all = empty + per_file * args.files
        loop_all_again = empty + per_file_again * args.files
        run(fix(PUBLISH), inv, dict(extra, publish_state='absent'), tmp)
        run(fix(CLEANUP), inv, extra, tmp)

        print(
            '  publish_report, first run (%d files, one task) : %7.2f s   (the task alone: %.2f s)'
            % (args.files, first, report1['task'])
        )
        print(
            '  publish_report, re-run, nothing changed        : %7.2f s   (the task alone: %.2f s)'
            % (noop, report2['task'])
        )
        print(
            '  first run / no-op re-run, the task alone       : %7.1fx  (target >= 10x); whole playbook runs: %.1fx'
            % (report1['task'] / report2['task'], first / noop)
        )
        print('  the job alone (in-process), first run          : %7.3f s' % job_first)
        print(
            '  the job alone (in-process), no-op re-run       : %7.3f s   first/no-op = %.1fx (target >= 10x)'
            % (job_noop, job_first / job_noop)
        )
        print('  ansible-playbook fixed cost (empty loop)       : %7.2f s' % empty)
        print(
            '  copy loop, %4d files                          : %7.2f s   (%.3f s per file)'
            % (count, loop_first, per_file)
        )
        print(
            '  copy loop, %4d files again (unchanged)        : %7.2f s   (%.3f s per file)'
            % (count, loop_again, per_file_again)
        )
        print(
            '  copy loop, %d files (extrapolated)           : %7.1f s   copy loop / publish_report = %.1fx'
            % (args.files, loop_all, loop_all / first)
        )
        print(
            '  copy loop re-run, %d files (extrapolated)    : %7.1f s   copy loop / publish_report re-run = %.1fx'
            % (args.files, loop_all_again, loop_all_again / noop)
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
