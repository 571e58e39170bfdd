"""Local benchmark of the catalog site: our read path vs the naive one, same run.

Starts gunicorn (2 sync workers, the production WSGI app) on 127.0.0.1 against a
temporary SQLite database with 1,000 products and 20 reviews, runs a bounded wrk load
per URL, prints requests/s and p99 and the ratios, and stops the gunicorn it started
(by PID). Nothing leaves 127.0.0.1.

    /work/main/.venv/bin/python apps/catalog/bench/local_bench.py [--duration 5] [--check]

--check exits 1 when a target is missed (>= 1,000 req/s and p99 < 30 ms for GET
/fruits/ and GET /). Load: wrk -t2 -c16 --latency, --duration seconds per URL.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parent
TARGET_RPS = 1000.0
TARGET_P99_MS = 30.0

DESCRIPTION = (
    "{name} is good for relieving heat, eliminating annoyance and quenching thirst. It contains a lot of "
    "water, which is good for relieving the symptoms of acute fever immediately. The sugar and salt it "
    "contains can diuretic and eliminate kidney inflammation. Batch {i}."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALOG_", "DJANGO_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(HERE), str(APP_DIR)]),
        DJANGO_SETTINGS_MODULE="bench_settings",
        CATALOG_CONFIG="",
        CATALOG_SECRET_KEY="bench-only-" + "b" * 60,
        CATALOG_DATA_DIR=str(data_dir),
        CATALOG_TLS="false",
        CATALOG_ALLOWED_HOSTS="127.0.0.1",
        CATALOG_LOG_LEVEL="WARNING",
    )
    return env


def seed(env: dict[str, str], products: int, reviews: int) -> None:
    code = f"""
import datetime, django
django.setup()
from django.core.management import call_command
from django.db import transaction
from catalog_site.shop.fastpath import bump_catalog_version
from catalog_site.shop.models import Product, Review
call_command("migrate", verbosity=0)
names = [f"Fruit {{i:04}}" for i in range({products})]
with transaction.atomic():
    Product.objects.bulk_create(
        Product(name=n, weight=100 + i % 400, description={DESCRIPTION!r}.format(name=n, i=i), image_name=f"{{i:03}}.jpeg")
        for i, n in enumerate(names)
    )
    Review.objects.bulk_create(
        Review(title=f"Review {{i}}", name=f"Customer {{i}}", date=datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
               feedback="Great fruit, friendly staff, fast delivery. " * 3)
        for i in range({reviews})
    )
    bump_catalog_version()
print(Product.objects.count(), Review.objects.count())
"""
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        sys.exit(f"seeding failed:\n{result.stderr}")


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {timeout}s")


def fetch(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def drain(url: str, timeout: float = 30.0) -> None:
    """Wait until the workers are idle (requests queued by a previous run are served)."""
    deadline = time.monotonic() + timeout
    fast = 0
    while fast < 3 and time.monotonic() < deadline:
        start = time.monotonic()
        fetch(url)
        fast = fast + 1 if time.monotonic() - start < 0.02 else 0
        time.sleep(0.05)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, duration: int, headers: dict[str, str] | None = None) -> dict:
    command = ["wrk", "-t2", "-c16", f"-d{duration}s", "--timeout", "2s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=False)
    out = result.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    if not rps or not p99:
        sys.exit(f"could not parse wrk output:\n{out}\n{result.stderr}")
    return {
        "rps": float(rps.group(1)),
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)],
        "bad": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per URL (default 5)")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--reviews", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 30:
        parser.error("--duration must be between 1 and 30 seconds")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")

    data_dir = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    env = environment(data_dir)
    print(f"seeding {args.products} products, {args.reviews} reviews into {data_dir}/db.sqlite3 ...", flush=True)
    seed(env, args.products, args.reviews)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(data_dir / "gunicorn.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "catalog_site.wsgi:application", "--workers", str(args.workers),
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT,
    )
    print(f"gunicorn pid {process.pid}: {args.workers} sync workers on {base}", flush=True)
    results = {}
    runs = []
    try:
        wait_for(base + "/healthz", process)
        status, headers, body = fetch(base + "/fruits/")
        if status != 200:
            sys.exit(f"GET /fruits/ answered {status}")
        etag = headers["ETag"]
        if body != fetch(base + "/naive/fruits/")[2]:
            sys.exit("the fast path and the DRF serializer disagree")
        sizes = {"/fruits/": len(body), "/": len(fetch(base + "/")[2])}
        for _round in range(4):  # let every worker build its copy before measuring
            fetch(base + "/")
            fetch(base + "/fruits/")
        runs = [
            ("GET /fruits/ (ours: kept bytes + version check)", base + "/fruits/", None),
            ("GET / (ours: kept bytes + version check)", base + "/", None),
            ("GET /fruits/ If-None-Match (ours: 304)", base + "/fruits/", {"If-None-Match": etag}),
            ("GET / Accept-Encoding: gzip (ours, as browsers ask)", base + "/", {"Accept-Encoding": "gzip"}),
            # the slow ones last: their queued requests must not spill into our runs
            ("GET /fruits/ (naive: DRF ModelSerializer)", base + "/naive/fruits/", None),
            ("GET / (naive: template per request)", base + "/naive/", None),
        ]
        for label, url, extra in runs:
            drain(base + "/healthz")
            print(f"  wrk -t2 -c16 -d{args.duration}s --latency  {label} ...", flush=True)
            results[label] = wrk(url, args.duration, extra)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        print(f"gunicorn pid {process.pid} stopped", flush=True)

    print()
    print(f"catalog: {args.products} products ({sizes['/fruits/']:,} bytes of JSON, "
          f"{sizes['/']:,} bytes of HTML), {args.workers} gunicorn sync workers, SQLite")
    print(f"{'endpoint':54} {'req/s':>9} {'p99 ms':>8} {'non-2xx/3xx':>12}")
    for label, row in results.items():
        note = f"  socket errors: {row['socket_errors']}" if row["socket_errors"] else ""
        print(f"{label:54} {row['rps']:9.1f} {row['p99_ms']:8.2f} {row['bad']:12d}{note}")
    ours_fruits, ours_home = results[runs[0][0]], results[runs[1][0]]
    naive_fruits, naive_home = results[runs[4][0]], results[runs[5][0]]
    print()
    print(f"ratio GET /fruits/ ours / naive DRF serializer: {ours_fruits['rps'] / naive_fruits['rps']:.1f}x")
    print(f"ratio GET /        ours / naive template:       {ours_home['rps'] / naive_home['rps']:.1f}x")

    failed = []
    for label in (runs[0][0], runs[1][0]):
        row = results[label]
        ok = row["rps"] >= TARGET_RPS and row["p99_ms"] < TARGET_P99_MS and row["bad"] == 0
        print(f"target >= {TARGET_RPS:.0f} req/s, p99 < {TARGET_P99_MS:.0f} ms: {label}: {'met' if ok else 'MISSED'}")
        if not ok:
            failed.append(label)
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
