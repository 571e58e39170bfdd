# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the catalog's PostgreSQL role and database what the role says (installed by storeops.shop.database).

    python3 /usr/local/lib/storeops/pg_catalog.py --user NAME --database NAME [--port 5432] < password

Run as the ``postgres`` user (psql over the local socket, peer authentication). The password
comes on standard input and never goes on a command line or into a server log: the stored
SCRAM-SHA-256 verifier is checked against it here, and only when it does not match is a new
verifier (made here, RFC 5802/7677, as PostgreSQL makes them) sent, in an ALTER ROLE read by
psql from its standard input. Prints one JSON line: {"changed": bool, "actions": [...]}.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import unicodedata

NAME = re.compile(r'^[a-z_][a-z0-9_]{0,62}$')
ITERATIONS = 4096  # PostgreSQL's scram_iterations default


def psql(port, sql, database='postgres'):
    result = subprocess.run(
        ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-p', str(port), '-d', database, '-f', '-'],
        input=sql,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit('psql failed: %s' % result.stderr.strip())
    return result.stdout.strip()


def literal(text):
    return "'" + text.replace("'", "''") + "'"


# SASLprep (RFC 4013) as PostgreSQL and libpq apply it to a password before hashing: ASCII is
# kept as it is; otherwise non-ASCII spaces become spaces, the characters "commonly mapped to
# nothing" go, and the result is NFKC-normalised. (When the result holds characters SASLprep
# prohibits, both use the password's raw bytes instead; so does this for control characters.)
_NOTHING = frozenset(
    '\u00ad\u034f\u1806\u180b\u180c\u180d\u200b\u200c\u200d\u2060'
    '\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff'
)


def saslprep(password):
    if password.isascii():
        return password
    mapped = ''.join(' ' if unicodedata.category(char) == 'Zs' else char for char in password if char not in _NOTHING)
    prepared = unicodedata.normalize('NFKC', mapped)
    if any(unicodedata.category(char) in ('Cc', 'Cs', 'Co', 'Cn') for char in prepared):
        return password
    return prepared


def keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac('sha256', saslprep(password).encode('utf-8'), salt, iterations)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    return stored_key, server_key


def b64(data):
    return base64.b64encode(data).decode('ascii')


def verifier(password):
    salt = os.urandom(16)
    stored_key, server_key = keys(password, salt, ITERATIONS)
    return 'SCRAM-SHA-256$%d:%s$%s:%s' % (ITERATIONS, b64(salt), b64(stored_key), b64(server_key))


def matches(stored, password):
    match = re.match(r'^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$', stored or '')
    if not match:
        return False  # none, md5 or unknown: set a SCRAM one
    iterations, salt, stored_key, server_key = match.groups()
    want = keys(password, base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(want[0], base64.b64decode(stored_key)) and hmac.compare_digest(
        want[1], base64.b64decode(server_key)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--user', required=True)
    parser.add_argument('--database', required=True)
    parser.add_argument('--port', type=int, default=5432)
    args = parser.parse_args()
    for what in ('user', 'database'):
        if not NAME.match(getattr(args, what)):
            raise SystemExit(
                '%s %r: use lower-case letters, digits and _ (at most 63, not starting with a digit)'
                % (what, getattr(args, what))
            )
    password = sys.stdin.read().rstrip('\n')
    if not password:
        raise SystemExit('empty password on standard input')
    actions = []
    row = psql(
        args.port,
        'SELECT rolcanlogin, rolsuper, coalesce(rolpassword, \'\') FROM pg_authid WHERE rolname = %s;\n'
        % literal(args.user),
    )
    if not row:
        psql(
            args.port,
            'CREATE ROLE "%s" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s;\n'
            % (args.user, literal(verifier(password))),
        )
        actions.append('created role %s' % args.user)
    else:
        can_login, superuser, stored = row.split('|', 2)
        if can_login != 't' or superuser != 'f':
            psql(args.port, 'ALTER ROLE "%s" LOGIN NOSUPERUSER;\n' % args.user)
            actions.append('role %s: LOGIN NOSUPERUSER' % args.user)
        if not matches(stored, password):
            psql(args.port, 'ALTER ROLE "%s" PASSWORD %s;\n' % (args.user, literal(verifier(password))))
            actions.append('role %s: new password' % args.user)
    owner = psql(
        args.port, 'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s;\n' % literal(args.database)
    )
    if not owner:
        psql(
            args.port,
            'CREATE DATABASE "%s" OWNER "%s" ENCODING \'UTF8\' LOCALE \'C.UTF-8\' TEMPLATE template0;\n'
            % (args.database, args.user),
        )
        actions.append('created database %s' % args.database)
    elif owner != args.user:
        psql(args.port, 'ALTER DATABASE "%s" OWNER TO "%s";\n' % (args.database, args.user))
        actions.append('database %s: owner %s' % (args.database, args.user))
    # Only the catalog's role may connect to its database (pg_hba.conf limits the hosts).
    public = psql(args.port, "SELECT has_database_privilege('public', %s, 'CONNECT');\n" % literal(args.database))
    if public == 't':
        psql(args.port, 'REVOKE CONNECT, TEMPORARY ON DATABASE "%s" FROM PUBLIC;\n' % args.database)
        actions.append('database %s: no CONNECT for PUBLIC' % args.database)
    print(json.dumps({'changed': bool(actions), 'actions': actions}))


if __name__ == '__main__':
    main()
