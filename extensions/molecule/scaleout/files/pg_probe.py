# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a PostgreSQL server answers this host: ``pg_probe.py HOST PORT USER DATABASE``.

Sends the protocol's StartupMessage (no driver needed) and prints one JSON line:
``{"answer": "authentication", "method": 10}`` when the server goes on to authenticate
(10 is SASL: scram-sha-256), ``{"answer": "error", "message": ...}`` when it refuses this
host (pg_hba.conf), ``{"answer": "unreachable", ...}`` when no connection could be made.
"""

import json
import socket
import struct
import sys


def main():
    host, port, user, database = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    params = (
        b''.join(key + b'\0' + value.encode() + b'\0' for key, value in ((b'user', user), (b'database', database)))
        + b'\0'
    )
    message = struct.pack('!ii', 8 + len(params), 196608) + params
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.sendall(message)
            data = b''
            while len(data) < 5 or len(data) < 1 + struct.unpack('!i', data[1:5])[0]:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        print(json.dumps({'answer': 'unreachable', 'message': str(exc)}))
        return
    if data[:1] == b'R':
        print(json.dumps({'answer': 'authentication', 'method': struct.unpack('!i', data[5:9])[0]}))
    elif data[:1] == b'E':
        fields = dict(
            (item[:1].decode(), item[1:].decode('utf-8', 'replace')) for item in data[5:].split(b'\0') if item
        )
        print(json.dumps({'answer': 'error', 'message': fields.get('M', ''), 'code': fields.get('C', '')}))
    else:
        print(json.dumps({'answer': 'unknown', 'first_bytes': data[:16].hex()}))


if __name__ == '__main__':
    main()
