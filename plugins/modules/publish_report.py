# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: publish_report
short_description: Publish reports on the report website or in an S3 bucket, public or behind expiring signed links
version_added: 1.0.0
author: storeops.shop team (@storeops)
description:
  - Puts a file, a list of files or a folder into the report site that the role P(storeops.shop.reportsite#role)
    serves with nginx, in one task, and returns the URL of every file.
  - The site has a B(public) tree, served as it is at C(https://<site>/<dest>), and a B(private) tree, served under
    C(/private/<dest>) only through links signed for nginx's C(secure_link) module, which expire after O(expires_in)
    seconds. A file lives in one tree only; publishing it with the other O(visibility) moves it.
  - By default O(src) is on the controller (like M(ansible.builtin.copy)). The action plugin hashes the files there
    (SHA-256), asks the site host which of them differ from what the site has, and sends only those, all in one
    archive. Unchanged files are neither sent nor written, so a re-run reports no change and leaves every file
    and its modification time as it was. Files are written to a temporary file in their folder and renamed.
  - After every change the public tree's C(index.html) is regenerated (Link, LastModified, Size; sorted by path,
    HTML-escaped, relative links); it is rewritten only when its bytes change.
  - A O(dest) that would leave the tree is refused (C(..), an absolute path, a symbolic link anywhere on the path in the
    tree), as are hidden names; nothing is written outside the tree. Refused files are listed in RV(errors), the good
    ones are published, then the task fails.
  - Run it on the site host (C(become) for private files, whose link secret is readable by root only). The site's root and
    base URL come from the file the role writes, C(/etc/storeops/reportsite/site.json), unless O(root) and O(base_url)
    are given.
  - With O(backend=s3) the files go into the bucket O(bucket) of AWS S3 or of any S3-compatible store (O(endpoint_url))
    instead, under O(prefix), with the same two trees - public objects at C(<prefix>/<dest>) with the canned ACL
    C(public-read) and the Cache-Control C(public, max-age=300), private ones at C(<prefix>/private/<dest>) with the ACL
    C(private) and the Cache-Control C(private, no-store) - and the same Content-Types as the site (by extension, from
    the role's table; anything else is C(application/octet-stream)). Public files get their object URL (path-style
    on a custom endpoint), private ones a presigned GET URL (SigV4) valid O(expires_in) seconds, at most 7 days.
  - With O(backend=s3) each object keeps the SHA-256 of its content in its metadata (C(x-amz-meta-sha256)); a file is
    uploaded again only when that, its Content-Type, its Cache-Control or its ACL differ (not by ETag, which is no MD5
    for multipart uploads). The prefix is listed first (paginated, any number of keys), so a bucket that does not exist,
    refused credentials or an endpoint that is down fail the task before anything is written; C(<prefix>/index.html)
    (every object under the prefix outside C(private/), with Link, LastModified and Size; C(text/html; charset=utf-8),
    C(public-read), Cache-Control C(no-cache)) is written last, from a fresh listing, and only when its bytes change.
  - With O(backend=s3) the module runs where the task runs and needs boto3 there, nothing is sent by the action plugin;
    run the task on the controller (C(delegate_to=localhost)). O(src) is a path on that host. O(root), O(base_url),
    O(config), O(secret_file) and O(remote_src) are not used.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - storeops.shop.attributes.idempotent
  - storeops.shop.attributes.files
  - storeops.shop.job_errors
attributes:
  action:
    support: full
    details: The action plugin reads O(src) on the controller and sends only the files whose content differs.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Reports what would be published, moved, removed and whether the index would change; nothing is sent or written.
  diff_mode:
    support: full
    details: Shows the trees before and after as one line per file, C(<tree>/<path> <sha256>).
  platform:
    platforms: posix
  idempotent:
    support: full
    details: The signed URLs of private files are made again on every run (they expire); that is not a change.
  safe_file_operations:
    support: full
options:
  src:
    description:
      - What to publish, on the controller (or on the site host with O(remote_src=true)).
      - A file; a folder, whose regular files (recursively, without dot files and symbolic links) go under O(dest)
        keeping their relative paths; or a list of files and folders, each going under O(dest).
      - Relative paths are looked up like M(ansible.builtin.copy)'s (the role's or playbook's C(files/), then as given).
      - Required with O(state=present).
    type: raw
  dest:
    description:
      - The path inside the tree, such as C(2026/dec/cars.pdf), for one file; for a folder, a list, or a single file
        when it ends with C(/), the folder of the tree the files go into (default the top of the tree).
      - Without C(..), C(.), empty or hidden components, backslashes and control characters; non-Latin names are fine.
        C(index.html) at the top of the public tree and a first folder named C(private) are reserved.
      - With O(state=absent), a path or list of paths (files or folders) to remove from both trees; required then.
    type: raw
  visibility:
    description:
      - V(public) for a stable URL anyone can read and a row in the index; V(private) for a link that expires.
      - Ignored with O(state=absent), which removes O(dest) from both trees.
    type: str
    choices: [public, private]
    default: public
  state:
    description:
      - V(present) publishes O(src); V(absent) unpublishes O(dest) (the index follows).
    type: str
    choices: [present, absent]
    default: present
  expires_in:
    description:
      - How long the signed URLs returned for private files stay valid, in seconds.
      - With O(backend=s3), at most V(604800) (7 days, the most a SigV4 presigned URL allows); more is refused.
    type: int
    default: 604800
  remote_src:
    description:
      - V(true) when O(src) is on the site host already; nothing is sent then.
    type: bool
    default: false
  root:
    description:
      - The site root on the host (it holds C(public/) and C(private/)). Defaults to C(root) in O(config).
    type: path
  base_url:
    description:
      - The URL the returned links start with, such as C(https://web.example.com:8443). Defaults to C(base_url) in O(config).
    type: str
  config:
    description:
      - The site file the role P(storeops.shop.reportsite#role) writes (JSON with C(root) and C(base_url)).
    type: path
    default: /etc/storeops/reportsite/site.json
  secret_file:
    description:
      - The file holding the link secret, on the host. Read only when a private file is published; never returned.
      - Defaults to C(link-secret) beside O(config).
    type: path
  index:
    description:
      - Regenerate the public tree's C(index.html) when the listing changes.
    type: bool
    default: true
  _transfer:
    description:
      - Internal, set by the action plugin (the controller's list of files with their hashes, the archive it sent, the phase).
        Do not set it.
    type: dict
  index_title:
    description:
      - The title of the index page. Defaults to C(index_title) in O(config), else V(Reports).
    type: str
  backend:
    description:
      - V(site) publishes into the report site on the host (see the description); V(s3) into the bucket O(bucket).
    type: str
    choices: [site, s3]
    default: site
  bucket:
    description:
      - The bucket, with O(backend=s3) (required then). It must exist; the module does not create it.
    type: str
  prefix:
    description:
      - The folder of the bucket the trees and C(index.html) are under, such as C(reports) (default the top of the bucket).
        Keep it for this module's use; the index lists every object under it outside C(private/).
      - Without C(..), C(.), empty or hidden components.
    type: str
    default: ''
  region:
    description:
      - The bucket's region. Default the AWS chain's (C(AWS_REGION), C(AWS_DEFAULT_REGION), the profile), else V(us-east-1).
    type: str
  endpoint_url:
    description:
      - The URL of an S3-compatible store, such as C(https://minio.example.com:9000); requests and public URLs are then
        path-style (C(<endpoint_url>/<bucket>/<key>)). Default AWS S3.
    type: str
  access_key:
    description:
      - The access key ID. Without O(access_key) and O(secret_key) the standard AWS chain is used (C(AWS_ACCESS_KEY_ID)
        and friends in the environment, O(profile) or C(AWS_PROFILE), the shared credentials file, an instance role).
    type: str
  secret_key:
    description:
      - The secret access key that goes with O(access_key). Never returned nor logged.
    type: str
  session_token:
    description:
      - The session token of temporary credentials.
    type: str
  profile:
    description:
      - A profile of the shared AWS config and credentials files.
    type: str
  timeout:
    description:
      - Seconds to wait for the S3 endpoint to connect (and at least 30 for an answer); failed requests are tried 3 times.
    type: int
    default: 10
notes:
  - Files are written with mode C(0644) and folders C(0755), owned by the user the module runs as; nginx reads them.
  - Content-Types are nginx's business, by file extension (see the role); this module does not set them.
  - The filter P(storeops.shop.signed_url#filter) makes the same signed links without publishing anything.
  - "Why not M(amazon.aws.s3_object) for O(backend=s3): it puts one object per task, writes no index and has no shared
    public/private model (the ACL, the Cache-Control, the tree and the kind of link go together here, as on the site).
    A user of amazon.aws does a single file with it like this:
    C(amazon.aws.s3_object: {bucket: reports, object: reports/2026/dec/cars.pdf, src: /tmp/cars.pdf, mode: put,
    permission: [private], metadata: {Cache-Control: 'private, no-store'}}) then
    C(amazon.aws.s3_object: {bucket: reports, object: reports/2026/dec/cars.pdf, mode: geturl, expiry: 604800}) -
    no index, and its change detection is by ETag, not by a SHA-256 kept with the object."
  - "What the collection's tests prove for O(backend=s3), against moto's standalone server on 127.0.0.1: the keys,
    Content-Types, Cache-Control, metadata and canned ACLs (an anonymous GET gets 403 for a private object, 200 for a
    public one: moto enforces object ACLs), the index, idempotence, O(state=absent), listing past 1,000 keys, and clear
    errors for a bucket that does not exist, refused credentials (moto with its IAM authentication on) and an endpoint
    that is down; the presigned URLs' SigV4 signature is re-derived with botocore and by hand. What they do not prove:
    that a real S3 verifies the signature and the expiry (moto accepts any), nor bucket policies, Block Public Access
    or buckets with ACLs disabled (Object Ownership C(BucketOwnerEnforced) refuses canned ACLs: public-read needs
    ACLs enabled on the bucket)."
requirements:
  - boto3 (botocore), with O(backend=s3) only, on the host the task runs on.
seealso:
  - module: ansible.builtin.copy
  - module: amazon.aws.s3_object
  - name: nginx secure_link module
    description: How the private tree's links are checked.
    link: https://nginx.org/en/docs/http/ngx_http_secure_link_module.html
"""

EXAMPLES = r"""
- name: Publish the sales summary PDF built on the controller, privately, for a week
  storeops.shop.publish_report:
    src: /tmp/reports/cars.pdf
    dest: 2026/dec/cars.pdf
    visibility: private
    expires_in: 604800
  become: true
  register: published

- name: Mail the link
  ansible.builtin.debug:
    msg: "Download it here (valid 7 days): {{ published.urls['2026/dec/cars.pdf'] }}"

- name: Publish the monthly report folder (CSV, HTML table, chart page) under 2026/dec/
  storeops.shop.publish_report:
    src: /tmp/monthly/
    dest: 2026/dec/
  become: true

- name: Publish the monthly folder to an S3 bucket (from the controller), public, with the bucket's index.html
  storeops.shop.publish_report:
    backend: s3
    bucket: storeops-reports
    prefix: reports
    region: eu-west-1
    src: /tmp/monthly/
    dest: 2026/dec/
  delegate_to: localhost

- name: Share a private PDF from an S3-compatible store through a presigned link valid 3 days
  storeops.shop.publish_report:
    backend: s3
    bucket: storeops-private
    endpoint_url: https://s3.storage.example.com
    access_key: "{{ vault_s3_access_key }}"
    secret_key: "{{ vault_s3_secret_key }}"
    src: /tmp/reports/cars.pdf
    dest: 2026/dec/cars.pdf
    visibility: private
    expires_in: 259200
  delegate_to: localhost
  register: shared

- name: Take an old report off the site
  storeops.shop.publish_report:
    dest: 2025/jan/cars.pdf
    state: absent
  become: true
"""

RETURN = r"""
files:
  description: One entry per file published, unchanged or removed.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: Path in the tree.
      type: str
      sample: 2026/dec/cars.pdf
    src:
      description: Where the file came from.
      type: str
      sample: /tmp/reports/cars.pdf
    visibility:
      description: V(public) or V(private).
      type: str
    state:
      description:
        - V(created), V(updated), V(unchanged), V(moved) (to the other tree, content unchanged) or V(removed).
        - With O(backend=s3), V(updated) also when only the ACL was wrong (it is set again, nothing is uploaded).
      type: str
    key:
      description: The object's key, with O(backend=s3).
      type: str
      sample: reports/private/2026/dec/cars.pdf
    content_type:
      description: The Content-Type set on the object, with O(backend=s3).
      type: str
      sample: application/pdf
    size:
      description: Size in bytes.
      type: int
    sha256:
      description: SHA-256 of the content.
      type: str
    url:
      description: The public URL, or the signed URL of a private file.
      type: str
      sample: https://web.example.com:8443/private/2026/dec/cars.pdf?md5=Ab3_x9...&expires=1796342400
    expires:
      description: Unix time when a private file's link stops working.
      type: int
urls:
  description: The RV(files[].url) of every published file by its O(dest) path.
  returned: always
  type: dict
  sample: {"2026/dec/final_report.csv": "https://web.example.com:8443/2026/dec/final_report.csv"}
index:
  description: Whether the index was rewritten (C(changed)) and its URL (C(url)).
  returned: always
  type: dict
  sample: {"changed": true, "url": "https://web.example.com:8443/"}
root:
  description: The site root on the host.
  returned: with O(backend=site)
  type: str
  sample: /srv/reportsite
base_url:
  description: The base of the URLs (with O(backend=s3), the URL of the prefix).
  returned: always
  type: str
  sample: https://web.example.com:8443
bucket:
  description: The bucket, with O(backend=s3).
  returned: with O(backend=s3)
  type: str
  sample: storeops-reports
prefix:
  description: The normalised prefix, with O(backend=s3).
  returned: with O(backend=s3)
  type: str
  sample: reports
errors:
  description:
    - The refused files in the collection's failure shape (see the notes), such as a O(dest) that leaves the tree or a source
      that does not exist, with the source in C(file) and V(dest) or V(src) in C(field). Empty on success.
  returned: always
  type: list
  elements: dict
  sample: [{file: /tmp/reports/cars.pdf, line: null, field: dest, message: "'../x.pdf' leaves the tree (..)"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.storeops.shop.plugins.module_utils._job import run_module
from ansible_collections.storeops.shop.plugins.module_utils._publish import DEFAULT_CONFIG, DEFAULT_EXPIRES_IN, publish
from ansible_collections.storeops.shop.plugins.module_utils._publish_s3 import (
    BOTO3_IMPORT_ERROR,
    CONNECTION_ARGUMENT_SPEC,
    HAS_BOTO3,
    publish_s3,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='raw'),
            dest=dict(type='raw'),
            visibility=dict(type='str', default='public', choices=['public', 'private']),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            expires_in=dict(type='int', default=DEFAULT_EXPIRES_IN),
            remote_src=dict(type='bool', default=False),
            root=dict(type='path'),
            base_url=dict(type='str'),
            config=dict(type='path', default=DEFAULT_CONFIG),
            secret_file=dict(type='path', no_log=False),
            index=dict(type='bool', default=True),
            index_title=dict(type='str'),
            _transfer=dict(type='dict'),  # set by the action plugin
            backend=dict(type='str', default='site', choices=['site', 's3']),
            bucket=dict(type='str'),
            prefix=dict(type='str', default=''),
            **CONNECTION_ARGUMENT_SPEC,
        ),
        required_if=[('backend', 's3', ['bucket'])],
        required_together=[('access_key', 'secret_key')],
        supports_check_mode=True,
    )
    if module.params['backend'] == 's3':
        run_module(module, publish_s3, requirements=[(HAS_BOTO3, 'boto3', BOTO3_IMPORT_ERROR)])
    else:
        run_module(module, publish)


if __name__ == '__main__':
    main()
