"""The real thing: gunicorn with 2 sync workers, the production WSGI path and settings,
a file SQLite database. A write through one worker is on the next read from every
worker - each one had the previous catalog in its memory.

Starts gunicorn on 127.0.0.1 (a free port) and stops it by its PID. ~5 s.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import catalog_site

pytestmark = pytest.mark.gunicorn

APP_DIR = Path(catalog_site.__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CATALOG_", "DJANGO_"))}
    env.update(
        PYTHONPATH=str(APP_DIR),
        DJANGO_SETTINGS_MODULE="tests.gunicorn_settings",
        CATALOG_CONFIG="",
        CATALOG_SECRET_KEY="test-" + "x" * 60,
        CATALOG_DATA_DIR=str(tmp_path),
        CATALOG_TLS="false",
        CATALOG_ALLOWED_HOSTS="127.0.0.1",
    )

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "-m", "catalog_site.manage", *args], env=env, cwd=tmp_path, capture_output=True,
            text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    manage("migrate", "--noinput")
    import json

    token = json.loads(manage("ensure_api_token", "--username", "uploader", "--print-token"))["token"]
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "catalog_site.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.2)
        yield url, token
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
