# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write N supplier products (NNN.txt descriptions + NNN.jpeg images) and M reviews into
a folder, the way the course's supplier data looks. Names carry a prefix so each test run
has its own products.

    make_supplier_data.py DEST --count N --reviews M --prefix TEXT
"""

import argparse
import os

from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('dest')
    parser.add_argument('--count', type=int, default=10)
    parser.add_argument('--reviews', type=int, default=3)
    parser.add_argument('--prefix', default='Fruit')
    args = parser.parse_args()
    descriptions = os.path.join(args.dest, 'descriptions')
    images = os.path.join(args.dest, 'images')
    reviews = os.path.join(args.dest, 'reviews')
    for folder in (descriptions, images, reviews):
        os.makedirs(folder, exist_ok=True)
    for i in range(1, args.count + 1):
        stem = '%03d' % i
        with open(os.path.join(descriptions, stem + '.txt'), 'w', encoding='utf-8') as handle:
            handle.write(
                '%s %s\n%d lbs\nA fresh %s number %d from our supplier.\n'
                % (args.prefix, stem, 100 + i, args.prefix.lower(), i)
            )
        colour = ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)
        Image.new('RGB', (60, 40), colour).save(os.path.join(images, stem + '.jpeg'), quality=85)
    for i in range(1, args.reviews + 1):
        with open(os.path.join(reviews, '%03d.txt' % i), 'w', encoding='utf-8') as handle:
            handle.write(
                'Great %s %d\nCustomer %d\n2026-11-%02d\nVery tasty, would buy again.\n'
                % (args.prefix, i, i, 1 + i % 28)
            )


if __name__ == '__main__':
    main()
