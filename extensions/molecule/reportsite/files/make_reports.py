# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make_reports.py DIR: the reports the verify step publishes, as build_report would leave them
on the controller: DIR/public/ (one of each type, a non-Latin name with HTML specials) and
DIR/private/cars-private.pdf. The same bytes every run."""

import base64
import os
import sys
import zlib

PDF = (
    b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n'
    b'3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'
)


def png(width=4, height=3):
    raw = b''.join(b'\x00' + b'\xc8\x1e\x1e' * width for dummy in range(height))

    def chunk(kind, data):
        return len(data).to_bytes(4, 'big') + kind + data + (zlib.crc32(kind + data) & 0xFFFFFFFF).to_bytes(4, 'big')

    header = width.to_bytes(4, 'big') + height.to_bytes(4, 'big') + b'\x08\x02\x00\x00\x00'
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')


FILES = {
    'public/cars.pdf': PDF,
    'public/final_report.csv': 'case_record_type,count\r\n"Ops, North",3\r\nÉté,2\r\n'.encode('utf-8'),
    'public/final_report.html': b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>'
    b'<table><tr><th>case_record_type</th><th>count</th></tr></table></body></html>\n',
    'public/chart.svg': b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="5"/></svg>\n',
    'public/chart.png': png(),
    'public/отчёт & <q>.csv': 'name,total\r\nгруша,1\r\n'.encode('utf-8'),
    'private/cars-private.pdf': PDF + b'% private\n',
}


def main(top):
    for rel, data in FILES.items():
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with open(path, 'rb') as handle:
                if handle.read() == data:
                    continue
        except FileNotFoundError:
            pass
        with open(path, 'wb') as handle:
            handle.write(data)
    print(base64.b64encode(b'ok').decode())


if __name__ == '__main__':
    main(sys.argv[1])
