# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""publish_report's job on a real folder: paths, the index, idempotence, check and diff mode."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _publish, _signed_url
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, execute


@pytest.fixture
def site(tmp_path):
    root = tmp_path / 'site'
    root.mkdir()
    secret = tmp_path / 'link-secret'
    secret.write_text('s3cret\n')
    return {'root': str(root), 'secret': str(secret), 'tmp': tmp_path}


def options(site, **kwargs):
    base = dict(
        src=None,
        dest=None,
        visibility='public',
        state='present',
        expires_in=600,
        remote_src=True,
        root=site['root'],
        base_url='https://web:8443',
        config=str(site['tmp'] / 'none.json'),
        secret_file=site['secret'],
        index=True,
        index_title=None,
        _transfer=None,
    )
    base.update(kwargs)
    return base


def make_src(tmp_path, files):
    src = tmp_path / 'src'
    for rel, data in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return src


def tree_state(root):
    """Every file with its size, mtime (ns) and inode: a rewrite changes the inode."""
    state = {}
    for top, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(top, name)
            info = os.lstat(path)
            state[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return state


# ---------------------------------------------------------------- path validation


@pytest.mark.parametrize(
    'dest', ['cars.pdf', '2026/dec/cars.pdf', '2026/dec/отчёт é.csv', 'a b/c&d<e>.html', 'x:y.pdf']
)
def test_good_dests(dest):
    assert _publish.validate_dest(dest) == dest


@pytest.mark.parametrize(
    'dest, why',
    [
        ('', 'empty'),
        ('/etc/passwd', 'absolute'),
        ('../x', 'leaves'),
        ('2026/../../x', 'leaves'),
        ('a//b', 'empty'),
        ('a/./b', 'empty'),
        ('a/', 'empty'),
        ('.htaccess', 'hidden'),
        ('a/.tmp/b', 'hidden'),
        ('a\\b', 'backslash'),
        ('a\nb', 'control'),
        ('a\x00b', 'control'),
        ('x' * 256, 'longer'),
        ('index.html', 'generated'),
        ('private/x.pdf', 'private'),
        (None, 'empty'),
    ],
)
def test_bad_dests(dest, why):
    with pytest.raises(ValueError, match=why):
        _publish.validate_dest(dest)


def test_private_tree_may_have_index_html_and_a_private_folder():
    assert _publish.validate_dest('index.html', _publish.PRIVATE) == 'index.html'
    assert _publish.validate_dest('private/x', _publish.PRIVATE) == 'private/x'


def test_symlinks_on_the_path_are_refused(tmp_path):
    root = tmp_path / 'site'
    (root / 'public' / 'a').mkdir(parents=True)
    outside = tmp_path / 'outside'
    outside.mkdir()
    (root / 'public' / 'escape').symlink_to(outside)
    (root / 'public' / 'a' / 'link.pdf').symlink_to(outside / 'x.pdf')
    tree = _publish.Tree(str(root))
    assert tree.target('public', 'a/new.pdf') == str(root / 'public' / 'a' / 'new.pdf')
    for rel in ('escape/x.pdf', 'escape', 'a/link.pdf'):
        with pytest.raises(ValueError, match='symbolic link'):
            tree.target('public', rel)


# ---------------------------------------------------------------- sources


def test_expand_sources(tmp_path):
    src = make_src(tmp_path, {'a.csv': 'a', 'sub/b.pdf': 'b', '.hidden': 'h', '.git/x': 'x'})
    (src / 'link.csv').symlink_to(src / 'a.csv')
    items, errors, warnings = _publish.expand_sources(str(src), '2026/dec/')
    assert [dest for _path, dest in items] == ['2026/dec/a.csv', '2026/dec/sub/b.pdf']
    assert not errors and any('link.csv' in w for w in warnings)
    one = str(src / 'a.csv')
    assert _publish.expand_sources(one, '2026/x.csv')[0] == [(one, '2026/x.csv')]
    assert _publish.expand_sources(one, '2026/')[0] == [(one, '2026/a.csv')]
    assert _publish.expand_sources(one, None)[0] == [(one, 'a.csv')]
    assert _publish.expand_sources([one], '2026')[0] == [(one, '2026/a.csv')]
    items, errors, _w = _publish.expand_sources([one, str(src / 'missing.pdf'), one], 'm')
    assert items == [(one, 'm/a.csv')]
    assert [e['message'] for e in errors] == ['no such file or folder', '%s and %s both go to m/a.csv' % (one, one)]


# ---------------------------------------------------------------- the index


def test_index_is_sorted_escaped_relative_and_deterministic():
    entries = [('b/z.pdf', 2048, 0), ('a & <b>.csv', 5, 86400), ('x:y.pdf', 1, 0), ('отчёт.html', 1536 * 1024, 0)]
    page = _publish.render_index(sorted(entries), title='Q & <A>').decode('utf-8')
    assert page == _publish.render_index(sorted(entries), title='Q & <A>').decode('utf-8')
    assert '<title>Q &amp; &lt;A&gt;</title>' in page
    assert '<a href="./a%20%26%20%3Cb%3E.csv">a &amp; &lt;b&gt;.csv</a>' in page
    assert '<a href="./x:y.pdf">' in page  # "./" keeps "x:" from being read as a URL scheme
    assert '<a href="./%D0%BE%D1%82%D1%87%D1%91%D1%82.html">отчёт.html</a>' in page
    assert '<time datetime="1970-01-02T00:00:00Z">1970-01-02 00:00:00 UTC</time>' in page
    assert 'data-bytes="2048" title="2048 bytes">2.0 KiB<' in page and '1.5 MiB' in page and '>5 B<' in page
    assert page.index('a &amp;') < page.index('b/z.pdf') < page.index('x:y') < page.index('отчёт')
    assert '<script' not in page and '4 reports' in page
    assert 'No reports yet' in _publish.render_index([]).decode()


def test_listing_skips_the_index_dot_files_and_links(tmp_path):
    top = tmp_path / 'public'
    (top / 'a' / '.tmpdir').mkdir(parents=True)
    (top / 'a' / 'r.csv').write_text('1,2\n')
    (top / 'a' / '.r.csv.x.tmp').write_text('partial')
    (top / 'a' / '.tmpdir' / 'x').write_text('x')
    (top / 'index.html').write_text('old')
    (top / 'l.csv').symlink_to(top / 'a' / 'r.csv')
    assert [(rel, size) for rel, size, _m in _publish.listing(str(top))] == [('a/r.csv', 4)]


def test_index_rewritten_only_when_the_listing_changes(tmp_path):
    top = tmp_path / 'public'
    top.mkdir()
    (top / 'a.csv').write_text('a')
    assert _publish.update_index(str(top), 'Reports', check_mode=True)
    assert not (top / 'index.html').exists()
    assert _publish.update_index(str(top), 'Reports', check_mode=False)
    before = os.stat(top / 'index.html')
    assert not _publish.update_index(str(top), 'Reports', check_mode=False)
    assert os.stat(top / 'index.html').st_ino == before.st_ino
    assert _publish.update_index(str(top), 'Other title', check_mode=False)


# ---------------------------------------------------------------- the job


def test_publish_rerun_unpublish(site):
    src = make_src(site['tmp'], {'cars.pdf': b'%PDF-1', 'final.csv': 'a,b\n', 'отчёт.html': '<p>'})
    result, _w = _publish.publish(options(site, src=str(src), dest='2026/dec/'))
    assert result['changed'] and result['index']['changed'] and not result['errors']
    assert {f['dest']: f['state'] for f in result['files']} == {
        '2026/dec/cars.pdf': 'created',
        '2026/dec/final.csv': 'created',
        '2026/dec/отчёт.html': 'created',
    }
    assert result['urls']['2026/dec/отчёт.html'] == 'https://web:8443/2026/dec/%D0%BE%D1%82%D1%87%D1%91%D1%82.html'
    public = os.path.join(site['root'], 'public')
    assert open(os.path.join(public, '2026/dec/cars.pdf'), 'rb').read() == b'%PDF-1'
    before = tree_state(site['root'])

    again, _w = _publish.publish(options(site, src=str(src), dest='2026/dec/'))
    assert not again['changed'] and {f['state'] for f in again['files']} == {'unchanged'}
    assert tree_state(site['root']) == before

    (src / 'final.csv').write_text('a,b\n1,2\n')
    updated, _w = _publish.publish(options(site, src=str(src), dest='2026/dec/'))
    assert [f['dest'] for f in updated['files'] if f['state'] == 'updated'] == ['2026/dec/final.csv']
    assert 'data-bytes="8"' in open(os.path.join(public, 'index.html'), encoding='utf-8').read()

    gone, _w = _publish.publish(options(site, dest='2026/dec/final.csv', state='absent'))
    assert gone['changed'] and gone['files'] == [
        {'dest': '2026/dec/final.csv', 'visibility': 'public', 'state': 'removed'}
    ]
    assert 'final.csv' not in open(os.path.join(public, 'index.html'), encoding='utf-8').read()
    assert not _publish.publish(options(site, dest='2026/dec/final.csv', state='absent'))[0]['changed']
    folder, _w = _publish.publish(options(site, dest='2026', state='absent'))
    assert sorted(f['dest'] for f in folder['files']) == ['2026/dec/cars.pdf', '2026/dec/отчёт.html']
    assert os.listdir(public) == ['index.html']


def test_private_files_get_a_signed_url_and_move_between_trees(site):
    src = make_src(site['tmp'], {'cars.pdf': b'%PDF-private'})
    result, _w = _publish.publish(options(site, src=str(src / 'cars.pdf'), dest='2026/cars.pdf', visibility='private'))
    item = result['files'][0]
    assert item['state'] == 'created' and item['visibility'] == 'private'
    sig = _signed_url.signature('s3cret', '/private/2026/cars.pdf', item['expires'])
    assert item['url'] == 'https://web:8443/private/2026/cars.pdf?md5=%s&expires=%d' % (sig, item['expires'])
    assert (
        not result['index']['changed']
        or 'cars.pdf' not in open(os.path.join(site['root'], 'public', 'index.html')).read()
    )
    assert os.path.exists(os.path.join(site['root'], 'private', '2026', 'cars.pdf'))

    moved, _w = _publish.publish(options(site, src=str(src / 'cars.pdf'), dest='2026/cars.pdf'))
    assert moved['changed'] and moved['files'][0]['state'] == 'created' and moved['files'][0]['moved_from'] == 'private'
    assert not os.path.exists(os.path.join(site['root'], 'private', '2026'))
    assert 'cars.pdf' in open(os.path.join(site['root'], 'public', 'index.html')).read()


def test_a_private_file_needs_the_secret(site):
    src = make_src(site['tmp'], {'a.pdf': 'x'})
    with pytest.raises(JobError, match='link secret'):
        _publish.publish(
            options(site, src=str(src / 'a.pdf'), visibility='private', secret_file=str(site['tmp'] / 'nope'))
        )


def test_bad_items_are_listed_and_the_good_ones_published(site):
    src = make_src(site['tmp'], {'index.html': '<p>evil', 'ok.csv': '1', 'private/x.csv': '2'})
    result, _w, failed = execute(_publish.publish, options(site, src=str(src)))
    assert failed
    assert sorted(e['message'].split(' ')[0] for e in result['errors']) == ["'private/x.csv':", 'index.html']
    assert [f['dest'] for f in result['files']] == ['ok.csv']
    page = open(os.path.join(site['root'], 'public', 'index.html')).read()
    assert 'ok.csv' in page and 'evil' not in page


def test_traversal_writes_nothing_anywhere(site):
    src = make_src(site['tmp'], {'a.csv': '1'})
    outside = site['tmp'] / 'outside'
    outside.mkdir()
    os.makedirs(os.path.join(site['root'], 'public'))
    os.symlink(str(outside), os.path.join(site['root'], 'public', 'escape'))
    before = tree_state(str(site['tmp']))
    for dest in ('../../outside/a.csv', str(outside / 'a.csv'), 'escape/a.csv', 'escape/'):
        result, _w, failed = execute(_publish.publish, options(site, src=str(src / 'a.csv'), dest=dest, index=False))
        assert failed and not result['changed'] and result['errors'][0]['field'] == 'dest', dest
    assert tree_state(str(site['tmp'])) == before and os.listdir(str(outside)) == []


def test_check_mode_and_diff(site):
    src = make_src(site['tmp'], {'a.csv': '1'})
    result, _w = _publish.publish(options(site, src=str(src), dest='m'), check_mode=True, diff=True)
    assert result['changed'] and result['index']['changed']
    assert os.listdir(site['root']) == []
    digest = hashlib.sha256(b'1').hexdigest()
    assert result['diff']['before'] == '' and result['diff']['after'] == 'public/m/a.csv %s\n' % digest
    real, _w = _publish.publish(options(site, src=str(src), dest='m'), diff=True)
    assert real['diff']['after'] == 'public/m/a.csv %s\n' % digest
    gone, _w = _publish.publish(options(site, dest='m', state='absent'), check_mode=True, diff=True)
    assert (
        gone['changed']
        and gone['diff']['after'] == ''
        and os.path.exists(os.path.join(site['root'], 'public', 'm', 'a.csv'))
    )


def test_the_action_plugins_manifest_and_bundle(site):
    data = {'a.csv': b'1,2\n', 'b/c.pdf': b'%PDF'}
    manifest = [
        {'src': '/ctl/' + rel, 'dest': 'm/' + rel, 'sha256': hashlib.sha256(body).hexdigest(), 'size': len(body)}
        for rel, body in data.items()
    ]
    plan, _w = _publish.publish(options(site, remote_src=False, _transfer={'manifest': manifest, 'phase': 'plan'}))
    assert plan['transfer'] == [0, 1] and os.listdir(site['root']) == []
    bundle = site['tmp'] / 'bundle.tar'
    with tarfile.open(str(bundle), 'w:') as tar:
        for index, body in enumerate(data.values()):
            info = tarfile.TarInfo(str(index))
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    result, _w = _publish.publish(
        options(site, remote_src=False, _transfer={'manifest': manifest, 'bundle': str(bundle), 'phase': 'apply'})
    )
    assert {f['state'] for f in result['files']} == {'created'}
    assert open(os.path.join(site['root'], 'public', 'm', 'b', 'c.pdf'), 'rb').read() == b'%PDF'
    assert (
        _publish.publish(options(site, remote_src=False, _transfer={'manifest': manifest, 'phase': 'plan'}))[0][
            'transfer'
        ]
        == []
    )

    manifest[0]['sha256'] = hashlib.sha256(b'other').hexdigest()
    bad, _w, failed = execute(
        _publish.publish, options(site, remote_src=False, _transfer={'manifest': manifest, 'bundle': str(bundle)})
    )
    assert failed and 'content changed' in bad['errors'][0]['message']
    assert open(os.path.join(site['root'], 'public', 'm', 'a.csv'), 'rb').read() == b'1,2\n'
    assert not [n for n in os.listdir(os.path.join(site['root'], 'public', 'm')) if n.startswith('.')]


def test_site_file_and_missing_site(site, tmp_path):
    config = tmp_path / 'site.json'
    config.write_text(
        json.dumps({'root': site['root'], 'base_url': 'https://r.example/', 'index_title': 'Store reports'})
    )
    src = make_src(site['tmp'], {'a.csv': '1'})
    result, _w = _publish.publish(options(site, src=str(src), root=None, base_url=None, config=str(config)))
    assert result['urls'] == {'a.csv': 'https://r.example/a.csv'}
    assert '<h1>Store reports</h1>' in open(os.path.join(site['root'], 'public', 'index.html')).read()
    with pytest.raises(JobError, match='no report site'):
        _publish.publish(options(site, src=str(src), root=None, config=str(tmp_path / 'missing.json')))
    with pytest.raises(JobError, match='expires_in'):
        _publish.publish(options(site, src=str(src), expires_in=0))
