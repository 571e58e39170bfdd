# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""On the monitored host: did cron start the health-check job since a time, and did that run finish?

    cron_fired.py SINCE_EPOCH USER MODULE

Reads the journal (journalctl -o json): cron's own ``(USER) CMD (...)`` lines whose command runs
MODULE, and the job's ``run finished`` lines (syslog identifier storeops-healthcheck) logged from
inside cron.service (its cgroup: a run by hand, over SSH, is not). A cron run is such a line
within 40 s after a CMD line. One JSON line.
"""

import json
import subprocess
import sys


def entries(since, identifier):
    out = subprocess.run(
        ['journalctl', '--no-pager', '-o', 'json', '--since', '@%d' % int(since), '-t', identifier],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    since, user, module = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    starts = [
        {'at': int(e['__REALTIME_TIMESTAMP']) / 1e6, 'pid': e.get('_PID'), 'message': e['MESSAGE']}
        for e in entries(since, 'CRON')
        if isinstance(e.get('MESSAGE'), str) and e['MESSAGE'].startswith('(%s) CMD (' % user) and module in e['MESSAGE']
    ]
    finished = [
        {'at': int(e['__REALTIME_TIMESTAMP']) / 1e6, 'pid': e.get('_PID'), 'message': e['MESSAGE']}
        for e in entries(since, 'storeops-healthcheck')
        if isinstance(e.get('MESSAGE'), str)
        and e['MESSAGE'].startswith('run finished')
        and e.get('_SYSTEMD_UNIT') == 'cron.service'
    ]
    # A cron-started run: a "run finished" within 40 s after a CMD line (the CPU sample takes 1 s,
    # a slow SMTP server up to smtp_timeout).
    cron_runs = [s for s in starts if any(0 <= f['at'] - s['at'] <= 40 for f in finished)]
    print(json.dumps({'cron_starts': starts, 'cron_runs': cron_runs, 'finished': len(finished)}))


if __name__ == '__main__':
    main()
