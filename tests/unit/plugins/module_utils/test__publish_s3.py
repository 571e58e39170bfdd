# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""publish_report backend=s3 against a real local S3-compatible server (moto_server on 127.0.0.1).

What these tests prove: the S3 requests (keys, Content-Type, Cache-Control, metadata, canned
ACLs, which moto's standalone server enforces for anonymous GETs), the index, idempotence,
state=absent, pagination past 1,000 keys, the errors for a missing bucket, refused credentials
(a second moto_server with its IAM authentication on) and an endpoint that is down, and that
the presigned URLs carry the SigV4 signature botocore, and an independent HMAC derivation,
compute for them. What they do not prove: that a real S3 accepts the signature or enforces the
expiry (moto answers 200 for a bad or expired signature), nor anything about bucket policies.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

boto3 = pytest.importorskip('boto3')  # a skip is a failure here: make venv installs it

from ansible_collections.storeops.shop.plugins.module_utils import _publish, _publish_s3  # noqa: E402
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, execute  # noqa: E402
from ansible_collections.storeops.shop.tests.support.moto import free_port, moto_server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
KEY, SECRET = 'AKIDTESTTESTTESTTEST', 'test-secret-key'


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp('moto')) as url:
        yield url


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch, tmp_path):
    """The AWS chain of the machine running the tests must not leak in."""
    for name in list(os.environ):
        if name.startswith('AWS_'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('AWS_CONFIG_FILE', str(tmp_path / 'no-aws-config'))
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', str(tmp_path / 'no-aws-credentials'))
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')


def client(url):
    return boto3.client(
        's3',
        endpoint_url=url,
        region_name='us-east-1',
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )


_counter = [0]


@pytest.fixture
def bucket(server):
    _counter[0] += 1
    name = 'reports-%d-%d' % (os.getpid(), _counter[0])
    client(server).create_bucket(Bucket=name)
    return name


def options(server, bucket, **kwargs):
    base = dict(
        backend='s3',
        src=None,
        dest=None,
        visibility='public',
        state='present',
        expires_in=600,
        bucket=bucket,
        prefix='reports',
        region='us-east-1',
        endpoint_url=server,
        access_key=KEY,
        secret_key=SECRET,
        session_token=None,
        profile=None,
        timeout=5,
        index=True,
        index_title=None,
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


def run(opts, check_mode=False, diff=False):
    result, warnings, failed = execute(_publish_s3.publish_s3, opts, check_mode=check_mode, diff=diff)
    return result, warnings, failed


def anonymous_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # nosec - a local test server
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def keys(server, bucket):
    paginator = client(server).get_paginator('list_objects_v2')
    return sorted(o['Key'] for page in paginator.paginate(Bucket=bucket) for o in page.get('Contents') or [])


# ---------------------------------------------------------------------------- publishing


def test_objects_types_cache_metadata(server, bucket, tmp_path):
    src = make_src(
        tmp_path, {'cars.pdf': b'%PDF-1.4 x', 'sales.csv': 'make,n\nVW,1\n', 'отчёт é.txt': 'hé', 'blob.xyz': b'\0'}
    )
    result, _warnings, failed = run(options(server, bucket, src=str(src) + '/', dest='2026/dec/'))
    assert not failed, result
    assert result['changed'] is True
    s3 = client(server)
    expect = {
        'cars.pdf': 'application/pdf',
        'sales.csv': 'text/csv; charset=utf-8',
        'отчёт é.txt': 'text/plain; charset=utf-8',
        'blob.xyz': 'application/octet-stream',
    }
    for name, ctype in expect.items():
        data = (src / name).read_bytes()
        head = s3.head_object(Bucket=bucket, Key='reports/2026/dec/' + name)
        assert head['ContentType'] == ctype
        assert head['CacheControl'] == 'public, max-age=300'
        assert head['Metadata']['sha256'] == hashlib.sha256(data).hexdigest()
        status, headers, body = anonymous_get(result['urls']['2026/dec/' + name])
        assert (status, body, headers['Content-Type']) == (200, data, ctype)
    assert result['urls']['2026/dec/cars.pdf'] == '%s/%s/reports/2026/dec/cars.pdf' % (server, bucket)
    assert '%D0%BE%D1%82' in result['urls']['2026/dec/отчёт é.txt'] and '%20' in result['urls']['2026/dec/отчёт é.txt']
    head = s3.head_object(Bucket=bucket, Key='reports/index.html')
    assert head['ContentType'] == 'text/html; charset=utf-8'
    assert keys(server, bucket)[-1] == 'reports/index.html'


def test_acl_enforced_private_403_public_200(server, bucket, tmp_path):
    src = make_src(tmp_path, {'secret.pdf': b'private bytes', 'open.pdf': b'public bytes'})
    result, _w, failed = run(
        options(server, bucket, src=str(src / 'secret.pdf'), dest='q4/secret.pdf', visibility='private')
    )
    assert not failed, result
    public, _w, failed = run(options(server, bucket, src=str(src / 'open.pdf'), dest='q4/open.pdf'))
    assert not failed, public
    assert keys(server, bucket) == ['reports/index.html', 'reports/private/q4/secret.pdf', 'reports/q4/open.pdf']
    plain = '%s/%s/reports/private/q4/secret.pdf' % (server, bucket)
    assert anonymous_get(plain)[0] == 403
    assert anonymous_get('%s/%s/reports/q4/open.pdf' % (server, bucket))[0] == 200
    assert anonymous_get(public['index']['url'])[0] == 200
    link = result['urls']['q4/secret.pdf']
    assert 'X-Amz-Signature=' in link and 'X-Amz-Expires=600' in link
    status, headers, body = anonymous_get(link)
    assert (status, body) == (200, b'private bytes')
    assert headers['Cache-Control'] == 'private, no-store'
    # the private file is not in the index
    index = anonymous_get(public['index']['url'])[2].decode('utf-8')
    assert 'open.pdf' in index and 'secret' not in index


def test_index_content_idempotence_and_check_mode(server, bucket, tmp_path):
    src = make_src(tmp_path, {'b.csv': 'x\n', 'a <&>.pdf': b'%PDF'})
    opts = options(server, bucket, src=str(src) + '/', dest='', index_title='Monthly <reports>')
    planned, _w, failed = run(opts, check_mode=True, diff=True)
    assert not failed and planned['changed'] is True and planned['index']['changed'] is True
    assert keys(server, bucket) == []  # check mode wrote nothing
    assert 'public/b.csv ' + hashlib.sha256(b'x\n').hexdigest() in planned['diff']['after']
    first, _w, failed = run(opts)
    assert not failed, first
    assert {f['state'] for f in first['files']} == {'created'}
    s3 = client(server)
    index = s3.get_object(Bucket=bucket, Key='reports/index.html')['Body'].read().decode('utf-8')
    assert '<title>Monthly &lt;reports&gt;</title>' in index
    assert 'href="./a%20%3C%26%3E.pdf"' in index and '>a &lt;&amp;&gt;.pdf<' in index
    assert index.index('a &lt;') < index.index('b.csv')  # sorted
    assert 'data-bytes="2"' in index and '2 reports' in index
    listed = {o['Key']: o for o in s3.list_objects_v2(Bucket=bucket)['Contents']}
    stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(listed['reports/b.csv']['LastModified'].timestamp())))
    assert stamp in index
    before = {k: (o['ETag'], o['LastModified']) for k, o in listed.items()}
    time.sleep(1.1)  # a re-upload would change LastModified
    again, _w, failed = run(opts, diff=True)
    assert not failed, again
    assert again['changed'] is False and again['index']['changed'] is False
    assert {f['state'] for f in again['files']} == {'unchanged'}
    assert again['diff']['before'] == again['diff']['after']
    after = {o['Key']: (o['ETag'], o['LastModified']) for o in s3.list_objects_v2(Bucket=bucket)['Contents']}
    assert after == before  # nothing re-uploaded, the index neither
    check_again, _w, _f = run(opts, check_mode=True)
    assert check_again['changed'] is False
    # a changed file: updated, and the index follows (its size)
    (src / 'b.csv').write_text('x,y\n1,2\n')
    changed, _w, failed = run(opts)
    assert not failed and changed['changed'] is True and changed['index']['changed'] is True
    assert [f['state'] for f in changed['files'] if f['dest'] == 'b.csv'] == ['updated']


def test_acl_drift_is_repaired_without_upload(server, bucket, tmp_path):
    src = make_src(tmp_path, {'r.pdf': b'%PDF'})
    opts = options(server, bucket, src=str(src / 'r.pdf'), dest='r.pdf')
    assert run(opts)[2] is False
    s3 = client(server)
    s3.put_object_acl(Bucket=bucket, Key='reports/r.pdf', ACL='private')
    assert anonymous_get('%s/%s/reports/r.pdf' % (server, bucket))[0] == 403
    result, _w, failed = run(opts)
    assert not failed and result['changed'] is True and result['files'][0]['state'] == 'updated'
    assert anonymous_get('%s/%s/reports/r.pdf' % (server, bucket))[0] == 200


def test_visibility_moves_and_state_absent(server, bucket, tmp_path):
    src = make_src(tmp_path, {'2026/jan/a.pdf': b'A', '2026/jan/b.pdf': b'B', 'keep.pdf': b'K'})
    assert run(options(server, bucket, src=str(src) + '/', dest=''))[2] is False
    moved, _w, failed = run(options(server, bucket, src=str(src / 'keep.pdf'), dest='keep.pdf', visibility='private'))
    assert not failed and moved['files'][0]['state'] == 'created' and moved['files'][0]['moved_from'] == 'public'
    assert 'reports/keep.pdf' not in keys(server, bucket) and 'reports/private/keep.pdf' in keys(server, bucket)
    index = client(server).get_object(Bucket=bucket, Key='reports/index.html')['Body'].read().decode()
    assert 'keep.pdf' not in index
    gone, _w, failed = run(
        options(server, bucket, state='absent', dest=['2026/jan', 'keep.pdf', 'nothing/here']), diff=True
    )
    assert not failed, gone
    assert sorted((f['visibility'], f['dest']) for f in gone['files']) == [
        ('private', 'keep.pdf'),
        ('public', '2026/jan/a.pdf'),
        ('public', '2026/jan/b.pdf'),
    ]
    assert keys(server, bucket) == ['reports/index.html']
    index = client(server).get_object(Bucket=bucket, Key='reports/index.html')['Body'].read().decode()
    assert 'No reports yet.' in index and gone['index']['changed'] is True
    assert 'public/2026/jan/a.pdf' in gone['diff']['before'] and gone['diff']['after'] == ''
    again, _w, failed = run(options(server, bucket, state='absent', dest=['2026/jan', 'keep.pdf']))
    assert not failed and again['changed'] is False and again['files'] == []
    refused, _w, failed = run(options(server, bucket, state='absent', dest=['../x', 'index.html']))
    assert failed and [e['field'] for e in refused['errors']] == ['dest', 'dest']


def test_bad_dest_refused_good_ones_published(server, bucket, tmp_path):
    src = make_src(tmp_path, {'ok.pdf': b'1'})
    result, _w, failed = run(
        options(server, bucket, src=[str(src / 'ok.pdf'), str(tmp_path / 'missing.pdf')], dest='../')
    )
    assert failed
    result, _w, failed = run(
        options(server, bucket, src=[str(src / 'ok.pdf'), str(tmp_path / 'missing.pdf')], dest='x/')
    )
    assert failed and result['errors'] == [
        {'file': str(tmp_path / 'missing.pdf'), 'line': None, 'field': 'src', 'message': 'no such file or folder'}
    ]
    assert 'reports/x/ok.pdf' in keys(server, bucket)
    result, _w, failed = run(options(server, bucket, src=str(src / 'ok.pdf'), dest='index.html'))
    assert failed and 'generated index' in result['errors'][0]['message']
    result, _w, failed = run(options(server, bucket, src=str(src / 'ok.pdf'), dest='private/x.pdf'))
    assert failed and result['errors'][0]['field'] == 'dest'
    with pytest.raises(ValueError):
        _publish_s3.normalize_prefix('a/../b')


def test_pagination_past_1000_keys(server, bucket, tmp_path):
    s3 = client(server)
    for number in range(1001):  # the fast path: straight into the bucket, public-read like the module's
        s3.put_object(Bucket=bucket, Key='reports/bulk/%04d.csv' % number, Body=b'n\n', ACL='public-read')
    src = make_src(tmp_path, {'zz-last.pdf': b'%PDF'})
    result, _w, failed = run(options(server, bucket, src=str(src / 'zz-last.pdf'), dest='zz-last.pdf'))
    assert not failed, result
    index = s3.get_object(Bucket=bucket, Key='reports/index.html')['Body'].read().decode()
    assert '1002 reports' in index and 'bulk/0000.csv' in index and 'bulk/1000.csv' in index and 'zz-last.pdf' in index
    again, _w, failed = run(options(server, bucket, src=str(src / 'zz-last.pdf'), dest='zz-last.pdf'))
    assert not failed and again['changed'] is False
    gone, _w, failed = run(options(server, bucket, state='absent', dest='bulk'))
    assert not failed and len(gone['files']) == 1001  # delete_objects in batches of 1000
    assert keys(server, bucket) == ['reports/index.html', 'reports/zz-last.pdf']


# ---------------------------------------------------------------------------- presigned URLs


def _sigv4_by_hand(url, secret, region):
    """The SigV4 query signature of a presigned GET, from the AWS documentation's algorithm."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = query.pop('X-Amz-Signature')
    canonical_query = '&'.join(
        '%s=%s' % (quote(k, safe='-_.~'), quote(v, safe='-_.~')) for k, v in sorted(query.items())
    )
    canonical = '\n'.join(['GET', parts.path, canonical_query, 'host:%s\n' % parts.netloc, 'host', 'UNSIGNED-PAYLOAD'])
    stamp = query['X-Amz-Date']
    scope = '%s/%s/s3/aws4_request' % (stamp[:8], region)
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ('AWS4' + secret).encode()
    for part in (stamp[:8], region, 's3', 'aws4_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return signature, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_presigned_url_signature_rederived(server, bucket, tmp_path, monkeypatch):
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    src = make_src(tmp_path, {'отчёт 1.pdf': b'%PDF private'})
    result, _w, failed = run(
        options(
            server, bucket, src=str(src / 'отчёт 1.pdf'), dest='2026/отчёт 1.pdf', visibility='private', expires_in=3600
        )
    )
    assert not failed, result
    item = result['files'][0]
    url = item['url']
    query = dict(parse_qsl(urlsplit(url).query))
    assert query['X-Amz-Algorithm'] == 'AWS4-HMAC-SHA256'
    assert query['X-Amz-Expires'] == '3600'
    assert query['X-Amz-Credential'].startswith(KEY + '/') and query['X-Amz-Credential'].endswith(
        '/us-east-1/s3/aws4_request'
    )
    assert query['X-Amz-SignedHeaders'] == 'host'
    assert abs(item['expires'] - (time.time() + 3600)) < 60
    # 1. independently of botocore: the documented algorithm gives the same signature
    given, derived = _sigv4_by_hand(url, SECRET, 'us-east-1')
    assert given == derived
    assert _sigv4_by_hand(url, SECRET + 'x', 'us-east-1')[1] != given  # the check can fail
    # 2. botocore's own query signer, at the URL's timestamp, gives it too
    when = datetime.datetime.strptime(query['X-Amz-Date'], '%Y%m%dT%H%M%SZ')
    monkeypatch.setattr(botocore.auth, 'get_current_datetime', lambda *a, **k: when)
    base = url.split('?', 1)[0]
    request = AWSRequest(method='GET', url=base, headers={})
    botocore.auth.S3SigV4QueryAuth(Credentials(KEY, SECRET), 's3', 'us-east-1', expires=3600).add_auth(request)
    request.prepare()
    assert dict(parse_qsl(urlsplit(request.url).query))['X-Amz-Signature'] == given


def test_expiry_over_seven_days_refused(server, bucket, tmp_path):
    src = make_src(tmp_path, {'p.pdf': b'1'})
    with pytest.raises(JobError) as caught:
        _publish_s3.publish_s3(options(server, bucket, src=str(src / 'p.pdf'), visibility='private', expires_in=604801))
    assert caught.value.errors[0]['field'] == 'expires_in'
    assert 'at most 604800 (7 days)' in caught.value.errors[0]['message']
    assert keys(server, bucket) == []  # refused before any request
    result, _w, failed = run(options(server, bucket, src=str(src / 'p.pdf'), visibility='private', expires_in=604800))
    assert not failed and 'X-Amz-Expires=604800' in result['urls']['p.pdf']
    result, _w, failed = run(options(server, bucket, src=str(src / 'p.pdf'), visibility='private', expires_in=0))
    assert failed and result['errors'][0]['field'] == 'expires_in'


# ---------------------------------------------------------------------------- bad input


def test_bucket_that_does_not_exist(server, tmp_path):
    src = make_src(tmp_path, {'p.pdf': b'1'})
    result, _w, failed = run(options(server, 'no-such-bucket-here', src=str(src / 'p.pdf')))
    assert failed and result['changed'] is False
    assert "the bucket 'no-such-bucket-here' does not exist" in result['msg']


def test_endpoint_down(tmp_path):
    src = make_src(tmp_path, {'p.pdf': b'1'})
    started = time.monotonic()
    result, _w, failed = run(options('http://127.0.0.1:%d' % free_port(), 'reports', src=str(src / 'p.pdf')))
    assert failed and result['changed'] is False
    assert 'cannot reach the S3 endpoint' in result['msg']
    assert time.monotonic() - started < 30


def test_no_credentials(server, bucket, tmp_path):
    src = make_src(tmp_path, {'p.pdf': b'1'})
    result, _w, failed = run(options(server, bucket, src=str(src / 'p.pdf'), access_key=None, secret_key=None))
    assert failed and 'no AWS credentials' in result['msg']


def test_credentials_from_environment(server, bucket, tmp_path, monkeypatch):
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', KEY)
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', SECRET)
    src = make_src(tmp_path, {'p.pdf': b'1'})
    result, _w, failed = run(options(server, bucket, src=str(src / 'p.pdf'), access_key=None, secret_key=None))
    assert not failed, result


def test_unknown_profile(server, bucket, tmp_path):
    src = make_src(tmp_path, {'p.pdf': b'1'})
    result, _w, failed = run(
        options(server, bucket, src=str(src / 'p.pdf'), access_key=None, secret_key=None, profile='nope')
    )
    assert failed and result['errors'][0]['field'] == 'profile' and 'nope' in result['msg']


def test_wrong_credentials_refused_nothing_written(tmp_path):
    """moto_server with its IAM authentication on checks access keys and signatures."""
    with moto_server(tmp_path, env={'INITIAL_NO_AUTH_ACTION_COUNT': '3'}) as url:
        # the first three requests are not authenticated: a user, its key, its policy; then a bucket
        iam = boto3.client(
            'iam', endpoint_url=url, region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y'
        )
        iam.create_user(UserName='ops')
        made = iam.create_access_key(UserName='ops')['AccessKey']
        good_key, good_secret = made['AccessKeyId'], made['SecretAccessKey']
        policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
        iam.put_user_policy(UserName='ops', PolicyName='s3', PolicyDocument=policy)
        s3 = boto3.client(
            's3',
            endpoint_url=url,
            region_name='us-east-1',
            aws_access_key_id=good_key,
            aws_secret_access_key=good_secret,
        )
        s3.create_bucket(Bucket='locked')
        src = make_src(tmp_path, {'p.pdf': b'1'})
        bad_secret, _w, failed = run(
            options(url, 'locked', src=str(src / 'p.pdf'), access_key=good_key, secret_key='wrong')
        )
        assert failed and 'refused the credentials (SignatureDoesNotMatch' in bad_secret['msg'], bad_secret['msg']
        bad_key, _w, failed = run(
            options(url, 'locked', src=str(src / 'p.pdf'), access_key='AKIDNOTAKEY000000000', secret_key='x')
        )
        assert failed and 'refused the credentials (InvalidAccessKeyId' in bad_key['msg'], bad_key['msg']
        assert s3.list_objects_v2(Bucket='locked').get('KeyCount') == 0  # nothing half-published
        good, _w, failed = run(
            options(url, 'locked', src=str(src / 'p.pdf'), access_key=good_key, secret_key=good_secret)
        )
        assert not failed, good


BLOCK_BOTO3 = (
    'import sys\n'
    'class _Block:\n'
    '    def find_spec(self, name, path=None, target=None):\n'
    '        if name.split(".")[0] in ("boto3", "botocore"):\n'
    '            raise ImportError("blocked: " + name)\n'
    'sys.meta_path.insert(0, _Block())\n'
)


def _without_boto3(tmp_path, argv):
    """Run Python with boto3 and botocore made unimportable (a sitecustomize that refuses them)."""
    (tmp_path / 'sitecustomize.py').write_text(BLOCK_BOTO3)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get('PYTHONPATH', '')]))
    return subprocess.run([sys.executable] + argv, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_module_without_boto3_says_so_and_site_backend_works(tmp_path):
    import json

    module = os.path.join(ROOT, 'plugins', 'modules', 'publish_report.py')
    args = tmp_path / 'args.json'
    args.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': {'backend': 's3', 'bucket': 'reports', 'src': str(tmp_path)}}))
    out = _without_boto3(tmp_path, [module, str(args)])
    answer = json.loads(out.stdout)
    assert answer['failed'] is True
    assert 'Failed to import the required Python library (boto3)' in answer['msg']
    # the site backend of the same module, on the same Python without boto3
    root = tmp_path / 'site'
    root.mkdir()
    report = tmp_path / 'r.csv'
    report.write_text('a\n')
    site_args = {'src': str(report), 'dest': 'r.csv', 'remote_src': True, 'root': str(root), 'base_url': 'https://web'}
    args.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': site_args}))
    out = _without_boto3(tmp_path, [module, str(args)])
    answer = json.loads(out.stdout)
    assert answer.get('failed') is not True, answer
    assert answer['changed'] is True and (root / 'public' / 'r.csv').read_text() == 'a\n'


def test_module_utils_import_without_boto3(tmp_path):
    """_publish_s3 imports where boto3 is not installed."""
    code = (
        'from ansible_collections.storeops.shop.plugins.module_utils import _publish_s3, _publish\n'
        'assert _publish_s3.HAS_BOTO3 is False and "boto3" in _publish_s3.BOTO3_IMPORT_ERROR\n'
        'print(_publish.content_type("a.CSV"))\n'
    )
    out = _without_boto3(tmp_path, ['-c', code])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'text/csv; charset=utf-8'


def test_content_type_table_matches_site():
    assert _publish.content_type('x/r.PDF') == 'application/pdf'
    assert _publish.content_type('index.html') == 'text/html; charset=utf-8'
    assert _publish.content_type('noext') == 'application/octet-stream'
    assert _publish.content_type('a.tar.gz') == 'application/octet-stream'
    # every extension of the role's nginx types block, and no other
    template = open(
        os.path.join(ROOT, 'roles', 'reportsite', 'templates', 'nginx-reportsite.conf.j2'), encoding='utf-8'
    ).read()
    block = template.split('types {', 1)[1].split('}', 1)[0]
    nginx = {}
    for line in block.strip().splitlines():
        words = line.strip().rstrip(';').split()
        for ext in words[1:]:
            nginx[ext] = words[0]
    assert {ext: t.split(';', maxsplit=1)[0] for ext, t in _publish.CONTENT_TYPES.items()} == nginx


def test_playbook_backend_s3_through_the_action_plugin(server, bucket, tmp_path):
    """The module as Ansible runs it: the action plugin sends nothing, secrets stay out of the output."""
    src = make_src(tmp_path, {'files/monthly.csv': 'a,b\n1,2\n'})
    playbook = tmp_path / 'play.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  tasks:\n'
        '    - name: Publish\n'
        '      storeops.shop.publish_report:\n'
        '        backend: s3\n'
        '        bucket: %s\n'
        '        prefix: reports\n'
        '        endpoint_url: %s\n'
        '        region: us-east-1\n'
        '        access_key: %s\n'
        '        secret_key: %s\n'
        '        src: monthly.csv\n'
        '        dest: 2026/dec/\n'
        '      register: published\n'
        '    - name: Show\n'
        '      ansible.builtin.debug:\n'
        '        msg: "URL {{ published.urls[\'2026/dec/monthly.csv\'] }} changed={{ published.changed }}"\n'
        % (bucket, server, KEY, SECRET)
    )
    os.rename(str(src / 'files'), str(tmp_path / 'files'))  # relative src: looked up in files/ beside the playbook
    config = tmp_path / 'ansible.cfg'  # not the repository's: it wants the lab's vault password
    config.write_text(
        '[defaults]\ncollections_path = %s\nretry_files_enabled = false\n'
        % os.path.join(ROOT, '.ansible', 'collections')
    )
    env = dict(os.environ, ANSIBLE_CONFIG=str(config))
    command = [
        os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
        '-i',
        'localhost,',
        '-c',
        'local',
        '-e',
        'ansible_python_interpreter=%s' % sys.executable,
        '-v',
        str(playbook),
    ]
    outputs = []
    for _run in range(2):
        out = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        outputs.append(out.stdout)
    url = '%s/%s/reports/2026/dec/monthly.csv' % (server, bucket)
    assert 'URL %s changed=True' % url in outputs[0]
    assert 'URL %s changed=False' % url in outputs[1]
    assert SECRET not in outputs[0] + outputs[1]
    assert anonymous_get(url)[:1] == (200,)


# ---------------------------------------------------------------------------- reading daily CSVs from a prefix


def connection(server):
    return dict(endpoint_url=server, region='us-east-1', access_key=KEY, secret_key=SECRET, timeout=5)


def test_fetch_prefix_as_a_folder_paginated_then_csv_aggregate(server, bucket, tmp_path):
    from ansible_collections.storeops.shop.plugins.module_utils import _report

    s3 = client(server)
    days = {
        '1.csv': 'category,amount\nfruit,1\n',
        '2.CSV': 'category,amount\nveg,2\n',
        '10.csv': 'category,amount\nfruit,3\n',
    }
    for name, text in days.items():
        s3.put_object(Bucket=bucket, Key='daily/2026-12/' + name, Body=text.encode())
    for key in (
        'daily/2026-12/sub/9.csv',
        'daily/2026-12/.hidden.csv',
        'daily/2026-12/notes.txt',
        'daily/2026-120/x.csv',
    ):
        s3.put_object(Bucket=bucket, Key=key, Body=b'category,amount\nno,9\n')
    folder = tmp_path / 'fetched'
    folder.mkdir()
    fetched, warnings = _publish_s3.fetch_prefix(
        connection(server), 's3://%s/daily/2026-12/' % bucket, str(folder), page_size=2
    )
    assert warnings == []
    assert sorted(os.path.basename(p) for p in fetched) == ['1.csv', '10.csv', '2.CSV']
    assert fetched[str(folder / '10.csv')] == 's3://%s/daily/2026-12/10.csv' % bucket
    dest = tmp_path / 'report'
    opts = dict(
        kind='csv_aggregate',
        src=str(folder),
        dest=str(dest),
        group_by='category',
        sum_column='amount',
        title=None,
        date=None,
        text=None,
        page_size='A4',
        columns=None,
        sort_by=None,
        sort_order=None,
        skip_invalid=False,
    )
    result, _w, failed = execute(_report.build_report, opts)
    assert not failed, result
    assert [os.path.basename(p) for p in result['inputs']] == ['1.csv', '2.CSV', '10.csv']
    assert {g['value']: g['sum'] for g in result['groups']} == {'fruit': '4', 'veg': '2'}


def test_fetch_prefix_errors(server, tmp_path):
    with pytest.raises(JobError) as caught:
        _publish_s3.fetch_prefix(connection(server), 's3://no-such-bucket-here/daily', str(tmp_path))
    assert "the bucket 'no-such-bucket-here' does not exist" in caught.value.msg
    assert caught.value.errors[0]['file'] == 's3://no-such-bucket-here/daily'
    with pytest.raises(JobError) as caught:
        _publish_s3.fetch_prefix(connection(server), 'http://x/y', str(tmp_path))
    assert 'not an s3://bucket/prefix URL' in caught.value.msg
    down = dict(connection(server), endpoint_url='http://127.0.0.1:%d' % free_port())
    with pytest.raises(JobError) as caught:
        _publish_s3.fetch_prefix(down, 's3://reports/daily', str(tmp_path))
    assert 'cannot reach the S3 endpoint' in caught.value.msg


def test_check_mode_absent_and_move_write_nothing(server, bucket, tmp_path):
    src = make_src(tmp_path, {'a.pdf': b'A'})
    assert run(options(server, bucket, src=str(src / 'a.pdf'), dest='a.pdf'))[2] is False
    s3 = client(server)
    before = {o['Key']: o['ETag'] for o in s3.list_objects_v2(Bucket=bucket)['Contents']}
    gone, _w, failed = run(options(server, bucket, state='absent', dest='a.pdf'), check_mode=True, diff=True)
    assert not failed and gone['changed'] is True and gone['index']['changed'] is True
    assert gone['files'] == [{'dest': 'a.pdf', 'key': 'reports/a.pdf', 'visibility': 'public', 'state': 'removed'}]
    assert gone['diff']['after'] == ''
    move, _w, failed = run(
        options(server, bucket, src=str(src / 'a.pdf'), dest='a.pdf', visibility='private'), check_mode=True
    )
    assert not failed and move['changed'] is True and move['files'][0]['moved_from'] == 'public'
    assert {o['Key']: o['ETag'] for o in s3.list_objects_v2(Bucket=bucket)['Contents']} == before


def test_build_report_csv_aggregate_from_an_s3_prefix(server, bucket, tmp_path):
    """build_report src: s3://bucket/prefix - the same bytes as from a folder, errors naming the objects."""
    from ansible_collections.storeops.shop.plugins.module_utils import _report

    s3 = client(server)
    days = {
        '01.csv': 'category,amount\nfruit,1.50\n"veg, green",2\n',
        '02.csv': 'category,amount\r\nfruit,3\r\n',
        '03.csv': 'category,amount\nfruit,lots\n',
    }
    for name, text in days.items():
        s3.put_object(Bucket=bucket, Key='orders/2026-12/' + name, Body=text.encode())
        (tmp_path / name).write_text(text, newline='')
    base = dict(
        kind='csv_aggregate',
        group_by='category',
        sum_column='amount',
        title=None,
        date=None,
        text=None,
        page_size='A4',
        columns=None,
        sort_by=None,
        sort_order=None,
        skip_invalid=False,
    )
    url = 's3://%s/orders/2026-12' % bucket
    from_s3, _w, failed = execute(
        _report.build_report, dict(base, src=url, dest=str(tmp_path / 'from-s3'), s3=connection(server))
    )
    assert failed  # the bad amount, after the good rows were written
    assert from_s3['inputs'] == [url + '/01.csv', url + '/02.csv', url + '/03.csv']
    assert [(e['file'], e['line'], e['field']) for e in from_s3['errors']] == [(url + '/03.csv', 2, 'amount')]
    assert 'storeops-daily-csv-' not in json.dumps(from_s3)
    from_folder, _w, failed = execute(_report.build_report, dict(base, src=str(tmp_path), dest=str(tmp_path / 'local')))
    for name in ('final_report.csv', 'final_report.html', 'final_chart.html', 'combined.csv'):
        assert (tmp_path / 'from-s3' / name).read_bytes() == (tmp_path / 'local' / name).read_bytes(), name
    again, _w, failed = execute(
        _report.build_report, dict(base, src=url, dest=str(tmp_path / 'from-s3'), s3=connection(server))
    )
    assert not again['changed']


def test_monthly_report_playbook_from_a_private_bucket_to_a_public_one(server, tmp_path):
    """The course's S3 flow with the collection's playbook: daily CSVs listed from a private
    bucket by prefix -> the month's report -> published public under YYYY/mon/ of another bucket
    with its index.html; a second run publishes nothing."""
    s3 = client(server)
    raw, public = 'raw-%d' % free_port(), 'reports-%d' % free_port()
    for name in (raw, public):
        s3.create_bucket(Bucket=name)
    days = tmp_path / 'days'
    subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'tests', 'demo', 'make_daily_csvs.py'),
            str(days),
            '--year',
            '2026',
            '--month',
            '11',
            '--orders',
            '5',
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for path in sorted(days.iterdir()):
        s3.put_object(Bucket=raw, Key='orders/2026-11/' + path.name, Body=path.read_bytes())
    connection_vars = dict(endpoint_url=server, region='us-east-1', access_key=KEY, secret_key=SECRET)
    extra = tmp_path / 'vars.json'
    extra.write_text(
        json.dumps(
            dict(
                storeops_monthly_month='2026-11',
                storeops_monthly_src='s3://%s/orders/2026-11' % raw,
                storeops_monthly_s3=connection_vars,
                storeops_monthly_build_dir=str(tmp_path / 'build'),
                storeops_report_backend='s3',
                storeops_report_s3=dict(connection_vars, bucket=public),
                ansible_python_interpreter=sys.executable,
            )
        )
    )
    config = tmp_path / 'ansible.cfg'
    config.write_text(
        '[defaults]\ncollections_path = %s\nretry_files_enabled = false\n'
        % os.path.join(ROOT, '.ansible', 'collections')
    )
    command = [
        os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
        '-i',
        'localhost,',
        '-c',
        'local',
        '-e',
        '@%s' % extra,
        os.path.join(ROOT, 'playbooks', 'monthly_report.yml'),
    ]
    recaps = []
    for _run in range(2):
        out = subprocess.run(
            command,
            cwd=str(tmp_path),
            env=dict(os.environ, ANSIBLE_CONFIG=str(config)),
            check=False,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
        recaps.append(out.stdout)
    assert 'changed=0' in recaps[1].split('PLAY RECAP')[-1]
    assert SECRET not in recaps[0] + recaps[1]
    status, _headers, body = anonymous_get('%s/%s/index.html' % (server, public))
    assert status == 200
    for name in ('final_report.csv', 'final_report.html', 'final_chart.html'):
        assert ('2026/nov/' + name) in body.decode()
        assert anonymous_get('%s/%s/2026/nov/%s' % (server, public, name))[0] == 200
    assert 'combined.csv' not in body.decode()
    assert anonymous_get('%s/%s/orders/2026-11/orders-2026-11-01.csv' % (server, raw))[0] == 403
