# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test images for the convert_images integration target.

python make_images.py DIR       writes DIR/{supplier,icons,bad,photos}
python make_images.py --inspect FILE...   prints JSON facts about images (for asserts)
"""

from __future__ import annotations

import io
import json
import os
import sys

from PIL import Image, ImageDraw

MAGENTA_HIDDEN = (255, 0, 255, 0)


def supplier(path, colour, size=(300, 200)):
    """RGBA product on a transparent background with magenta hidden under it, as a TIFF."""
    img = Image.new('RGBA', size, MAGENTA_HIDDEN)
    ImageDraw.Draw(img).ellipse((size[0] // 6, size[1] // 6, size[0] * 5 // 6, size[1] * 5 // 6), fill=colour + (255,))
    img.save(path, 'TIFF')


def icon(path):
    """192x192 icon with a red block top-left when upright, delivered rotated 90 degrees anti-clockwise."""
    img = Image.new('RGBA', (192, 192), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 47, 47), fill=(255, 0, 0, 255))
    draw.ellipse((60, 60, 170, 170), fill=(20, 20, 20, 255))
    img.rotate(90).save(path, 'TIFF')


def make(root):
    folders = {name: os.path.join(root, name) for name in ('supplier', 'icons', 'bad', 'photos')}
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    supplier(os.path.join(folders['supplier'], '001.tif'), (200, 40, 40))
    supplier(os.path.join(folders['supplier'], '002.tif'), (40, 160, 40))
    supplier(os.path.join(folders['supplier'], '003.TIFF'), (40, 40, 200))
    supplier(os.path.join(folders['supplier'], '004.tif'), (230, 180, 20), size=(1500, 1000))  # > 4 MB: mapped
    with open(os.path.join(folders['supplier'], 'description.txt'), 'w') as handle:
        handle.write('not matched by the pattern\n')
    for name in ('ic_edit_location_black_48dp', 'ic_add_location_black_48dp', 'ic_map_black_48dp'):
        icon(os.path.join(folders['icons'], name))
    supplier(os.path.join(folders['bad'], 'good.tif'), (10, 10, 10))
    open(os.path.join(folders['bad'], 'empty.tif'), 'wb').close()
    with open(os.path.join(folders['bad'], 'notes.tif'), 'w') as handle:
        handle.write('this is text\n')
    data = io.BytesIO()
    Image.new('RGBA', (400, 300), (1, 2, 3, 255)).save(data, 'TIFF')
    with open(os.path.join(folders['bad'], 'truncated.tif'), 'wb') as handle:
        handle.write(data.getvalue()[:20000])
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown upright after 90 degrees clockwise
    photo = Image.new('RGB', (400, 200), (255, 255, 255))
    photo.paste((255, 0, 0), (0, 0, 100, 100))
    photo.save(os.path.join(folders['photos'], 'sideways.jpg'), 'JPEG', quality=95, exif=exif.tobytes())


def inspect(paths):
    facts = {}
    for path in paths:
        with Image.open(path) as img:
            img.load()
            rgb = img.convert('RGB')
            width, height = img.size
            facts[os.path.basename(path)] = {
                'format': img.format,
                'mode': img.mode,
                'size': [width, height],
                'top_left': list(rgb.getpixel((3, 3))),
                'top_right': list(rgb.getpixel((width - 4, 3))),
                'bottom_left': list(rgb.getpixel((3, height - 4))),
                'centre': list(rgb.getpixel((width // 2, height // 2))),
            }
    print(json.dumps(facts))


if __name__ == '__main__':
    if sys.argv[1] == '--inspect':
        inspect(sys.argv[2:])
    else:
        make(sys.argv[1])
