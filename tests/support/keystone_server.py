"""A throw-away Keystone for the tests: Debian's Keystone 22 with SQLite and fernet tokens under
uwsgi on 127.0.0.1, its configuration and state in a temporary directory, stopped by pid.

Used two ways:
  - `/usr/bin/python3 tests/support/keystone_server.py run -- CMD ...`: starts one Keystone,
    creates the test identities (below), runs CMD with their description in its environment
    (KeystoneServer.environment(): SCORIA_TEST_KEYSTONE=http://127.0.0.1:PORT,
    SCORIA_TEST_KEYSTONE_PID (uwsgi's master, which leads its own process group),
    SCORIA_TEST_KEYSTONE_PASSWORD and one SCORIA_TEST_KEYSTONE_*_USER /
    *_PROJECT per identity), stops the server, exits with CMD's code. When SCORIA_TEST_KEYSTONE
    is already set, CMD simply runs against that server (nested `make test` runs share one).
  - `KeystoneServer().start()` from Python (pytest), `.token(user, project)`, `.stop()`,
    `.cleanup()`.

Identities, all with the one password PASSWORD, users and projects in the Default domain:
  admin         admin of project `admin` (keystone-manage bootstrap)
  alpha-member  member of `alpha`          alpha-reader  reader of `alpha`
  beta-member   member of `beta`
  scoria        service and admin of `service`: Scoria's own service user, as Cinder's `cinder`
  scoria-renew  the same roles: the validator test that revokes its service user's tokens (by
                resetting its password) uses this one so that no other test sees the revocation
The catalog gets `block-storage` (type volumev3, Cinder's current name and type) with public,
internal and admin endpoints on http://127.0.0.1:8776/v3/%(project_id)s.

Why it is set up this way (see /work/shared/reference/recipes/keystone.sh):
  - nothing under /etc/keystone is read or written: the WSGI app finds its configuration through
    OS_KEYSTONE_CONFIG_DIR/OS_KEYSTONE_CONFIG_FILES, keystone-manage through --config-file;
  - uwsgi with ONE process of one thread: SQLite objects must stay in their thread, and
    Keystone's in-memory cache is per process, so with two processes a token revoked through
    one would still validate through the other until its cache entry expired (the revocation
    tests would then test the cache of Keystone's, not Scoria's);
  - the in-memory cache stays on: it takes token validation from ~0.5 s to a few ms;
  - password_hash_rounds = 4: issuing tokens (a bcrypt check) gets cheap; test-only;
  - the server gets its own log file and stdin from /dev/null: a daemon that inherits a pipe
    keeps `make test | tee` open for ever.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

PASSWORD = "scoria-test-secret"
DEFAULT_DOMAIN = "default"

# user -> (project, roles)
IDENTITIES = {
    "alpha-member": ("alpha", ["member"]),
    "alpha-reader": ("alpha", ["reader"]),
    "beta-member": ("beta", ["member"]),
    "scoria": ("service", ["service", "admin"]),
    "scoria-renew": ("service", ["service", "admin"]),
}
# environment variable stem -> user
ENV_USERS = {
    "ADMIN": "admin",
    "MEMBER": "alpha-member",
    "READER": "alpha-reader",
    "OTHER_MEMBER": "beta-member",
    "SERVICE": "scoria",
    "RENEW_SERVICE": "scoria-renew",
}


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class KeystoneServer:
    def __init__(self, base=None, port=None):
        self.base = base or tempfile.mkdtemp(prefix="scoria-keystone-")
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.base, "keystone.conf")
        self.log_path = os.path.join(self.base, "uwsgi.log")
        self.proc = None
        self.pid = None
        self.startup_seconds = None
        self.ids = {}  # "project:<name>", "user:<name>", "role:<name>" -> id

    def _write_conf(self):
        with open(self.conf, "w") as f:
            f.write("""[DEFAULT]
log_file = {b}/keystone.log
debug = false
[database]
connection = sqlite:///{b}/keystone.db
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = {b}/fernet-keys
[fernet_receipts]
key_repository = {b}/fernet-keys
[credential]
key_repository = {b}/credential-keys
[cache]
enabled = true
backend = dogpile.cache.memory
[identity]
password_hash_rounds = 4
""".format(b=self.base))

    def _manage(self, *args):
        with open(os.path.join(self.base, "keystone-manage.log"), "a") as log:
            subprocess.run(["keystone-manage", "--config-file", self.conf] + list(args),
                           check=True, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT)

    def start(self, timeout=120):
        t0 = time.time()
        os.makedirs(self.base, exist_ok=True)
        self._write_conf()
        self._manage("db_sync")
        owner = ["--keystone-user", "root", "--keystone-group", "root"] if os.geteuid() == 0 else [
            "--keystone-user", str(os.geteuid()), "--keystone-group", str(os.getegid())]
        self._manage("fernet_setup", *owner)
        self._manage("credential_setup", *owner)
        v3 = self.url + "/v3/"
        self._manage("bootstrap", "--bootstrap-password", PASSWORD,
                     "--bootstrap-username", "admin", "--bootstrap-project-name", "admin",
                     "--bootstrap-role-name", "admin", "--bootstrap-service-name", "keystone",
                     "--bootstrap-region-id", "RegionOne", "--bootstrap-admin-url", v3,
                     "--bootstrap-public-url", v3, "--bootstrap-internal-url", v3)
        env = dict(os.environ, OS_KEYSTONE_CONFIG_DIR=self.base,
                   OS_KEYSTONE_CONFIG_FILES="keystone.conf")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                ["uwsgi", "--plugin", "python3", "--http-socket", "127.0.0.1:%d" % self.port,
                 "--wsgi-file", "/usr/bin/keystone-wsgi-public", "--master", "--processes", "1",
                 "--threads", "1", "--enable-threads", "--die-on-term", "--need-app"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.pid = self.proc.pid
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("uwsgi exited with %d; see %s" % (self.proc.returncode,
                                                                      self.log_path))
            try:
                if requests.get(self.url + "/v3", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError("Keystone did not answer within %d s; see %s"
                                   % (timeout, self.log_path))
            time.sleep(0.1)
        self._populate()
        self.startup_seconds = time.time() - t0
        return self

    # --- the REST calls that create the test identities --------------------------------------

    def token(self, user, project, password=PASSWORD):
        """A project-scoped token of `user` (password method)."""
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": DEFAULT_DOMAIN}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": DEFAULT_DOMAIN}}}}}
        r = requests.post(self.url + "/v3/auth/tokens", json=body, timeout=30)
        r.raise_for_status()
        return r.headers["X-Subject-Token"]

    def _call(self, method, path, token, body=None):
        r = requests.request(method, self.url + "/v3" + path, json=body, timeout=30,
                             headers={"X-Auth-Token": token})
        if r.status_code >= 400:
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, r.status_code, r.text))
        return r.json() if r.content else None

    def _find(self, token, collection, name):
        found = self._call("GET", "/%s?name=%s" % (collection, name), token)[collection]
        return found[0]["id"] if found else None

    def _ensure(self, token, collection, kind, name, attrs):
        oid = self._find(token, collection, name)
        if oid is None:
            oid = self._call("POST", "/" + collection, token,
                             {kind: dict(attrs, name=name)})[kind]["id"]
        self.ids["%s:%s" % (kind, name)] = oid
        return oid

    def _populate(self):
        t = self.token("admin", "admin")
        for role in ("admin", "member", "reader", "service"):
            self._ensure(t, "roles", "role", role, {})
        for project in ("admin", "service", "alpha", "beta"):
            self._ensure(t, "projects", "project", project, {"domain_id": DEFAULT_DOMAIN})
        self.ids["user:admin"] = self._find(t, "users", "admin")
        for user, (project, roles) in IDENTITIES.items():
            uid = self._ensure(t, "users", "user", user,
                               {"domain_id": DEFAULT_DOMAIN, "password": PASSWORD})
            for role in roles:
                self._call("PUT", "/projects/%s/users/%s/roles/%s"
                           % (self.ids["project:" + project], uid, self.ids["role:" + role]), t)
        sid = self._call("POST", "/services", t, {"service": {
            "name": "block-storage", "type": "volumev3",
            "description": "Scoria (Cinder API v3)"}})["service"]["id"]
        for interface in ("public", "internal", "admin"):
            self._call("POST", "/endpoints", t, {"endpoint": {
                "service_id": sid, "interface": interface, "region_id": "RegionOne",
                "url": "http://127.0.0.1:8776/v3/%(project_id)s"}})

    def environment(self):
        env = {"SCORIA_TEST_KEYSTONE": self.url, "SCORIA_TEST_KEYSTONE_PID": str(self.pid),
               "SCORIA_TEST_KEYSTONE_PASSWORD": PASSWORD}
        for stem, user in ENV_USERS.items():
            env["SCORIA_TEST_KEYSTONE_%s_USER" % stem] = user
            env["SCORIA_TEST_KEYSTONE_%s_PROJECT" % stem] = (
                "admin" if user == "admin" else IDENTITIES[user][0])
        return env

    def stop(self):
        """SIGTERM to the uwsgi master (--die-on-term takes the worker along), SIGKILL to the
        whole process group after 10 s. SIGCONT first: a test that paused Keystone (SIGSTOP to
        the group, SCORIA_TEST_KEYSTONE_PID) and died before resuming it must not leave a
        stopped worker behind."""
        if not self.proc:
            return
        group = self.proc.pid  # start_new_session: the master leads its own group
        try:
            os.killpg(group, signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None
        self.pid = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--":
        print("usage: keystone_server.py run -- CMD [ARGS...]", file=sys.stderr)
        return 2
    cmd = argv[3:]
    if os.environ.get("SCORIA_TEST_KEYSTONE"):
        print("keystone_server: using the Keystone of SCORIA_TEST_KEYSTONE=%s"
              % os.environ["SCORIA_TEST_KEYSTONE"], flush=True)
        return subprocess.call(cmd)
    server = KeystoneServer()
    try:
        server.start()
        print("keystone_server: Keystone up on %s (pid %d) in %.1f s, state in %s"
              % (server.url, server.pid, server.startup_seconds, server.base), flush=True)
        return subprocess.call(cmd, env=dict(os.environ, **server.environment()))
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
