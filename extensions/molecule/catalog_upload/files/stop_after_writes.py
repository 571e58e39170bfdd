# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stop gunicorn on the web host once the site has taken a number of writes.

Runs on the web host with its own python3 (standard library only). Polls ``GET /healthz``
(its ``catalog_version`` goes up by one per product or review written) over HTTPS on
127.0.0.1 every 50 ms, and when it reaches --version, stops gunicorn *and* its socket
(socket activation would otherwise start gunicorn again on the next request), so the
client sees the site go down in the middle of its run. Bounded by --max-seconds.

Prints one JSON line: the version seen when it stopped the site and the polls made.

    python3 stop_after_writes.py --version N --host web --ca /etc/storeops/catalog-tls.crt
"""

import argparse
import http.client
import json
import ssl
import subprocess
import sys
import time

UNITS = ['storeops-catalog.socket', 'storeops-catalog.service']


def catalog_version(context, host):
    connection = http.client.HTTPSConnection('127.0.0.1', 443, context=context, timeout=5)
    try:
        connection.request('GET', '/healthz', headers={'Host': host})
        return json.loads(connection.getresponse().read())['catalog_version']
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--version', type=int, required=True, help='stop once catalog_version >= this')
    parser.add_argument('--host', required=True, help="a name the site answers to (sent as Host)")
    parser.add_argument('--ca', required=True, help="the site's certificate")
    parser.add_argument('--max-seconds', type=float, default=300.0)
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca)
    context.check_hostname = False  # the request goes to 127.0.0.1; the chain is still verified
    deadline = time.monotonic() + args.max_seconds
    polls = 0
    while True:
        polls += 1
        seen = catalog_version(context, args.host)
        if seen >= args.version:
            break
        if time.monotonic() > deadline:
            sys.exit('catalog_version is %d after %.0f s, waited for %d' % (seen, args.max_seconds, args.version))
        time.sleep(0.05)
    subprocess.run(['systemctl', 'stop'] + UNITS, check=True, timeout=60)
    print(json.dumps({'catalog_version': seen, 'polls': polls, 'stopped': UNITS}))


if __name__ == '__main__':
    main()
