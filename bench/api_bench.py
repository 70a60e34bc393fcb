#!/usr/bin/env python3
"""Control-plane benchmark against a real scoriad (SQLite, one `file` backend).

1. create-until-available latency: POST /volumes, then poll GET /volumes/{id} on the same
   keep-alive connection until `available`; p50/p95 over N volumes (one at a time).
2. GET /volumes/detail throughput with 200 volumes, at 1, 8 and 32 concurrent keep-alive
   clients, measured by wrk (an HTTP load generator nobody here wrote).

Prints figures; asserts nothing. Usage: api_bench.py BIN_DIR
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


def create_latency(d, n):
    conn = http.client.HTTPConnection("127.0.0.1", d.port)
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        status, out = request(conn, "POST", "/v3/volumes", {"volume": {"size": 1, "name": "lat%d" % i}})
        assert status == 202, out
        vid = out["volume"]["id"]
        while True:
            status, out = request(conn, "GET", "/v3/volumes/" + vid)
            if out["volume"]["status"] == "available":
                break
            assert out["volume"]["status"] == "creating", out
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], lat[-1]


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


def main():
    bin_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
    os.environ["SCORIA_BIN"] = bin_dir
    import conftest
    conftest.BIN_DIR = bin_dir
    state = tempfile.mkdtemp(prefix="scoria-bench-")
    d = Daemon(state, extra_default={"quota_volumes": "-1", "quota_gigabytes": "-1",
                                     "log_level": "warning"})
    try:
        d.start()
        p50, p95, worst = create_latency(d, 50)
        print("create-until-available, 50 volumes one at a time: p50 %.2f ms, p95 %.2f ms, max %.2f ms"
              % (p50, p95, worst))
        print("  reference (issue): stock Cinder with a no-op driver ~190 ms; goal <= 9.5 ms")
        fill(d, 200)
        conn = http.client.HTTPConnection("127.0.0.1", d.port)
        n = len(request(conn, "GET", "/v3/volumes/detail")[1]["volumes"])
        for clients in (1, 8, 32):
            res = detail_throughput(d, clients, 5)
            if res is None:
                print("GET /volumes/detail: wrk not installed, skipped")
                break
            rps, lat, errors = res
            print("GET /volumes/detail (%d volumes), %2d keep-alive clients: %8.0f req/s, mean latency %s, "
                  "errors %d" % (n, clients, rps, lat, errors))
        print("  reference (issue): stock Cinder ~10 listings/s; goal >= 200/s")
    finally:
        d.stop()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
