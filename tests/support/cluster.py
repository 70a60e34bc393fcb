"""A small Scoria cluster in network namespaces: hosts that are separate as far as the network goes.

Topology (made by `Cluster.build()`, removed by `Cluster.teardown()`; needs root and `ip netns`):

    hub namespace: bridge br0 -- one veth per host namespace
    ctl    10.231.0.2   scoriad: api + scheduler
    node1  10.231.0.11  scoriad: volume + backup, file backend, iSCSI target on its own address
    node2  10.231.0.12  scoriad: volume + backup
    db     10.231.0.5   PostgreSQL (tests/support/pg_server.py)
    client 10.231.0.100 initiators (libiscsi, qemu-io) and the test's HTTP requests

Namespace names carry a prefix and the pid of the test process (`scl<pid>-ctl`), so parallel or
leftover runs cannot collide; the addresses live only inside these namespaces, which is why every
run can use the same ones. Nothing is added to the root namespace: processes run with
`ip netns exec`, and HTTP from the test process goes through threads that joined the client
namespace with setns(2) (`Cluster.http`).

Processes are started and killed by pid; `teardown` kills what is left and deletes the
namespaces. A run killed before its teardown is cleaned up by the next one (`reap_leftovers`:
only namespaces whose test pid is gone).
"""
import concurrent.futures
import ctypes
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pg_server

SUBNET_BITS = 24
ADDRESSES = {"ctl": "10.231.0.2", "db": "10.231.0.5", "node1": "10.231.0.11",
             "node2": "10.231.0.12", "client": "10.231.0.100"}
API_PORT = 8776
TARGET_PORT = 3260
PG_PORT = 5432
CLONE_NEWNET = 0x40000000


def unavailable_reason():
    """Why the cluster cannot be built here, or None."""
    if os.geteuid() != 0:
        return "the cluster tests create network namespaces: they need root"
    if not shutil.which("ip"):
        return "the cluster tests need iproute2 (ip netns)"
    probe = "sclprobe%d" % os.getpid()
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        return "ip netns is unavailable here: " + p.stderr.strip()
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def sh(*args, check=True, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s -> %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


_libc = ctypes.CDLL(None, use_errno=True)


def _enter_netns(name):
    """Moves the calling thread (only it) into namespace `name`."""
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def reap_leftovers(prefix):
    """Removes what runs of dead test processes left (a run killed before its teardown):
    namespaces `<prefix><pid>-*` whose pid is gone, with the processes inside them, and their
    state directories. Runs of live processes are left alone."""
    listed = sh("ip", "netns", "list", check=False).stdout.split()
    dead = set()
    for ns in listed:
        m = re.match(r"^%s(\d+)-\w+$" % re.escape(prefix), ns)
        if m and not _alive(int(m.group(1))):
            dead.add(int(m.group(1)))
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", ns, check=False)
    for pid in dead:
        for d in glob.glob(os.path.join(tempfile.gettempdir(), "scoria-cluster-%d-*" % pid)):
            shutil.rmtree(d, ignore_errors=True)


class Node:
    """One scoriad: its namespace, config file, state directory and process."""

    def __init__(self, cluster, name, services, backends=("file1",)):
        self.cluster = cluster
        self.name = name
        self.ns = cluster.ns(name)
        self.address = ADDRESSES[name]
        self.state_dir = os.path.join(cluster.base, name)
        os.makedirs(self.state_dir)
        self.backends = list(backends) if "volume" in services else []
        self.services = services
        self.config_path = os.path.join(self.state_dir, "scoria.conf")
        self.log_path = os.path.join(self.state_dir, "scoriad.log")
        self.proc = None
        self.config_text = None

    def write_config(self, db_url):
        lines = [
            "[DEFAULT]",
            "state_path = %s" % self.state_dir,
            "host = %s" % self.name,
            "enabled_services = %s" % ",".join(self.services),
            "enabled_backends = %s" % ",".join(self.backends),
            "osapi_volume_listen = %s" % self.address,
            # noauth on a namespace's address: the cluster's network is the test's own.
            "noauth_allow_remote = true",
            "osapi_volume_listen_port = %d" % API_PORT,
            "target_ip_address = %s" % self.address,
            "target_port = %d" % TARGET_PORT,
            "report_interval = 1",
            "service_down_time = %d" % self.cluster.service_down_time,
            "log_level = debug",
            "quota_volumes = -1",
            "quota_gigabytes = -1",
            "",
            "[database]",
            "connection = %s" % db_url,
            "",
        ]
        for b in self.backends:
            lines += ["[%s]" % b, "volume_driver = file", "volume_backend_name = %s" % b,
                      "file_volume_dir = $state_path/%s" % b, ""]
        self.config_text = "\n".join(lines)
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    def volume_dir(self, backend="file1"):
        return os.path.join(self.state_dir, backend)

    def start(self, wait=True, timeout=30):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, os.path.join(self.cluster.bin_dir, "scoriad"),
             "--config", self.config_path],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        if wait:
            self.wait_up(timeout)
        return self

    def wait_up(self, timeout=30):
        """Until the api answers /healthcheck (api hosts) or the services table shows this
        host's services up (storage nodes)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("scoriad on %s exited with %s:\n%s"
                                   % (self.name, self.proc.returncode, self.read_log(4000)))
            if "api" in self.services:
                try:
                    if self.cluster.http("GET", "http://%s:%d/healthcheck"
                                         % (self.address, API_PORT), timeout=1)[0] == 200:
                        return
                except OSError:
                    pass
            elif self.cluster.services_up(self.name):
                return
            time.sleep(0.05)
        raise RuntimeError("scoriad on %s did not come up:\n%s" % (self.name, self.read_log(4000)))

    def kill(self):
        """SIGKILL: a crashed host, nothing cleaned up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.send_signal(signal.SIGCONT)
            self.proc.wait()
        self.proc = None

    def pause(self):
        """SIGSTOP: alive (its connections and target stay open) but doing nothing."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def read_log(self, tail=None):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return text if tail is None else text[-tail:]


class Cluster:
    def __init__(self, bin_dir, service_down_time=5, prefix="scl"):
        self.bin_dir = bin_dir
        self.service_down_time = service_down_time
        reap_leftovers(prefix)
        self.prefix = "%s%d" % (prefix, os.getpid())
        self.base = tempfile.mkdtemp(prefix="scoria-cluster-%d-" % os.getpid())
        os.chmod(self.base, 0o755)
        self.namespaces = []
        self.pg = None
        self.db_url = None
        self.nodes = {}
        self._client_pool = None

    def ns(self, name):
        return "%s-%s" % (self.prefix, name)

    # --- the network -------------------------------------------------------------------
    def build(self):
        hub = self.ns("hub")
        self._add_ns(hub)
        sh("ip", "-n", hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", hub, "link", "set", "br0", "up")
        for name, address in ADDRESSES.items():
            ns = self.ns(name)
            self._add_ns(ns)
            port = "v-" + name
            sh("ip", "-n", hub, "link", "add", port, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            sh("ip", "-n", hub, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", "%s/%d" % (address, SUBNET_BITS), "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
        self._client_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=16, initializer=_enter_netns, initargs=(self.ns("client"),))
        return self

    def _add_ns(self, ns):
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")

    def partition(self, name):
        """Cuts host `name` off the network without closing anything: its port on the hub's
        bridge goes down, so packets to and from it vanish (no refusal, no reset)."""
        sh("ip", "-n", self.ns("hub"), "link", "set", "v-" + name, "down")

    def heal(self, name):
        sh("ip", "-n", self.ns("hub"), "link", "set", "v-" + name, "up")

    def exec_in(self, name, args, check=True, timeout=120, env=None):
        """Runs `args` in host `name`'s namespace; returns the CompletedProcess."""
        p = subprocess.run(["ip", "netns", "exec", self.ns(name)] + list(args),
                           capture_output=True, text=True, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL)
        if check:
            assert p.returncode == 0, "%s -> %d\nstdout: %s\nstderr: %s" % (
                " ".join(args), p.returncode, p.stdout[-3000:], p.stderr[-3000:])
        return p

    # --- PostgreSQL and the daemons -------------------------------------------------------
    def start_database(self):
        self.pg = pg_server.PgServer(base=os.path.join(self.base, "pg"), host=ADDRESSES["db"],
                                     port=PG_PORT, netns=self.ns("db")).start()
        self.db_url = pg_server.create_database(self.pg.url, "scoria", netns=self.ns("db"))
        return self

    def add_nodes(self):
        self.nodes["ctl"] = Node(self, "ctl", ["api", "scheduler"])
        for name in ("node1", "node2"):
            self.nodes[name] = Node(self, name, ["volume", "backup"])
        for node in self.nodes.values():
            node.write_config(self.db_url)
        return self

    def start_all(self):
        # The controller first: it migrates the schema the nodes use.
        self.nodes["ctl"].start()
        for name in ("node1", "node2"):
            self.nodes[name].start(wait=False)
        for name in ("node1", "node2"):
            self.nodes[name].wait_up()
        return self

    def teardown(self):
        for node in self.nodes.values():
            node.kill()
        if self.pg:
            self.pg.stop()
        if self._client_pool:
            self._client_pool.shutdown(wait=False, cancel_futures=True)
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        self.namespaces = []
        shutil.rmtree(self.base, ignore_errors=True)

    # --- HTTP from the client namespace ----------------------------------------------------
    @property
    def api(self):
        return "http://%s:%d/v3" % (ADDRESSES["ctl"], API_PORT)

    def http(self, method, url, body=None, version=None, timeout=30):
        """(status, parsed JSON or text) of one request made from the client namespace.
        Connection errors raise OSError."""
        return self._client_pool.submit(_request, method, url, body, version, timeout).result()

    def submit(self, method, path, body=None, version=None):
        """The same, asynchronously: a Future."""
        return self._client_pool.submit(_request, method, self.api + path, body, version, 30)

    def get(self, path, **kw):
        return self.http("GET", self.api + path, **kw)

    def post(self, path, body=None, **kw):
        return self.http("POST", self.api + path, body=body, **kw)

    def delete(self, path, **kw):
        return self.http("DELETE", self.api + path, **kw)

    def services(self):
        status, out = self.get("/os-services")
        assert status == 200, (status, out)
        return out["services"]

    def services_up(self, host):
        """True when every service of `host` (host or host@backend) is listed and up."""
        try:
            status, out = self.get("/os-services")
        except OSError:
            return False
        if status != 200:
            return False
        mine = [s for s in out["services"] if s["host"].split("@")[0] == host]
        return bool(mine) and all(s["state"] == "up" for s in mine)

    def create_volume(self, size=1, wait=True, **fields):
        status, out = self.post("/volumes", {"volume": dict(size=size, **fields)})
        assert status == 202, (status, out)
        vol = out["volume"]
        return self.wait_volume(vol["id"], ("available",)) if wait else vol

    def wait_volume(self, vol_id, statuses, timeout=30):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            status, out = self.get("/volumes/" + vol_id)
            if status == 404:
                if "deleted" in statuses:
                    return None
                raise AssertionError("volume %s vanished" % vol_id)
            assert status == 200, (status, out)
            last = out["volume"]
            if last["status"] in statuses:
                return last
            time.sleep(0.02)
        raise AssertionError("volume %s stuck in %s (wanted %s)\n%s" % (
            vol_id, last and last["status"], statuses, self.logs_tail()))

    def wait_for(self, predicate, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s\n%s" % (what, self.logs_tail()))

    def logs_tail(self, chars=2000):
        return "\n".join("--- %s ---\n%s" % (n, node.read_log(chars))
                         for n, node in self.nodes.items())


def _request(method, url, body, version, timeout):
    hdrs = {"X-Auth-Token": "admin:admin"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if version:
        hdrs["OpenStack-API-Version"] = "volume " + version
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, (json.loads(text) if text else None)
    except ValueError:
        return status, text
