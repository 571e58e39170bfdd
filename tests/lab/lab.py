# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The storeops.shop test lab: real Debian 12 hosts on this machine.

Each host is a ``systemd-nspawn --boot`` container (systemd as PID 1 inside) whose root
is an overlay of one cached ``debootstrap`` image and a per-host upper directory. Each
host has its own network namespace, joined to a bridge the lab owns by a veth pair, and
is reached over SSH with a per-lab key. Hosts reach the package registries (Debian,
PyPI) through NAT limited to those addresses, and nothing else.

    lab.py up [--hosts web,mail,monitor]   start the lab (reuses a healthy running one)
    lab.py down                            remove everything ``up`` made, also after a crash
    lab.py status                          print what is running
    lab.py image                           build the cached base image only
    lab.py exec HOST -- CMD...             run a command inside a host (nsenter)

Everything the lab makes carries the ``solab`` prefix (netns, links, bridge), the nft
table is ``inet storeops_lab``, and ``down`` finds them by name, so it cleans up even
when the state file was never written. Only this standard library is used: the script
runs with the system ``python3`` before any virtual environment exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# LAB_PREFIX runs a second, separate lab beside the default one (other names, bridge, nft
# table, state directory and, unless LAB_SUBNET says otherwise, subnet): for working on two
# checkouts at once. The default lab is what `make test` and `make demo` use.
DEFAULT_PREFIX = 'solab'
PREFIX = os.environ.get('LAB_PREFIX') or DEFAULT_PREFIX
if not re.match(r'^[a-z]{2,5}$', PREFIX):
    raise SystemExit('lab: LAB_PREFIX %r: use 2-5 lowercase letters (link names are limited to 15 characters)' % PREFIX)
_OWN = PREFIX == DEFAULT_PREFIX
BRIDGE = PREFIX + '0'
NFT_TABLE = 'storeops_lab' if _OWN else 'storeops_lab_' + PREFIX
SUBNET = ipaddress.ip_network(
    os.environ.get('LAB_SUBNET')
    or (
        '10.213.77.0/24'
        if _OWN
        else '10.213.%d.0/24' % (78 + int(hashlib.sha256(PREFIX.encode()).hexdigest(), 16) % 170)
    )
)
DEFAULT_HOSTS = ('web', 'mail', 'monitor')
CACHE_DIR = os.environ.get('LAB_CACHE_DIR', '/var/cache/storeops-lab')
STATE_ROOT = '/var/lib/storeops-lab'
STATE_DIR = os.environ.get('LAB_STATE_DIR') or (STATE_ROOT if _OWN else '%s-%s' % (STATE_ROOT, PREFIX))
STATE_FILE = os.path.join(STATE_DIR, 'state.json')
SSH_DIR = os.path.join(STATE_DIR, 'ssh')
HOSTS_DIR = os.path.join(STATE_DIR, 'hosts')
NSPAWN_RUN_DIR = '/run/systemd/nspawn'
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY_DIR = os.path.join(REPO, 'inventories', 'lab')
REGISTRY_HOSTS = ('deb.debian.org', 'security.debian.org', 'pypi.org', 'files.pythonhosted.org')
CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'

# The image recipe: changing anything here rebuilds the cached image.
IMAGE_SUITE = 'bookworm'
IMAGE_PACKAGES = (
    'systemd',
    'systemd-sysv',
    'dbus',
    'openssh-server',
    'python3',
    'python3-apt',
    'iproute2',
    'ca-certificates',
    'procps',
    'libpam-systemd',
)
IMAGE_RECIPE_VERSION = '3'


def log(msg):
    print('lab: ' + msg, flush=True)


def run(cmd, check=True, capture=False, quiet=False, **kwargs):
    """Run a command; with ``quiet`` its failure is ignored and its output hidden."""
    if quiet:
        kwargs.setdefault('stdout', subprocess.DEVNULL)
        kwargs.setdefault('stderr', subprocess.DEVNULL)
        check = False
    if capture:
        kwargs.setdefault('stdout', subprocess.PIPE)
        kwargs.setdefault('stderr', subprocess.PIPE)
        kwargs.setdefault('text', True)
    return subprocess.run(cmd, check=check, **kwargs)


def write_file(path, content, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# --- state -------------------------------------------------------------------------


def load_state():
    try:
        with open(STATE_FILE, encoding='utf-8') as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def save_state(state):
    write_file(STATE_FILE, json.dumps(state, indent=2, sort_keys=True) + '\n', mode=0o600)


@contextlib.contextmanager
def locked(name, directory=None):
    """An exclusive lock; the image's lives in the cache, shared by every lab (LAB_PREFIX)."""
    directory = directory or STATE_DIR
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name + '.lock'), 'w') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --- the base image ----------------------------------------------------------------


def apt_mirrors():
    """The Debian and security mirrors this machine uses (deb822 or one-line sources)."""
    mirror, security = 'http://deb.debian.org/debian', 'http://deb.debian.org/debian-security'
    texts = []
    for path in ('/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'):
        with contextlib.suppress(OSError):
            with open(path, encoding='utf-8') as handle:
                texts.append(handle.read())
    for uri in re.findall(r'(?m)^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)', '\n'.join(texts)):
        if uri.rstrip('/').endswith('-security'):
            security = uri.rstrip('/')
        elif uri.startswith('http'):
            mirror = uri.rstrip('/')
    return mirror, security


def image_path():
    mirror, security = apt_mirrors()
    recipe = json.dumps([IMAGE_RECIPE_VERSION, IMAGE_SUITE, IMAGE_PACKAGES, mirror, security])
    return os.path.join(CACHE_DIR, 'images', '%s-%s' % (IMAGE_SUITE, hashlib.sha256(recipe.encode()).hexdigest()[:12]))


def build_image():
    """Build the base image once; later calls return the cached one."""
    path = image_path()
    if os.path.isfile(os.path.join(path, '.storeops-lab-image')):
        return path
    with locked('image', CACHE_DIR):
        if os.path.isfile(os.path.join(path, '.storeops-lab-image')):
            return path
        mirror, security = apt_mirrors()
        started = time.monotonic()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix='.build-', dir=os.path.dirname(path))
        try:
            log('building the base image with debootstrap (first run only, about 1-2 minutes)')
            result = run(
                ['debootstrap', '--variant=minbase', '--include=' + ','.join(IMAGE_PACKAGES), IMAGE_SUITE, tmp, mirror],
                capture=True,
                check=False,
            )
            if result.returncode != 0:
                raise SystemExit('lab: debootstrap failed:\n' + result.stdout[-3000:] + result.stderr[-3000:])
            # One machine-id per host: empty in the image, generated by systemd at boot.
            write_file(os.path.join(tmp, 'etc/machine-id'), '', mode=0o444)
            dbus_id = os.path.join(tmp, 'var/lib/dbus/machine-id')
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dbus_id)
            os.makedirs(os.path.dirname(dbus_id), exist_ok=True)
            os.symlink('/etc/machine-id', dbus_id)
            # One set of SSH host keys per host: generated at lab-up.
            for name in os.listdir(os.path.join(tmp, 'etc/ssh')):
                if name.startswith('ssh_host_'):
                    os.unlink(os.path.join(tmp, 'etc/ssh', name))
            write_file(
                os.path.join(tmp, 'etc/apt/sources.list'),
                'deb {m} {s} main\ndeb {m} {s}-updates main\ndeb {sec} {s}-security main\n'.format(
                    m=mirror, sec=security, s=IMAGE_SUITE
                ),
            )
            # Nothing in a container needs a login console or hardware services.
            for unit in (
                'getty@tty1.service',
                'console-getty.service',
                'systemd-udevd.service',
                'systemd-networkd-wait-online.service',
                'apt-daily.timer',
                'apt-daily-upgrade.timer',
            ):
                link = os.path.join(tmp, 'etc/systemd/system', unit)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(link)
                os.symlink('/dev/null', link)
            run(['chroot', tmp, 'apt-get', 'clean'], quiet=True)
            write_file(os.path.join(tmp, '.storeops-lab-image'), json.dumps({'mirror': mirror}) + '\n')
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log('base image built in %.0f s: %s' % (time.monotonic() - started, path))
        # Older images (another recipe) are not used any more.
        for name in os.listdir(os.path.dirname(path)):
            other = os.path.join(os.path.dirname(path), name)
            if other != path and not name.startswith('.build-'):
                shutil.rmtree(other, ignore_errors=True)
    return path


# --- network -------------------------------------------------------------------------


def addresses(names):
    hosts = list(SUBNET.hosts())
    return str(hosts[0]), {name: str(hosts[10 + i]) for i, name in enumerate(names)}


def resolve_v4(name):
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)})
    except socket.gaierror:
        return []


def resolvers():
    found = []
    with contextlib.suppress(OSError):
        with open('/etc/resolv.conf', encoding='utf-8') as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == 'nameserver':
                    with contextlib.suppress(ValueError):
                        addr = ipaddress.ip_address(parts[1])
                        if addr.version == 4 and not addr.is_loopback:
                            found.append(str(addr))
    return found


def nft_ruleset(gateway, registry_ips, dns_ips):
    """Forwarding for the lab: registries (80/443) and the resolver (53) only, NAT out."""
    lines = [
        'table inet %s {' % NFT_TABLE,
        '  chain forward {',
        '    type filter hook forward priority filter - 10; policy accept;',
        '    iifname "%s" oifname "%s" accept' % (BRIDGE, BRIDGE),
        '    oifname "%s" ct state established,related accept' % BRIDGE,
        '    oifname "%s" drop' % BRIDGE,
    ]
    if registry_ips:
        lines.append(
            '    iifname "%s" ip daddr { %s } tcp dport { 80, 443 } accept' % (BRIDGE, ', '.join(registry_ips))
        )
    if dns_ips:
        lines.append(
            '    iifname "%s" ip daddr { %s } meta l4proto { tcp, udp } th dport 53 accept'
            % (BRIDGE, ', '.join(dns_ips))
        )
    lines += [
        '    iifname "%s" reject with icmpx type admin-prohibited' % BRIDGE,
        '  }',
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat; policy accept;',
        '    ip saddr %s oifname != "%s" masquerade' % (SUBNET, BRIDGE),
        '  }',
        '}',
    ]
    return '\n'.join(lines) + '\n'


def link_exists(name):
    return run(['ip', 'link', 'show', name], quiet=True).returncode == 0


def setup_network(state, gateway):
    if not link_exists(BRIDGE):
        run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'])
    run(['ip', 'addr', 'replace', '%s/%d' % (gateway, SUBNET.prefixlen), 'dev', BRIDGE])
    run(['ip', 'link', 'set', BRIDGE, 'up'])
    if 'ip_forward_before' not in state:
        with open('/proc/sys/net/ipv4/ip_forward', encoding='utf-8') as handle:
            state['ip_forward_before'] = handle.read().strip()
        save_state(state)
    with open('/proc/sys/net/ipv4/ip_forward', 'w', encoding='utf-8') as handle:
        handle.write('1\n')
    registry_ips = sorted({ip for name in REGISTRY_HOSTS for ip in resolve_v4(name)})
    dns_ips = resolvers()
    state['registries'] = {name: resolve_v4(name) for name in REGISTRY_HOSTS}
    save_state(state)
    run(['nft', 'delete', 'table', 'inet', NFT_TABLE], quiet=True)
    run(['nft', '-f', '-'], input=nft_ruleset(gateway, registry_ips, dns_ips), text=True)


# --- hosts ---------------------------------------------------------------------------


def host_dir(name):
    return os.path.join(HOSTS_DIR, name)


def prepare_upper(name, addr, all_addrs, state):
    """The host's own files, laid over the shared image."""
    top = host_dir(name)
    shutil.rmtree(top, ignore_errors=True)
    upper = os.path.join(top, 'upper')
    os.makedirs(os.path.join(upper, 'etc/ssh'), exist_ok=True)
    run(['ssh-keygen', '-A', '-f', upper], capture=True)
    write_file(os.path.join(upper, 'etc/hostname'), name + '\n')
    hosts = ['127.0.0.1 localhost', '127.0.1.1 %s.lab %s' % (name, name), '::1 localhost ip6-localhost ip6-loopback']
    hosts += ['%s %s.lab %s' % (ip, other, other) for other, ip in sorted(all_addrs.items()) if other != name]
    # The registries, resolved here: hosts need no DNS to install packages.
    hosts += ['%s %s' % (ips[0], reg) for reg, ips in sorted(state.get('registries', {}).items()) if ips]
    write_file(os.path.join(upper, 'etc/hosts'), '\n'.join(hosts) + '\n')
    dns = resolvers()
    write_file(
        os.path.join(upper, 'etc/resolv.conf'),
        ''.join('nameserver %s\n' % ip for ip in dns) or 'nameserver 127.0.0.1\n',
    )
    # The same trusted CAs as this machine, so HTTPS (pip) works inside as it does here.
    if os.path.exists(CA_BUNDLE):
        os.makedirs(os.path.join(upper, 'etc/ssl/certs'), exist_ok=True)
        shutil.copyfile(CA_BUNDLE, os.path.join(upper, 'etc/ssl/certs/ca-certificates.crt'))
        write_file(os.path.join(upper, 'etc/pip.conf'), '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n')
    pub = open(os.path.join(SSH_DIR, 'id_ed25519.pub'), encoding='utf-8').read()
    write_file(os.path.join(upper, 'root/.ssh/authorized_keys'), pub, mode=0o600)
    os.chmod(os.path.join(upper, 'root/.ssh'), 0o700)
    os.chmod(os.path.join(upper, 'root'), 0o700)
    # Address, route and loopback are set from this side (see setup_host_network); no
    # network manager inside needs configuring.
    return upper


def setup_host_network(name, addr, gateway):
    ns = '%s-%s' % (PREFIX, name)
    if not os.path.exists('/run/netns/' + ns):
        run(['ip', 'netns', 'add', ns])
    veth = '%s-%s' % (PREFIX, name)
    if link_exists(veth):
        run(['ip', 'link', 'del', veth], quiet=True)
    run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    run(['ip', 'link', 'set', veth, 'master', BRIDGE, 'up'])
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    run(['ip', '-n', ns, 'addr', 'add', '%s/%d' % (addr, SUBNET.prefixlen), 'dev', 'eth0'])
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
    run(['ip', '-n', ns, 'route', 'add', 'default', 'via', gateway])
    return ns


def start_host(name, image, upper, ns, state):
    console = open(os.path.join(host_dir(name), 'console.log'), 'ab')
    proc = subprocess.Popen(
        [
            'systemd-nspawn',
            '--boot',
            '--register=no',
            '--keep-unit',
            '--quiet',
            '--hostname=' + name,
            '--directory=' + image,
            '--overlay=%s:%s:/' % (image, upper),
            '--network-namespace-path=/run/netns/' + ns,
            '--resolv-conf=off',
            '--timezone=off',
            '--link-journal=no',
            '--console=passive',
        ],
        stdin=subprocess.DEVNULL,
        stdout=console,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state.setdefault('pids', {})[name] = proc.pid
    save_state(state)
    return proc.pid


def nspawn_pids():
    """PIDs of every systemd-nspawn this lab started (found by its netns path)."""
    found = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                argv = handle.read().split(b'\0')
        except OSError:
            continue
        if not argv or not argv[0].endswith(b'systemd-nspawn'):
            continue
        for arg in argv:
            match = re.match(rb'--network-namespace-path=/run/netns/%s-(\S+)$' % PREFIX.encode(), arg)
            if match:
                found[match.group(1).decode()] = int(entry)
    return found


def container_init_pid(nspawn_pid):
    """The container's PID 1 as seen from here: the nspawn process's child."""
    try:
        with open('/proc/%d/task/%d/children' % (nspawn_pid, nspawn_pid), encoding='utf-8') as handle:
            children = handle.read().split()
        return int(children[0]) if children else None
    except (OSError, ValueError):
        return None


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit('lab: timed out after %d s waiting for %s' % (timeout, what))


def ssh_open(addr):
    with contextlib.suppress(OSError):
        with socket.create_connection((addr, 22), timeout=1) as sock:
            return sock.recv(4).startswith(b'SSH-')
    return False


# Groups by host name: web, web1, web2 -> webservers; the others by their name.
# The report site lives beside the catalog site on `web` (not on web1, web2 of a scaled-out lab).
GROUPS = {
    'webservers': r'web\d*',
    'reportsites': r'web',
    'mailservers': r'mail\d*',
    'monitoring': r'monitor\d*',
    'databases': r'db\d*',
    'loadbalancers': r'lb\d*',
    'objectstores': r's3\d*',
}


def write_inventory(hosts, state):
    key = os.path.join(SSH_DIR, 'id_ed25519')
    known = os.path.join(STATE_DIR, 'known_hosts')
    lines = []
    for name, addr in sorted(hosts.items()):
        with open(os.path.join(host_dir(name), 'upper/etc/ssh/ssh_host_ed25519_key.pub'), encoding='utf-8') as handle:
            hostkey = ' '.join(handle.read().split()[:2])
        lines.append('%s,%s %s' % (addr, name, hostkey))
    write_file(known, '\n'.join(lines) + '\n')
    groups = GROUPS
    out = [
        '---',
        '# Written by `make lab-up` (tests/lab/lab.py): the lab\'s hosts. Do not edit; it is',
        '# rewritten at every lab-up. inventories/example/ is the template for real hosts.',
        'all:',
        '  vars:',
        '    ansible_user: root',
        '    ansible_python_interpreter: /usr/bin/python3',
        '    ansible_ssh_private_key_file: %s' % key,
        '    ansible_ssh_common_args: >-',
        '      -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes' % known,
        '    storeops_lab_gateway: %s' % state['gateway'],
        '    storeops_lab_subnet: %s' % SUBNET,
        '  hosts:',
    ]
    for name, addr in sorted(hosts.items()):
        out += ['    %s:' % name, '      ansible_host: %s' % addr]
    out += [
        '    localhost:',
        '      ansible_connection: local',
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"',
        '  children:',
        '    lab:',
        '      hosts:',
    ]
    out += ['        %s: {}' % name for name in sorted(hosts)]
    for group, pattern in groups.items():
        members = [name for name in sorted(hosts) if re.fullmatch(pattern, name)]
        if members:
            out += ['    %s:' % group, '      hosts:'] + ['        %s: {}' % name for name in members]
    os.makedirs(INVENTORY_DIR, exist_ok=True)
    write_file(os.path.join(INVENTORY_DIR, 'hosts.yml'), '\n'.join(out) + '\n')


# The lab's secrets (ansible-vault), each made once per lab; the demo's mail password is fixed
# so that the demo can print it.
LAB_SECRETS = {
    'vault_catalog_api_token': lambda: secrets.token_urlsafe(24),
    'vault_mail_user_password': lambda: 'lab-only-Passw0rd',
    'vault_database_catalog_password': lambda: secrets.token_urlsafe(24),
    'vault_media_s3_access_key': lambda: 'LAB' + secrets.token_hex(8).upper(),
    'vault_media_s3_secret_key': lambda: secrets.token_urlsafe(30),
}

LAB_VARS = """---
# Written by `make lab-up` (tests/lab/lab.py), in the layout of inventories/example/: the
# secrets are in vault.yml (ansible-vault, password in .vault-password, both not committed).
mailstack_trusted_networks: ["{subnet}"]
mailstack_users:
  - name: user
    password: "{{{{ vault_mail_user_password }}}}"
webserver_api_token: "{{{{ vault_catalog_api_token }}}}"
storeops_catalog_token: "{{{{ vault_catalog_api_token }}}}"
database_catalog_password: "{{{{ vault_database_catalog_password }}}}"
# The report site's links name the address the controller reaches (lab hosts have no DNS name).
reportsite_server_names: ["{{{{ ansible_host }}}}", "{{{{ inventory_hostname }}}}"]
# The health check mails the lab's mail host (a trusted network there: no login, no TLS).
healthcheck_smtp_host: "{mail}"
healthcheck_smtp_security: none
healthcheck_mail_to: [user@example.com]
"""


SCALEOUT_WEB_VARS = {
    'databases': """# The catalog on the lab's database host (role database), shared by every web host.
webserver_database_url: >-
  postgres://catalog:{{ database_catalog_password | urlencode }}@{{ hostvars[groups['databases'][0]].ansible_host }}:5432/catalog
""",
    'loadbalancers': """# Requests come through the balancer with its Host: the web hosts answer to its names too,
# and their certificates carry them (the balancer checks them).
webserver_server_names: >-
  {{ [inventory_hostname, ansible_host]
     + groups['loadbalancers'] | map('extract', hostvars) | map(attribute='ansible_host') | list
     + groups['loadbalancers'] }}
""",
    'objectstores': """# Uploaded images in a bucket of the lab's object store: moto_server, which STANDS IN FOR S3
# (tests/lab/objectstore.yml makes it and the bucket; it checks no signature).
webserver_media_storage: s3
webserver_media_s3:
  bucket: storeops-media
  endpoint_url: "http://{{ hostvars[groups['objectstores'][0]].ansible_host }}:5000"
  access_key: "{{ vault_media_s3_access_key }}"
  secret_key: "{{ vault_media_s3_secret_key }}"
""",
}


def write_group_vars(hosts):
    """A scaled-out lab (hosts such as lb, web1, web2, db, s3): the web hosts' variables that
    make them one site, written as group_vars/webservers.yml (what a store's inventory holds).
    A lab without those hosts gets none of them."""
    present = {group for group, pattern in GROUPS.items() if any(re.fullmatch(pattern, name) for name in hosts)}
    parts = [text for group, text in SCALEOUT_WEB_VARS.items() if group in present]
    path = os.path.join(INVENTORY_DIR, 'group_vars', 'webservers.yml')
    if 'webservers' in present and parts:
        head = '---\n# Written by `make lab-up` (tests/lab/lab.py) for a scaled-out lab; see README, "Scaling out".\n'
        write_file(path, head + '\n'.join(parts))
    elif os.path.exists(path):
        os.remove(path)
    others = {
        'loadbalancers': 'loadbalancer_server_names: ["{{ ansible_host }}", "{{ inventory_hostname }}"]\n',
        'objectstores': 'storeops_lab_media_access_key: "{{ vault_media_s3_access_key }}"\n'
        'storeops_lab_media_secret_key: "{{ vault_media_s3_secret_key }}"\n',
    }
    for group, text in others.items():
        group_path = os.path.join(INVENTORY_DIR, 'group_vars', '%s.yml' % group)
        if group in present:
            write_file(group_path, '---\n' + text)
        elif os.path.exists(group_path):
            os.remove(group_path)


def write_secrets(hosts):
    """The lab's group_vars (inventories/example/'s layout) with its secrets in an ansible-vault file.

    Made once per lab (a new lab gets a new API token); the demo's mail password is fixed so that
    the demo can print it.
    """
    folder = os.path.join(INVENTORY_DIR, 'group_vars', 'all')
    vault = os.path.join(folder, 'vault.yml')
    password_file = os.path.join(INVENTORY_DIR, '.vault-password')
    write_file(os.path.join(folder, 'main.yml'), LAB_VARS.format(subnet=SUBNET, mail=hosts.get('mail', 'localhost')))
    ansible_vault = os.path.join(REPO, '.venv', 'bin', 'ansible-vault')
    # The one password, through the environment: it replaces ansible.cfg's vault_password_file
    # (a second secret would make `ansible-vault encrypt` ask which one to use).
    vault_env = dict(os.environ, ANSIBLE_VAULT_PASSWORD_FILE=password_file)
    if os.path.exists(vault) and os.path.exists(password_file):
        if not os.path.exists(ansible_vault):
            return
        # A vault made before a secret existed gets it added (the rest is kept).
        plain = run([ansible_vault, 'view', vault], capture=True, env=vault_env).stdout
        missing = [name for name in LAB_SECRETS if '%s:' % name not in plain]
        if not missing:
            return
        plain = plain.rstrip('\n') + '\n' + ''.join('%s: %s\n' % (name, LAB_SECRETS[name]()) for name in missing)
    else:
        if not os.path.exists(ansible_vault):
            log('ansible-vault not installed yet: no lab secrets written')
            return
        write_file(password_file, secrets.token_urlsafe(32) + '\n', mode=0o600)
        plain = ''.join('%s: %s\n' % (name, make()) for name, make in LAB_SECRETS.items())
    write_file(vault, plain, mode=0o600)
    run([ansible_vault, 'encrypt', vault], capture=True, env=vault_env)


def ansible_ping(names):
    ansible = os.path.join(REPO, '.venv', 'bin', 'ansible')
    if not os.path.exists(ansible):
        ansible = shutil.which('ansible')
    if not ansible:
        log('ansible not installed yet: skipped the ansible ping')
        return
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'))
    if os.path.exists(os.path.join(INVENTORY_DIR, '.vault-password')):
        env['ANSIBLE_VAULT_PASSWORD_FILE'] = os.path.join(INVENTORY_DIR, '.vault-password')
    for attempt in range(5):
        result = run(
            [ansible, ','.join(names), '-i', INVENTORY_DIR, '-m', 'ansible.builtin.ping', '-o'],
            capture=True,
            check=False,
            env=env,
            cwd=REPO,
        )
        if result.returncode == 0:
            return
        time.sleep(1 + attempt)
    raise SystemExit('lab: ansible ping failed:\n' + result.stdout + result.stderr)


def healthy(state, names):
    running = nspawn_pids()
    if not state.get('hosts') or sorted(state['hosts']) != sorted(names):
        return False
    return all(name in running and ssh_open(addr) for name, addr in state['hosts'].items())


def up(names):
    if os.geteuid() != 0:
        raise SystemExit('lab: run as root (the lab makes network namespaces and containers)')
    for name in names:
        if not re.match(r'^[a-z][a-z0-9]{0,8}$', name):
            raise SystemExit('lab: host name %r: use 1-9 lowercase letters/digits, starting with a letter' % name)
    for tool in ('systemd-nspawn', 'debootstrap', 'nft', 'ip', 'ssh-keygen'):
        if not shutil.which(tool):
            raise SystemExit(
                'lab: %s is missing: run `make deps` (apt-get install systemd-container debootstrap nftables)' % tool
            )
    started = time.monotonic()
    with locked('lab'):
        state = load_state()
        if healthy(state, names):
            write_inventory(state['hosts'], state)
            write_secrets(state['hosts'])
            write_group_vars(state['hosts'])
            ansible_ping(names)
            log('already up: %s' % ', '.join('%s=%s' % item for item in sorted(state['hosts'].items())))
            return
        if state or nspawn_pids() or os.path.exists('/run/netns/%s-%s' % (PREFIX, names[0])) or link_exists(BRIDGE):
            log('found a stale or different lab: recreating it')
            teardown(state)
            state = {}
        image = build_image()
        gateway, hosts = addresses(names)
        state = {'gateway': gateway, 'hosts': {}, 'repo': REPO, 'nspawn_dir_existed': os.path.isdir(NSPAWN_RUN_DIR)}
        save_state(state)
        if not os.path.exists(os.path.join(SSH_DIR, 'id_ed25519')):
            os.makedirs(SSH_DIR, mode=0o700, exist_ok=True)
            run(
                [
                    'ssh-keygen',
                    '-q',
                    '-t',
                    'ed25519',
                    '-N',
                    '',
                    '-C',
                    'storeops-lab',
                    '-f',
                    os.path.join(SSH_DIR, 'id_ed25519'),
                ]
            )
        setup_network(state, gateway)
        for name in names:
            upper = prepare_upper(name, hosts[name], hosts, state)
            ns = setup_host_network(name, hosts[name], gateway)
            state['hosts'][name] = hosts[name]
            save_state(state)
            start_host(name, image, upper, ns, state)
        for name in names:
            wait_for(
                lambda addr=hosts[name]: ssh_open(addr),
                60,
                'SSH on %s (%s); see %s' % (name, hosts[name], os.path.join(host_dir(name), 'console.log')),
            )
        write_inventory(hosts, state)
        write_secrets(hosts)
        write_group_vars(hosts)
        ansible_ping(names)
    log('up in %.1f s: %s' % (time.monotonic() - started, ', '.join('%s=%s' % item for item in sorted(hosts.items()))))
    log('inventory: %s' % os.path.relpath(os.path.join(INVENTORY_DIR, 'hosts.yml'), os.getcwd()))


def teardown(state):
    """Remove every container, namespace, link, rule and directory the lab made."""
    pids = nspawn_pids()
    for pid in set(pids.values()) | set((state.get('pids') or {}).values()):
        if pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while nspawn_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in nspawn_pids().values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not nspawn_pids(), 10, 'the containers to stop')
    # Namespaces and links by name: found even when no state was written.
    with contextlib.suppress(FileNotFoundError):
        for ns in os.listdir('/run/netns'):
            if ns.startswith(PREFIX + '-'):
                run(['ip', 'netns', 'del', ns], quiet=True)
    links = run(['ip', '-o', 'link', 'show'], capture=True).stdout
    for match in re.finditer(r'^\d+: (%s(?:0|-[0-9a-z]+))[@:]' % PREFIX, links, re.M):
        run(['ip', 'link', 'del', match.group(1)], quiet=True)
    if run(['nft', 'list', 'table', 'inet', NFT_TABLE], quiet=True).returncode == 0:
        run(['nft', 'delete', 'table', 'inet', NFT_TABLE])
    if state.get('ip_forward_before') is not None and not hand_over_ip_forward(state['ip_forward_before']):
        with open('/proc/sys/net/ipv4/ip_forward', 'w', encoding='utf-8') as handle:
            handle.write(state['ip_forward_before'] + '\n')
    # Mounts nspawn may have left (it mounts in its own namespace; this is a safety net).
    with open('/proc/self/mounts', encoding='utf-8') as handle:
        mounts = [line.split()[1] for line in handle]
    for mount in reversed(mounts):
        if mount.startswith(HOSTS_DIR + '/') or mount.startswith('/run/netns/%s-' % PREFIX):
            run(['umount', '-l', mount], quiet=True)
    shutil.rmtree(HOSTS_DIR, ignore_errors=True)
    if state.get('nspawn_dir_existed') is False and os.path.isdir(NSPAWN_RUN_DIR):
        shutil.rmtree(NSPAWN_RUN_DIR, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(STATE_FILE)
    for name in ('hosts.yml', '.vault-password'):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(INVENTORY_DIR, name))
    shutil.rmtree(os.path.join(INVENTORY_DIR, 'group_vars'), ignore_errors=True)


def hand_over_ip_forward(value):
    """If another lab (another LAB_PREFIX) is still up, it needs forwarding: give it the value to
    restore when it goes down, and leave forwarding on. True when handed over."""
    for other in sorted(glob.glob(STATE_ROOT + '*/state.json')):
        if os.path.dirname(other) == STATE_DIR:
            continue
        try:
            with open(other, encoding='utf-8') as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        if data.get('hosts'):
            data['ip_forward_before'] = value
            tmp = other + '.tmp'
            with open(tmp, 'w', encoding='utf-8') as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.replace(tmp, other)
            return True
    return False


def down():
    if os.geteuid() != 0:
        raise SystemExit('lab: run as root')
    with locked('lab'):
        state = load_state()
        teardown(state)
    log('down: no containers, namespaces, links, bridge or nft table of the lab left')


def status():
    state = load_state()
    running = nspawn_pids()
    if not state and not running:
        print('lab: down')
        return 1
    for name, addr in sorted((state.get('hosts') or {}).items()):
        pid = running.get(name)
        print('%-8s %-15s nspawn pid %-7s ssh %s' % (name, addr, pid or '-', 'up' if ssh_open(addr) else 'down'))
    return 0


def lab_exec(name, argv):
    pid = nspawn_pids().get(name)
    init = container_init_pid(pid) if pid else None
    if not init:
        raise SystemExit('lab: host %s is not running' % name)
    return subprocess.call(['nsenter', '-t', str(init), '-a', '--'] + argv)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command', required=True)
    up_parser = sub.add_parser('up', help='start the lab')
    up_parser.add_argument(
        '--hosts',
        default=os.environ.get('LAB_HOSTS', ','.join(DEFAULT_HOSTS)),
        help='comma- or space-separated host names (default: %(default)s)',
    )
    sub.add_parser('down', help='remove the lab')
    sub.add_parser('status', help='show the lab')
    sub.add_parser('image', help='build the cached base image')
    exec_parser = sub.add_parser('exec', help='run a command in a host')
    exec_parser.add_argument('host')
    exec_parser.add_argument('argv', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == 'up':
        names = [n for n in re.split(r'[,\s]+', args.hosts) if n]
        if not names or len(set(names)) != len(names):
            raise SystemExit('lab: --hosts needs distinct names')
        up(names)
    elif args.command == 'down':
        down()
    elif args.command == 'status':
        return status()
    elif args.command == 'image':
        print(build_image())
    elif args.command == 'exec':
        argv = args.argv[1:] if args.argv[:1] == ['--'] else args.argv
        return lab_exec(args.host, argv or ['/bin/bash'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
