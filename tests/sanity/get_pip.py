"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test bootstraps pip in each of its virtual environments by running a
get-pip.py it fetches from a host this machine cannot reach; it runs the cached
file with pip-install arguments (options, ``pip==X`` and ``--no-setuptools`` /
``--no-wheel``). This stand-in does the same job with the standard library:
``ensurepip`` first, then ``pip install`` of the requested packages from the
package index. ansible-test hides this machine's pip configuration
(PIP_CONFIG_FILE=/dev/null), so the system CA bundle is passed explicitly.

tests/sanity/run.sh copies it to ~/.ansible/test/cache/get_pip_<version>.py.
"""

import os
import ssl
import subprocess
import sys

SKIPPED = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in SKIPPED]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
    cafile = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    cert = ["--cert", cafile] if os.path.exists(cafile) else []
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + cert + args)


if __name__ == "__main__":
    main()
