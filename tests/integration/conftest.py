"""Fixtures that run a real scoriad: free ports, a temporary state directory, a database.

`scoriad` (function scope) yields a Daemon; `make_daemon` builds one with custom config.
Binaries come from $SCORIA_BIN (default: <repo>/build/bin). Runs under /usr/bin/python3.

The database is SQLite in the state directory, or, with SCORIA_INTEGRATION_DB=postgresql, a
fresh database per daemon on the PostgreSQL server named by $SCORIA_TEST_POSTGRES (`make test`
starts one for the whole run; without it, one is started here for this pytest process).
"""
import atexit
import glob
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("SCORIA_BIN", os.path.join(REPO, "build", "bin"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import pg_server  # noqa: E402

DB_MODE = os.environ.get("SCORIA_INTEGRATION_DB", "sqlite")
_pg = {"url": os.environ.get("SCORIA_TEST_POSTGRES"), "server": None}
_db_names = itertools.count(1)


def postgres_server_url():
    """The URL of the test run's PostgreSQL server, started here if nobody started one."""
    if not _pg["url"]:
        server = pg_server.PgServer().start()
        atexit.register(server.cleanup)
        _pg["server"], _pg["url"] = server, server.url
    return _pg["url"]


def fresh_postgres_database():
    name = "scoria_it_%d_%d" % (os.getpid(), next(_db_names))
    return name, pg_server.create_database(postgres_server_url(), name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """A scoriad process with its own state directory and port."""

    def __init__(self, state_dir, backends=None, extra_default=None, extra_sections=None):
        self.state_dir = state_dir
        self.bin_dir = BIN_DIR
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.endpoint = self.url + "/v3"
        self.token = "admin:admin"
        self.scoria_details = True
        self.proc = None
        self.log_path = os.path.join(state_dir, "scoriad.log")
        self.backends = backends or {"file1": {}}
        self.config_path = os.path.join(state_dir, "scoria.conf")
        lines = [
            "[DEFAULT]",
            "state_path = %s" % state_dir,
            "host = testhost",
            "enabled_services = api,scheduler,volume",
            "enabled_backends = %s" % ",".join(self.backends),
            "osapi_volume_listen = 127.0.0.1",
            "osapi_volume_listen_port = %d" % self.port,
            "report_interval = 1",
            "service_down_time = 5",
            "log_level = debug",
        ]
        defaults = {"target_ip_address": "127.0.0.1", "target_port": str(free_port())}
        defaults.update(extra_default or {})
        for k, v in defaults.items():
            lines.append("%s = %s" % (k, v))
        self.db_name = None
        connection = "sqlite:///$state_path/scoria.sqlite"
        if DB_MODE == "postgresql":
            self.db_name, connection = fresh_postgres_database()
        self.db_connection = connection
        lines += ["", "[database]", "connection = %s" % connection, ""]
        for name, opts in self.backends.items():
            lines.append("[%s]" % name)
            merged = {"volume_driver": "file", "volume_backend_name": name,
                      "file_volume_dir": "$state_path/%s" % name}
            merged.update(opts)
            for k, v in merged.items():
                lines.append("%s = %s" % (k, v))
            lines.append("")
        for name, opts in (extra_sections or {}).items():
            lines.append("[%s]" % name)
            for k, v in opts.items():
                lines.append("%s = %s" % (k, v))
            lines.append("")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines))

    def db_scalar(self, sql):
        """One value from the daemon's database, read behind its back (SQLite or PostgreSQL)."""
        if self.db_name:
            out = subprocess.run(["psql", self.db_connection, "-Atqc", sql], check=True,
                                 capture_output=True, text=True, stdin=subprocess.DEVNULL)
            return int(out.stdout.strip())
        db = sqlite3.connect(os.path.join(self.state_dir, "scoria.sqlite"))
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()

    def lose_database(self):
        """Throws the (stopped) daemon's database away: the next start begins on an empty one."""
        if self.db_name:
            pg_server.drop_database(postgres_server_url(), self.db_name)
            pg_server.create_database(postgres_server_url(), self.db_name)
            return
        for f in [os.path.join(self.state_dir, "scoria.sqlite")] + \
                glob.glob(os.path.join(self.state_dir, "scoria.sqlite-*")):
            os.remove(f)

    def volume_dir(self, backend="file1"):
        return os.path.join(self.state_dir, backend)

    def start(self, timeout=15):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.bin_dir, "scoriad"), "--config", self.config_path],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("scoriad exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                urllib.request.urlopen(self.url + "/healthcheck", timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        raise RuntimeError("scoriad did not come up:\n" + self.read_log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self):
        """SIGKILL: a crash, nothing gets cleaned up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def read_log(self, tail=None):
        """The last `tail` characters of the daemon's log (all of it with tail=None)."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
                return text if tail is None else text[-tail:]
        except OSError:
            return ""

    # --- HTTP helpers -------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, raw=None, version=None,
                token="default"):
        """Returns (status, headers, parsed JSON or raw text)."""
        url = path if path.startswith("http") else self.endpoint + path
        data = None
        hdrs = {}
        if token == "default":
            token = self.token
        if token is not None:
            hdrs["X-Auth-Token"] = token
        if version:
            hdrs["OpenStack-API-Version"] = "volume " + version
        # Scoria's additions to the views (backup progress...), as the scoria CLI asks for them.
        if self.scoria_details:
            hdrs["X-Scoria-Details"] = "true"
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, rh, text = r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            status, rh, text = e.code, dict(e.headers), e.read().decode()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, rh, parsed

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def create_volume(self, size=1, wait=True, **fields):
        body = {"volume": dict(size=size, **fields)}
        status, _, out = self.post("/volumes", body)
        assert status == 202, (status, out)
        vol = out["volume"]
        if wait:
            vol = self.wait_volume(vol["id"], ("available",))
        return vol

    def wait_volume(self, vol_id, statuses, timeout=30):
        """Polls until the volume's status is in `statuses` ('deleted' = 404)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            status, _, out = self.get("/volumes/" + vol_id)
            if status == 404:
                if "deleted" in statuses:
                    return None
                raise AssertionError("volume %s vanished" % vol_id)
            last = out["volume"]
            if last["status"] in statuses:
                return last
            time.sleep(0.02)
        raise AssertionError("volume %s stuck in %s (wanted %s)\n%s" % (
            vol_id, last and last["status"], statuses, self.read_log()[-3000:]))


@pytest.fixture
def make_daemon():
    made = []

    def make(**kw):
        d = Daemon(tempfile.mkdtemp(prefix="scoria-it-"), **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()
        shutil.rmtree(d.state_dir, ignore_errors=True)


@pytest.fixture
def scoriad(make_daemon):
    return make_daemon().start()
