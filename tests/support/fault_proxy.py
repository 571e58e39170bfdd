# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small real HTTP/1.1 proxy on 127.0.0.1 that can misbehave on purpose: answer a
scripted status (503 ...), drop a connection, delay, or call a hook (to stop gunicorn
after N requests). When the upstream is down it answers 502 as nginx does."""

from __future__ import annotations

import collections
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NGINX_502 = (
    b'<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>'
    b'</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n'
)
HOP_HEADERS = frozenset(
    ('connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length')
)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _handle(self):
        proxy = self.server.proxy
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        with proxy.lock:
            proxy.count += 1
            number = proxy.count
            fault = proxy.faults.popleft() if proxy.faults else None
        if proxy.hook is not None:
            override = proxy.hook(number, self.command, self.path)
            if override is not None:  # the hook scripts this request's fault itself
                fault = override
        if proxy.body_hook is not None:
            override = proxy.body_hook(self.command, self.path, body or b'')
            if override is not None:
                fault = override
        if isinstance(fault, tuple) and fault[0] == 'delay':
            time.sleep(fault[1])
            fault = None
        if fault == 'drop':
            proxy.record(self, None)
            self.close_connection = True
            return
        if isinstance(fault, int):
            fault = ('status', fault, {})
        if isinstance(fault, tuple) and fault[0] == 'status':
            payload = json.dumps({'detail': 'scripted %d from the test proxy' % fault[1]}).encode()
            proxy.record(self, fault[1])  # before answering: the client may look at the log at once
            self._answer(fault[1], [('Content-Type', 'application/json')] + list(fault[2].items()), payload)
            return
        headers = dict((key, value) for key, value in self.headers.items() if key.lower() not in HOP_HEADERS)
        try:
            upstream = http.client.HTTPConnection('127.0.0.1', proxy.upstream_port, timeout=60)
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            status, reason, response_headers = response.status, response.reason, response.getheaders()
            upstream.close()
        except OSError:
            proxy.record(self, 502)
            self._answer(502, [('Content-Type', 'text/html'), ('Server', 'nginx')], NGINX_502)
            return
        if fault == 'drop-after':  # the site did the work, the client never hears about it
            proxy.record(self, None)
            self.close_connection = True
            return
        proxy.record(self, status)
        self._answer(status, [(k, v) for k, v in response_headers if k.lower() not in HOP_HEADERS], data, reason)

    def _answer(self, status, headers, data, reason=None):
        self.send_response(status, reason)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _handle


class FaultProxy(object):
    """A real HTTP/1.1 keep-alive proxy on 127.0.0.1 with scripted faults.

    ``faults`` is consumed one entry per request: an int answers that status itself
    (``('status', 503, {'Retry-After': '1'})`` with extra headers),
    ``'drop'`` closes the connection without an answer, ``'drop-after'`` forwards the
    request and then closes the connection without passing the answer on,
    ``('delay', s)`` waits first, ``None`` forwards normally.
    """

    def __init__(self, upstream_port, ssl_context=None):
        self.upstream_port = upstream_port
        self.faults = collections.deque()
        self.hook = None
        self.body_hook = None  # (method, path, body) -> a fault or None: scripts by what is sent
        self.lock = threading.Lock()
        self.count = 0
        self.log = []
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.proxy = self
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        scheme = 'https' if ssl_context is not None else 'http'
        self.url = '%s://127.0.0.1:%d' % (scheme, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()

    def record(self, handler, status):
        with self.lock:
            self.log.append(
                {'port': handler.client_address[1], 'method': handler.command, 'path': handler.path, 'status': status}
            )

    def requests_to(self, method, prefix):
        return [entry for entry in self.log if entry['method'] == method and entry['path'].startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
