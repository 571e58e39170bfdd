# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A month of the store's daily order exports, for the monthly report (build_report kind=csv_aggregate).

One file per day, ``orders-YYYY-MM-DD.csv``, header ``date,order_id,product,category,quantity,amount``.
Some days come from the shop's Windows till, with a UTF-8 byte order mark and CRLF line ends;
product names have quoted commas, quotes and non-Latin letters. Deterministic: the same year
and month give the same bytes every time, and a file that already holds them is not rewritten.

    make_daily_csvs.py DEST [--year 2026] [--month 12] [--orders 40] [--bad]

``--bad`` adds the bad input the report must refuse, each in a file of its own next to the good
days: a file with another header, a row with a missing field, a file that is not UTF-8 (Latin-1),
a bad amount, and an empty file. Without it, those files are removed if an earlier run made them.
Prints one line per file written.
"""

import argparse
import calendar
import csv
import datetime
import io
import os
import random
import sys
from decimal import Decimal

HEADER = ['date', 'order_id', 'product', 'category', 'quantity', 'amount']
PRODUCTS = [
    ('Apple', 'Fruit', '0.45'),
    ('Apples, red (bag of 6)', 'Fruit', '2.40'),
    ('Avocado', 'Fruit', '1.10'),
    ('Blackberries', 'Fruit', '2.99'),
    ('Mango "Alphonso"', 'Fruit', '2.50'),
    ('Leek', 'Vegetables', '0.89'),
    ('Jalape\u00f1o peppers', 'Vegetables', '1.75'),
    ('Pak choi \u5c0f\u767d\u83dc', 'Vegetables', '1.60'),
    ('Potatoes, 2 kg', 'Vegetables', '2.20'),
    ('Cr\u00e8me fra\u00eeche', 'Dairy', '1.35'),
    ('Milk, 1 l', 'Dairy', '0.99'),
    ('Gruy\u00e8re', 'Dairy', '4.80'),
    ('Sourdough loaf', 'Bakery', '3.20'),
    ('Pain au chocolat', 'Bakery', '1.10'),
    ('Orange juice', 'Drinks', '2.60'),
    ('Sparkling water, 6 \u00d7 1.5 l', 'Drinks', '3.90'),
]
BAD_FILES = (
    'orders-bad-header.csv',
    'orders-bad-fields.csv',
    'orders-bad-latin1.csv',
    'orders-bad-amount.csv',
    'orders-bad-empty.csv',
)


def csv_bytes(rows, till=False):
    """RFC 4180 text; the Windows till adds a byte order mark (both end lines with CRLF)."""
    buffer = io.StringIO(newline='')
    csv.writer(buffer, lineterminator='\r\n').writerows(rows)
    return (b'\xef\xbb\xbf' if till else b'') + buffer.getvalue().encode('utf-8')


def lf_bytes(rows):
    buffer = io.StringIO(newline='')
    csv.writer(buffer, lineterminator='\n').writerows(rows)
    return buffer.getvalue().encode('utf-8')


def day_rows(rng, day, first_id, orders):
    rows = []
    for number in range(orders):
        product, category, price = PRODUCTS[rng.randrange(len(PRODUCTS))]
        quantity = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
        rows.append(
            [day.isoformat(), str(first_id + number), product, category, str(quantity), str(Decimal(price) * quantity)]
        )
    return rows


def month_files(year, month, orders):
    """``{name: bytes}`` of the good days."""
    rng = random.Random('storeops-orders-%04d-%02d' % (year, month))
    files = {}
    order_id = year * 1000000 + month * 10000 + 1
    for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
        day = datetime.date(year, month, day_number)
        count = orders + rng.randrange(-orders // 4, orders // 4 + 1) + (orders // 2 if day.weekday() == 5 else 0)
        rows = day_rows(rng, day, order_id, count)
        order_id += count
        till = day.weekday() == 6  # Sundays: the Windows till
        data = csv_bytes([HEADER] + rows, till=till) if till or day_number % 2 else lf_bytes([HEADER] + rows)
        files['orders-%s.csv' % day.isoformat()] = data
    return files


def bad_files(year, month):
    day = datetime.date(year, month, 1).isoformat()
    good = [day, '1', 'Apple', 'Fruit', '1', '0.45']
    return {
        'orders-bad-header.csv': lf_bytes([['date', 'order', 'product', 'category', 'qty', 'amount'], good]),
        'orders-bad-fields.csv': lf_bytes([HEADER, good]) + b'%s,2,Apple,Fruit,1\n' % day.encode(),
        'orders-bad-latin1.csv': lf_bytes([HEADER, good]) + ('%s,3,Cr\u00e8me,Dairy,1,1.35\n' % day).encode('latin-1'),
        'orders-bad-amount.csv': lf_bytes([HEADER, good, [day, '4', 'Leek', 'Vegetables', '1', 'n/a']]),
        'orders-bad-empty.csv': b'',
    }


def write_if_changed(path, data):
    try:
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return False
    except OSError:
        pass
    tmp = path + '.part'
    with open(tmp, 'wb') as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('dest', help='folder for the daily files (created)')
    parser.add_argument('--year', type=int, default=2026)
    parser.add_argument('--month', type=int, default=12, choices=range(1, 13), metavar='1..12')
    parser.add_argument('--orders', type=int, default=40, help='about how many orders a day (default 40)')
    parser.add_argument('--bad', action='store_true', help='add files with the bad input the report must refuse')
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error('--orders must be at least 1')
    os.makedirs(args.dest, exist_ok=True)
    files = month_files(args.year, args.month, args.orders)
    if args.bad:
        files.update(bad_files(args.year, args.month))
    else:
        for name in BAD_FILES:
            path = os.path.join(args.dest, name)
            if os.path.exists(path):
                os.unlink(path)
                print('removed %s' % path)
    for name in sorted(files):
        path = os.path.join(args.dest, name)
        if write_if_changed(path, files[name]):
            print('wrote %s' % path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
