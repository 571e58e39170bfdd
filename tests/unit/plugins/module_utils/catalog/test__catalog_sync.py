# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconciling the real catalog site (gunicorn on 127.0.0.1) with supplier data and reviews.

Parsing edge cases are tested with the parsers (test__descriptions.py, test__reviews.py);
here: what reaches the site, what does not, and what the task reports.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from ansible_collections.storeops.shop.plugins.module_utils._catalog_client import CatalogClient
from ansible_collections.storeops.shop.plugins.module_utils._catalog_sync import (
    SyncError,
    stored_name,
    sync_catalog,
    sync_reviews,
)

from ansible_collections.storeops.shop.tests.support.images import jpeg_bytes


def client_for(url, token=None, **kwargs):
    kwargs.setdefault('backoff', 0.01)
    kwargs.setdefault('sleep', time.sleep)
    return CatalogClient(url, token=token, **kwargs)


def run(site_or_url, supplier, token=None, **kwargs):
    url = getattr(site_or_url, 'url', site_or_url)
    with client_for(url, token=token, retries=kwargs.pop('retries', 3)) as client:
        result, warnings = sync_catalog(client, supplier.descriptions, supplier.images, **kwargs)
    result['warnings'] = warnings
    return result


def names(records):
    return sorted(record['name'] for record in records)


def media(site):
    if not os.path.isdir(site.media_images):
        return []
    return sorted(name for name in os.listdir(site.media_images) if not name.startswith('.'))


def writes(proxy):
    return [entry for entry in proxy.log if entry['method'] != 'GET']


def image_name(number, seed=None, naming='content'):
    """The name the module stores supplier image NNN.jpeg under."""
    data = jpeg_bytes(seed if seed is not None else number)
    return stored_name('%03d' % number, '.jpeg', hashlib.sha256(data).hexdigest(), naming)


def stored_bytes(site, name):
    with open(os.path.join(site.media_images, name), 'rb') as handle:
        return handle.read()


# --- products ------------------------------------------------------------------------------------


def test_first_run_creates_everything_in_order_and_a_rerun_nothing(site, supplier, proxy):
    supplier.products(5)
    result = run(proxy.url, supplier, site.token)
    assert result['changed'] is True
    assert result['errors'] == [] and result['pending'] == []
    assert result['counts'] == {
        'created': 5,
        'unchanged': 0,
        'failed': 0,
        'pending': 0,
        'images_created': 5,
        'images_unchanged': 0,
    }
    on_site = site.products()
    assert result['created'] == on_site  # the records as the site returned them, ids included
    assert [p['name'] for p in on_site] == ['Fruit %d' % n for n in range(1, 6)]  # the delivery's order
    assert on_site[0] == {
        'id': on_site[0]['id'],
        'name': 'Fruit 1',
        'weight': 500,
        'description': 'Description of Fruit 1.\nSecond line.',
        'image_name': image_name(1),
    }
    assert media(site) == sorted(image_name(n) for n in range(1, 6))
    assert result['msg'] == '5 products: 5 created, 0 unchanged; images: 5 uploaded, 0 unchanged'
    assert result['products'] == [
        {
            'name': 'Fruit %d' % n,
            'weight': 500,
            'status': 'created',
            'image_name': image_name(n),
            'file': os.path.join(supplier.descriptions, '%03d.txt' % n),
        }
        for n in range(1, 6)
    ]
    # the token check (a POST that cannot write), the images, the products as lists (our site)
    posts = [entry['path'] for entry in writes(proxy)]
    assert posts[0] == '/fruits/' and posts[1] == '/upload/'
    assert posts.count('/upload/') == 5 and 2 <= posts.count('/fruits/') <= 6
    for product in on_site:  # never a product without its image
        assert os.path.exists(os.path.join(site.media_images, product['image_name']))

    proxy.log[:] = []
    again = run(proxy.url, supplier, site.token)
    assert again['changed'] is False
    assert again['created'] == [] and again['errors'] == []
    assert again['unchanged'] == [
        {'name': 'Fruit %d' % number, 'file': os.path.join(supplier.descriptions, '%03d.txt' % number)}
        for number in range(1, 6)
    ]
    assert [p['status'] for p in again['products']] == ['unchanged'] * 5
    assert writes(proxy) == []  # nothing new: reads only
    assert names(site.products()) == ['Fruit 1', 'Fruit 2', 'Fruit 3', 'Fruit 4', 'Fruit 5']


def test_check_mode_writes_nothing_and_predicts_the_real_run(site, supplier, proxy):
    supplier.products(3)
    predicted = run(proxy.url, supplier, check_mode=True, diff=True)  # no token needed
    assert predicted['changed'] is True
    assert predicted['created'] == [
        {
            'name': 'Fruit %d' % n,
            'weight': 500,
            'description': 'Description of Fruit %d.\nSecond line.' % n,
            'image_name': image_name(n),
        }
        for n in (1, 2, 3)
    ]
    assert predicted['images']['created'] == [image_name(n) for n in (1, 2, 3)]
    assert predicted['msg'].startswith('check mode (nothing written): 3 products: 3 to create, 0 unchanged')
    assert writes(proxy) == []
    assert site.products() == [] and media(site) == []
    assert predicted['diff']['after']['images'][image_name(1)] == 'sha256:' + hashlib.sha256(jpeg_bytes(1)).hexdigest()
    assert predicted['diff']['after']['products']['Fruit 2'] == predicted['created'][1]

    real = run(site, supplier, site.token)
    assert [dict((k, v) for k, v in record.items() if k != 'id') for record in real['created']] == predicted['created']

    proxy.log[:] = []
    after = run(proxy.url, supplier, check_mode=True, diff=True)
    assert after['changed'] is False and after['created'] == []
    assert after['diff']['before'] == after['diff']['after'] == {'products': {}, 'images': {}}
    assert writes(proxy) == []


def test_a_second_delivery_reusing_file_names_never_touches_the_first_ones_pictures(site, supplier, make_supplier):
    """Issue: delivery B's 001.jpeg replaced the picture of delivery A's Apple, reported as 'replaced'."""
    supplier.product(1, name='Apple')
    supplier.product(2, name='Avocado')
    first = run(site, supplier, site.token)
    apple = dict((p['name'], p) for p in site.products())['Apple']
    apple_bytes = stored_bytes(site, apple['image_name'])
    assert apple_bytes == jpeg_bytes(1)

    delivery_b = make_supplier('delivery-b')
    delivery_b.product(1, name='Banana')
    delivery_b.image(1, seed=77)  # same file name, another picture
    second = run(site, delivery_b, site.token)
    assert second['errors'] == [] and names(second['created']) == ['Banana']
    products = dict((p['name'], p) for p in site.products())
    assert stored_bytes(site, products['Apple']['image_name']) == apple_bytes  # Apple's picture is still Apple's
    assert stored_bytes(site, products['Banana']['image_name']) == jpeg_bytes(77)
    assert products['Apple']['image_name'] != products['Banana']['image_name']
    assert first['changed'] and second['changed'] and second['warnings'] == []


def test_plain_file_names_refuse_an_item_whose_name_holds_another_products_picture(site, supplier, make_supplier):
    supplier.product(1, name='Apple')
    run(site, supplier, site.token, image_names='file')
    assert [p['image_name'] for p in site.products()] == ['001.jpeg']
    delivery_b = make_supplier('delivery-b')
    delivery_b.product(1, name='Banana')
    delivery_b.image(1, seed=77)
    result = run(site, delivery_b, site.token, image_names='file')
    assert result['created'] == [] and result['changed'] is False
    assert result['errors'] == [
        {
            'file': os.path.join(delivery_b.images, '001.jpeg'),
            'line': None,
            'field': 'image_name',
            'message': "the site holds another picture under 001.jpeg, the picture of product 'Apple'; it is not replaced, "
            "and product 'Banana' was not created (image_names=content gives every picture a name of its own)",
        }
    ]
    assert stored_bytes(site, '001.jpeg') == jpeg_bytes(1)
    assert names(site.products()) == ['Apple']


def test_a_site_that_already_holds_plain_names_keeps_working(site, supplier, proxy):
    """Products uploaded as 001.jpeg (before content names) are unchanged on a re-run."""
    supplier.products(2)
    run(site, supplier, site.token, image_names='file')
    proxy.log[:] = []
    result = run(proxy.url, supplier, site.token)  # the default, content names
    assert result['changed'] is False and result['errors'] == [] and result['different'] == []
    assert [p['image_name'] for p in result['products']] == ['001.jpeg', '002.jpeg']
    assert writes(proxy) == []


def test_a_changed_picture_of_a_product_on_the_site_is_reported_not_uploaded(site, supplier, proxy):
    supplier.products(2)
    run(site, supplier, site.token)
    supplier.image(2, seed=99)
    proxy.log[:] = []
    result = run(proxy.url, supplier, site.token)
    assert result['changed'] is False and writes(proxy) == []
    assert result['different'] == [
        {
            'name': 'Fruit 2',
            'file': os.path.join(supplier.descriptions, '002.txt'),
            'fields': {'image': {'site': image_name(2), 'file': os.path.join(supplier.images, '002.jpeg')}},
        }
    ]
    assert stored_bytes(site, image_name(2)) == jpeg_bytes(2)
    assert 'with a different image' in result['warnings'][0]


def test_bad_description_and_missing_image_do_not_stop_the_good_ones(site, supplier):
    supplier.product(1)
    bad_weight = supplier.product(2, weight='five hundred lbs')
    no_image = supplier.product(3, image=False)
    supplier.product(4)
    result = run(site, supplier, site.token)
    assert names(result['created']) == ['Fruit 1', 'Fruit 4']
    assert result['errors'] == [
        {
            'file': bad_weight,
            'line': 2,
            'field': 'weight',
            'message': "weight 'five hundred lbs' is not a number of pounds (write it like '500 lbs')",
        },
        {
            'file': no_image,
            'line': None,
            'field': None,
            'message': 'no image for this description: %s does not exist' % os.path.join(supplier.images, '003.jpeg'),
        },
    ]
    assert result['changed'] is True and result['failed'] is True
    assert (
        result['msg']
        == '(4 products: 2 created, 0 unchanged, 2 failed; images: 2 uploaded, 0 unchanged) 2 files failed'
    )
    assert names(site.products()) == ['Fruit 1', 'Fruit 4']
    assert media(site) == sorted([image_name(1), image_name(4)])  # 002.jpeg exists but its description is bad


def test_what_the_site_would_refuse_is_refused_before_any_upload(site, supplier, proxy):
    supplier.product(1)
    long_name = supplier.product(2, name='N' * 201)
    heavy = supplier.product(3, weight='2147483648 lbs')
    long_text = supplier.product(4, description='x' * 20001)
    result = run(proxy.url, supplier, site.token)
    assert [(e['file'], e['line'], e['field']) for e in result['errors']] == [
        (long_name, 1, 'name'),
        (heavy, 2, 'weight'),
        (long_text, 3, 'description'),
    ]
    assert result['errors'][0]['message'] == 'the name is 201 characters long; the site takes at most 200'
    assert len(proxy.requests_to('POST', '/upload/')) == 1  # only Fruit 1's image went up
    assert names(site.products()) == ['Fruit 1'] and media(site) == [image_name(1)]


def test_an_image_the_site_refuses_keeps_its_product_off_the_site(site, supplier):
    supplier.products(3)
    broken = supplier.image(2, data=b'\xff\xd8\xff\xe0 not really a jpeg')
    result = run(site, supplier, site.token)
    assert names(result['created']) == ['Fruit 1', 'Fruit 3']
    assert len(result['errors']) == 1
    failure = result['errors'][0]
    assert failure['file'] == broken
    assert failure['message'].startswith(
        "image upload refused, product 'Fruit 2' not created: POST %s/upload/: "
        "HTTP 400 Bad Request: file: Not a valid image" % site.url
    )
    assert names(site.products()) == ['Fruit 1', 'Fruit 3']


def test_a_product_the_site_refuses_takes_its_new_image_with_it(site, supplier, proxy):
    """Issue: the image went up, the site refused the record, the picture stayed public with no product."""
    supplier.products(2)

    def refuse_fruit_2(method, path, body):
        if method == 'POST' and path == '/fruits/' and b'"Fruit 2"' in body:
            return ('status', 400, {})
        return None

    proxy.body_hook = refuse_fruit_2
    result = run(proxy.url, supplier, site.token)
    assert names(result['created']) == ['Fruit 1']
    assert result['errors'][0]['file'] == os.path.join(supplier.descriptions, '002.txt')
    assert result['errors'][0]['message'].startswith('refused by the site: POST %s/fruits/: HTTP 400' % proxy.url)
    assert media(site) == [image_name(1)]  # Fruit 2's picture was taken back
    assert [e['path'] for e in proxy.requests_to('DELETE', '/images/')] == ['/images/' + image_name(2)]
    assert result['warnings'] == []


def test_on_a_site_that_cannot_delete_a_refused_products_image_is_reported(site, supplier, proxy):
    supplier.products(2)

    def refuse_fruit_2_and_deletes(method, path, body):
        if method == 'DELETE':
            return ('status', 405, {})
        if method == 'POST' and path == '/fruits/' and b'"Fruit 2"' in body:
            return ('status', 400, {})
        return None

    proxy.body_hook = refuse_fruit_2_and_deletes
    result = run(proxy.url, supplier, site.token)
    assert names(result['created']) == ['Fruit 1']
    assert result['warnings'] == [
        '%s: the image %s uploaded for the refused product %r is still on the site (the site '
        'cannot delete images)' % (os.path.join(supplier.descriptions, '002.txt'), image_name(2), 'Fruit 2')
    ]


def test_a_no_op_rerun_asks_the_site_two_questions(site, supplier, proxy):
    """Issue 18: the re-run downloaded every image to compare it; the index answers for all of them."""
    supplier.products(30)
    run(site, supplier, site.token)
    result = run(proxy.url, supplier, site.token)
    assert result['changed'] is False
    assert [(e['method'], e['path']) for e in proxy.log] == [('GET', '/fruits/'), ('GET', '/images/')]


def test_a_site_with_only_the_original_api_is_asked_image_by_image(site, supplier, proxy):
    """A site of the course's kind: no /images/ index, no DELETE; the module still reconciles."""
    supplier.products(3)

    def original_api(number, method, path):
        if path.startswith('/images'):
            return ('status', 404, {})
        return None

    proxy.hook = original_api
    first = run(proxy.url, supplier, site.token)
    assert first['errors'] == [] and first['counts']['created'] == 3
    proxy.log[:] = []
    again = run(proxy.url, supplier, site.token)
    assert again['changed'] is False and writes(proxy) == []
    assert sorted(e['path'] for e in proxy.requests_to('GET', '/media/images/')) == sorted(
        '/media/images/' + image_name(n) for n in (1, 2, 3)
    )


def test_wrong_token_fails_with_nothing_written(site, supplier, proxy):
    supplier.products(3)
    with pytest.raises(SyncError) as caught:
        run(proxy.url, supplier, 'wrong-token-but-well-formed')
    assert 'HTTP 401 Unauthorized: Invalid token.' in str(caught.value)
    assert caught.value.errors[0]['field'] == 'token'
    assert [(entry['method'], entry['status']) for entry in writes(proxy)] == [('POST', 401)]
    assert site.products() == [] and media(site) == []


def test_without_a_token_check_mode_works_and_a_real_run_says_so(site, supplier):
    supplier.products(1)
    assert run(site, supplier, check_mode=True)['counts']['created'] == 1
    with pytest.raises(SyncError, match='the site needs a token to write'):
        run(site, supplier)
    assert site.products() == []


def test_two_files_with_the_same_name(site, supplier):
    supplier.product(1, name='Apple')
    second = supplier.product(2, name='Apple')
    result = run(site, supplier, site.token)
    assert names(result['created']) == ['Apple']
    assert result['errors'][0]['file'] == second and result['errors'][0]['field'] == 'name'
    assert result['errors'][0]['message'] == "product name 'Apple' is already used by %s; names must be unique" % (
        os.path.join(supplier.descriptions, '001.txt')
    )


def test_non_latin_names_round_trip(site, supplier):
    supplier.product(1, name='Яблоко 苹果 Ελιά', description='Сладкое.\n甜的。')
    result = run(site, supplier, site.token)
    assert result['errors'] == []
    assert site.products()[0]['name'] == 'Яблоко 苹果 Ελιά'
    assert run(site, supplier, site.token)['changed'] is False


def test_a_product_that_differs_on_the_site_is_left_alone_and_reported(site, supplier):
    supplier.product(1, name='Apple', weight='400 lbs')
    run(site, supplier, site.token)
    supplier.product(1, name='Apple', weight='500 lbs')
    result = run(site, supplier, site.token)
    assert result['changed'] is False
    assert result['different'] == [
        {
            'name': 'Apple',
            'file': os.path.join(supplier.descriptions, '001.txt'),
            'fields': {'weight': {'site': 400, 'file': 500}},
        }
    ]
    assert result['warnings'] == [
        "%s: product 'Apple' is on the site with a different weight (left as it is: the "
        "module only creates missing products)" % os.path.join(supplier.descriptions, '001.txt')
    ]
    assert site.products()[0]['weight'] == 400
    assert result['products'][0]['weight'] == 400  # what is on the site


def test_missing_folders_fail_before_any_request(tmp_path, supplier):
    client = client_for('http://127.0.0.1:9')  # nothing listens there: any request would fail differently
    with pytest.raises(SyncError, match='descriptions folder .* does not exist'):
        sync_catalog(client, str(tmp_path / 'nope'), supplier.images)
    with pytest.raises(SyncError, match='images folder .* does not exist'):
        sync_catalog(client, supplier.descriptions, str(tmp_path / 'nope'))
    assert client.requests_sent == 0


def test_empty_folders_change_nothing_and_ask_nothing(supplier):
    client = client_for('http://127.0.0.1:9')
    result, dummy = sync_catalog(client, supplier.descriptions, supplier.images)
    assert result['changed'] is False and result['msg'].startswith('0 products')
    assert client.requests_sent == 0


# --- faults, produced for real ------------------------------------------------------------------


def test_503s_in_the_middle_are_retried_and_the_run_completes(site, supplier, proxy):
    supplier.products(4)
    answered = []

    def two_503s_on_uploads(number, method, path):
        if method == 'POST' and path == '/upload/' and len(answered) < 2:
            answered.append(number)
            return 503
        return None

    proxy.hook = two_503s_on_uploads
    result = run(proxy.url, supplier, site.token)
    assert result['errors'] == [] and result['counts']['created'] == 4
    assert [entry['status'] for entry in proxy.log].count(503) == 2
    assert [p['name'] for p in site.products()] == ['Fruit 1', 'Fruit 2', 'Fruit 3', 'Fruit 4']


def test_gunicorn_stopped_mid_run_then_rerun_gives_each_product_exactly_once(site, supplier, proxy):
    count = 60
    supplier.products(count)
    lists = []

    def stop_gunicorn(method, path, body):
        if method == 'POST' and path == '/upload/':
            return ('delay', 0.03)  # slow uploads: products go up in several lists meanwhile
        if method == 'POST' and path == '/fruits/' and body.startswith(b'['):
            lists.append(body)
            if len(lists) == 2:
                site.stop()  # well into the writes: one list is on the site
        return None

    proxy.body_hook = stop_gunicorn
    result = run(proxy.url, supplier, site.token, retries=2)
    assert not site.running()
    done = result['counts']['created']
    assert 0 < done < count
    assert result['counts']['pending'] == count - done
    assert result['pending'][0] == os.path.join(supplier.descriptions, '%03d.txt' % (done + 1))
    assert result['msg'].startswith('Stopped after %d of %d products: ' % (done, count))
    assert 'HTTP 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx after 3 attempts' in result['msg']
    assert 'No product was posted without its image. Re-run the task when the site answers again' in result['msg']
    on_site = site.products() if site.running() else None
    assert on_site is None
    site.start()
    for product in site.products():
        assert os.path.exists(os.path.join(site.media_images, product['image_name']))  # never without its image

    proxy.body_hook = None
    again = run(proxy.url, supplier, site.token)
    assert again['errors'] == [] and again['pending'] == []
    assert again['counts']['created'] == count - done
    assert again['counts']['unchanged'] == done
    on_site = site.products()
    assert [p['name'] for p in on_site] == ['Fruit %d' % n for n in range(1, count + 1)]  # each once, in order
    assert len(media(site)) == count


def test_a_lost_answer_to_a_post_is_not_mistaken_for_a_duplicate(site, supplier, proxy):
    supplier.products(1)
    lost = []

    def lose_the_products_answer(number, method, path):
        if method == 'POST' and path == '/fruits/' and proxy.requests_to('POST', '/upload/') and not lost:
            lost.append(number)
            return 'drop-after'  # the product POST reaches the site, its answer is lost
        return None

    proxy.hook = lose_the_products_answer
    result = run(proxy.url, supplier, site.token)
    assert result['changed'] is True
    assert result['created'] == site.products()
    assert result['unchanged'] == []
    assert [entry['status'] for entry in proxy.requests_to('POST', '/fruits/')][1] is None


def test_a_product_created_by_someone_else_meanwhile_is_unchanged(site, supplier, proxy):
    supplier.products(2)

    def create_behind_our_back(number, method, path):
        if number == 1:  # our GET /fruits/ has not been answered yet
            import requests

            requests.post(
                site.url + '/fruits/',
                json={'name': 'Fruit 2', 'weight': 500, 'description': 'x', 'image_name': '002.jpeg'},
                headers=site.auth(),
                timeout=10,
            )
        return None

    proxy.hook = create_behind_our_back
    result = run(proxy.url, supplier, site.token)
    assert names(result['created']) == ['Fruit 1']
    assert [entry['name'] for entry in result['unchanged']] == ['Fruit 2']
    assert len(site.products()) == 2


# --- reviews -------------------------------------------------------------------------------------


def write_review(folder, number, title='Great', name='Alex H.', date='2020-02-02', feedback='It was great.'):
    path = os.path.join(str(folder), '%03d.txt' % number)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('%s\n%s\n%s\n%s\n' % (title, name, date, feedback))
    return path


def reviews(site, folder, token=None, **kwargs):
    with client_for(getattr(site, 'url', site), token=token) as client:
        result, warnings = sync_reviews(client, str(folder), **kwargs)
    result['warnings'] = warnings
    return result


def test_reviews_are_created_once(site, reviews_dir, proxy):
    write_review(reviews_dir, 1, title='Experienced salespeople')
    write_review(reviews_dir, 2, title='Great car', name='Sam', date='2021-12-31', feedback='First.\nSecond.')
    result = reviews(proxy.url, reviews_dir, site.token)
    assert result['changed'] is True
    assert result['created'] == sorted(site.reviews(), key=lambda review: review['id'])
    assert result['created'][1] == {
        'id': result['created'][1]['id'],
        'title': 'Great car',
        'name': 'Sam',
        'date': '2021-12-31',
        'feedback': 'First.\nSecond.',
    }
    assert result['msg'] == '2 reviews: 2 created, 0 unchanged'

    proxy.log[:] = []
    again = reviews(proxy.url, reviews_dir, site.token)
    assert again['changed'] is False and again['created'] == []
    assert [entry['title'] for entry in again['unchanged']] == ['Experienced salespeople', 'Great car']
    assert writes(proxy) == []
    assert len(site.reviews()) == 2


def test_reviews_same_title_and_name_on_another_date_is_another_review(site, reviews_dir):
    write_review(reviews_dir, 1, date='2020-02-02')
    write_review(reviews_dir, 2, date='2020-02-03')
    assert reviews(site, reviews_dir, site.token)['counts']['created'] == 2


def test_bad_reviews_do_not_stop_good_ones(site, reviews_dir):
    write_review(reviews_dir, 1)
    bad_date = write_review(reviews_dir, 2, title='Other', date='2020-02-30')
    duplicate = write_review(reviews_dir, 3)
    result = reviews(site, reviews_dir, site.token)
    assert result['counts'] == {'created': 1, 'unchanged': 0, 'failed': 2, 'pending': 0}
    assert result['errors'][0]['file'] == bad_date and result['errors'][0]['line'] == 3
    assert result['errors'][1] == {
        'file': duplicate,
        'line': None,
        'field': None,
        'message': "the same review (title 'Great', name 'Alex H.', date 2020-02-02) is already in %s"
        % os.path.join(str(reviews_dir), '001.txt'),
    }
    assert len(site.reviews()) == 1


def test_reviews_check_mode_and_diff(site, reviews_dir, proxy):
    write_review(reviews_dir, 1)
    result = reviews(proxy.url, reviews_dir, check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff']['after'] == {
        'reviews': [{'title': 'Great', 'name': 'Alex H.', 'date': '2020-02-02', 'feedback': 'It was great.'}]
    }
    assert writes(proxy) == [] and site.reviews() == []


def test_reviews_wrong_token(site, reviews_dir):
    write_review(reviews_dir, 1)
    with pytest.raises(SyncError, match='Invalid token'):
        reviews(site, reviews_dir, 'wrong-token-but-well-formed')
    assert site.reviews() == []


def test_review_with_other_text_on_the_site_is_reported(site, reviews_dir):
    write_review(reviews_dir, 1, feedback='Old text.')
    reviews(site, reviews_dir, site.token)
    write_review(reviews_dir, 1, feedback='New text.')
    result = reviews(site, reviews_dir, site.token)
    assert result['changed'] is False
    assert result['different'][0]['fields'] == {'feedback': {'site': 'Old text.', 'file': 'New text.'}}
    assert 'is on the site with a different text' in result['warnings'][0]


def test_reviews_site_down_mid_run_talks_about_reviews_and_a_rerun_finishes(site, reviews_dir, proxy):
    for number in range(1, 7):
        write_review(reviews_dir, number, title='Review %d' % number)

    def stop_gunicorn(number, method, path):
        if method == 'POST' and path == '/feedback/' and len(proxy.requests_to('POST', '/feedback/')) == 3:
            site.stop()
        return None

    proxy.hook = stop_gunicorn
    with client_for(proxy.url, token=site.token, retries=1) as client:
        result, dummy = sync_reviews(client, str(reviews_dir))
    assert result['failed'] and result['counts']['pending'] > 0
    assert result['msg'].startswith('Stopped after %d of 6 reviews: ' % result['counts']['created'])
    assert 'product' not in result['msg'] and 'No review was posted twice.' in result['msg']
    proxy.hook = None
    site.start()
    again = reviews(proxy.url, reviews_dir, site.token)
    assert again['counts']['created'] + result['counts']['created'] == 6 and again['errors'] == []
    assert len(site.reviews()) == 6
