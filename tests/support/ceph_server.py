"""A throw-away single-node Ceph for the tests: 1 mon, 1 mgr, 1 bluestore OSD on a file, and
optionally radosgw (S3 + Swift), all on 127.0.0.1, cephx on, stopped by pid.

Used two ways:
  - `/usr/bin/python3 tests/support/ceph_server.py run [--rgw] -- CMD ...`: starts one cluster,
    runs CMD with SCORIA_TEST_CEPH_CONF=<ceph.conf> (client.admin's keyring is the file the
    conf's `keyring` names, next to it) and, with --rgw, SCORIA_TEST_RGW_URL,
    SCORIA_TEST_S3_ACCESS_KEY, SCORIA_TEST_S3_SECRET_KEY, SCORIA_TEST_SWIFT_USER and
    SCORIA_TEST_SWIFT_KEY (and SCORIA_TEST_CEPH_MON_PID / _OSD_PID, for fault tests that pause
    a daemon and resume it), stops the cluster, exits with CMD's code. When SCORIA_TEST_CEPH_CONF
    is already set, CMD simply runs against that cluster (nested `make test` runs share one).
    `make test` wraps the whole test run in it: the cluster starts once (~15 s, +10-15 s for
    radosgw), every test shares it.
  - `CephServer().start()` from Python, `.create_pool(name)`, `.create_client(name, caps)`,
    `.stop()`, `.cleanup()`.

Why it is set up this way (each line fixed a failure on this kind of machine, see
/work/shared/reference/recipes/ceph.sh):
  - one replica (`osd_pool_default_size = 1`, `mon_allow_pool_size_one`), crush on OSDs
    (`osd_crush_chooseleaf_type = 0`): one OSD must be enough for active+clean;
  - no pg autoscaler and 8 PGs a pool: pools come up in a second instead of splitting;
  - `mon_data_avail_*` low: test machines have nearly full disks and the mon would stop;
  - every port chosen free at start (the messenger's port range too), so two clusters on one
    machine (two engineers' test runs) do not meet;
  - admin sockets for the daemons only: clients (many librados handles in one test process)
    would collide on one socket name;
  - every daemon gets its own log file and stdin from /dev/null: a daemon that inherits a pipe
    keeps `make test | tee` open for ever.
Keyrings are `<base>/ceph.<name>.keyring` (the conf's `keyring = $cluster.$name.keyring`
pattern), so a restricted client made by create_client is used with only `--id NAME`.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

CLASS_DIR = "/usr/lib/x86_64-linux-gnu/rados-classes"


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_port_window(width=100):
    """A [lo, hi] range of ports whose ends are free now; the messenger skips busy ports inside
    it, so it only has to be unlikely to be shared, not guaranteed free."""
    for _ in range(50):
        lo = random.randrange(20000, 30000 - width)
        if _port_is_free(lo) and _port_is_free(lo + width // 2):
            return lo, lo + width
    raise RuntimeError("no free port window for the Ceph messengers")


class CephServer:
    """One single-node cluster in its own directory. osd_gb: the OSD file's size (sparse)."""

    def __init__(self, base=None, osd_gb=10, rgw=False):
        self.base = base or tempfile.mkdtemp(prefix="scoria-ceph-")
        self.osd_gb = osd_gb
        self.rgw = rgw
        self.conf = os.path.join(self.base, "ceph.conf")
        self.fsid = str(uuid.uuid4())
        self.mon_v2 = free_port()
        self.mon_v1 = free_port()
        self.rgw_port = free_port() if rgw else None
        self.pids = {}  # daemon name -> pid, in start order
        self._procs = {}  # daemon name -> Popen (our children)
        self.s3_access_key = "scoria-test-access"
        self.s3_secret_key = "scoria-test-secret-" + uuid.uuid4().hex[:12]
        self.swift_user = "scoria-backup:swift"
        self.swift_key = "scoria-swift-" + uuid.uuid4().hex[:12]

    # --- helpers ------------------------------------------------------------------------
    @property
    def rgw_url(self):
        return "http://127.0.0.1:%d" % self.rgw_port if self.rgw_port else None

    def keyring(self, name="client.admin"):
        return os.path.join(self.base, "ceph.%s.keyring" % name)

    def _log(self, name):
        return open(os.path.join(self.base, "log", name + ".out"), "ab")

    def _run(self, argv, check=True, timeout=120):
        """A one-shot tool (ceph, rbd, radosgw-admin, ...) against this cluster."""
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout, env=dict(os.environ, CEPH_CONF=self.conf))
        if check and out.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), out.returncode,
                                                       out.stderr.strip()[-2000:]))
        return out.stdout

    def ceph(self, *args, check=True):
        return self._run(["ceph", "-c", self.conf, "--connect-timeout", "30"] + list(args),
                         check=check)

    def _daemon(self, name, argv):
        """Starts a daemon in the foreground (-f) as our child, so its pid is ours to stop."""
        with self._log(name) as log:
            proc = subprocess.Popen(argv + ["-f"], stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.pids[name] = proc.pid
        self._procs[name] = proc
        return proc

    def _wait(self, what, pred, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise RuntimeError("ceph %s exited with %s while waiting for %s; see %s"
                                       % (name, proc.returncode, what,
                                          os.path.join(self.base, "log")))
            try:
                if pred():
                    return
            except (subprocess.SubprocessError, RuntimeError, OSError, ValueError):
                pass
            time.sleep(0.25)
        raise RuntimeError("ceph: %s not reached in %d s; logs in %s"
                           % (what, timeout, os.path.join(self.base, "log")))

    # --- start / stop -------------------------------------------------------------------
    def _write_conf(self):
        lo, hi = _free_port_window()
        b = self.base
        mon_addr = "[v2:127.0.0.1:%d,v1:127.0.0.1:%d]" % (self.mon_v2, self.mon_v1)
        lines = """[global]
fsid = {fsid}
mon_host = {mon_addr}
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_port_min = {lo}
ms_bind_port_max = {hi}
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = {b}/$cluster.$name.keyring
run_dir = {b}/run
log_file = {b}/log/$name.log
crash_dir = {b}/crash
log_to_stderr = false
err_to_stderr = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
auth_allow_insecure_global_id_reclaim = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
[mon]
admin_socket = {b}/run/$name.asok
mon_data = {b}/mon.$id
mon_cluster_log_file = {b}/log/cluster.log
[mgr]
admin_socket = {b}/run/$name.asok
mgr_data = {b}/mgr.$id
keyring = {b}/mgr.$id/keyring
[osd]
admin_socket = {b}/run/$name.asok
osd_data = {b}/osd.$id
keyring = {b}/osd.$id/keyring
osd_objectstore = bluestore
osd_memory_target = 939524096
bluestore_block_create = true
bluestore_block_size = {size}
bluestore_fsck_on_mkfs = false
bluestore_block_db_create = false
bluestore_block_wal_create = false
osd_class_dir = {cls}
""".format(fsid=self.fsid, mon_addr=mon_addr, lo=lo, hi=hi, b=b,
           size=self.osd_gb * 1024 ** 3, cls=CLASS_DIR)
        if self.rgw:
            lines += """[client.rgw.gw]
rgw_frontends = beast endpoint=127.0.0.1:{port}
rgw_data = {b}/rgw.gw
keyring = {b}/rgw.gw/keyring
rgw_thread_pool_size = 64
""".format(port=self.rgw_port, b=b)
        with open(self.conf, "w") as f:
            f.write(lines)
        return mon_addr

    def start(self, timeout=120):
        t0 = time.time()
        for d in ("run", "log", "crash", "mon.a", "mgr.x", "osd.0", "rgw.gw"):
            os.makedirs(os.path.join(self.base, d), exist_ok=True)
        mon_addr = self._write_conf()
        conf = ["-c", self.conf]
        # mon: its own key and client.admin's, both in the keyring mkfs seeds the mon with.
        admin, mon_kr = self.keyring(), os.path.join(self.base, "mon.keyring")
        self._run(["ceph-authtool", "--create-keyring", mon_kr, "--gen-key", "-n", "mon.",
                   "--cap", "mon", "allow *"])
        self._run(["ceph-authtool", "--create-keyring", admin, "--gen-key", "-n", "client.admin",
                   "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr",
                   "allow *", "--cap", "mds", "allow *"])
        self._run(["ceph-authtool", mon_kr, "--import-keyring", admin])
        monmap = os.path.join(self.base, "monmap")
        self._run(["monmaptool", "--create", "--fsid", self.fsid, "--addv", "a", mon_addr, monmap])
        self._run(["ceph-mon"] + conf + ["--mkfs", "-i", "a", "--monmap", monmap,
                                         "--keyring", mon_kr])
        self._daemon("mon.a", ["ceph-mon"] + conf + ["-i", "a"])
        self._wait("the monitor", lambda: self.ceph("mon", "stat") is not None, 60)
        # mgr
        mgr_kr = os.path.join(self.base, "mgr.x", "keyring")
        self.ceph("auth", "get-or-create", "mgr.x", "mon", "allow profile mgr", "osd", "allow *",
                  "mds", "allow *", "-o", mgr_kr)
        self._daemon("mgr.x", ["ceph-mgr"] + conf + ["-i", "x"])
        # osd: registered with a key we make, then mkfs on a sparse file, then started.
        osd_uuid, secret = str(uuid.uuid4()), self._run(["ceph-authtool", "--gen-print-key"]).strip()
        new_json = os.path.join(self.base, "osd.0", "new.json")
        with open(new_json, "w") as f:
            json.dump({"cephx_secret": secret}, f)
        self.ceph("osd", "new", osd_uuid, "-i", new_json)
        with open(os.path.join(self.base, "osd.0", "keyring"), "w") as f:
            f.write("[osd.0]\n\tkey = %s\n" % secret)
        self._run(["ceph-osd"] + conf + ["-i", "0", "--mkfs", "--key", secret, "--osd-uuid",
                                         osd_uuid])
        self._daemon("osd.0", ["ceph-osd"] + conf + ["-i", "0"])
        self._wait("the OSD up", lambda: '"num_up_osds":1' in
                   self.ceph("osd", "stat", "-f", "json").replace(" ", ""), timeout)
        if self.rgw:
            self._start_rgw(timeout)
        self.startup_seconds = time.time() - t0
        return self

    def _start_rgw(self, timeout):
        # The pools radosgw would make lazily on the first request (seconds each, then).
        for pool in (".rgw.root", "default.rgw.log", "default.rgw.control", "default.rgw.meta",
                     "default.rgw.buckets.index", "default.rgw.buckets.data",
                     "default.rgw.buckets.non-ec"):
            self.ceph("osd", "pool", "create", pool, "8", "8", "replicated")
            self.ceph("osd", "pool", "application", "enable", pool, "rgw")
        kr = os.path.join(self.base, "rgw.gw", "keyring")
        self.ceph("auth", "get-or-create", "client.rgw.gw", "mon", "allow rw", "osd", "allow rwx",
                  "mgr", "allow rw", "-o", kr)
        self._daemon("client.rgw.gw", ["radosgw", "-c", self.conf, "-n", "client.rgw.gw"])

        def answering():
            with socket.create_connection(("127.0.0.1", self.rgw_port), timeout=1):
                return True
        self._wait("radosgw answering", answering, timeout)
        admin = ["radosgw-admin", "-c", self.conf]
        self._run(admin + ["user", "create", "--uid=scoria-backup", "--display-name=scoria tests",
                           "--access-key=" + self.s3_access_key,
                           "--secret-key=" + self.s3_secret_key])
        self._run(admin + ["subuser", "create", "--uid=scoria-backup",
                           "--subuser=" + self.swift_user, "--access=full",
                           "--key-type=swift", "--secret-key=" + self.swift_key])

    def wait_pool_clean(self, timeout=60):
        """Every PG active+clean: a pool just made takes a moment to peer."""
        def clean():
            st = json.loads(self.ceph("pg", "stat", "-f", "json"))
            summary = st.get("pg_summary", st)
            total = summary.get("num_pgs", 0)
            by_state = {s["name"]: s["num"] for s in summary.get("num_pg_by_state", [])}
            return total > 0 and by_state.get("active+clean", 0) == total
        self._wait("all PGs active+clean", clean, timeout)

    def create_pool(self, name, pg_num=8):
        """An RBD pool (idempotent)."""
        self.ceph("osd", "pool", "create", name, str(pg_num), str(pg_num), "replicated")
        self._run(["rbd", "-c", self.conf, "pool", "init", name])
        self.wait_pool_clean()
        return name

    def create_client(self, name, caps):
        """A cephx user client.<name> with `caps` ({"mon": "profile rbd", "osd": "..."}); its
        keyring goes where the conf's keyring pattern finds it. Returns the keyring path."""
        path = self.keyring("client." + name)
        args = ["auth", "get-or-create", "client." + name]
        for daemon, cap in caps.items():
            args += [daemon, cap]
        self.ceph(*(args + ["-o", path]))
        return path

    def stop(self):
        """Stops every daemon by pid, newest first: SIGTERM, then SIGKILL after 15 s."""
        for name in reversed(list(self.pids)):
            pid = self.pids.pop(name)
            proc = self._procs.pop(name, None)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                if proc is not None:
                    proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def environment(self):
        # The daemons' pids let fault tests pause one (SIGSTOP) and resume it (SIGCONT).
        env = {"SCORIA_TEST_CEPH_CONF": self.conf,
               "SCORIA_TEST_CEPH_MON_PID": str(self.pids.get("mon.a", "")),
               "SCORIA_TEST_CEPH_OSD_PID": str(self.pids.get("osd.0", ""))}
        if self.rgw:
            env.update(SCORIA_TEST_RGW_URL=self.rgw_url,
                       SCORIA_TEST_S3_ACCESS_KEY=self.s3_access_key,
                       SCORIA_TEST_S3_SECRET_KEY=self.s3_secret_key,
                       SCORIA_TEST_SWIFT_USER=self.swift_user,
                       SCORIA_TEST_SWIFT_KEY=self.swift_key)
        return env


def main(argv):
    args = argv[1:]
    usage = "usage: ceph_server.py run [--rgw] -- CMD [ARGS...]"
    if not args or args[0] != "run" or "--" not in args:
        print(usage, file=sys.stderr)
        return 2
    opts, cmd = args[1:args.index("--")], args[args.index("--") + 1:]
    if not cmd or any(o != "--rgw" for o in opts):
        print(usage, file=sys.stderr)
        return 2
    if os.environ.get("SCORIA_TEST_CEPH_CONF"):
        print("ceph_server: using the cluster of SCORIA_TEST_CEPH_CONF=%s"
              % os.environ["SCORIA_TEST_CEPH_CONF"], flush=True)
        return subprocess.call(cmd)
    server = CephServer(rgw="--rgw" in opts)
    try:
        server.start()
        print("ceph_server: Ceph up (mon 127.0.0.1:%d%s) in %.1f s, conf %s"
              % (server.mon_v2, ", rgw " + server.rgw_url if server.rgw else "",
                 server.startup_seconds, server.conf), flush=True)
        return subprocess.call(cmd, env=dict(os.environ, **server.environment()))
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
