#!/usr/bin/env python3
"""Control-plane benchmark against a real scoriad (one `file` backend), on SQLite and on
PostgreSQL in the same run (a throw-away server from tests/support/pg_server.py that fsyncs
its commits, as SQLite does).

For each database:
1. create-until-available latency: POST /volumes, then poll GET /volumes/{id} on the same
   keep-alive connection until `available`; p50/p95, with 1 and with 8 clients at once.
2. delete-until-gone latency: DELETE, then poll until 404; p50/p95, 1 and 8 clients.
3. GET /volumes/detail throughput with 200 volumes, at 1, 8 and 32 concurrent keep-alive
   clients, measured by wrk (an HTTP load generator nobody here wrote).

Prints figures; asserts nothing. Usage: api_bench.py BIN_DIR [sqlite|postgresql ...]
"""
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import Daemon  # noqa: E402

TOKEN = "admin:admin"


def request(conn, method, path, body=None):
    headers = {"X-Auth-Token": TOKEN}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def create_one(conn, name):
    t0 = time.perf_counter()
    status, out = request(conn, "POST", "/v3/volumes", {"volume": {"size": 1, "name": name}})
    assert status == 202, out
    vid = out["volume"]["id"]
    while True:
        status, out = request(conn, "GET", "/v3/volumes/" + vid)
        if out["volume"]["status"] == "available":
            break
        assert out["volume"]["status"] == "creating", out
    return vid, (time.perf_counter() - t0) * 1000


def delete_one(conn, vid):
    t0 = time.perf_counter()
    status, out = request(conn, "DELETE", "/v3/volumes/" + vid)
    assert status == 202, out
    while request(conn, "GET", "/v3/volumes/" + vid)[0] != 404:
        pass
    return (time.perf_counter() - t0) * 1000


def concurrently(d, clients, per_client, work):
    """Runs work(conn, client, i) per_client times on each of `clients` threads, each with
    its own keep-alive connection; returns every result and the wall time in seconds."""
    results, lock = [], threading.Lock()

    def run(c):
        conn = http.client.HTTPConnection("127.0.0.1", d.port)
        for i in range(per_client):
            r = work(conn, c, i)
            with lock:
                results.append(r)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def summary(lat):
    lat = sorted(lat)
    return "p50 %6.2f ms, p95 %6.2f ms, max %6.2f ms" % (
        statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], lat[-1])


def create_delete(d, clients, total):
    made, secs = concurrently(d, clients, total // clients,
                              lambda conn, c, i: create_one(conn, "lat%d-%d" % (c, i)))
    print("  create -> available, c=%d, %d volumes: %s, %6.0f creates/s"
          % (clients, len(made), summary([m[1] for m in made]), len(made) / secs))
    ids = [m[0] for m in made]
    gone, secs = concurrently(d, clients, len(ids) // clients,
                              lambda conn, c, i: delete_one(conn, ids[c * (len(ids) // clients) + i]))
    print("  delete -> gone,      c=%d, %d volumes: %s, %6.0f deletes/s"
          % (clients, len(gone), summary(gone), len(gone) / secs))


def fill(d, total):
    conn = http.client.HTTPConnection("127.0.0.1", d.port)
    status, out = request(conn, "GET", "/v3/volumes?limit=1000")
    have = len(out["volumes"])
    ids = []
    for i in range(have, total):
        status, out = request(conn, "POST", "/v3/volumes", {"volume": {"size": 1, "name": "fill%d" % i}})
        ids.append(out["volume"]["id"])
    for vid in ids:
        while request(conn, "GET", "/v3/volumes/" + vid)[1]["volume"]["status"] != "available":
            time.sleep(0.01)


def detail_throughput(d, clients, seconds):
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    threads = min(clients, 2)
    out = subprocess.run(
        [wrk, "-t%d" % threads, "-c%d" % clients, "-d%ds" % seconds, "-H", "X-Auth-Token: " + TOKEN,
         "%s/v3/volumes/detail" % d.url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = re.search(r"Latency\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat, int(non2xx.group(1)) if non2xx else 0


def bench_one(bin_dir, database):
    import conftest
    conftest.DB_MODE = database
    state = tempfile.mkdtemp(prefix="scoria-bench-")
    d = Daemon(state, extra_default={"quota_volumes": "-1", "quota_gigabytes": "-1",
                                     "log_level": "warning"})
    print("-- %s: %s" % (database, d.db_connection.split("@")[-1]))
    try:
        d.start()
        create_delete(d, 1, 50)
        create_delete(d, 8, 200)
        print("  reference (issue 10): Cinder 21.3.1 + MariaDB + RabbitMQ, create 1 GiB -> "
              "available 188 ms p50; goal < 10 ms on PostgreSQL")
        fill(d, 200)
        conn = http.client.HTTPConnection("127.0.0.1", d.port)
        n = len(request(conn, "GET", "/v3/volumes/detail")[1]["volumes"])
        for clients in (1, 8, 32):
            res = detail_throughput(d, clients, 5)
            if res is None:
                print("  GET /volumes/detail: wrk not installed, skipped")
                break
            rps, lat, errors = res
            print("  GET /volumes/detail (%d volumes), %2d keep-alive clients: %8.0f req/s, "
                  "mean latency %s, errors %d" % (n, clients, rps, lat, errors))
        print("  reference (issue 10): Cinder 21.3.1, 200 volumes: 8-18 req/s; goal >= 100x")
    finally:
        d.stop()
        shutil.rmtree(state, ignore_errors=True)


def main():
    # A server of our own that fsyncs its commits, as SQLite does: the test server does not.
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "support"))
    import pg_server
    server = pg_server.PgServer(durable=True).start()
    os.environ["SCORIA_TEST_POSTGRES"] = server.url
    try:
        run_all()
    finally:
        server.cleanup()


def run_all():
    bin_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
    os.environ["SCORIA_BIN"] = bin_dir
    import conftest
    conftest.BIN_DIR = bin_dir
    conftest._pg["url"] = os.environ["SCORIA_TEST_POSTGRES"]
    for database in sys.argv[2:] or ["sqlite", "postgresql"]:
        bench_one(bin_dir, database)


if __name__ == "__main__":
    main()
