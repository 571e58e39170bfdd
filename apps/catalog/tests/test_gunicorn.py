"""The real thing: gunicorn with 2 sync workers, the production WSGI path and settings,
a file SQLite database. A write through one worker is on the next read from every
worker - each one had the previous catalog in its memory.

Starts gunicorn on 127.0.0.1 (a free port) and stops it by its PID. ~5 s.
"""

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from ansible_collections.storeops.shop.tests.support.catalog_site import CatalogSite

pytestmark = pytest.mark.gunicorn

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture
def server(tmp_path):
    """gunicorn, 2 workers, the production settings and WSGI application, plus the worker-PID header."""
    site = CatalogSite(
        tmp_path,
        workers=2,
        pythonpath=[TESTS_DIR.parent],
        wsgi_app="tests.gunicorn_wsgi:application",
        settings={"CATALOG_ALLOWED_HOSTS": "127.0.0.1"},
    )
    with site:
        yield site.url, site.token


def read_from_every_worker(url, path, minimum_requests=20, limit=1000, headers=None):
    """GET until both workers have answered (each request is a new connection). On a busy
    machine one worker may take many connections in a row: after a while, pause between
    requests so that the other one gets to accept."""
    bodies, pids = [], set()
    for count in range(1, limit + 1):
        if count > 100:
            time.sleep(0.01)
        response = requests.get(url + path, timeout=5, headers=dict(headers or {}, Connection="close"))
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
            url + "/fruits/",
            json={"name": f"Fruit {i}", "weight": i, "description": "", "image_name": ""},
            headers=auth,
            timeout=5,
        )
        assert response.status_code == 201, response.text

    # both workers build and keep the 3-product catalog
    before = read_from_every_worker(url, "/fruits/")
    assert {len(r.json()) for r in before} == {3}
    assert {r.headers["ETag"] for r in before} == {before[0].headers["ETag"]}  # same bytes everywhere
    read_from_every_worker(url, "/")

    response = requests.post(
        url + "/fruits",
        json={"name": "Watermelon", "weight": 500, "description": "d", "image_name": "010.jpeg"},
        headers=auth,
        timeout=5,
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


def jpeg(seed):
    from tests.helpers import make_image

    return make_image("JPEG", color=(seed * 37 % 256, seed * 91 % 256, seed * 13 % 256))


def test_the_image_index_is_right_on_every_worker_after_an_upload_and_a_delete(server):
    url, token = server
    auth = {"Authorization": f"Token {token}"}
    assert all(r.json() == [] for r in read_from_every_worker(url, "/images/"))  # both keep the empty index
    data = jpeg(1)
    response = requests.post(url + "/upload/", files={"file": ("001.jpeg", data)}, headers=auth, timeout=10)
    assert response.status_code == 201
    expected = [
        {
            "name": "001.jpeg",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "url": "/media/images/001.jpeg",
        }
    ]
    assert all(r.json() == expected for r in read_from_every_worker(url, "/images/"))
    assert requests.delete(url + "/images/001.jpeg", headers=auth, timeout=10).status_code == 204
    assert all(r.json() == [] for r in read_from_every_worker(url, "/images/"))


@pytest.mark.parametrize("same_content", [False, True], ids=["other-content", "same-content"])
def test_concurrent_uploads_of_one_name_with_replace_false(server, same_content):
    """Eight clients upload `race.jpeg` at the same moment, each its own picture (or all the
    same one), with replace=false, through both workers: exactly one creates it; the others
    get 409 naming the winner's SHA-256 (or 200 unchanged); the stored file and the index
    hold the winner's bytes, whole."""
    url, token = server
    auth = {"Authorization": f"Token {token}"}
    clients = 8
    images = [jpeg(1 if same_content else number) for number in range(clients)]
    barrier = threading.Barrier(clients)

    def send(number):
        barrier.wait(timeout=20)
        return requests.post(
            url + "/upload/",
            files={"file": ("race.jpeg", images[number])},
            data={"replace": "false"},
            headers=dict(auth, Connection="close"),
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=clients) as pool:
        responses = list(pool.map(send, range(clients)))
    statuses = sorted(r.status_code for r in responses)
    winners = [number for number, r in enumerate(responses) if r.status_code == 201]
    assert len(winners) == 1, [(r.status_code, r.text[:200]) for r in responses]
    winner_sha = hashlib.sha256(images[winners[0]]).hexdigest()
    if same_content:
        assert statuses == [200] * (clients - 1) + [201]
        assert {r.json()["result"] for r in responses if r.status_code == 200} == {"unchanged"}
    else:
        assert statuses == [201] + [409] * (clients - 1)
        assert {r.json()["sha256"] for r in responses if r.status_code == 409} == {winner_sha}
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"name_taken"}
    stored = requests.get(url + "/media/images/race.jpeg", timeout=10).content
    assert hashlib.sha256(stored).hexdigest() == winner_sha
    for response in read_from_every_worker(url, "/images/"):
        assert [(i["name"], i["sha256"]) for i in response.json()] == [("race.jpeg", winner_sha)]


def test_concurrent_replacing_uploads_leave_one_whole_picture_that_the_index_describes(server):
    """replace=true from eight clients at once: every one succeeds; the file is one of the
    pictures, whole, and the index's SHA-256 is that picture's."""
    url, token = server
    auth = {"Authorization": f"Token {token}"}
    clients = 8
    images = [jpeg(number) for number in range(clients)]
    barrier = threading.Barrier(clients)

    def send(number):
        barrier.wait(timeout=20)
        return requests.post(
            url + "/upload/",
            files={"file": ("race.jpeg", images[number])},
            headers=dict(auth, Connection="close"),
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=clients) as pool:
        responses = list(pool.map(send, range(clients)))
    assert sorted(r.status_code for r in responses) == [200] * (clients - 1) + [201]
    stored = hashlib.sha256(requests.get(url + "/media/images/race.jpeg", timeout=10).content).hexdigest()
    assert stored in {hashlib.sha256(data).hexdigest() for data in images}
    assert requests.get(url + "/images/race.jpeg", timeout=10).json()["sha256"] == stored


THROUGH_NGINX = {"X-Catalog-Accel": "on"}  # what the role's nginx adds to every proxied request


@pytest.fixture
def accel_server(tmp_path):
    site = CatalogSite(
        tmp_path,
        workers=2,
        pythonpath=[TESTS_DIR.parent],
        wsgi_app="tests.gunicorn_wsgi:application",
        settings={"CATALOG_ALLOWED_HOSTS": "127.0.0.1", "CATALOG_ACCEL_URL": "/_accel/"},
    )
    with site:
        yield site, tmp_path / "accel"


def test_x_accel_files_across_two_workers_and_a_restart(accel_server):
    """Both workers redirect to the same file for a version; after a write both redirect to
    the new one, whose bytes hold the write; after a restart the files are reused as they are."""
    site, directory = accel_server
    auth = {"Authorization": f"Token {site.token}"}
    requests.post(
        site.url + "/fruits/",
        json={"name": "Apple", "weight": 1, "description": "", "image_name": ""},
        headers=auth,
        timeout=10,
    )
    before = read_from_every_worker(site.url, "/fruits/", headers=THROUGH_NGINX)
    targets = {r.headers["X-Accel-Redirect"] for r in before}
    assert len(targets) == 1 and all(r.content == b"" for r in before)
    old = directory / targets.pop().rsplit("/", 1)[1]
    assert b"Apple" in old.read_bytes()

    requests.post(
        site.url + "/fruits/",
        json={"name": "Pear", "weight": 2, "description": "", "image_name": ""},
        headers=auth,
        timeout=10,
    )
    after = read_from_every_worker(site.url, "/fruits/", headers=THROUGH_NGINX)
    targets = {r.headers["X-Accel-Redirect"] for r in after}
    assert len(targets) == 1
    new = directory / targets.pop().rsplit("/", 1)[1]
    assert new != old and b"Pear" in new.read_bytes()

    mtime = new.stat().st_mtime_ns
    site.restart()
    again = read_from_every_worker(site.url, "/fruits/", headers=THROUGH_NGINX)
    assert {r.headers["X-Accel-Redirect"] for r in again} == {"/_accel/" + new.name}
    assert new.stat().st_mtime_ns >= mtime  # reused (touched), not half-rewritten
    assert not [p for p in os.listdir(directory) if p.startswith(".")]
