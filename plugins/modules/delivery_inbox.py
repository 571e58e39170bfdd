#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: delivery_inbox
author: storeops.shop team (@storeops)
short_description: Take supplier deliveries from an inbox folder, safely unpacked, and archive them when done
version_added: 1.0.0
description:
  - A supplier delivery is an archive (C(.tar.gz), C(.tgz), C(.tar), C(.zip)), such as C(supplier-data.tar.gz), or a
    folder, that holds C(descriptions/) and C(images/), at its top or one folder down.
  - With O(state=open) the deliveries in O(inbox) are taken in the order they arrived (modification time, then name)
    and unpacked, each into a folder of its own under O(work_dir); RV(deliveries) gives the paths to hand to
    M(storeops.shop.convert_images) and M(storeops.shop.catalog_upload). A delivery already unpacked from the same bytes
    is not unpacked again, so a run that was interrupted resumes where it stopped.
  - B(Hostile deliveries are refused.) Tar members go through Python's C(tarfile) extraction filter C(data), which
    refuses absolute paths, C(..), links that point out of the delivery, device files and other special files; zip
    members are checked the same way (and may not be links). A truncated or damaged archive, one without C(descriptions/), and
    one that unpacks to more than O(max_size) are refused too. A refused delivery moves to O(rejected_dir), nothing of it
    stays under O(work_dir), and RV(errors) names the archive and the member; the good deliveries are still unpacked,
    then the task fails.
  - Unpacking goes to a temporary folder that is renamed into place, so an interrupted run never leaves a half-unpacked
    delivery. A delivery that arrived as a folder is copied, never changed.
  - With O(state=archived) the delivery O(name) moves from O(inbox) to O(archive_dir), with a date stamp in its name,
    and its unpacked copy is removed. Deliveries are never deleted.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - storeops.shop.attributes.idempotent
  - storeops.shop.attributes.files
  - storeops.shop.job_errors
attributes:
  check_mode:
    support: full
    details:
      - Lists the deliveries and which would be unpacked; their members are only checked by a real run, which may
        still refuse some.
  diff_mode:
    support: partial
    details:
      - Lists the deliveries unpacked and refused.
  platform:
    platforms: posix
  idempotent:
    support: full
  safe_file_operations:
    support: full
options:
  inbox:
    description: The folder deliveries arrive in. Hidden files (a delivery still being copied in as C(.name)) are left alone.
    type: path
    required: true
  work_dir:
    description: Where deliveries are unpacked, one folder each (created if missing).
    type: path
    required: true
  archive_dir:
    description: Where processed deliveries go, named C(<name>.<UTC date and time><suffix>) (created if missing).
    type: path
    required: true
  rejected_dir:
    description: Where refused deliveries go, named like in O(archive_dir) (created if missing).
    type: path
    required: true
  state:
    description:
      - V(open) unpacks what is in the inbox; V(archived) archives the delivery O(name).
    type: str
    choices: [open, archived]
    default: open
  name:
    description: With O(state=archived), the name of the delivery (RV(deliveries[].name)).
    type: str
  max_size:
    description: The most bytes one delivery may unpack to; larger ones are refused (an archive bomb).
    type: int
    default: 10737418240
notes:
  - Copy deliveries into the inbox under a hidden name and rename them when complete, so a half-copied archive is
    never taken.
seealso:
  - module: storeops.shop.convert_images
  - module: storeops.shop.catalog_upload
  - name: tarfile extraction filters
    description: The checks every tar member goes through.
    link: https://docs.python.org/3/library/tarfile.html#extraction-filters
"""

EXAMPLES = r"""
- name: Unpack the new deliveries
  storeops.shop.delivery_inbox:
    inbox: /var/lib/storeops/deliveries/inbox
    work_dir: /var/lib/storeops/deliveries/work
    archive_dir: /var/lib/storeops/deliveries/archive
    rejected_dir: /var/lib/storeops/deliveries/rejected
  register: inbox

- name: Convert the images of the first delivery
  storeops.shop.convert_images:
    src: "{{ inbox.deliveries[0].images }}"
    dest: "{{ inbox.deliveries[0].images }}"
    size: [600, 400]
  when: inbox.deliveries | length > 0

- name: Archive it once it is uploaded and reported
  storeops.shop.delivery_inbox:
    inbox: /var/lib/storeops/deliveries/inbox
    work_dir: /var/lib/storeops/deliveries/work
    archive_dir: /var/lib/storeops/deliveries/archive
    rejected_dir: /var/lib/storeops/deliveries/rejected
    state: archived
    name: "{{ inbox.deliveries[0].name }}"
"""

RETURN = r"""
deliveries:
  description: The deliveries to process, in the order they arrived (with O(state=open)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The delivery's name, its file name without the archive suffix.
      type: str
      sample: supplier-data
    source:
      description: The archive or folder in the inbox.
      type: str
      sample: /var/lib/storeops/deliveries/inbox/supplier-data.tar.gz
    kind:
      description: V(tar), V(zip) or V(folder).
      type: str
      sample: tar
    arrived:
      description: When it arrived (its modification time, UTC).
      type: str
      sample: '2026-12-01T09:30:00Z'
    sha256:
      description: The SHA-256 of the archive (of the listing and sizes for a folder).
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    path:
      description: The unpacked delivery (the folder that holds C(descriptions/)).
      type: str
      sample: /var/lib/storeops/deliveries/work/supplier-data/supplier-data
    descriptions:
      description: Its C(descriptions/) folder.
      type: str
      sample: /var/lib/storeops/deliveries/work/supplier-data/supplier-data/descriptions
    images:
      description: Its C(images/) folder.
      type: str
      sample: /var/lib/storeops/deliveries/work/supplier-data/supplier-data/images
rejected:
  description: Where the refused deliveries were moved.
  returned: always
  type: list
  elements: str
  sample: [/var/lib/storeops/deliveries/rejected/evil.20261201T093000Z.tar.gz]
archived:
  description: With O(state=archived), where the delivery was moved; V(null) when it was not in the inbox any more.
  returned: when O(state=archived)
  type: str
  sample: /var/lib/storeops/deliveries/archive/supplier-data.20261201T093512Z.tar.gz
errors:
  description:
    - The refused deliveries, in the collection's failure shape (see the notes), C(file) being the archive and
      C(field) the member at fault (or V(null)).
  returned: always
  type: list
  elements: dict
  sample: [{file: /var/lib/storeops/deliveries/inbox/evil.tar.gz, line: null, field: ../../etc/cron.d/x,
            message: 'refused: a path that leads out of the delivery (..)'}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._inbox import DEFAULT_MAX_SIZE, delivery_inbox
from ansible_collections.storeops.shop.plugins.module_utils._job import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            inbox=dict(type='path', required=True),
            work_dir=dict(type='path', required=True),
            archive_dir=dict(type='path', required=True),
            rejected_dir=dict(type='path', required=True),
            state=dict(type='str', default='open', choices=['open', 'archived']),
            name=dict(type='str'),
            max_size=dict(type='int', default=DEFAULT_MAX_SIZE),
        ),
        required_if=[('state', 'archived', ('name',))],
        supports_check_mode=True,
    )
    run_module(module, delivery_inbox)


if __name__ == '__main__':
    main()
