"""A throw-away NFS server for the tests: rpcbind + nfs-ganesha (FSAL VFS, NFSv3), stopped by pid.

Used two ways:
  - `python3 tests/support/nfs_server.py run -- CMD ...`: starts one server, runs CMD with the
    variables below in its environment, stops the server, exits with CMD's code. When
    SCORIA_TEST_NFS_SHARES is already set, CMD runs against that server and nothing is started
    (so `make test` can wrap commands that wrap this again).
  - `NfsServer(...)` from Python: start(), stop() (ganesha only: what a fault test needs while
    a volume is attached), restart() (the same exports and ports again), pause()/resume()
    (SIGSTOP/SIGCONT: a server that hangs), cleanup().

Environment given to CMD (all lists comma-separated, in the same order):
  SCORIA_TEST_NFS_SHARES         127.0.0.1:/export1,127.0.0.1:/export2   (Cinder's share spelling)
  SCORIA_TEST_NFS_MOUNT_OPTIONS  port=NFS_PORT,mountport=MNT_PORT   (what nfs_mount_options and
                                 backup_mount_options take; the ports are chosen free, so
                                 clients must not depend on rpcbind's answer, which a second
                                 ganesha on the machine may have replaced)
  SCORIA_TEST_NFS_EXPORT_DIRS    the local directories behind those shares
  SCORIA_TEST_NFS_SMALL_SHARE    127.0.0.1:/small, a 32 MiB ext4 loop-mounted export for
                                 out-of-space tests (absent when loop mounts are not possible)
  SCORIA_TEST_NFS_SMALL_DIR      its local directory

rpcbind must listen on port 111 (ganesha registers NFSv3 there or exits at start). A running
rpcbind is reused; one we start is started plain (rpcbind 1.2.6 aborts with -h) and stopped by
its pid at the end. Every daemon gets its own log and stdin from /dev/null, so none keeps a
caller's pipe open.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

EXPORTS = ("export1", "export2")


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _port_open(port, host="127.0.0.1"):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _stop_pid(pid, timeout=10):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class NfsServer:
    def __init__(self, base=None, exports=EXPORTS, small_export=True):
        self.base = base or tempfile.mkdtemp(prefix="scoria-nfs-")
        self.exports = list(exports)
        self.small_export = small_export
        self.nfs_port = free_port()
        self.mnt_port = free_port()
        while self.mnt_port == self.nfs_port:
            self.mnt_port = free_port()
        self.ganesha_pid = None
        self.rpcbind_pid = None  # set only when we started it
        self.small_mounted = False
        self.conf = os.path.join(self.base, "ganesha.conf")

    # ---- what clients need
    def export_dir(self, name):
        return os.path.join(self.base, "exports", name)

    @property
    def shares(self):
        return ["127.0.0.1:/" + e for e in self.exports]

    @property
    def export_dirs(self):
        return [self.export_dir(e) for e in self.exports]

    @property
    def mount_options(self):
        return "port=%d,mountport=%d" % (self.nfs_port, self.mnt_port)

    @property
    def small_share(self):
        return "127.0.0.1:/small" if self.small_mounted else None

    def env(self):
        e = {
            "SCORIA_TEST_NFS_SHARES": ",".join(self.shares),
            "SCORIA_TEST_NFS_MOUNT_OPTIONS": self.mount_options,
            "SCORIA_TEST_NFS_EXPORT_DIRS": ",".join(self.export_dirs),
        }
        if self.small_mounted:
            e["SCORIA_TEST_NFS_SMALL_SHARE"] = self.small_share
            e["SCORIA_TEST_NFS_SMALL_DIR"] = self.export_dir("small")
        return e

    # ---- life cycle
    def start(self, timeout=20):
        os.makedirs(os.path.join(self.base, "run"), exist_ok=True)
        os.makedirs(os.path.join(self.base, "recov"), exist_ok=True)
        for e in self.exports:
            os.makedirs(self.export_dir(e), exist_ok=True)
            os.chmod(self.export_dir(e), 0o1777)
        if self.small_export:
            self._mount_small()
        self._ensure_rpcbind()
        self._write_conf()
        self._start_ganesha(timeout)
        return self

    def _mount_small(self):
        img = os.path.join(self.base, "small.img")
        d = self.export_dir("small")
        os.makedirs(d, exist_ok=True)
        with open(img, "wb") as f:
            f.truncate(32 << 20)
        quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
        if subprocess.call(["mkfs.ext4", "-q", "-F", img], **quiet) != 0:
            return
        if subprocess.call(["mount", "-o", "loop", img, d], **quiet) != 0:
            return  # not root, or no loop devices: the small share is simply absent
        os.chmod(d, 0o1777)
        self.small_mounted = True

    def _ensure_rpcbind(self):
        if _port_open(111):
            return  # someone's rpcbind: reuse it, never stop it
        log = open(os.path.join(self.base, "rpcbind.log"), "w")
        # -f: foreground, so the pid is rpcbind's; plain (no -h): 1.2.6 aborts with -h.
        p = subprocess.Popen(["rpcbind", "-f"], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.rpcbind_pid = p.pid
        deadline = time.time() + 10
        while time.time() < deadline:
            if _port_open(111):
                return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("rpcbind did not start; see %s/rpcbind.log" % self.base)

    def _write_conf(self):
        exports = []
        names = self.exports + (["small"] if self.small_mounted else [])
        for i, e in enumerate(names, start=1):
            exports.append("""EXPORT {
    Export_Id = %d;
    Path = %s;
    Pseudo = /%s;
    Protocols = 3;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    FSAL { Name = VFS; }
}
""" % (i, self.export_dir(e), e))
        with open(self.conf, "w") as f:
            f.write("""NFS_CORE_PARAM {
    Bind_addr = 127.0.0.1;
    NFS_Port = %d;
    MNT_Port = %d;
    Protocols = 3;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Enable_UDP = false;
    Mount_Path_Pseudo = true;
}
NFSV4 {
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = %s;
}
LOG { Default_Log_Level = EVENT; }
%s""" % (self.nfs_port, self.mnt_port, os.path.join(self.base, "recov"), "".join(exports)))

    def _start_ganesha(self, timeout):
        pidfile = os.path.join(self.base, "run", "ganesha.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        out = open(os.path.join(self.base, "ganesha.out"), "a")
        # -F: foreground, so Popen's pid is the daemon's and we stop exactly that process.
        p = subprocess.Popen(["ganesha.nfsd", "-F", "-f", self.conf, "-L",
                              os.path.join(self.base, "ganesha.log"), "-p", pidfile,
                              "-N", "NIV_EVENT"],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        out.close()
        self.ganesha_pid = p.pid
        deadline = time.time() + timeout
        while time.time() < deadline:
            if _port_open(self.nfs_port) and _port_open(self.mnt_port):
                return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("ganesha did not start; see %s/ganesha.log" % self.base)

    def stop(self):
        """Stops ganesha (not rpcbind): clients see the server gone."""
        if self.ganesha_pid:
            try:
                os.kill(self.ganesha_pid, signal.SIGCONT)  # a paused one cannot exit
            except ProcessLookupError:
                pass
            _stop_pid(self.ganesha_pid)
            self.ganesha_pid = None

    def pause(self):
        """SIGSTOP to ganesha: connections stay open and nothing answers (a hung server)."""
        os.kill(self.ganesha_pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.ganesha_pid, signal.SIGCONT)

    def restart(self, timeout=20):
        """Starts ganesha again on the same ports and exports (after stop())."""
        self.stop()
        self._start_ganesha(timeout)

    def cleanup(self):
        self.stop()
        if self.rpcbind_pid:
            _stop_pid(self.rpcbind_pid)
            self.rpcbind_pid = None
        if self.small_mounted:
            subprocess.call(["umount", self.export_dir("small")], stdin=subprocess.DEVNULL)
            self.small_mounted = False
        shutil.rmtree(self.base, ignore_errors=True)


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--":
        print("usage: nfs_server.py run -- CMD [ARGS...]", file=sys.stderr)
        return 2
    if os.environ.get("SCORIA_TEST_NFS_SHARES"):
        return subprocess.call(argv[3:])
    server = NfsServer()
    t0 = time.time()
    try:
        server.start()
    except Exception:
        server.cleanup()
        raise
    print("nfs_server: ganesha up on 127.0.0.1:%d (mount %d, pid %d) in %.1f s: %s"
          % (server.nfs_port, server.mnt_port, server.ganesha_pid, time.time() - t0,
             ",".join(server.shares)), flush=True)
    env = dict(os.environ, **server.env())
    try:
        return subprocess.call(argv[3:], env=env)
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
