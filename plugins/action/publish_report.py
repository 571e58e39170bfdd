# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of storeops.shop.publish_report: send only the files the site lacks.

1. Expand ``src`` on the controller and hash every file (SHA-256).
2. Run the module once in *plan* phase with that manifest: it validates every ``dest``,
   compares the hashes with the site's files and says which ones to send (it writes nothing).
   Nothing to change, or check mode: that answer is the task's result.
3. Otherwise pack the files to send into one tar archive, transfer it, and run the module
   in *apply* phase, which writes them atomically (checking each hash), and updates the index.

With ``backend: s3`` none of this: the module runs as it is, where the task runs, and uploads
to the bucket itself.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.storeops.shop.plugins.module_utils._publish import expand_sources, file_sha256

MODULE = 'storeops.shop.publish_report'


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _requires_connection = True

    def _local_sources(self, src):
        sources = src if isinstance(src, (list, tuple)) else [src]
        found = []
        for source in sources:
            if not isinstance(source, str) or not source:
                found.append(source)
                continue
            trailing = source.endswith('/')
            if not os.path.isabs(source):
                try:
                    source = self._find_needle('files', source)
                except Exception:  # AnsibleError: not found; the module reports it with the others
                    pass
            if trailing and not source.endswith('/'):
                source += '/'
            found.append(source)
        return found if isinstance(src, (list, tuple)) else found[0]

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        if '_transfer' in args:
            raise AnsibleActionFail('_transfer is set by the action plugin only')
        if args.get('backend', 'site') == 's3':
            # The module talks to the bucket from the host the task runs on (normally the controller,
            # delegate_to: localhost): nothing is transferred. Relative src are looked up like copy's
            # when that host is this one.
            if args.get('src') is not None and self._connection.transport == 'local':
                args['src'] = self._local_sources(args['src'])
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        if args.get('state', 'present') == 'absent' or boolean(args.get('remote_src', False), strict=False):
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        if args.get('src') is None:
            result.update(
                failed=True,
                msg='state=present needs src: the file, files or folder to publish',
                errors=[{'file': None, 'line': None, 'field': 'src', 'message': 'missing'}],
            )
            return result

        src = self._local_sources(args['src'])
        pairs, errors, warnings = expand_sources(src, args.get('dest'))
        manifest = []
        for path, dest in pairs:
            try:
                manifest.append({'src': path, 'dest': dest, 'sha256': file_sha256(path), 'size': os.path.getsize(path)})
            except OSError as exc:
                errors.append({'file': path, 'line': None, 'field': 'src', 'message': 'cannot read: %s' % exc.strerror})
        transfer_args = {'manifest': manifest, 'errors': errors, 'warnings': warnings}
        module_args = dict(args)
        module_args.pop('src', None)

        plan = self._execute_module(
            module_name=MODULE,
            task_vars=task_vars,
            module_args=dict(module_args, _transfer=dict(transfer_args, phase='plan')),
        )
        transfer = plan.pop('transfer', None)
        if transfer is None or self._task.check_mode or not plan.get('changed'):
            result.update(plan)
            return result

        local_dir = tempfile.mkdtemp(prefix='storeops-publish-')
        try:
            apply_transfer = dict(transfer_args, phase='apply')
            if transfer:
                bundle = os.path.join(local_dir, 'bundle.tar')
                with tarfile.open(bundle, 'w:', format=tarfile.PAX_FORMAT) as tar:
                    for index in transfer:
                        tar.add(manifest[index]['src'], arcname=str(index), recursive=False)
                remote_tmp = self._connection._shell.tmpdir or self._make_tmp_path()
                remote_bundle = self._connection._shell.join_path(remote_tmp, 'bundle.tar')
                self._transfer_file(bundle, remote_bundle)
                self._fixup_perms2((remote_tmp, remote_bundle))
                apply_transfer['bundle'] = remote_bundle
            result.update(
                self._execute_module(
                    module_name=MODULE, task_vars=task_vars, module_args=dict(module_args, _transfer=apply_transfer)
                )
            )
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
