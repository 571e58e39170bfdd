# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job playbooks as AWX runs them: through ansible-runner, with a private data dir.

    runner_check.py --repo ROOT --work DIR --vars FILE --secrets FILE

AWX (and Automation Controller) starts every job with ansible-runner: a private data dir
holding project/ (the playbooks), inventory/, env/extravars and env/envvars. This script
builds one from the lab inventory and runs, in it:

1. catalog_update on a fresh delivery in the inbox: rc 0, status successful, and the job
   events show the tasks (the upload, the report, the mail);
2. the same with a wrong token: rc not 0, status failed, the site's "Invalid token" in the
   event stream, nothing uploaded, and the delivery still in the inbox for the next run;
3. reviews without storeops_catalog_token: it fails at once, naming the variable.

It prints one JSON line per case and exits 1 when any case is not what AWX needs.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import ansible_runner
import yaml


def private_data_dir(root, work, extravars):
    """AWX's layout: project/, inventory/, env/extravars, env/envvars."""
    data = os.path.join(work, 'runner')
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(os.path.join(root, 'playbooks'), os.path.join(data, 'project'))
    shutil.copytree(os.path.join(root, 'inventories', 'lab'), os.path.join(data, 'inventory'))
    os.makedirs(os.path.join(data, 'env'))
    with open(os.path.join(data, 'env', 'envvars'), 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'ANSIBLE_COLLECTIONS_PATH': os.path.join(root, '.ansible', 'collections'),
                        'ANSIBLE_CONFIG': os.path.join(root, 'ansible.cfg'), 'ANSIBLE_NOCOLOR': '1',
                        # ansible-playbook of this Python (an EE has it on its PATH)
                        'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')}, handle)
    with open(os.path.join(data, 'env', 'extravars'), 'w', encoding='utf-8') as handle:
        yaml.safe_dump(extravars, handle)
    return data


def run(data, playbook, ident, extravars):
    result = ansible_runner.run(private_data_dir=data, playbook=playbook, ident=ident, extravars=extravars,
                                quiet=True, rotate_artifacts=0)
    events = list(result.events)
    tasks = [event['event_data'].get('task') for event in events if event.get('event') == 'playbook_on_task_start']
    failures = [json.dumps(event['event_data'].get('res', {})) for event in events
                if event.get('event') in ('runner_on_failed', 'runner_on_unreachable')]
    return result.rc, result.status, tasks, failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--repo', required=True)
    parser.add_argument('--work', required=True)
    parser.add_argument('--vars', required=True, help='YAML extra vars (the site, the mail server, the folders)')
    parser.add_argument('--secrets', required=True, help='YAML with storeops_catalog_token')
    parser.add_argument('--delivery', required=True, help='a delivery archive to drop into the inbox')
    args = parser.parse_args()
    with open(args.vars, encoding='utf-8') as handle:
        extravars = yaml.safe_load(handle)
    with open(args.secrets, encoding='utf-8') as handle:
        secrets = yaml.safe_load(handle)
    data = private_data_dir(os.path.abspath(args.repo), os.path.abspath(args.work), extravars)
    inbox = os.path.join(extravars['storeops_deliveries_dir'], 'inbox')
    os.makedirs(inbox, exist_ok=True)
    ok = True

    def report(case, good, **details):
        nonlocal ok
        ok = ok and good
        print(json.dumps(dict(case=case, ok=good, **details)), flush=True)

    shutil.copy(args.delivery, os.path.join(inbox, os.path.basename(args.delivery)))
    rc, status, tasks, failures = run(data, 'catalog_update.yml', 'wrong-token',
                                      dict(extravars, storeops_catalog_token='wrong-token-0123456789abcdef'))
    stream = ' '.join(failures)
    report('forced failure (wrong token)', rc != 0 and status == 'failed' and 'Invalid token' in stream
           and os.listdir(inbox) == [os.path.basename(args.delivery)], rc=rc, status=status, failure=stream[:300])

    rc, status, tasks, failures = run(data, 'catalog_update.yml', 'success', dict(extravars, **secrets))
    wanted = [task for task in tasks if task and task.startswith(('Upload the images and products',
                                                                  'Build the Processed Update PDF', 'Mail the report'))]
    report('success', rc == 0 and status == 'successful' and len(wanted) == 3 and os.listdir(inbox) == [],
           rc=rc, status=status, tasks=wanted, failures=failures[:1])

    rc, status, tasks, failures = run(data, 'reviews.yml', 'missing-variable', extravars)
    stream = ' '.join(failures)
    report('missing required variable', rc != 0 and status == 'failed' and 'storeops_catalog_token' in stream
           and tasks == ['Check the inputs'], rc=rc, status=status, tasks=tasks, failure=stream[:300])
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
