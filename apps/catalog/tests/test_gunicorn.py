"""The real thing: gunicorn with 2 sync workers, the production WSGI path and settings,
a file SQLite database. A write through one worker is on the next read from every
worker - each one had the previous catalog in its memory.

Starts gunicorn on 127.0.0.1 (a free port) and stops it by its PID. ~5 s.
"""

from pathlib import Path

import pytest
import requests

from ansible_collections.storeops.shop.tests.support.catalog_site import CatalogSite

pytestmark = pytest.mark.gunicorn

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture
def server(tmp_path):
    """gunicorn, 2 workers, the production settings plus the worker-PID header."""
    site = CatalogSite(tmp_path, workers=2, settings_module="tests.gunicorn_settings",
                       pythonpath=[TESTS_DIR.parent], settings={"CATALOG_ALLOWED_HOSTS": "127.0.0.1"})
    with site:
        yield site.url, site.token


def read_from_every_worker(url, path, minimum_requests=20, limit=200):
    """GET until both workers have answered (each request is a new connection)."""
    bodies, pids = [], set()
    for count in range(1, limit + 1):
        response = requests.get(url + path, timeout=5, headers={"Connection": "close"})
        assert response.status_code == 200
        bodies.append(response)
        pids.add(response.headers["X-Test-Worker-Pid"])
        if len(pids) >= 2 and count >= minimum_requests:
            break
    assert len(pids) == 2, f"only {pids} answered"
    return bodies


def test_a_write_is_seen_by_every_worker_on_the_next_read(server):
    url, token = server
    auth = {"Authorization": f"Token {token}"}
    for i in range(3):
        response = requests.post(
            url + "/fruits/", json={"name": f"Fruit {i}", "weight": i, "description": "", "image_name": ""},
            headers=auth, timeout=5,
        )
        assert response.status_code == 201, response.text

    # both workers build and keep the 3-product catalog
    before = read_from_every_worker(url, "/fruits/")
    assert {len(r.json()) for r in before} == {3}
    assert {r.headers["ETag"] for r in before} == {before[0].headers["ETag"]}  # same bytes everywhere
    read_from_every_worker(url, "/")

    response = requests.post(
        url + "/fruits", json={"name": "Watermelon", "weight": 500, "description": "d", "image_name": "010.jpeg"},
        headers=auth, timeout=5,
    )
    assert response.status_code == 201

    after = read_from_every_worker(url, "/fruits/")
    assert all(r.json()[-1]["name"] == "Watermelon" for r in after)
    assert {r.headers["ETag"] for r in after} != {before[0].headers["ETag"]}
    assert all("Watermelon" in r.text for r in read_from_every_worker(url, "/"))

    # a client holding the old ETag gets the new body; the new ETag gets 304 everywhere
    new_etag = after[0].headers["ETag"]
    assert requests.get(url + "/fruits/", headers={"If-None-Match": before[0].headers["ETag"]}).status_code == 200
    statuses = {requests.get(url + "/fruits/", headers={"If-None-Match": new_etag}).status_code for _i in range(10)}
    assert statuses == {304}


def test_deletes_are_seen_by_every_worker(server):
    url, token = server
    auth = {"Authorization": f"Token {token}"}
    created = requests.post(
        url + "/feedback/", json={"title": "T", "name": "N", "date": "2020-01-01", "feedback": "F"}, headers=auth
    ).json()
    assert all(len(r.json()) == 1 for r in read_from_every_worker(url, "/feedback/"))
    assert requests.delete(f"{url}/feedback/{created['id']}/", headers=auth).status_code == 204
    assert all(r.json() == [] for r in read_from_every_worker(url, "/feedback/"))
