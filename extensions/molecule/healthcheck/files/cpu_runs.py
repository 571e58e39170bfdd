# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""On the monitored host: the CPU check of every job run since a time, and the mails they call for.

    cpu_runs.py SINCE_EPOCH FAILURES_NEEDED

The lab's CPU is the whole machine's, shared with other work, so a run may find the CPU busy
without stress-ng. The job logs every run (``run finished, exit N: cpu ok: CPU usage 3.1% ...``,
syslog identifier storeops-healthcheck, cron's runs and those by hand alike); from those lines,
in order, this lists each run's CPU state and works out the mails the alert rules call for,
starting from an OK check with no failure counted: an ``alert`` at the FAILURES_NEEDED-th failed
run in a row, a ``recovery`` at the first OK run after it. On a quiet machine that is one alert
while stress-ng runs and one recovery after it. One JSON line.
"""

import json
import re
import subprocess
import sys

CPU = re.compile(r'(?:^|; )cpu (ok|failing|error): (.*?)(?:;|$)')


def main():
    since, needed = float(sys.argv[1]), int(sys.argv[2])
    out = subprocess.run(
        ['journalctl', '--no-pager', '-o', 'json', '--since', '@%d' % int(since), '-t', 'storeops-healthcheck'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    runs = []
    for line in out.splitlines():
        entry = json.loads(line)
        at = int(entry['__REALTIME_TIMESTAMP']) / 1e6
        message = entry.get('MESSAGE')
        if at < since or not isinstance(message, str) or not message.startswith('run finished'):
            continue
        match = CPU.search(message.split(': ', 1)[1])
        runs.append(
            {
                'at': at,
                'state': match.group(1),
                'message': match.group(2),
                'by': 'cron' if entry.get('_SYSTEMD_UNIT') == 'cron.service' else 'hand',
            }
        )
    expected, status, failures = [], 'ok', 0
    for run in runs:
        if run['state'] != 'ok':
            failures += 1
            if status == 'ok' and failures >= needed:
                status = 'failing'
                expected.append('alert')
        else:
            failures = 0
            if status == 'failing':
                status = 'ok'
                expected.append('recovery')
    print(json.dumps({'runs': runs, 'expected': expected}))


if __name__ == '__main__':
    main()
