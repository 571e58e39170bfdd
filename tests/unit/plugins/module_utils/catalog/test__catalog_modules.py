# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two modules end to end through ansible-playbook, against the real site on 127.0.0.1:
check -> run -> check (idempotent) -> run (idempotent), a bad file, a wrong token, no_log."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.storeops.shop.tests.support.catalog_site import ROOT

PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  vars:
    connection: &connection
      url: "{{ url }}"
      token: "{{ token }}"
  tasks:
    - name: Check mode on an empty site
      storeops.shop.catalog_upload: &upload
        <<: *connection
        descriptions: "{{ supplier }}/descriptions"
        images: "{{ supplier }}/images"
      check_mode: true
      diff: true
      register: check1

    - name: Upload
      storeops.shop.catalog_upload: *upload
      register: run1

    - name: Check mode again
      storeops.shop.catalog_upload: *upload
      check_mode: true
      register: check2

    - name: Upload again
      storeops.shop.catalog_upload: *upload
      register: run2

    - name: Reviews
      storeops.shop.review_upload: &reviews
        <<: *connection
        src: "{{ feedback }}"
      register: reviews1

    - name: Reviews again
      storeops.shop.review_upload: *reviews
      register: reviews2

    - name: A wrong token
      storeops.shop.catalog_upload:
        url: "{{ url }}"
        token: wrong-token-but-well-formed
        descriptions: "{{ supplier }}/more"
        images: "{{ supplier }}/images"
      register: wrong
      ignore_errors: true

    - name: A bad description next to a good one
      storeops.shop.catalog_upload:
        <<: *connection
        descriptions: "{{ supplier }}/more"
        images: "{{ supplier }}/images"
      register: bad
      ignore_errors: true

    - name: Results
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ {'check1': check1, 'run1': run1, 'check2': check2, 'run2': run2, 'reviews1': reviews1,
                      'reviews2': reviews2, 'wrong': wrong, 'bad': bad} | to_json }}"
        mode: "0600"
"""


def test_playbook_check_run_check_run(site, supplier, tmp_path):
    supplier.products(3)
    more = os.path.join(supplier.root, 'more')
    os.makedirs(more)
    with open(os.path.join(more, '004.txt'), 'w') as handle:
        handle.write('Kiwi\n100 lbs\nGreen.\n')
    with open(os.path.join(more, '005.txt'), 'w') as handle:
        handle.write('Plum\nfive hundred lbs\nPurple.\n')
    supplier.image(4)
    supplier.image(5)
    feedback = tmp_path / 'feedback'
    feedback.mkdir()
    (feedback / '001.txt').write_text('Experienced salespeople\nAlex H.\n2020-02-02\nIt was great.\n')
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAYBOOK)
    out = tmp_path / 'out.json'
    extra = {
        'url': site.url,
        'token': site.token,
        'supplier': supplier.root,
        'feedback': str(feedback),
        'out': str(out),
        'ansible_python_interpreter': sys.executable,
    }
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.ansible', 'collections'),
    )
    env.pop('STOREOPS_CATALOG_TOKEN', None)
    process = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
            '-i',
            'localhost,',
            '-c',
            'local',
            '-v',
            '-e',
            json.dumps(extra),
            str(playbook),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert site.token not in process.stdout + process.stderr  # no_log
    results = json.loads(out.read_text())

    assert results['check1']['changed'] is True and results['check1']['counts']['created'] == 3
    assert results['run1']['changed'] is True and len(results['run1']['created']) == 3
    assert all('id' in record for record in results['run1']['created'])
    assert results['check2']['changed'] is False and results['check2']['created'] == []
    assert results['run2']['changed'] is False and results['run2']['counts']['unchanged'] == 3
    assert results['reviews1']['changed'] is True and results['reviews2']['changed'] is False

    wrong = results['wrong']
    assert wrong['failed'] is True and wrong['changed'] is False
    assert 'HTTP 401 Unauthorized: Invalid token.' in wrong['msg'] and wrong['msg'].startswith('nothing was written: ')
    assert [(error['field'], error['file']) for error in wrong['errors']] == [('token', None)]

    bad = results['bad']
    assert bad['failed'] is True and bad['changed'] is True
    assert [record['name'] for record in bad['created']] == ['Kiwi']
    # the collection's one failure shape
    assert [(error['line'], error['field'], os.path.basename(error['file'])) for error in bad['errors']] == [
        (2, 'weight', '005.txt')
    ]
    assert sorted(bad['errors'][0]) == ['field', 'file', 'line', 'message']
    assert [(product['name'], product['status']) for product in bad['products']] == [('Kiwi', 'created')]
    assert "005.txt line 2 (weight): weight 'five hundred lbs' is not a number of pounds" in bad['msg']

    assert sorted(product['name'] for product in site.products()) == ['Fruit 1', 'Fruit 2', 'Fruit 3', 'Kiwi']
    assert len(site.reviews()) == 1
