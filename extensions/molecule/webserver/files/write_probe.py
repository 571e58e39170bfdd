# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A write is visible at once through nginx, on every gunicorn worker.

Runs on the web host with its own python3 (standard library only), over HTTPS to 127.0.0.1
(the chain checked against the site's certificate, --host sent as Host), as a client would:

1. PATCHes the product named --name with its own weight (a write: a new catalog version),
   with the token from --token-file, then reads ``GET /fruits/`` in bursts of concurrent
   requests (each on a new connection, so nginx hands them to whichever worker accepts)
   until every worker has answered: the first request a worker serves after a write reads
   the changed pages from SQLite, so its read-syscall counter (``/proc/<pid>/io`` ``syscr``)
   moves, and serving requests costs CPU time (``/proc/<pid>/stat``), while an idle worker's
   counters stay still. Every worker now holds this version in memory;
2. PATCHes the product's weight + 1;
3. reads again in bursts until every worker has answered since that write: every single
   answer must show the new weight (and a new ETag), none the old one;
4. puts the weight back.

Bounded: at most --bursts bursts of --burst requests per phase. Prints one JSON line:
workers, the bursts needed, the reads after the write, the stale ones (must be 0), the
workers seen answering after the write (must be all), the ETags before and after, and the
Content-Type seen.

    python3 write_probe.py --host web --ca /etc/storeops/catalog-tls.crt --token-file F --name NAME
"""

import argparse
import http.client
import json
import os
import ssl
import subprocess
import threading


def workers(unit):
    main = int(
        subprocess.run(
            ['systemctl', 'show', '--property=MainPID', '--value', unit], capture_output=True, text=True, check=True
        ).stdout.strip()
        or 0
    )
    children = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as handle:
                    fields = handle.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == main:  # ppid
                children.append(int(entry))
    return sorted(children)


def activity(pid):
    """(read syscalls, CPU clock ticks) of a worker so far."""
    try:
        with open('/proc/%d/io' % pid) as handle:
            syscr = int(dict(line.split(': ') for line in handle.read().splitlines())['syscr'])
        with open('/proc/%d/stat' % pid) as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
        return syscr, int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return None, None


def answered(start, now):
    """A worker answered when it read from SQLite (it rebuilt its copy after a write) or spent
    CPU time (2 ticks: a dozen requests; an idle sync worker wakes once per 15 s and spends ~0).
    The worker that made the write keeps a valid SQLite page cache: only its CPU time moves."""
    return now[0] != start[0] or now[1] - start[1] >= 2


class Site(object):
    def __init__(self, args):
        self.args = args
        self.context = ssl.create_default_context(cafile=args.ca)
        self.context.check_hostname = False  # the request goes to 127.0.0.1; the chain is still verified

    def request(self, method, path, body=None, token=None):
        connection = http.client.HTTPSConnection('127.0.0.1', self.args.port, context=self.context, timeout=30)
        headers = {'Host': self.args.host, 'Accept': 'application/json', 'Connection': 'close'}
        if body is not None:
            body = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        if token:
            headers['Authorization'] = 'Token ' + token
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def burst(self, count):
        answers, threads = [], []
        lock = threading.Lock()

        def one():
            answer = self.request('GET', '/fruits/')
            with lock:
                answers.append(answer)

        for dummy in range(count):
            threads.append(threading.Thread(target=one))
            threads[-1].start()
        for thread in threads:
            thread.join(60)
        return answers

    def read_until_every_worker_answered(self, pids, check):
        """Bursts of reads until every worker's read counter moved; ``check`` sees every answer."""
        start = dict((pid, activity(pid)) for pid in pids)
        for number in range(1, self.args.bursts + 1):  # noqa: B007 (the count is returned)
            for answer in self.burst(self.args.burst):
                check(answer)
            seen = [pid for pid in pids if answered(start[pid], activity(pid))]
            if len(seen) == len(pids):
                break
        return number, seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', required=True, help="a name in the site's certificate (sent as Host)")
    parser.add_argument('--ca', required=True, help="the site's certificate")
    parser.add_argument('--token-file', required=True)
    parser.add_argument('--name', required=True, help='the product to change (and change back)')
    parser.add_argument('--port', type=int, default=443)
    parser.add_argument('--unit', default='storeops-catalog.service')
    parser.add_argument('--burst', type=int, default=16)
    parser.add_argument('--bursts', type=int, default=20)
    args = parser.parse_args()
    with open(args.token_file) as handle:
        token = handle.read().strip()
    site = Site(args)
    pids = workers(args.unit)

    status, headers, body = site.request('GET', '/fruits/')
    product = next(item for item in json.loads(body) if item['name'] == args.name)
    old_weight, new_weight = product['weight'], product['weight'] + 1
    report = {'workers': len(pids), 'content_type': headers.get('Content-Type')}
    seen = {'stale': 0, 'reads': 0, 'bad': [], 'etags': set(), 'accel_header_leaked': False}

    def weight_of(answer):
        status, headers, body = answer
        if status != 200:
            seen['bad'].append(status)
            return None
        if 'X-Accel-Redirect' in headers:
            seen['accel_header_leaked'] = True
        seen['etags'].add(headers.get('ETag'))
        return next(item['weight'] for item in json.loads(body) if item['id'] == product['id'])

    def before(answer):
        weight_of(answer)

    def after(answer):
        seen['reads'] += 1
        if weight_of(answer) != new_weight:
            seen['stale'] += 1

    status, dummy, text = site.request('PATCH', '/fruits/%d/' % product['id'], {'weight': old_weight}, token)
    if status != 200:
        raise SystemExit('PATCH answered %d: %s' % (status, text[:300]))
    report['bursts_before'], answered = site.read_until_every_worker_answered(pids, before)
    report['etags_before'] = sorted(seen['etags'])
    report['answered_before'] = len(answered)
    status, dummy, text = site.request('PATCH', '/fruits/%d/' % product['id'], {'weight': new_weight}, token)
    if status != 200:
        raise SystemExit('PATCH answered %d: %s' % (status, text[:300]))
    seen['etags'] = set()
    try:
        report['bursts_after'], answered = site.read_until_every_worker_answered(pids, after)
    finally:
        site.request('PATCH', '/fruits/%d/' % product['id'], {'weight': old_weight}, token)
    report.update(
        reads_after=seen['reads'],
        stale_after=seen['stale'],
        answered_after=len(answered),
        bad_statuses=seen['bad'],
        etags_after=sorted(seen['etags']),
        accel_header_leaked=seen['accel_header_leaked'],
    )
    print(json.dumps(report))


if __name__ == '__main__':
    main()
