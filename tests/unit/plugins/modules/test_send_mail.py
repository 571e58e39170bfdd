# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module as Ansible runs it (arguments in, JSON out), against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args
from aiosmtpd import controller as aiosmtpd_controller

from ansible_collections.storeops.shop.plugins.modules import send_mail


PDF = b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'


class Recorder(object):
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        return '250 OK'


@pytest.fixture
def server():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    handler = Recorder()
    controller = aiosmtpd_controller.Controller(handler, hostname='127.0.0.1', port=port)
    controller.start()
    yield handler, port
    controller.stop()


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            send_mail.main()
    return caught.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def args(tmp_path, server):
    (tmp_path / 'processed.pdf').write_bytes(PDF)
    return dict(
        sender='automation@example.com',
        to=['student@example.com'],
        subject='Upload Completed - Online Fruit Store',
        body='All fruits are uploaded.',
        attachments=[str(tmp_path / 'processed.pdf')],
        smtp_host='127.0.0.1',
        smtp_port=server[1],
        timeout=5,
        state_dir=str(tmp_path / 'state'),
    )


def test_check_run_check_idempotent(capsys, server, args):
    handler = server[0]
    rc, check = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert rc == 0 and check['changed'] and not check['sent'] and handler.messages == []
    rc, first = run_module(capsys, args)
    assert rc == 0 and first['changed'] and first['sent']
    assert first['attachments'][0]['mime_type'] == 'application/pdf'
    rc, check_again = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert rc == 0 and not check_again['changed']
    rc, again = run_module(capsys, args)
    assert rc == 0 and not again['changed'] and not again['sent']
    assert again['message_id'] == first['message_id']
    assert len(handler.messages) == 1


def test_missing_attachment_fails(capsys, args, tmp_path):
    rc, result = run_module(capsys, dict(args, attachments=[str(tmp_path / 'nope.pdf')]))
    assert rc == 1 and result['failed']
    assert 'nope.pdf (attachments): no such file' in result['msg']
    assert result['errors'] == [
        {'file': str(tmp_path / 'nope.pdf'), 'line': None, 'field': 'attachments', 'message': 'no such file'}
    ]


def test_password_is_not_logged(capsys, args):
    rc, result = run_module(capsys, dict(args, username='automation', password='s3cret-pass', security='none'))
    assert rc == 1
    assert 'does not offer authentication' in result['msg']
    assert 's3cret-pass' not in json.dumps(result)


def test_bad_max_attachment_size(capsys, args):
    rc, result = run_module(capsys, dict(args, max_attachment_size='lots'))
    assert rc == 1 and 'max_attachment_size: ' in result['msg']
    assert [e['field'] for e in result['errors']] == ['max_attachment_size']


def test_password_requires_username(capsys, args):
    rc, result = run_module(capsys, dict(args, password='x'))
    assert rc == 1 and 'username' in result['msg']
