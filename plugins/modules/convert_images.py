#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: convert_images
author: storeops.shop team (@storeops)
short_description: Convert a folder of images to resized, rotated, flattened JPEG (or PNG, WebP) files
version_added: 1.0.0
description:
  - Converts every file of O(src) whose name matches O(pattern) into O(dest), in one task, with a pool of worker processes.
  - Transparency is composited onto O(background) using the alpha channel, never dropped. Palette (with or without transparency),
    greyscale, 1-bit, 16-bit greyscale, CMYK and RGB(A) sources are handled; an embedded ICC profile is converted to sRGB.
  - Idempotent without looking at modification times. A manifest C(.convert_images.json) in O(dest) records, for every output,
    the SHA-256 of its source's content, a fingerprint of the options that change the result, and the SHA-256 of the output.
    A file is converted again only when one of them no longer matches, so a changed source or option re-converts only what is
    affected, and a deleted or edited output is rebuilt.
  - Sources are only read. Every output is encoded in memory, written to a temporary file in O(dest) and renamed over the output
    name, so an interrupted run (even C(kill -9)) never leaves a partial image; the next run finishes the job and removes
    the temporary files that run left behind.
  - A file that cannot be converted (corrupt, truncated, empty, not an image, unreadable, larger than O(max_pixels), a
    symbolic link to nothing) does not stop the others. All other files are converted, then the task fails with a
    message naming each bad file and why, and the per-file RV(errors).
  - Outputs are never deleted, also when their source goes away.
  - Converting in place (O(dest) is O(src)) with a pattern that also matches the outputs (V(['*'])) works on every run;
    the files the module wrote itself (those in its manifest) are never taken as sources.
requirements:
  - Pillow >= 9.1 on the host that runs the module
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - storeops.shop.attributes.idempotent
  - storeops.shop.attributes.files
  - storeops.shop.job_errors
attributes:
  check_mode:
    support: full
    details:
      - Sources are hashed and their headers read, so unreadable and unrecognised files are reported, but truncated pixel data
        is only found by a real run.
  diff_mode:
    support: full
    details:
      - Lists the output files that would be added or replaced.
  platform:
    platforms: posix
  idempotent:
    support: full
    details:
      - Decided by content (see the manifest above), never by modification times.
  safe_file_operations:
    support: full
options:
  src:
    description:
      - Folder with the source images. Only files directly in it are considered (no recursion); hidden files are skipped.
    type: path
    required: true
  dest:
    description:
      - Folder for the converted images, created if missing (with its parents).
      - May be the same folder as O(src), to convert in place.
    type: path
    required: true
  pattern:
    description:
      - Shell globs matched case-insensitively against the file names in O(src). A file matching any of them is converted.
    type: list
    elements: str
    default: ['*.tif', '*.tiff']
  size:
    description:
      - Size of the box the result must fit, as V([width, height]) in pixels, after rotation.
      - Omit to keep the original size (still flattened, rotated and re-encoded).
    type: list
    elements: int
  fit:
    description:
      - How the image is fitted into O(size).
      - V(contain) scales it to fit inside the box keeping its aspect ratio; one side may be smaller than O(size). Nothing is
        cut off and nothing is distorted.
      - V(cover) scales it to fill the box keeping its aspect ratio and crops the overflow evenly from both sides.
      - V(exact) stretches it to exactly O(size), as a plain C(Image.resize) does.
      - When the source has the aspect ratio of O(size), as 3000x2000 supplier images for 600x400 or square icons, all three
        give the same result.
    type: str
    choices: [contain, cover, exact]
    default: contain
  rotate:
    description:
      - Degrees to turn the image B(clockwise), after O(auto_orient). Note that Pillow's own C(Image.rotate) turns counter-clockwise.
      - Icons delivered rotated 90 degrees anti-clockwise need V(90).
    type: int
    choices: [0, 90, 180, 270]
    default: 0
  auto_orient:
    description:
      - Turn the image upright according to its EXIF orientation tag before applying O(rotate).
    type: bool
    default: true
  background:
    description:
      - Colour that transparent and partly transparent pixels are composited onto, as a name (V(white)), V(#rrggbb) or V(rgb(r,g,b)).
      - Whatever colour hides under fully transparent pixels never shows.
    type: str
    default: white
  format:
    description:
      - Output format. The output is always RGB, in sRGB, without EXIF data.
    type: str
    choices: [jpeg, png, webp]
    default: jpeg
  quality:
    description:
      - Encoder quality for V(jpeg) and V(webp), 1 to 100. Ignored for V(png).
    type: int
    default: 85
  progressive:
    description:
      - Write progressive JPEG files.
    type: bool
    default: false
  suffix:
    description:
      - Appended to the source name without its extension to name the output, for example V(.jpeg) makes C(001.jpeg) from C(001.tif).
      - Defaults to V(.jpeg), V(.png) or V(.webp) following O(format).
    type: str
  workers:
    description:
      - Number of worker processes. Defaults to the number of CPUs this process may use. V(1) converts in the module's process.
    type: int
  max_pixels:
    description:
      - The largest image, in pixels (width times height), the module decodes; larger ones fail with a clear error before
        any pixel is decoded.
      - The default is the catalog site's own limit (C(CATALOG_MAX_IMAGE_PIXELS), 40 million pixels), so nothing is
        converted that the site would refuse.
    type: int
    default: 40000000
  shard:
    description:
      - Convert only one shard of O(src), so that several hosts (or several tasks) share one delivery, each with its own
        O(shard.index) and the same O(shard.count).
      - A source file belongs to shard C(int(sha256(name), 16) % count), the SHA-256 of its file name relative to O(src)
        in UTF-8 (a name that is not valid UTF-8 is hashed as its raw bytes), read as one big-endian number. It depends
        on the name alone, not on the host, the run, the other files or the Python version, so every file is in exactly
        one shard, and the shards 0 to O(shard.count) - 1 together convert exactly what one run without O(shard) converts,
        byte for byte.
      - Output names and name collisions are decided over the whole folder first, then the files of other shards are left
        alone. They are not converted, not reported in RV(results) or RV(errors), and their outputs and manifest entries
        are never touched or deleted; RV(shard.other_shards) counts them.
      - Omit to convert the whole folder.
    type: dict
    suboptions:
      index:
        description:
          - This run's shard, from V(0) to O(shard.count) - 1.
        type: int
        required: true
      count:
        description:
          - Number of shards, at least V(1).
        type: int
        required: true
notes:
  - Downscaling first shrinks by the integer part of the ratio with a box filter (exact area averaging, weighted by alpha
    for images with transparency), then does one BICUBIC step for the remaining ratio, which is below 2:1. With 5:1 supplier
    images (3000x2000 to 600x400) that is a pure area average. Against a LANCZOS resize of the flattened image the mean difference
    stays below 2 grey levels (0-255) on photographic content, typically 0.5 to 1.5.
  - Outputs are not flushed to disk one by one (no C(fsync) per file, as Ansible's own file modules); the manifest is, after
    all outputs. After a power failure the next run checks every output against the SHA-256 in the manifest and rebuilds
    any damaged one.
  - JPEG sources are decoded at a reduced scale (libjpeg's DCT scaling) when the output is at most a quarter of their size.
    Uncompressed single-strip TIFF files (as Pillow writes them) are used in place without decoding.
  - Each worker holds one source file in memory at a time (24 MB for a 3000x2000 RGBA TIFF).
  - Runs on the same O(dest) are serialised with a lock on the folder.
  - A worker process that dies (killed by the OOM killer, a crash in an image decoder) costs one more try of the file it
    was converting, on its own; if that kills a worker again, the file is reported as failed (C(worker process died
    (killed by SIGKILL))) and the other files are converted. The workers stop when the module's own process is killed.
seealso:
  - name: Pillow
    description: The imaging library the module uses.
    link: https://pillow.readthedocs.io/
"""

EXAMPLES = r"""
- name: Supplier images, 3000x2000 RGBA TIFF to 600x400 JPEG on a white background
  storeops.shop.convert_images:
    src: /home/student/supplier-data/images
    dest: /home/student/supplier-data/images
    size: [600, 400]

- name: Icons delivered rotated 90 degrees anti-clockwise, to straight 128x128 JPEG files
  storeops.shop.convert_images:
    src: /home/student/images
    dest: /opt/icons
    pattern: ['ic_*']
    size: [128, 128]
    rotate: 90
    suffix: ''

- name: Square thumbnails on a light grey background, cropped to fill, two workers
  storeops.shop.convert_images:
    src: /srv/catalog/originals
    dest: /srv/catalog/thumbs
    pattern: ['*.png', '*.jpg', '*.jpeg', '*.tif', '*.tiff']
    size: [256, 256]
    fit: cover
    background: '#f0f0f0'
    quality: 80
    progressive: true
    workers: 2
  register: thumbs

- name: One delivery converted by every host of the group converters, each host its own half
  storeops.shop.convert_images:
    src: /srv/supplier-data/images
    dest: /srv/supplier-data/converted
    size: [600, 400]
    shard:
      index: "{{ groups['converters'].index(inventory_hostname) }}"
      count: "{{ groups['converters'] | length }}"

- name: Show what was converted
  ansible.builtin.debug:
    msg: "{{ thumbs.counts.converted }} converted, {{ thumbs.counts.unchanged }} unchanged"
"""

RETURN = r"""
src:
  description: Absolute path of the source folder.
  returned: success
  type: str
  sample: /home/student/supplier-data/images
dest:
  description: Absolute path of the destination folder.
  returned: success
  type: str
  sample: /home/student/supplier-data/images
manifest:
  description: Path of the manifest that makes the module idempotent.
  returned: success
  type: str
  sample: /home/student/supplier-data/images/.convert_images.json
counts:
  description: Number of files per outcome. In check mode V(converted) counts the files that would be converted (nothing is
    written).
  returned: success
  type: dict
  contains:
    total:
      description: Matching source files.
      type: int
      sample: 10
    converted:
      description: Outputs written (added or replaced).
      type: int
      sample: 9
    unchanged:
      description: Outputs already up to date.
      type: int
      sample: 1
    failed:
      description: Files that could not be converted.
      type: int
      sample: 0
results:
  description: One entry per matching source file, sorted by source path.
  returned: success
  type: list
  elements: dict
  contains:
    src:
      description: Source file.
      type: str
      sample: /home/student/supplier-data/images/001.tif
    dest:
      description: Output file.
      type: str
      sample: /home/student/supplier-data/images/001.jpeg
    size:
      description: Width and height of the output, V(null) when the file failed.
      type: list
      elements: int
      sample: [600, 400]
    action:
      description: What happened to the file.
      type: str
      choices: [converted, unchanged, failed]
      sample: converted
    error:
      description: Why the file failed.
      type: str
      returned: when RV(results[].action=failed)
      sample: 'empty file (0 bytes)'
shard:
  description: The shard converted, with the number of matching files left to the other shards.
  returned: when O(shard) is set
  type: dict
  contains:
    index:
      description: O(shard.index).
      type: int
      sample: 0
    count:
      description: O(shard.count).
      type: int
      sample: 2
    other_shards:
      description: Matching source files that belong to other shards (not converted, not reported here).
      type: int
      sample: 5
errors:
  description:
    - The files that could not be converted and why, in the collection's failure shape (see the notes), C(file) being
      the source file. Empty on success.
  returned: always
  type: list
  elements: dict
  sample: [{file: /srv/supplier-data/images/broken.tif, line: null, field: null,
            message: 'not an image file Pillow can read (unrecognised or corrupt header)'}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._convert_images import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_PATTERNS,
    HAS_PIL,
    PIL_IMPORT_ERROR,
    convert_images,
)
from ansible_collections.storeops.shop.plugins.module_utils._job import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path', required=True),
            dest=dict(type='path', required=True),
            pattern=dict(type='list', elements='str', default=list(DEFAULT_PATTERNS)),
            size=dict(type='list', elements='int'),
            fit=dict(type='str', default='contain', choices=['contain', 'cover', 'exact']),
            rotate=dict(type='int', default=0, choices=[0, 90, 180, 270]),
            auto_orient=dict(type='bool', default=True),
            background=dict(type='str', default='white'),
            format=dict(type='str', default='jpeg', choices=['jpeg', 'png', 'webp']),
            quality=dict(type='int', default=85),
            progressive=dict(type='bool', default=False),
            suffix=dict(type='str'),
            workers=dict(type='int'),
            max_pixels=dict(type='int', default=DEFAULT_MAX_PIXELS),
            shard=dict(
                type='dict',
                options=dict(
                    index=dict(type='int', required=True),
                    count=dict(type='int', required=True),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    run_module(module, convert_images, requirements=[(HAS_PIL, 'Pillow', PIL_IMPORT_ERROR)])


if __name__ == '__main__':
    main()
