#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: health_facts
author: storeops.shop team (@storeops)
short_description: The host's health checks as data - CPU, disk, memory, localhost, and the health-check job
version_added: 1.0.0
description:
  - Runs on the managed host the same checks as the cron job of the role C(storeops.shop.healthcheck) (the same Python
    code) and returns, for each check, its value, threshold and state in the fact C(storeops_health).
  - B(CPU usage) of the whole host, sampled over O(cpu_interval) seconds; failing when over O(cpu_max_percent).
  - B(Available disk space) of each of O(disk_mounts), as free over total space of its file system (what C(df) shows as
    C(Avail) over C(Size)); failing when less than O(disk_min_free_percent).
  - B(Available memory), the kernel's C(MemAvailable); failing when less than O(memory_min_available_mb).
  - B(localhost) resolved as IPv4 by the system resolver; failing when it is not C(127.0.0.1).
  - B(The health-check job), on hosts with the role (its cron entry O(job_cron_file) exists) - how long ago the job last
    finished a run, from its state file O(job_state_file); failing when that is more than O(job_max_age) seconds ago
    (a job that never ran counts from the time its cron entry was written). A cron job that stopped running (cron
    removed, a broken script, Python missing) is found this way, although it mails nothing.
  - A check that cannot be measured (a mount point that does not exist) has the state V(error) and counts as failing.
  - This module only reads; it never sends mail (the cron job does).
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing; check mode measures the same way.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details:
      - Linux (C(MemAvailable) and the CPU times come from C(/proc)).
  facts:
    support: full
  idempotent:
    support: full
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - storeops.shop.attributes.idempotent
  - storeops.shop.job_errors
options:
  cpu_max_percent:
    description:
      - The CPU check fails when the CPU usage is over this percentage.
    type: float
    default: 80
  cpu_interval:
    description:
      - Seconds over which the CPU usage is sampled (more than 0, at most 30). The module takes at least this long.
    type: float
    default: 1
  disk_mounts:
    description:
      - Mount points (absolute paths) whose available space is checked, one check each.
    type: list
    elements: str
    default: [/]
  disk_min_free_percent:
    description:
      - A disk check fails when the available space is less than this percentage of the file system's size.
    type: float
    default: 20
  memory_min_available_mb:
    description:
      - The memory check fails when less than this many MB (of 1,048,576 bytes) are available.
    type: float
    default: 500
  job_max_age:
    description:
      - The job check fails when the health-check job last finished a run more than this many seconds ago.
      - The job runs every minute, so the default allows two missed runs.
    type: float
    default: 180
  job_state_file:
    description:
      - The health-check job's state file (the role's C(healthcheck_state_dir)/C(state.json)).
    type: path
    default: /var/lib/storeops-healthcheck/state.json
  job_cron_file:
    description:
      - The health-check job's cron entry. The job check is only made when it exists, that is on hosts with the role.
    type: path
    default: /etc/cron.d/storeops-healthcheck
requirements:
  - psutil (Debian C(python3-psutil), which the role C(storeops.shop.healthcheck) installs) on the managed host
notes:
  - The thresholds are the course's values by default. Give the role's values (C(healthcheck_*)) to see what the job
    alerts on; the playbook C(storeops.shop.health) does so when the inventory sets them.
  - The job check reads the state file, which the role makes readable by everyone; it holds no secret.
seealso:
  - name: The role storeops.shop.healthcheck
    description: The cron job that runs these checks every minute and mails alerts and recoveries.
    link: https://example.invalid/storeops/shop/README.md
"""

EXAMPLES = r"""
- name: Health of the host, with the course's thresholds
  storeops.shop.health_facts:

- name: Show the failing checks
  ansible.builtin.debug:
    msg: "{{ storeops_health.checks | rejectattr('state', 'equalto', 'ok') | map(attribute='message') | list }}"

- name: Check /srv as well, and fail the task when the host is unhealthy
  storeops.shop.health_facts:
    disk_mounts: [/, /srv]
    disk_min_free_percent: 10
  failed_when: storeops_health.failing
"""

RETURN = r"""
ansible_facts:
  description: The facts this module sets.
  returned: success
  type: dict
  contains:
    storeops_health:
      description: The host's health.
      returned: success
      type: dict
      contains:
        checked_at:
          description: When the checks were made (UTC, ISO 8601).
          type: str
          sample: '2026-12-02T14:03:00Z'
        failing:
          description: Whether any check is not V(ok).
          type: bool
          sample: false
        failing_checks:
          description: The names of the checks that are not V(ok).
          type: list
          elements: str
          sample: [cpu]
        checks:
          description: One entry per check, in the order cpu, C(disk:<mount>) for each mount, memory, localhost, job.
          type: list
          elements: dict
          contains:
            name:
              description: V(cpu), V(disk:/srv), V(memory), V(localhost) or V(job).
              type: str
              sample: disk:/
            description:
              description: What is checked, for people.
              type: str
              sample: Available disk space on /
            value:
              description:
                - The measured value, in RV(ansible_facts.storeops_health.checks[].unit) (the address for V(localhost));
                  V(null) when it could not be measured or localhost did not resolve.
              type: raw
              sample: 74.2
            unit:
              description: V(%), V(MB), V(s), or an empty string.
              type: str
              sample: '%'
            threshold:
              description: The limit the value is compared with (V(127.0.0.1) for localhost).
              type: raw
              sample: 20.0
            state:
              description: V(ok), V(failing), or V(error) when the value could not be measured.
              type: str
              sample: ok
            message:
              description: The value and the rule in words, or why it could not be measured.
              type: str
              sample: '74.2% available on / (56.8 GiB free of 76.5 GiB; alert when less than 20%)'
        job:
          description: The health-check job of the role on this host.
          type: dict
          contains:
            installed:
              description: Whether its cron entry O(job_cron_file) exists.
              type: bool
              sample: true
            last_run:
              description: When it last finished a run (UTC, ISO 8601), V(null) if never.
              type: str
              sample: '2026-12-02T14:02:01Z'
            last_run_age:
              description: Seconds since then.
              type: float
              sample: 59.2
            last_rc:
              description: The exit status of that run (0 all OK, 1 a check failing, 2 a mail pending, 3 could not run).
              type: int
              sample: 0
            pending_mail:
              description: Mails the job could not send yet (it retries every run).
              type: int
              sample: 0
            pending_subjects:
              description: Their subjects.
              type: list
              elements: str
              sample: []
            max_age:
              description: O(job_max_age).
              type: float
              sample: 180.0
            error:
              description: Why the state file could not be read, or V(null).
              type: str
              sample: null
            cron_file:
              description: O(job_cron_file).
              type: str
              sample: /etc/cron.d/storeops-healthcheck
            state_file:
              description: O(job_state_file).
              type: str
              sample: /var/lib/storeops-healthcheck/state.json
errors:
  description: Invalid options, one entry each in the collection's failure shape (see the notes). Empty on success.
  returned: always
  type: list
  elements: dict
  sample: [{file: null, line: null, field: cpu_interval, message: 'must be a number of seconds over 0 and at most 30, got 0.0'}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._health import (
    DEFAULT_CRON_FILE,
    DEFAULT_STATE_FILE,
    HAS_PSUTIL,
    PSUTIL_IMPORT_ERROR,
    health_facts_job,
)
from ansible_collections.storeops.shop.plugins.module_utils._job import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cpu_max_percent=dict(type='float', default=80.0),
            cpu_interval=dict(type='float', default=1.0),
            disk_mounts=dict(type='list', elements='str', default=['/']),
            disk_min_free_percent=dict(type='float', default=20.0),
            memory_min_available_mb=dict(type='float', default=500.0),
            job_max_age=dict(type='float', default=180.0),
            job_state_file=dict(type='path', default=DEFAULT_STATE_FILE),
            job_cron_file=dict(type='path', default=DEFAULT_CRON_FILE),
        ),
        supports_check_mode=True,
    )
    run_module(module, health_facts_job, requirements=[(HAS_PSUTIL, 'psutil', PSUTIL_IMPORT_ERROR)])


if __name__ == '__main__':
    main()
