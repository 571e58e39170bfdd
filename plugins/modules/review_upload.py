#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: review_upload
author: storeops.shop team (@storeops)
short_description: Upload customer reviews to the catalog site, without duplicates
version_added: 1.0.0
description:
  - Posts the customer reviews in O(src) to the catalog site's C(/feedback/) endpoint.
  - A review file C(NNN.txt) is line 1 the title, line 2 the reviewer's name, line 3 the date as C(YYYY-MM-DD), then the
    feedback, which may span lines. CRLF line endings, a UTF-8 byte order mark, trailing spaces and blank trailing lines
    are accepted.
  - Reconciles instead of posting blindly. The reviews already on the site are read first (C(GET /feedback/)); a review
    with the same name, date and title as one on the site is not posted again, so a second run changes nothing.
  - A bad file does not stop the others. A missing title, name or feedback, a date that is not a real date, text that is
    not UTF-8, a second file with the same review, and a review the site refuses are reported in RV(errors) with the
    file, the line and why; every good review is posted, then the task fails listing the bad ones.
  - When the site stops answering (after the O(retries)) the run stops; the files not done yet are listed in RV(pending)
    and the task fails. Re-running it after the site is back finishes the job without duplicates.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - storeops.shop.attributes.idempotent
  - storeops.shop.catalog
  - storeops.shop.job_errors
attributes:
  check_mode:
    support: full
    details:
      - Only reads from the site (C(GET) requests). RV(created) lists the reviews that would be posted (without an C(id)).
  diff_mode:
    support: full
    details:
      - Shows the review records that are (or would be) added.
  platform:
    platforms: posix
  idempotent:
    support: full
options:
  src:
    description:
      - Folder with the review files C(*.txt). Only files directly in it are read, in natural name order; hidden files
        are skipped.
    type: path
    required: true
notes:
  - The module runs where the files are. To upload from the controller, use C(delegate_to=localhost) or run it on
    C(localhost).
  - A review already on the site with a different feedback text is left as it is and reported in RV(different), with a
    warning.
seealso:
  - module: storeops.shop.catalog_upload
"""

EXAMPLES = r"""
- name: Put the customer reviews on the company's web site
  storeops.shop.review_upload:
    url: https://web.lab.example
    token: "{{ catalog_api_token }}"
    ca_path: /etc/storeops/catalog-ca.pem
    src: /data/feedback
  delegate_to: localhost
  register: reviews

- name: Report
  ansible.builtin.debug:
    msg: "{{ reviews.counts.created }} new reviews, {{ reviews.counts.unchanged }} were already there"

- name: What would be posted (check and diff mode, no token needed)
  storeops.shop.review_upload:
    url: https://web.lab.example
    src: /data/feedback
  check_mode: true
  diff: true
"""

RETURN = r"""
msg:
  description: What happened, in one line; on failure, why, with each bad file.
  returned: always
  type: str
  sample: '5 reviews: 5 created, 0 unchanged'
created:
  description:
    - The reviews created, as the site returned them (with their C(id)).
    - In check mode, the reviews that would be posted (without C(id)).
  returned: always
  type: list
  elements: dict
  sample: [{id: 1, title: Experienced salespeople, name: Alex H., date: '2020-02-02', feedback: It was great.}]
unchanged:
  description: The reviews that were already on the site.
  returned: always
  type: list
  elements: dict
  contains:
    title:
      description: Review title.
      type: str
      sample: Experienced salespeople
    name:
      description: Reviewer's name.
      type: str
      sample: Alex H.
    date:
      description: Date of the review, C(YYYY-MM-DD).
      type: str
      sample: '2020-02-02'
    file:
      description: Review file.
      type: str
      sample: /data/feedback/001.txt
errors:
  description:
    - The files that could not be uploaded and why, in the collection's failure shape (see the notes). Empty when the
      task succeeds.
  returned: always
  type: list
  elements: dict
  sample:
    - file: /data/feedback/003.txt
      line: 3
      field: date
      message: "date '2020-02-30' is not a real date (day is out of range for month)"
pending:
  description: Review files not done because the site stopped answering. Empty unless the run stopped.
  returned: always
  type: list
  elements: str
  sample: []
different:
  description: Reviews on the site (same name, date and title) whose feedback text differs from the file; left as they are.
  returned: always
  type: list
  elements: dict
  sample: []
counts:
  description: The number of reviews per outcome.
  returned: always
  type: dict
  contains:
    created:
      description: Reviews created (would be, in check mode).
      type: int
      sample: 5
    unchanged:
      description: Reviews already on the site.
      type: int
      sample: 0
    failed:
      description: Entries in RV(errors).
      type: int
      sample: 0
    pending:
      description: Entries in RV(pending).
      type: int
      sample: 0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    catalog_argument_spec,
)
from ansible_collections.storeops.shop.plugins.module_utils._catalog_sync import review_upload
from ansible_collections.storeops.shop.plugins.module_utils._job import run_module


def main():
    argument_spec = catalog_argument_spec()
    argument_spec.update(src=dict(type='path', required=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, review_upload, requirements=[(HAS_REQUESTS, 'requests', REQUESTS_IMPORT_ERROR)])


if __name__ == '__main__':
    main()
