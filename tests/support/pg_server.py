"""A throw-away PostgreSQL server for the tests: initdb, start, stop by pid.

Used three ways:
  - `python3 tests/support/pg_server.py run -- CMD ...`: starts one server, runs CMD with
    SCORIA_TEST_POSTGRES=postgresql://postgres@127.0.0.1:PORT/postgres in its environment, stops
    the server, exits with CMD's code. `make test` runs the whole test command under it, so
    unit and integration tests share one server.
  - `PgServer(...)` from Python (the cluster tests start one inside a network namespace).
  - `create_database(url, name)`: a fresh database on a running server, for one daemon.

PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` user
(runuser); as anyone else, as that user. fsync is off: the tests check Scoria's behaviour, not
the disk's, and a crash of the test machine loses nothing that matters.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    return os.path.dirname(found[-1])


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class PgServer:
    """One server. `netns` runs it inside that network namespace (ip netns exec)."""

    def __init__(self, base=None, host="127.0.0.1", port=None, netns=None, durable=False):
        self.base = base or tempfile.mkdtemp(prefix="scoria-pg-")
        self.host = host
        self.port = port or free_port("127.0.0.1")
        self.netns = netns
        # Benchmarks compare with SQLite, which fsyncs: there the server must fsync too.
        self.durable = durable
        self.pid = None
        self.data = os.path.join(self.base, "data")
        self.log_path = os.path.join(self.base, "server.log")
        self.as_root = os.geteuid() == 0

    @property
    def url(self):
        return "postgresql://postgres@%s:%d/postgres" % (self.host, self.port)

    def _run_as(self, argv, **kw):
        prefix = []
        if self.netns:
            prefix += ["ip", "netns", "exec", self.netns]
        if self.as_root:
            prefix += ["runuser", "-u", "postgres", "--"]
        return subprocess.run(prefix + argv, check=True, stdin=subprocess.DEVNULL, **kw)

    def start(self, timeout=60):
        os.makedirs(self.base, exist_ok=True)
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
            os.chmod(self.base, 0o700)
        b = _bindir()
        with open(os.path.join(self.base, "initdb.log"), "w") as log:
            self._run_as([b + "/initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                          "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                         stdout=log, stderr=subprocess.STDOUT)
        if self.host != "127.0.0.1":
            # initdb trusts only loopback; a server on a (test-made, private) network address
            # trusts the clients of its own subnet too.
            with open(os.path.join(self.data, "pg_hba.conf"), "a") as hba:
                hba.write("host all all samenet trust\n")
        with open(os.path.join(self.base, "pg_ctl.log"), "w") as log:
            self._run_as([b + "/pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t",
                          str(timeout), "-o", self._options(), "start"], stdout=log,
                         stderr=subprocess.STDOUT)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self

    def _options(self):
        opts = "-p %d -h %s -k %s -c max_connections=400" % (self.port, self.host, self.base)
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return opts

    def stop(self, fast=True):
        """Stops the server by its pid: SIGINT is PostgreSQL's fast shutdown."""
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGINT if fast else signal.SIGTERM)
        except ProcessLookupError:
            self.pid = None
            return
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def restart(self):
        """Starts the same data directory again (after stop())."""
        b = _bindir()
        with open(os.path.join(self.base, "pg_ctl.log"), "a") as log:
            self._run_as([b + "/pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "60",
                          "-o", self._options(), "start"], stdout=log, stderr=subprocess.STDOUT)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def psql(self, sql, db="postgres"):
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        out = subprocess.run(
            prefix + ["psql", "-h", self.host, "-p", str(self.port), "-U", "postgres", "-d", db,
                      "-Atc", sql], check=True, capture_output=True, text=True,
            stdin=subprocess.DEVNULL)
        return out.stdout


def create_database(server_url, name, netns=None):
    """Creates database `name` on the server of `server_url`; returns its URL. `netns`: run
    psql inside that network namespace (where the server's address is reachable)."""
    prefix, _, _ = server_url.rpartition("/")
    netns_prefix = ["ip", "netns", "exec", netns] if netns else []
    subprocess.run(netns_prefix + ["psql", server_url, "-Atqc", "CREATE DATABASE %s" % name], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    return prefix + "/" + name


def drop_database(server_url, name):
    subprocess.run(["psql", server_url, "-Atqc", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                   check=False, capture_output=True, stdin=subprocess.DEVNULL)


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--":
        print("usage: pg_server.py run -- CMD [ARGS...]", file=sys.stderr)
        return 2
    server = PgServer()
    t0 = time.time()
    server.start()
    print("pg_server: PostgreSQL up on 127.0.0.1:%d (pid %d) in %.1f s"
          % (server.port, server.pid, time.time() - t0), flush=True)
    env = dict(os.environ, SCORIA_TEST_POSTGRES=server.url)
    try:
        return subprocess.call(argv[3:], env=env)
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
