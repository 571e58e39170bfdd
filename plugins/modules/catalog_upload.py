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
  - Uploads a supplier's products to the catalog site. Every description C(NNN.txt) in O(descriptions) becomes a product
    C({name, weight, description, image_name}) on C(/fruits/), and its image C(NNN.jpeg) from O(images) is uploaded to
    C(/upload/) first.
  - Reconciles instead of posting blindly. The products already on the site are read first (C(GET /fruits/)), and the
    images it holds with their SHA-256 (C(GET /images/)); a product whose name exists is not posted again, an image the
    site holds with the same bytes is not sent again. A second run with nothing new sends two requests and changes nothing.
    A site with only the original API (no C(/images/)) still works, asking for each image it may hold.
  - B(No upload ever changes a picture that is on the site.) Every delivery numbers its files from C(001), so with plain
    file names a new delivery's C(001.jpeg) would replace the picture of another delivery's product. By default
    (O(image_names=content)) an image is stored as C(<stem>-<first 12 hex digits of its SHA-256>.jpeg), a name of its
    own; with O(image_names=file) the plain name is kept and an item whose name holds another picture on the site is
    refused, naming the product that uses it. Uploads also ask the site never to replace (C(replace=false)).
  - A product is posted only after its image is on the site, so the store front never shows a product without its image.
    Images are uploaded several at a time; products are posted in the delivery's order, so the store front lists them
    in that order. When the site refuses a product, the image uploaded for it is deleted again (C(DELETE /images/<name>)).
  - What the site would refuse is refused before the first write, with the file, line and field (a name longer than
    200 characters, a weight over 2147483647 lbs, a description over 20,000 characters, control characters).
  - A description file is line 1 the name, line 2 the weight in pounds (V(500 lbs), V(500lbs), V(500 LBS), V(500 lb)),
    then the description, which may span lines. CRLF line endings, a UTF-8 byte order mark, trailing spaces and blank
    trailing lines are accepted.
  - A bad file does not stop the others. A description that cannot be parsed (for example a weight of
    V(five hundred lbs)), a description without an image, a second description with the same name, and an item the
    site refuses are reported in RV(errors) with the file, the line and why; every good item is uploaded, then the
    task fails listing the bad ones.
  - When the site stops answering (after the O(retries)) the run stops; the items not done yet are listed in
    RV(pending) and the task fails. Re-running it after the site is back finishes the job without duplicates.
  - Products that exist on the site with a different weight, description or picture are left as they are and
    reported in RV(different), with a warning.
  - RV(products) lists what is on the site for this delivery after the run; give the registered result to
    M(storeops.shop.build_report) (O(storeops.shop.build_report#module:kind=processed_update)) so that the supplier's
    report says what was really uploaded.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - storeops.shop.attributes.idempotent
  - storeops.shop.catalog
  - storeops.shop.job_errors
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
      - Shows the product records that are (or would be) added, and the SHA-256 of each image uploaded.
  platform:
    platforms: posix
  idempotent:
    support: full
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
  image_names:
    description:
      - The names images are stored under on the site.
      - V(content) (the default) is C(<stem>-<hash><image_suffix>), for example C(001-3fa9c2e1d4b5.jpeg). Two pictures
        never share a name, so deliveries that reuse file names never touch each other's pictures, and the same picture
        keeps its name.
      - V(file) is the file name as it is (C(001.jpeg)). An item whose name already holds
        another picture on the site fails, naming the product that uses it; nothing is replaced.
      - Products already on the site keep their image names either way.
    type: str
    choices: [content, file]
    default: content
notes:
  - The module runs where the files are. To upload from the controller, use C(delegate_to=localhost) or run it on
    C(localhost).
  - Connections are kept alive and reused for the whole run (one HTTP session); every request has a timeout.
  - Against a site without C(/images/) that does not serve C(/media/) either, every image is sent and the site answers
    that it is unchanged; check mode then reports those images as to be uploaded. Such a site may also replace a file
    name it already holds (it ignores C(replace=false)), so use O(image_names=content) there.
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
  sample: '10 products: 9 created, 0 unchanged, 1 failed; images: 9 uploaded, 0 unchanged'
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
    - The files that could not be uploaded and why, in the collection's failure shape (see the notes). Empty when the
      task succeeds.
  returned: always
  type: list
  elements: dict
  sample:
    - file: /home/student/supplier-data/descriptions/004.txt
      line: 2
      field: weight
      message: "weight 'five hundred lbs' is not a number of pounds (write it like '500 lbs')"
products:
  description:
    - The products of this delivery that are on the site after the run, in the delivery's order, with what the run did.
      In check mode, what would be there.
    - Give the registered result to M(storeops.shop.build_report) as O(storeops.shop.build_report#module:src).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Product name.
      type: str
      sample: Apple
    weight:
      description: Weight in pounds, as on the site.
      type: int
      sample: 500
    file:
      description: Description file.
      type: str
      sample: /home/student/supplier-data/descriptions/001.txt
    image_name:
      description: The product's image on the site, under C(/media/images/).
      type: str
      sample: 001-3fa9c2e1d4b5.jpeg
    status:
      description: V(created) by this run, or V(unchanged) (it was there).
      type: str
      sample: created
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
      description: For each differing field (V(weight), V(description), V(image)), the V(site) and V(file) values.
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
      sample: [001-3fa9c2e1d4b5.jpeg]
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
    images_unchanged:
      description: Entries in RV(images.unchanged).
      type: int
      sample: 0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    catalog_argument_spec,
)
from ansible_collections.storeops.shop.plugins.module_utils._catalog_sync import IMAGE_NAMES, catalog_upload
from ansible_collections.storeops.shop.plugins.module_utils._job import run_module


def main():
    argument_spec = catalog_argument_spec()
    argument_spec.update(
        descriptions=dict(type='path', required=True),
        images=dict(type='path', required=True),
        image_suffix=dict(type='str', default='.jpeg'),
        image_names=dict(type='str', default='content', choices=list(IMAGE_NAMES)),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, catalog_upload, requirements=[(HAS_REQUESTS, 'requests', REQUESTS_IMPORT_ERROR)])


if __name__ == '__main__':
    main()
