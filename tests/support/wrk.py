# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One bounded ``wrk`` run (Debian's ``wrk``), parsed; and the load average to print beside it.

row = wrk.run('https://web/fruits/', duration=5, headers={'Accept': 'application/json'})
row['rps'], row['p99_ms'], row['requests'], row['bad'], row['socket_errors'], row['mb_s']
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

THREADS = 2
CONNECTIONS = 16
_TIME_UNITS = {'us': 0.001, 'ms': 1.0, 's': 1000.0}
_BYTE_UNITS = {'B': 1 / 1048576, 'KB': 1 / 1024, 'MB': 1.0, 'GB': 1024.0}


class WrkError(RuntimeError):
    """wrk is missing, hung, or printed something we cannot read."""


def available():
    return shutil.which('wrk') is not None


def command(url, duration, headers=None, threads=THREADS, connections=CONNECTIONS, timeout='2s'):
    argv = ['wrk', '-t%d' % threads, '-c%d' % connections, '-d%ds' % duration, '--timeout', timeout, '--latency']
    for name, value in (headers or {}).items():
        argv += ['-H', '%s: %s' % (name, value)]
    return argv + [url]


def describe(duration, threads=THREADS, connections=CONNECTIONS):
    """The parameters as one would type them, for the report."""
    return 'wrk -t%d -c%d -d%ds --latency' % (threads, connections, duration)


def parse(out):
    """The figures of wrk's ``--latency`` output (raises WrkError when they are not there)."""
    rps = re.search(r'Requests/sec:\s+([\d.]+)', out)
    p99 = re.search(r'^\s+99%\s+([\d.]+)(us|ms|s)\s*$', out, re.M)
    total = re.search(r'(\d+) requests in', out)
    bad = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', out)
    errors = re.search(r'Socket errors:(.*)', out)
    transfer = re.search(r'Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)', out)
    if not rps or not p99:
        raise WrkError('could not read the wrk output:\n%s' % out[-2000:])
    return {
        'rps': float(rps.group(1)),
        'p99_ms': float(p99.group(1)) * _TIME_UNITS[p99.group(2)],
        'requests': int(total.group(1)) if total else 0,
        'bad': int(bad.group(1)) if bad else 0,
        'socket_errors': errors.group(1).strip() if errors else '',
        'mb_s': float(transfer.group(1)) * _BYTE_UNITS[transfer.group(2)] if transfer else 0.0,
    }


def run(url, duration, headers=None, threads=THREADS, connections=CONNECTIONS, timeout='2s'):
    """Run wrk for ``duration`` seconds (1-60) against ``url``; the parsed figures."""
    if not 1 <= duration <= 60:
        raise WrkError('duration must be 1-60 seconds, not %r' % duration)
    if not available():
        raise WrkError('wrk is not installed (apt-get install wrk)')
    argv = command(url, duration, headers, threads, connections, timeout)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    except subprocess.TimeoutExpired:
        raise WrkError('wrk did not finish within %d s: %s' % (duration + 30, url)) from None
    try:
        return parse(result.stdout)
    except WrkError:
        raise WrkError(
            'wrk %s: exit %d\n%s\n%s' % (url, result.returncode, result.stdout[-2000:], result.stderr[-1000:])
        ) from None


def loadavg():
    """``'0.52 0.40 0.31'``: the 1/5/15-minute load average of this machine."""
    return ' '.join('%.2f' % value for value in os.getloadavg())
