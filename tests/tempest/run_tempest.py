"""Cinder's own tempest volume API tests against scoriad and a real Keystone.

Tests we write agree with what we believe Cinder does; tempest (Debian's `tempest` with
`cinder-tempest-plugin`) is what Cinder's own gate runs, so it checks the belief. This script:

  1. starts a keystone-mode scoriad (own state directory and port, one `file` backend, the
     posix backup store, generous quotas) with the Daemon of tests/integration/conftest.py;
  2. registers a region of its own (`scoria-tempest-<port>`) with public and internal endpoints
     of the `block-storage` (volumev3) service pointing at that scoriad, so that tempest finds
     it through the catalog as it would find Cinder;
  3. writes a tempest workspace (etc/tempest.conf) in a temporary directory: Keystone's admin
     as the admin credentials, dynamic credentials (tempest creates and deletes its own
     projects and users), only cinder available, microversions 3.0-3.71 and the
     `[volume-feature-enabled]` flags that match Scoria;
  4. runs `tempest run` (stestr, concurrency 2) on `tempest.api.volume` and
     `cinder_tempest_plugin.api`, minus tests/tempest/exclude.txt (tests that need a service we
     do not run);
  5. stops scoriad by pid, removes the endpoints and the region, prints the passed / failed /
     skipped counts and the failed tests, and exits 1 if a test failed that is not listed in
     tests/tempest/known_failures.txt.

Needs the environment of tests/support/keystone_server.py (SCORIA_TEST_KEYSTONE, ...):
    /usr/bin/python3 tests/support/keystone_server.py run -- /usr/bin/python3 tests/tempest/run_tempest.py
Environment:
  SCORIA_BIN              scoriad's directory (default build/bin)
  SCORIA_TEMPEST_SUMMARY  copy the summary (counts, failures, run time) to this file
  SCORIA_TEMPEST_REGEX    run only the tests matching this regex instead of the full selection
  SCORIA_TEMPEST_CONCURRENCY  stestr workers (default 2: the test machines have two cores)
Everything (tempest.conf, tempest.log, the subunit stream, scoriad's log and state) stays in
the temporary directory printed at the start; it is not removed, so a failure can be read.

File formats (both): one test id regex per line, then `# reason`. stestr reads exclude.txt
itself (it takes the text after `#` as the skip reason); known_failures.txt is matched here
with re.search against the full test id (with its `[id-...]` attributes).
"""
import io
import os
import re
import subprocess
import sys
import tempfile
import time

import requests
import subunit
import testtools

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from conftest import Daemon  # noqa: E402

EXCLUDE = os.path.join(HERE, "exclude.txt")
KNOWN_FAILURES = os.path.join(HERE, "known_failures.txt")
SELECTION = r"^(tempest\.api\.volume\.|cinder_tempest_plugin\.api\.)"
MIN_MICROVERSION, MAX_MICROVERSION = "3.0", "3.71"


def read_regex_file(path):
    """[(compiled regex, reason)] from a `regex # reason` file; blank and comment lines skipped."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            regex, _, reason = line.partition("#")
            if not reason.strip():
                sys.exit("%s:%d: every line needs `# reason`" % (path, n))
            out.append((re.compile(regex.strip()), reason.strip()))
    return out


def start_scoriad(base, ks, password):
    d = Daemon(os.path.join(base, "scoriad"),
               extra_default={
                   "auth_strategy": "keystone",
                   "enabled_services": "api,scheduler,volume,backup",
                   "quota_volumes": "1000", "quota_snapshots": "1000",
                   "quota_gigabytes": "100000", "quota_backups": "1000",
                   "quota_backup_gigabytes": "100000"},
               extra_sections={"keystone_authtoken": {
                   "www_authenticate_uri": ks + "/v3", "auth_url": ks, "username": "scoria",
                   "password": password, "project_name": "service",
                   "token_cache_time": "300"}})
    # The Daemon's config already says `enabled_services = api,scheduler,volume`; the later
    # line from extra_default would be a duplicate key, so drop the first.
    with open(d.config_path) as f:
        lines = f.read().split("\n")
    first = lines.index("enabled_services = api,scheduler,volume")
    del lines[first]
    with open(d.config_path, "w") as f:
        f.write("\n".join(lines))
    return d.start(timeout=30)


class Catalog:
    """The region and endpoints this run adds to Keystone, removed again by remove()."""

    def __init__(self, ks, admin_token, region, url):
        self.ks, self.h, self.region = ks, {"X-Auth-Token": admin_token}, region
        self.endpoints = []
        requests.post(ks + "/v3/regions", json={"region": {"id": region}}, headers=self.h,
                      timeout=30).raise_for_status()
        services = requests.get(ks + "/v3/services?type=volumev3", headers=self.h,
                                timeout=30).json()["services"]
        if not services:
            raise RuntimeError("Keystone's catalog has no volumev3 service")
        for interface in ("public", "internal"):
            r = requests.post(ks + "/v3/endpoints", headers=self.h, timeout=30, json={
                "endpoint": {"service_id": services[0]["id"], "interface": interface,
                             "region_id": region, "url": url + "/v3/%(project_id)s"}})
            r.raise_for_status()
            self.endpoints.append(r.json()["endpoint"]["id"])

    def remove(self):
        for eid in self.endpoints:
            requests.delete(self.ks + "/v3/endpoints/" + eid, headers=self.h, timeout=30)
        requests.delete(self.ks + "/v3/regions/" + self.region, headers=self.h, timeout=30)


def admin_token(ks, password):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    r = requests.post(ks + "/v3/auth/tokens", json=body, timeout=30)
    r.raise_for_status()
    return r.headers["X-Subject-Token"]


def write_tempest_conf(path, log_dir, ks, password, region):
    conf = """[DEFAULT]
log_dir = {log_dir}
log_file = tempest.log
debug = true

[auth]
use_dynamic_credentials = true
admin_username = admin
admin_password = {password}
admin_project_name = admin
admin_domain_name = Default
default_credentials_domain_name = Default
create_isolated_networks = false

[identity]
uri_v3 = {ks}/v3
auth_version = v3
region = RegionOne
v3_endpoint_type = public

[identity-feature-enabled]
api_v2 = false
api_v3 = true

[service_available]
cinder = true
nova = false
glance = false
swift = false
neutron = false
barbican = false

[volume]
catalog_type = volumev3
region = {region}
endpoint_type = publicURL
min_microversion = {minv}
max_microversion = {maxv}
build_interval = 1
build_timeout = 120
volume_size = 1
# What scheduler-stats/get_pools reports for the file backend: test_volume_pools compares,
# test_volume_types puts both in a type's extra specs and expects the volume to be scheduled.
storage_protocol = iSCSI
vendor_name = Scoria

[volume-feature-enabled]
backup = true
snapshot = true
clone = true
# One backend per scoriad here; the multi-backend tests need two named ones.
multi_backend = false
manage_volume = false
manage_snapshot = false
# Needs Nova (extending the volume of a running server, compute microversion 2.51).
extend_attached_volume = false
extend_attached_encrypted_volume = false
api_extensions = all
# cinder-tempest-plugin's flags
volume_revert = true
consistency_group = false
""".format(log_dir=log_dir, password=password, ks=ks, region=region,
           minv=MIN_MICROVERSION, maxv=MAX_MICROVERSION)
    with open(path, "w") as f:
        f.write(conf)


def parse_subunit(stream):
    """{test id: (status, details text)} from a subunit v2 byte stream."""
    results = {}

    def on_test(test):
        details = []
        for name, content in test["details"].items():
            if name in ("traceback", "reason"):
                try:
                    details.append(content.as_text())
                except Exception:  # a binary attachment: not worth showing
                    pass
        results[test["id"]] = (test["status"], "\n".join(details))

    case = subunit.ByteStreamToStreamResult(io.BytesIO(stream), non_subunit_name="stdout")
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    case.run(result)
    result.stopTestRun()
    return results


def summarise(results, known, seconds):
    passed = sorted(t for t, (s, _) in results.items() if s in ("success", "xfail"))
    failed = sorted(t for t, (s, _) in results.items() if s in ("fail", "uxsuccess"))
    skipped = sorted(t for t, (s, _) in results.items() if s == "skip")
    expected, unexpected = [], []
    for t in failed:
        reason = next((r for rx, r in known if rx.search(t)), None)
        (expected if reason else unexpected).append((t, reason))
    stale = [rx.pattern for rx, _ in known
             if not any(rx.search(t) for t in failed)]
    lines = ["tempest against scoriad: %d passed, %d failed (%d known, %d new), %d skipped "
             "in %.0f s" % (len(passed), len(failed), len(expected), len(unexpected),
                            len(skipped), seconds)]
    if unexpected:
        lines.append("")
        lines.append("NEW FAILURES (not in tests/tempest/known_failures.txt):")
        lines += ["  " + t for t, _ in unexpected]
    if expected:
        lines.append("")
        lines.append("known failures:")
        lines += ["  %s\n      -> %s" % (t, r) for t, r in expected]
    if stale:
        lines.append("")
        lines.append("known_failures.txt lines that matched no failure (fixed? remove them):")
        lines += ["  " + p for p in stale]
    return "\n".join(lines) + "\n", unexpected


def main():
    ks = os.environ.get("SCORIA_TEST_KEYSTONE")
    password = os.environ.get("SCORIA_TEST_KEYSTONE_PASSWORD")
    if not ks or not password:
        print("run_tempest.py: no Keystone; run it under tests/support/keystone_server.py run --",
              file=sys.stderr)
        return 2
    base = tempfile.mkdtemp(prefix="scoria-tempest-")
    print("run_tempest: workspace, logs and scoriad state in %s" % base, flush=True)
    known = read_regex_file(KNOWN_FAILURES)
    read_regex_file(EXCLUDE)  # only to check that every line has its reason
    os.makedirs(os.path.join(base, "scoriad"))
    os.makedirs(os.path.join(base, "etc"))
    d = start_scoriad(base, ks, password)
    catalog = None
    t0 = time.time()
    try:
        catalog = Catalog(ks, admin_token(ks, password), "scoria-tempest-%d" % d.port, d.url)
        conf = os.path.join(base, "etc", "tempest.conf")
        write_tempest_conf(conf, base, ks, password, catalog.region)
        env = dict(os.environ, PYTHON="/usr/bin/python3")
        for var in [v for v in env if v.startswith("OS_")]:
            env.pop(var)  # tempest reads only its tempest.conf; a stray OS_CLOUD confuses it
        cmd = ["/usr/bin/tempest", "run", "--config-file", conf,
               "--regex", os.environ.get("SCORIA_TEMPEST_REGEX", SELECTION),
               "--exclude-list", EXCLUDE,
               "--concurrency", os.environ.get("SCORIA_TEMPEST_CONCURRENCY", "2")]
        print("run_tempest: " + " ".join(cmd), flush=True)
        with open(os.path.join(base, "tempest-run.out"), "w") as out:
            rc = subprocess.call(cmd, cwd=base, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT)
        seconds = time.time() - t0
        stream = subprocess.run(["/usr/bin/stestr", "last", "--subunit"], cwd=base,
                                capture_output=True, stdin=subprocess.DEVNULL).stdout
    finally:
        d.stop()
        if catalog:
            catalog.remove()
    with open(os.path.join(base, "results.subunit"), "wb") as f:
        f.write(stream)
    results = parse_subunit(stream)
    if not results:
        print("run_tempest: tempest ran no test (exit %d); see %s/tempest-run.out"
              % (rc, base), file=sys.stderr)
        return 1
    text, unexpected = summarise(results, known, seconds)
    with open(os.path.join(base, "failures.txt"), "w") as f:
        for t, (s, details) in sorted(results.items()):
            if s in ("fail", "uxsuccess"):
                f.write("=" * 78 + "\n%s\n%s\n" % (t, details))
    text += "\nworkspace: %s (tempest.log, tempest-run.out, failures.txt, scoriad/scoriad.log)\n" \
        % base
    with open(os.path.join(base, "summary.txt"), "w") as f:
        f.write(text)
    if os.environ.get("SCORIA_TEMPEST_SUMMARY"):
        with open(os.environ["SCORIA_TEMPEST_SUMMARY"], "w") as f:
            f.write(text)
    print(text, end="")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
