# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A bounded stream of GETs: ``get_stream.py URL CAFILE SECONDS THREADS [MAX]``.

Each of THREADS threads sends GET URL, one new HTTPS connection per request (so every
request is balanced anew), until SECONDS have passed or MAX requests were made in all.
Prints one JSON line: counts per status, the failures (status, error) with their times.
"""

import json
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    url, cafile, seconds, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 5000
    context = ssl.create_default_context(cafile=cafile)
    start = time.monotonic()
    lock = threading.Lock()
    counts, failures, made = {}, [], [0]

    def worker():
        while time.monotonic() - start < seconds:
            with lock:
                if made[0] >= limit:
                    return
                made[0] += 1
            at = round(time.monotonic() - start, 3)
            try:
                with urllib.request.urlopen(url, context=context, timeout=20) as answer:
                    answer.read()
                    status = answer.status
                error = None
            except urllib.error.HTTPError as exc:
                status, error = exc.code, str(exc)
            except Exception as exc:  # a reset, a timeout: a failed request too
                status, error = 0, '%s: %s' % (type(exc).__name__, exc)
            with lock:
                counts[str(status)] = counts.get(str(status), 0) + 1
                if status != 200:
                    failures.append({'at': at, 'status': status, 'error': error})

    pool = [threading.Thread(target=worker) for dummy in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    print(
        json.dumps(
            {
                'requests': made[0],
                'counts': counts,
                'failures': failures[:20],
                'seconds': round(time.monotonic() - start, 2),
            }
        )
    )


if __name__ == '__main__':
    main()
