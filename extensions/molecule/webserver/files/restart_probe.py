# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Restart gunicorn while a client keeps reading the site, and count what failed.

Runs on the web host with its own python3 (standard library only). One thread sends
``GET /healthz`` one request after another over HTTPS to 127.0.0.1 (the chain checked
against the site's certificate, --host sent as Host); the main thread restarts the service once the
client is under way. Bounded: at most --max-requests requests and --max-seconds seconds,
and the client stops by itself 2 s after the restart has returned.

Prints one JSON line: requests in all, those sent or answered while the restart ran (and in
the second after it, while the new workers load the site), the slowest one (a request that
waited in the socket for the new workers), the failures (status other than 200, or a
connection error) with their first messages, and gunicorn's main PID before and after; on a
failure or a restart slower than 10 s, also the service's last 40 journal lines.

    python3 restart_probe.py --host web --ca /etc/storeops/catalog-tls.crt [--unit storeops-catalog.service]
"""

import argparse
import http.client
import json
import ssl
import subprocess
import threading
import time


def main_pid(unit):
    out = subprocess.run(
        ['systemctl', 'show', '--property=MainPID', '--value', unit], capture_output=True, text=True, check=True
    ).stdout
    return int(out.strip() or 0)


def client(args, context, stop, log):
    deadline = time.monotonic() + args.max_seconds
    for _number in range(args.max_requests):
        if stop.is_set() or time.monotonic() > deadline:
            return
        sent = time.monotonic()
        connection = http.client.HTTPSConnection('127.0.0.1', args.port, context=context, timeout=30)
        try:
            connection.request('GET', '/healthz', headers={'Host': args.host})
            response = connection.getresponse()
            response.read()
            status, error = response.status, None
        except (OSError, http.client.HTTPException) as exc:
            status, error = None, '%s: %s' % (exc.__class__.__name__, exc)
        finally:
            connection.close()
        log.append((sent, time.monotonic(), status, error))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', required=True, help="a name in the site's certificate (sent as Host)")
    parser.add_argument('--ca', required=True, help="the site's certificate")
    parser.add_argument('--port', type=int, default=443)
    parser.add_argument('--unit', default='storeops-catalog.service')
    parser.add_argument('--max-requests', type=int, default=3000)
    parser.add_argument('--max-seconds', type=float, default=60.0)
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca)
    context.check_hostname = False  # the request goes to 127.0.0.1; the chain is still verified
    log, stop = [], threading.Event()
    thread = threading.Thread(target=client, args=(args, context, stop, log), daemon=True)
    before = main_pid(args.unit)
    thread.start()
    while len(log) < 20 and thread.is_alive():  # the client is under way
        time.sleep(0.05)
    restart_start = time.monotonic()
    subprocess.run(['systemctl', 'restart', args.unit], check=True, timeout=60)
    restart_end = time.monotonic()
    time.sleep(2)
    stop.set()
    thread.join(35)
    failures = [entry for entry in log if entry[2] != 200]
    report = {
        'requests': len(log),
        # sent or answered while systemd restarted the service or the new workers loaded the app
        'during_restart': sum(1 for sent, done, _s, _e in log if done >= restart_start and sent <= restart_end + 1),
        'slowest_ms': round(max((done - sent for sent, done, _s, _e in log), default=0) * 1000, 1),
        'restart_seconds': round(restart_end - restart_start, 3),
        'failures': len(failures),
        'first_failures': ['%s %s' % (status, error) for _s, _d, status, error in failures[:5]],
        'main_pid_before': before,
        'main_pid_after': main_pid(args.unit),
    }
    if failures or report['restart_seconds'] > 10:  # what the service said, to tell why
        report['journal'] = subprocess.run(
            ['journalctl', '--unit', args.unit, '--no-pager', '--lines', '40', '--output', 'short-precise'],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
    print(json.dumps(report))


if __name__ == '__main__':
    main()
