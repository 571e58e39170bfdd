# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes two deliveries into an inbox: good.tar.gz (descriptions/ and images/) and, one second
# later, evil.tar.gz (a good description, then a member that climbs out with ../).
import io
import os
import sys
import tarfile
import time


def add(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1764547200
    archive.addfile(info, io.BytesIO(data))


def main():
    inbox = sys.argv[1]
    os.makedirs(inbox, exist_ok=True)
    with tarfile.open(os.path.join(inbox, 'good.tar.gz'), 'w:gz') as archive:
        add(archive, 'supplier-data/descriptions/001.txt', 'Äpfel 001\n100 lbs\nCrisp.\n'.encode())
        add(archive, 'supplier-data/images/001.tiff', b'not really a TIFF')
    os.utime(os.path.join(inbox, 'good.tar.gz'), (time.time() - 10, time.time() - 10))
    with tarfile.open(os.path.join(inbox, 'evil.tar.gz'), 'w:gz') as archive:
        add(archive, 'supplier-data/descriptions/001.txt', b'Pear\n100 lbs\nSweet.\n')
        add(archive, 'supplier-data/../../escaped.txt', b'should never be written')


if __name__ == '__main__':
    main()
