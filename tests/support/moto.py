# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""moto's standalone S3-compatible server on 127.0.0.1, for tests that need a real S3 API
(the publish_report S3 backend, the catalog site's S3 media storage). It stands in for S3:
it enforces object ACLs for anonymous GETs, not signatures or their expiry.

    with moto_server(tmp_dir) as url:   # http://127.0.0.1:<free port>, up within 30 s
        ...                             # stopped by its PID (SIGTERM, then SIGKILL) whatever happens
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

MOTO = os.path.join(os.path.dirname(sys.executable), "moto_server")
START_TIMEOUT = 30


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server(log_dir, env=None):
    """moto_server on a free port (its log in ``log_dir``); yields its URL."""
    port = free_port()
    log_path = os.path.join(str(log_dir), "moto-%d.log" % port)
    environ = dict(os.environ, **(env or {}))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        environ.pop(name, None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [MOTO, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environ,
            start_new_session=True,
        )
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                with open(log_path, encoding="utf-8", errors="replace") as log:
                    raise RuntimeError("moto_server exited with %s: %s" % (proc.returncode, log.read()))
            try:
                with contextlib.closing(socket.create_connection(("127.0.0.1", port), timeout=1)):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not listen on %s within %d s" % (url, START_TIMEOUT)) from None
                time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
