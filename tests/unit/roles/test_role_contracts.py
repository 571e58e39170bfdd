# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the roles promise in their files, checked on every role: secrets are no_log in the
argument specs, configurations are validated before they go live, and the limits the
collection's modules and the catalog site apply agree."""

from __future__ import annotations

import ast
import glob
import os
import re

import pytest
import yaml

from ansible_collections.storeops.shop.plugins.module_utils._convert_images import DEFAULT_MAX_PIXELS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPECS = sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml')))
SECRET = re.compile(r'(password|private_key|token|secret|secret_key|database_url|access_key)$')


def options():
    for path in SPECS:
        role = path.split(os.sep)[-3]
        with open(path, encoding='utf-8') as handle:
            specs = yaml.safe_load(handle)['argument_specs']
        for entry, spec in specs.items():
            for name, option in (spec.get('options') or {}).items():
                yield role, entry, name, option
                for sub, suboption in (option.get('options') or {}).items():
                    yield role, entry, '%s.%s' % (name, sub), suboption


def test_every_role_has_an_argument_spec():
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, 'roles', '*')) if os.path.isdir(p))
    assert [path.split(os.sep)[-3] for path in SPECS] == roles


@pytest.mark.parametrize(
    'role, entry, name, option',
    [o for o in options() if SECRET.search(o[2])],
    ids=lambda value: value if isinstance(value, str) else '',
)
def test_secret_options_are_no_log(role, entry, name, option):
    assert option.get('no_log') is True, '%s (%s): %s is a secret and must be no_log' % (role, entry, name)


def test_the_secret_pattern_finds_the_known_secrets():
    names = {o[2] for o in options() if SECRET.search(o[2])}
    assert {
        'webserver_tls_private_key',
        'webserver_api_token',
        'webserver_database_url',
        'webserver_secret_key',
        'webserver_media_s3.secret_key',
        'mailstack_tls_private_key',
        'database_catalog_password',
    } <= names


def test_every_option_is_typed():
    untyped = ['%s: %s' % (role, name) for role, entry, name, option in options() if 'type' not in option]
    assert untyped == []


def test_roundcube_configuration_is_checked_by_php_before_it_goes_live():
    with open(os.path.join(ROOT, 'roles', 'mailstack', 'tasks', 'webmail.yml'), encoding='utf-8') as handle:
        tasks = yaml.safe_load(handle)
    templates = [task['ansible.builtin.template'] for task in tasks if 'ansible.builtin.template' in task]
    config = [t for t in templates if str(t.get('dest', '')).endswith('config.inc.php')]
    assert config and all(t.get('validate', '').startswith('php -l ') for t in config)


def test_convert_images_refuses_what_the_catalog_site_refuses():
    """The default max_pixels is the site's CATALOG_MAX_IMAGE_PIXELS default."""
    with open(os.path.join(ROOT, 'apps', 'catalog', 'catalog_site', 'settings.py'), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            getattr(t, 'id', None) == 'CATALOG_MAX_IMAGE_PIXELS' for t in node.targets
        ):
            site_default = ast.literal_eval(node.value.args[2])
            break
    else:
        pytest.fail('CATALOG_MAX_IMAGE_PIXELS not found in the site settings')
    assert DEFAULT_MAX_PIXELS == site_default == 40_000_000
