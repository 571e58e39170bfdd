# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sample data for `make demo`, shaped like the course's: supplier images (3000x2000 RGBA
TIFF) with descriptions (name, "NNN lbs", text), customer reviews, and a month of car
sales. Deterministic; files that exist are left alone.

    make_sample_data.py DEST
"""
import json
import os
import random
import sys

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
MAKES = [('Acura', 'MDX'), ('Honda', 'Odyssey'), ('Ford', 'Focus'), ('Toyota', 'Corolla'),
         ('Dodge', 'Ram 3500'), ('BMW', 'X5'), ('Mazda', 'MX-5'), ('Chevrolet', 'Malibu')]


def main():
    dest = sys.argv[1]
    images = os.path.join(dest, 'supplier-data', 'images')
    descriptions = os.path.join(dest, 'supplier-data', 'descriptions')
    reviews = os.path.join(dest, 'reviews')
    for folder in (images, descriptions, reviews):
        os.makedirs(folder, exist_ok=True)
    for i, (name, weight, text) in enumerate(FRUITS, 1):
        stem = '%03d' % i
        tif = os.path.join(images, stem + '.tif')
        if not os.path.exists(tif):
            # Transparent background with a coloured fruit-ish disc: flattening matters.
            image = Image.new('RGBA', (3000, 2000), (0, 0, 0, 0))
            draw = ImageDraw.Draw(image)
            colour = ((i * 70) % 256, (i * 150) % 256, (i * 40 + 60) % 256, 255)
            draw.ellipse((900, 400, 2100, 1600), fill=colour)
            draw.ellipse((1350, 250, 1650, 550), fill=(40, 140, 40, 255))
            image.save(tif, compression='raw')
        with open(os.path.join(descriptions, stem + '.txt'), 'w', encoding='utf-8') as handle:
            handle.write('%s\n%d lbs\n%s\n' % (name, weight, text))
    for i, (title, who, day, text) in enumerate([
            ('Great fruit', 'Ana', '2026-11-02', 'The apples were crisp and sweet.'),
            ('Fast delivery', 'Ben', '2026-11-09', 'Arrived the next day, well packed.'),
            ('Will buy again', 'Chloe', '2026-11-16', 'Best mangoes I have had this year.')], 1):
        with open(os.path.join(reviews, '%03d.txt' % i), 'w', encoding='utf-8') as handle:
            handle.write('%s\n%s\n%s\n%s\n' % (title, who, day, text))
    rng = random.Random(2026)
    cars = []
    for i in range(1, 101):
        make, model = MAKES[rng.randrange(len(MAKES))]
        cars.append({'id': i, 'car': {'car_make': make, 'car_model': model, 'car_year': rng.randrange(2000, 2016)},
                     'price': '$%d.%02d' % (rng.randrange(5000, 40000), rng.randrange(100)),
                     'total_sales': rng.randrange(1, 1500)})
    with open(os.path.join(dest, 'car_sales.json'), 'w', encoding='utf-8') as handle:
        json.dump(cars, handle, indent=1)


if __name__ == '__main__':
    main()
