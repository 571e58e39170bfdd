# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sample data for `make demo`: two supplier deliveries as the suppliers send them
(supplier-data.tar.gz: images/ with 3000x2000 RGBA TIFFs, descriptions/ with name,
"NNN lbs", text; both number their files from 001), customer reviews, and a month of car
sales. Deterministic: the same archives, byte for byte, every time; a delivery that is in
the archive folder already (processed) is not dropped into the inbox again.

    make_sample_data.py DEST       (deliveries go to DEST/deliveries/inbox)
"""

import glob
import gzip
import io
import json
import os
import random
import sys
import tarfile

from PIL import Image, ImageDraw

FRUITS = [
    ('Apple', 500, 'If a juicy, sweet and crisp apple is what you crave, this one is for you.'),
    ('Avocado', 200, 'Creamy and rich, ripe when it yields to gentle pressure.'),
    ('Blackberry', 150, 'Sweet-tart berries, best eaten within two days.'),
    ('Grape', 200, 'Seedless red grapes, crunchy and cold from the crate.'),
    ('Kiwifruit', 250, 'Bright green flesh with a tropical tang.'),
    ('Lemon', 300, 'Bright, fragrant, and full of juice.'),
    ('Mango', 300, 'Sweet golden flesh, a summer favourite.'),
    ('Strawberry', 240, 'Hand-picked, red to the core.'),
]
MAKES = [
    ('Acura', 'MDX'),
    ('Honda', 'Odyssey'),
    ('Ford', 'Focus'),
    ('Toyota', 'Corolla'),
    ('Dodge', 'Ram 3500'),
    ('BMW', 'X5'),
    ('Mazda', 'MX-5'),
    ('Chevrolet', 'Malibu'),
]


def deterministic_tar(folder, top, path):
    """``path`` (.tar.gz) with ``folder`` as ``top/``: fixed order, times and owners, so the same bytes every time."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as archive:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                info = archive.gettarinfo(full, os.path.join(top, os.path.relpath(full, folder)))
                info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 1764547200, 0, 0, '', '', 0o644
                with open(full, 'rb') as handle:
                    archive.addfile(info, handle)
    tmp = path + '.part'
    with open(tmp, 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb', mtime=0, filename='') as out:
        out.write(buffer.getvalue())
    os.replace(tmp, path)


def delivery(dest, name, fruits):
    """One delivery folder, files numbered from 001 whatever the fruits."""
    images = os.path.join(dest, 'build', name, 'images')
    descriptions = os.path.join(dest, 'build', name, 'descriptions')
    for folder in (images, descriptions):
        os.makedirs(folder, exist_ok=True)
    for i, (number, (name_, weight, text)) in enumerate(fruits, 1):
        stem = '%03d' % i
        tif = os.path.join(images, stem + '.tif')
        if not os.path.exists(tif):
            # Transparent background with a coloured fruit-ish disc: flattening matters.
            image = Image.new('RGBA', (3000, 2000), (0, 0, 0, 0))
            draw = ImageDraw.Draw(image)
            colour = ((number * 70) % 256, (number * 150) % 256, (number * 40 + 60) % 256, 255)
            draw.ellipse((900, 400, 2100, 1600), fill=colour)
            draw.ellipse((1350, 250, 1650, 550), fill=(40, 140, 40, 255))
            image.save(tif, compression='raw')
        with open(os.path.join(descriptions, stem + '.txt'), 'w', encoding='utf-8') as handle:
            handle.write('%s\n%d lbs\n%s\n' % (name_, weight, text))
    return os.path.join(dest, 'build', name)


def main():
    dest = sys.argv[1]
    reviews = os.path.join(dest, 'reviews')
    inbox = os.path.join(dest, 'deliveries', 'inbox')
    for folder in (reviews, inbox):
        os.makedirs(folder, exist_ok=True)
    numbered = list(enumerate(FRUITS, 1))
    for name, fruits in (('supplier-data', numbered[:5]), ('supplier-data-2', numbered[5:])):
        archived = glob.glob(os.path.join(dest, 'deliveries', 'archive', name + '.2*.tar.gz'))
        if not archived:
            deterministic_tar(delivery(dest, name, fruits), 'supplier-data', os.path.join(inbox, name + '.tar.gz'))
    for i, (title, who, day, text) in enumerate(
        [
            ('Great fruit', 'Ana', '2026-11-02', 'The apples were crisp and sweet.'),
            ('Fast delivery', 'Ben', '2026-11-09', 'Arrived the next day, well packed.'),
            ('Will buy again', 'Chloe', '2026-11-16', 'Best mangoes I have had this year.'),
        ],
        1,
    ):
        with open(os.path.join(reviews, '%03d.txt' % i), 'w', encoding='utf-8') as handle:
            handle.write('%s\n%s\n%s\n%s\n' % (title, who, day, text))
    rng = random.Random(2026)
    cars = []
    for i in range(1, 101):
        make, model = MAKES[rng.randrange(len(MAKES))]
        cars.append(
            {
                'id': i,
                'car': {'car_make': make, 'car_model': model, 'car_year': rng.randrange(2000, 2016)},
                'price': '$%d.%02d' % (rng.randrange(5000, 40000), rng.randrange(100)),
                'total_sales': rng.randrange(1, 1500),
            }
        )
    with open(os.path.join(dest, 'car_sales.json'), 'w', encoding='utf-8') as handle:
        json.dump(cars, handle, indent=1)


if __name__ == '__main__':
    main()
