#!/usr/bin/env python3
"""What Keystone authentication costs the API (issue 12): GET /volumes/detail with 200 volumes,
8 keep-alive clients (wrk), against two scoriad on SQLite in the same run, one with
auth_strategy = noauth and one with auth_strategy = keystone whose token is in the cache (the
steady state: keystonemiddleware-style validation happens once per token per
token_cache_time). The two are alternated ROUNDS times so a machine that slows down during
the run slows both; each line also gives scoriad's CPU time per request (from /proc), which
varies less than req/s here.

Keystone comes from tests/support/keystone_server.py (started here unless SCORIA_TEST_KEYSTONE
names a running one). Prints figures; asserts nothing. Usage: auth_bench.py [BIN_DIR]
For comparison (issue 10): Cinder 21.3.1 serves this listing at 8-18 req/s.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
sys.path.insert(0, HERE)
import api_bench  # noqa: E402
import conftest  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "5"))


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(d, token, path):
    out = subprocess.run(
        ["wrk", "-t2", "-c8", "-d%ds" % SECONDS, "-H", "X-Auth-Token: " + token,
         d.url + "/v3" + path], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(non2xx.group(1)) if non2xx else 0


def run(ks_url, password):
    import requests
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "alpha-member", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "alpha", "domain": {"id": "default"}}}}}
    r = requests.post(ks_url + "/v3/auth/tokens", json=body, timeout=30)
    r.raise_for_status()
    ks_token = r.headers["X-Subject-Token"]

    quotas = {"quota_volumes": "-1", "quota_gigabytes": "-1", "log_level": "warning"}
    noauth = conftest.Daemon(tempfile.mkdtemp(prefix="scoria-bench-"), extra_default=quotas)
    keystone = conftest.Daemon(
        tempfile.mkdtemp(prefix="scoria-bench-"),
        extra_default=dict(quotas, auth_strategy="keystone"),
        extra_sections={"keystone_authtoken": {
            "auth_url": ks_url, "username": "scoria", "password": password,
            "project_name": "service", "token_cache_time": "300"}})
    daemons = [("noauth", noauth, api_bench.TOKEN), ("keystone", keystone, ks_token)]
    try:
        for name, d, token in daemons:
            d.start()
            api_bench.TOKEN = token  # fill() creates as this caller
            api_bench.fill(d, 200)
        one = {}
        for name, d, token in daemons:
            api_bench.TOKEN = token
            d.token = token
            one[name] = d.get("/volumes")[2]["volumes"][0]["id"]
        for label, path_of in (("GET /volumes/detail (200 volumes)", lambda n: "/volumes/detail"),
                               ("GET /volumes/{id}", lambda n: "/volumes/" + one[n])):
            rates = {"noauth": [], "keystone": []}
            cpu = {"noauth": [], "keystone": []}
            for _ in range(ROUNDS):
                for name, d, token in daemons:
                    before = cpu_seconds(d.proc.pid)
                    rps, errors = wrk(d, token, path_of(name))
                    used = cpu_seconds(d.proc.pid) - before
                    rates[name].append(rps)
                    cpu[name].append(used / (rps * SECONDS) * 1e6)
                    print("  %-8s %s, 8 clients: %7.0f req/s, %5.0f us scoriad CPU/request, "
                          "errors %d" % (name, label, rps, cpu[name][-1], errors), flush=True)
            best = {k: max(v) for k, v in rates.items()}
            mean_cpu = {k: sum(v) / len(v) for k, v in cpu.items()}
            print("  %s: best of %d noauth %.0f req/s, keystone (cached token) %.0f req/s = "
                  "%.1f %%; mean CPU/request noauth %.0f us, keystone %.0f us (%+.1f %%)" % (
                      label, ROUNDS, best["noauth"], best["keystone"],
                      100.0 * best["keystone"] / best["noauth"], mean_cpu["noauth"],
                      mean_cpu["keystone"],
                      100.0 * (mean_cpu["keystone"] / mean_cpu["noauth"] - 1)), flush=True)
        print("  reference (issue 10): Cinder 21.3.1, GET /volumes/detail with 200 volumes: "
              "8-18 req/s; goal (issue 12): the token cache costs under 5 %")
    finally:
        for _, d, _ in daemons:
            d.stop()
            shutil.rmtree(d.state_dir, ignore_errors=True)


def main():
    bin_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
    conftest.BIN_DIR = bin_dir
    if os.environ.get("SCORIA_TEST_KEYSTONE"):
        run(os.environ["SCORIA_TEST_KEYSTONE"], os.environ["SCORIA_TEST_KEYSTONE_PASSWORD"])
        return
    import keystone_server
    server = keystone_server.KeystoneServer()
    try:
        server.start()
        run(server.url, keystone_server.PASSWORD)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
