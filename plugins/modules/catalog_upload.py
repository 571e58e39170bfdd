#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: catalog_upload
author: storeops.shop team (@storeops)
short_description: Reconcile the catalog site with supplier descriptions and images
version_added: 1.0.0
description:
  - Uploads the supplier's products to the catalog site, as the course's C(supplier_image_upload.py) and C(run.py) do
    (Module 4). Every description C(NNN.txt) in O(descriptions) becomes a product C({name, weight, description, image_name})
    on C(/fruits/), and its image C(NNN.jpeg) from O(images) is uploaded to C(/upload/) first.
  - Reconciles instead of posting blindly. The products already on the site are read first (C(GET /fruits/)); a product
    whose name exists is not posted again. An image is uploaded only when the site does not already serve the same bytes
    under C(/media/images/<name>) (compared by SHA-256); one with different content is replaced. A second run with
    nothing new changes nothing.
  - A product is posted only after its image is on the site, so the store front never shows a product without its image.
  - A description file is line 1 the name, line 2 the weight in pounds (V(500 lbs), V(500lbs), V(500 LBS), V(500 lb)),
    then the description, which may span lines. CRLF line endings, a UTF-8 byte order mark, trailing spaces and blank
    trailing lines are accepted.
  - A bad file does not stop the others. A description that cannot be parsed (for example a weight of
    V(five hundred lbs)), a description without an image, a second description with the same name, and an item the
    site refuses are reported in RV(errors) with the file, the line and why; every good item is uploaded, then the
    task fails listing the bad ones.
  - When the site stops answering (after the O(retries)) the run stops; the items not done yet are listed in
    RV(pending) and the task fails. Re-running it after the site is back finishes the job without duplicates.
  - Products that exist on the site with a different weight, description or image name are left as they are and
    reported in RV(different), with a warning.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - storeops.shop.catalog
attributes:
  check_mode:
    support: full
    details:
      - Only reads from the site (C(GET) requests). RV(created) lists the product records that would be posted (without an
        C(id)), RV(images) the images that would be uploaded.
      - Whether the site accepts an image or a record (size limit, damaged image) is only known in a real run.
  diff_mode:
    support: full
    details:
      - Shows the product records that are (or would be) added, and the SHA-256 of each image before and after.
  platform:
    platforms: posix
options:
  descriptions:
    description:
      - Folder with the supplier's description files C(*.txt). Only files directly in it are read, in natural name order;
        hidden files are skipped.
    type: path
    required: true
  images:
    description:
      - Folder with the product images, usually the output of M(storeops.shop.convert_images).
      - The image of C(NNN.txt) is C(NNN) followed by O(image_suffix). It is uploaded under that name, which is also the
        product's C(image_name). Images without a description are not uploaded.
    type: path
    required: true
  image_suffix:
    description:
      - Appended to the stem of a description file to name its image.
    type: str
    default: .jpeg
notes:
  - The module runs where the files are. To upload from the controller, use C(delegate_to=localhost) or run it on
    C(localhost).
  - Connections are kept alive and reused for the whole run (one HTTP session); every request has a timeout.
  - A site that does not serve C(/media/) (no nginx and C(CATALOG_SERVE_FILES) off) still works - every image is sent
    and the site answers that it is unchanged - but check mode then reports those images as to be uploaded.
seealso:
  - module: storeops.shop.convert_images
  - module: storeops.shop.review_upload
  - module: storeops.shop.build_report
"""

EXAMPLES = r"""
- name: Upload the supplier's products to the catalog site
  storeops.shop.catalog_upload:
    url: https://web.lab.example
    token: "{{ catalog_api_token }}"
    ca_path: /etc/storeops/catalog-ca.pem
    descriptions: /home/student/supplier-data/descriptions
    images: /home/student/supplier-data/images
  delegate_to: localhost
  register: upload

- name: Show what happened
  ansible.builtin.debug:
    msg: "{{ upload.counts.created }} products created, {{ upload.counts.unchanged }} already there"

- name: Preview what would be uploaded, with the records (check and diff mode)
  storeops.shop.catalog_upload:
    url: https://web.lab.example
    descriptions: /home/student/supplier-data/descriptions
    images: /home/student/supplier-data/images
  check_mode: true
  diff: true

- name: PNG images, a slow site, more patience (token from STOREOPS_CATALOG_TOKEN)
  storeops.shop.catalog_upload:
    url: https://shop.example.com
    descriptions: /srv/supplier/descriptions
    images: /srv/supplier/png
    image_suffix: .png
    timeout: 60
    retries: 5
"""

RETURN = r"""
msg:
  description: What happened, in one line; on failure, why, with each bad file.
  returned: always
  type: str
  sample: 'products of 10: 9 created, 0 unchanged, 1 failed; images: 9 uploaded, 0 replaced, 0 unchanged'
created:
  description:
    - The products created, as the site returned them (with their C(id)).
    - In check mode, the records that would be posted (without C(id)).
  returned: always
  type: list
  elements: dict
  sample: [{id: 1, name: Apple, weight: 500, description: 'Apples are sweet.', image_name: 001.jpeg}]
unchanged:
  description: The products that were already on the site.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Product name.
      type: str
      sample: Apple
    file:
      description: Description file.
      type: str
      sample: /home/student/supplier-data/descriptions/001.txt
errors:
  description:
    - The files that could not be uploaded and why. Empty when the task succeeds.
    - (Not called C(failed), which Ansible reserves for the task's status.)
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The description or image file.
      type: str
      sample: /home/student/supplier-data/descriptions/004.txt
    line:
      description: Line of the problem in O(descriptions) files, V(null) when it is not about one line.
      type: int
      sample: 2
    message:
      description: What is wrong.
      type: str
      sample: "weight 'five hundred lbs' is not a number of pounds (write it like '500 lbs')"
    error:
      description: File, line and message in one string.
      type: str
      sample: "/home/student/supplier-data/descriptions/004.txt line 2: weight 'five hundred lbs' is not a number of
        pounds (write it like '500 lbs')"
pending:
  description: Description files not done because the site stopped answering. Empty unless the run stopped.
  returned: always
  type: list
  elements: str
  sample: [/home/student/supplier-data/descriptions/058.txt]
different:
  description: Products on the site whose fields differ from their description file; they are left as they are.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Product name.
      type: str
    file:
      description: Description file.
      type: str
    fields:
      description: For each differing field, V(site) and V(file) values.
      type: dict
  sample: [{name: Apple, file: /data/descriptions/001.txt, fields: {weight: {site: 400, file: 500}}}]
images:
  description: Image names by outcome. In check mode, what would happen.
  returned: always
  type: dict
  contains:
    created:
      description: Images uploaded that the site did not have.
      type: list
      elements: str
      sample: [001.jpeg]
    updated:
      description: Images uploaded that replaced different content of the same name.
      type: list
      elements: str
      sample: []
    unchanged:
      description: Images the site already served with the same content.
      type: list
      elements: str
      sample: [002.jpeg]
counts:
  description: The number of items per outcome.
  returned: always
  type: dict
  contains:
    created:
      description: Products created (would be, in check mode).
      type: int
      sample: 9
    unchanged:
      description: Products already on the site.
      type: int
      sample: 0
    failed:
      description: Entries in RV(errors).
      type: int
      sample: 1
    pending:
      description: Entries in RV(pending).
      type: int
      sample: 0
    images_created:
      description: Entries in RV(images.created).
      type: int
      sample: 9
    images_updated:
      description: Entries in RV(images.updated).
      type: int
      sample: 0
    images_unchanged:
      description: Entries in RV(images.unchanged).
      type: int
      sample: 0
"""

from ansible_collections.storeops.shop.plugins.module_utils._catalog_module import run_catalog_module
from ansible_collections.storeops.shop.plugins.module_utils._catalog_sync import sync_catalog


def main():
    run_catalog_module(
        dict(
            descriptions=dict(type='path', required=True),
            images=dict(type='path', required=True),
            image_suffix=dict(type='str', default='.jpeg'),
        ),
        lambda client, params, check_mode, diff: sync_catalog(
            client, params['descriptions'], params['images'], image_suffix=params['image_suffix'],
            check_mode=check_mode, diff=diff),
    )


if __name__ == '__main__':
    main()
