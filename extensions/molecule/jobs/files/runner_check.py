# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job playbooks as AWX runs them: through ansible-runner, with a private data dir.

    runner_check.py --repo ROOT --work DIR --vars FILE

AWX (and Automation Controller) starts every job with ansible-runner: a private data dir
holding project/ (the playbooks), inventory/, env/extravars and env/envvars. This script
builds one from the lab inventory (its Vault file holds the catalog token) and runs in it:

1. catalog_update with a wrong token: rc not 0, status failed, the site's "Invalid token"
   in the event stream, and the delivery still in the inbox for the next run;
2. catalog_update again with the inventory's token: rc 0, status successful, the job events
   show the upload, the report and the mail, and the delivery is archived; its products are
   on the store front in the delivery's order;
3. a hostile archive (a member ../) beside a good delivery: the good one is processed, the
   hostile one moves to rejected/, the job fails naming the archive and the member;
4. reviews without storeops_catalog_token: it fails at once, at its first task, naming the
   variable;
5. sales_report from the sales service's URL (the web host's nginx in the lab), over HTTPS with
   the lab's CA: rc 0, the PDF built and mailed; a month the service does not have: rc not 0,
   the 404 in the event stream, no PDF step;
6. health.yml: the table of every host, status successful (with fail_on_alert off: the CPU
   of the lab is this machine's, shared with the tests).

It prints one JSON line per case and exits 1 when any case is not what AWX needs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import ssl
import sys
import tarfile
import urllib.request

import ansible_runner
import yaml
from PIL import Image, ImageDraw


def private_data_dir(root, work, name='runner', inventory=True):
    """AWX's layout: project/, inventory/ (the lab's, with its Vault file), env/envvars."""
    data = os.path.join(work, name)
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(os.path.join(root, 'playbooks'), os.path.join(data, 'project'))
    if inventory:
        shutil.copytree(os.path.join(root, 'inventories', 'lab'), os.path.join(data, 'inventory'))
    os.makedirs(os.path.join(data, 'env'))
    with open(os.path.join(data, 'env', 'envvars'), 'w', encoding='utf-8') as handle:
        yaml.safe_dump(
            {
                'ANSIBLE_COLLECTIONS_PATH': os.path.join(root, '.ansible', 'collections'),
                'ANSIBLE_CONFIG': os.path.join(root, 'ansible.cfg'),
                'ANSIBLE_NOCOLOR': '1',
                # AWX's vault credential: the password file of the inventory's Vault file
                **(
                    {'ANSIBLE_VAULT_PASSWORD_FILE': os.path.join(data, 'inventory', '.vault-password')}
                    if inventory
                    else {}
                ),
                # ansible-playbook of this Python (an EE has it on its PATH)
                'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''),
            },
            handle,
        )
    return data


def run(data, playbook, ident, extravars, inventory=None):
    # ansible-runner merges the extravars it is given into env/extravars: each job starts clean,
    # as each AWX job does.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(data, 'env', 'extravars'))
    result = ansible_runner.run(
        private_data_dir=data,
        playbook=playbook,
        ident=ident,
        extravars=extravars,
        inventory=inventory,
        quiet=True,
        rotate_artifacts=0,
    )
    events = list(result.events)
    tasks = [event['event_data'].get('task') for event in events if event.get('event') == 'playbook_on_task_start']
    failures = ' '.join(
        json.dumps(event['event_data'].get('res', {}))
        for event in events
        if event.get('event') in ('runner_on_failed', 'runner_on_unreachable')
    )
    output = ' '.join(event.get('stdout', '') for event in events)
    return result.rc, result.status, tasks, failures, output


def delivery(path, prefix, count=3, evil=False):
    """A supplier-data.tar.gz: TIFF images (RGBA) and descriptions, as suppliers send them."""
    with tarfile.open(path, 'w:gz') as archive:

        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))

        for number in range(1, count + 1):
            image = Image.new('RGBA', (300, 200), (0, 0, 0, 0))
            ImageDraw.Draw(image).ellipse((60, 20, 240, 180), fill=(40 * number % 256, 160, 60, 255))
            buffer = io.BytesIO()
            image.save(buffer, 'TIFF')
            add('supplier-data/images/%03d.tif' % number, buffer.getvalue())
            add(
                'supplier-data/descriptions/%03d.txt' % number,
                ('%s %d\n%d lbs\nFresh from the runner test.\n' % (prefix, number, 100 + number)).encode(),
            )
        if evil:
            add('supplier-data/../../escaped.txt', b'should never be written')
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--repo', required=True)
    parser.add_argument('--work', required=True)
    parser.add_argument('--vars', required=True, help='YAML extra vars (the site, the mail server, the folders)')
    args = parser.parse_args()
    with open(args.vars, encoding='utf-8') as handle:
        extravars = yaml.safe_load(handle)
    work = os.path.abspath(args.work)
    data = private_data_dir(os.path.abspath(args.repo), work)
    deliveries = extravars['storeops_deliveries_dir']
    inbox = os.path.join(deliveries, 'inbox')
    shutil.rmtree(deliveries, ignore_errors=True)
    os.makedirs(inbox)
    prefix = 'Runner%06d' % random.randrange(10**6)
    ok = True

    def report(case, good, **details):
        nonlocal ok
        ok = ok and good
        print(json.dumps(dict(case=case, ok=good, **details)), flush=True)

    delivery(os.path.join(inbox, 'supplier-data.tar.gz'), prefix)
    rc, status, tasks, failures, dummy = run(
        data,
        'catalog_update.yml',
        'wrong-token',
        dict(extravars, storeops_catalog_token='wrong-token-0123456789abcdef'),
    )
    report(
        'forced failure (wrong token)',
        rc != 0
        and status == 'failed'
        and 'Invalid token' in failures
        and os.listdir(inbox) == ['supplier-data.tar.gz'],
        rc=rc,
        status=status,
        failure=failures[:300],
    )

    rc, status, tasks, failures, dummy = run(data, 'catalog_update.yml', 'success', extravars)
    steps = ('Upload the images and products', 'Build the Processed Update PDF', 'Mail the report')
    wanted = [task for task in tasks if task and task.startswith(steps)]
    context = ssl.create_default_context(cafile=extravars['storeops_catalog_ca_path'])
    with urllib.request.urlopen(extravars['storeops_catalog_url'] + '/fruits/', context=context, timeout=30) as answer:
        names = [p['name'] for p in json.load(answer) if p['name'].startswith(prefix + ' ')]
    report(
        'success',
        rc == 0
        and status == 'successful'
        and len(wanted) == 3
        and os.listdir(inbox) == []
        and names == ['%s %d' % (prefix, n) for n in (1, 2, 3)]
        and len(os.listdir(os.path.join(deliveries, 'archive'))) == 1,
        rc=rc,
        status=status,
        tasks=wanted,
        products=names,
        failures=failures[:300],
    )

    delivery(os.path.join(inbox, 'evil.tar.gz'), prefix + 'Evil', evil=True)
    delivery(os.path.join(inbox, 'second.tar.gz'), prefix + 'Two', count=2)
    rc, status, tasks, failures, output = run(data, 'catalog_update.yml', 'hostile', extravars)
    rejected = os.listdir(os.path.join(deliveries, 'rejected'))
    report(
        'hostile archive refused, the good one processed',
        rc != 0
        and status == 'failed'
        and 'supplier-data/../../escaped.txt' in failures
        and 'evil.tar.gz' in failures
        and len(rejected) == 1
        and rejected[0].startswith('evil.')
        and os.listdir(inbox) == []
        and not os.path.exists(os.path.join(work, 'escaped.txt'))
        and not os.path.exists(os.path.join(deliveries, 'escaped.txt')),
        rc=rc,
        status=status,
        rejected=rejected,
        failure=failures[:300],
    )

    # An inventory that does not give the token (a job template whose credential is missing).
    bare = {
        'all': {'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}
    }
    bare_data = private_data_dir(os.path.abspath(args.repo), work, 'runner-bare', inventory=False)
    rc, status, tasks, failures, dummy = run(bare_data, 'reviews.yml', 'missing-variable', extravars, inventory=bare)
    report(
        'missing required variable',
        rc != 0 and status == 'failed' and 'storeops_catalog_token' in failures and tasks == ['Check the inputs'],
        rc=rc,
        status=status,
        tasks=tasks,
        failure=failures[:300],
    )

    # The month's sales from the sales service over HTTPS (the certificate checked), then a
    # month the service does not have: the job fails with the service's answer.
    rc, status, tasks, failures, dummy = run(data, 'sales_report.yml', 'sales', extravars)
    report(
        'sales report from the sales URL',
        rc == 0
        and status == 'successful'
        and "Fetch the month's sales from the sales service" in tasks
        and 'Mail the summary (once per report)' in tasks
        and os.path.getsize(os.path.join(extravars['storeops_report_dir'], 'cars.pdf')) > 1000,
        rc=rc,
        status=status,
        tasks=tasks,
        failure=failures[:300],
    )
    missing = extravars['storeops_sales_url'].replace('2026-11', '1999-01')
    rc, status, tasks, failures, dummy = run(
        data, 'sales_report.yml', 'sales-missing', dict(extravars, storeops_sales_url=missing)
    )
    report(
        'sales report, a month the service does not have',
        rc != 0 and status == 'failed' and '404' in failures and 'Build the sales summary PDF' not in tasks,
        rc=rc,
        status=status,
        failure=failures[:300],
    )

    rc, status, tasks, failures, output = run(
        data, 'health.yml', 'health', dict(extravars, storeops_health_fail_on_alert=False)
    )
    report(
        'health table',
        rc == 0
        and status == 'successful'
        and 'LAST JOB RUN' in output
        and ' ERROR ' not in output
        and all(host in output for host in ('web', 'mail', 'monitor')),
        rc=rc,
        status=status,
        table=output[output.find('HOST') :][:1500],
    )
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
