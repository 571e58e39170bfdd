"""Create a Django secret key file once: ``python -m catalog_site.keygen PATH [--group GROUP]``.

Prints ``created`` or ``exists`` (the key itself is never printed), so a role can run it
with ``changed_when: result.stdout == 'created'``. The file is written with mode 0640
(owner root when run as root, readable by GROUP if given) and never overwritten.
"""

import argparse
import grp
import os
import secrets
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m catalog_site.keygen", description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--group", help="group that may read the key (the site's user group)")
    args = parser.parse_args(argv)
    key = secrets.token_urlsafe(50)  # 67 characters, passes `check --deploy`
    try:
        fd = os.open(args.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileExistsError:
        print("exists")
        return 0
    try:
        if args.group:
            os.fchown(fd, -1, grp.getgrnam(args.group).gr_gid)
        os.fchmod(fd, 0o640)
        os.write(fd, (key + "\n").encode("ascii"))
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(args.path)
        raise
    os.close(fd)
    print("created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
