#!/usr/bin/python3
"""The REST calls and the RBD writes of bench/rbd_bench.sh, one subcommand each; prints plain
words for the shell to read. Asserts nothing about speed.

  rbd_bench.py wait URL                      scoriad answers and its backup service is up
  rbd_bench.py type URL NAME BACKEND         a volume type selecting volume_backend_name BACKEND
  rbd_bench.py create URL SIZE_GB TYPE       a volume, waited until available -> its id
  rbd_bench.py attach URL VOL INITIATOR      attachment (3.54) completed -> "att portal iqn lun user password"
  rbd_bench.py detach URL ATT VOL            the attachment deleted, the volume available again
  rbd_bench.py backup URL VOL NAME [incr]    POST /backups, polled until available -> "id seconds"
  rbd_bench.py fill CONF POOL IMAGE          the whole image written with random bytes (os.urandom)
  rbd_bench.py change CONF POOL IMAGE PERCENT BLOCK SEED
                                             PERCENT of the image rewritten with random bytes in
                                             BLOCK-sized, BLOCK-aligned blocks at distinct
                                             offsets drawn with SEED -> "blocks bytes"
"""
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request

TOKEN = "admin:admin"


def call(url, method, path, body=None, version="3.64"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + "/v3" + path, data=data, method=method, headers={
        "X-Auth-Token": TOKEN, "Content-Type": "application/json",
        "OpenStack-API-Version": "volume " + version})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, (json.loads(text) if text else None)


def expect(status, out, *ok):
    if status not in ok:
        sys.exit("rbd_bench.py: HTTP %d: %s" % (status, out))


def wait_for(what, pred, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    sys.exit("rbd_bench.py: %s not reached in %d s" % (what, timeout))


def volume_status(url, vol):
    return call(url, "GET", "/volumes/" + vol)[1]["volume"]["status"]


def cmd_wait(url):
    def up():
        try:
            s, out = call(url, "GET", "/os-services?binary=cinder-backup")
        except (urllib.error.URLError, OSError):
            return False
        return s == 200 and any(x["state"] == "up" for x in out["services"])
    wait_for("scoriad with its backup service", up, 60, 0.1)


def cmd_type(url, name, backend):
    s, out = call(url, "POST", "/types", {"volume_type": {
        "name": name, "extra_specs": {"volume_backend_name": backend}}})
    expect(s, out, 200)


def cmd_create(url, size_gb, vtype):
    s, out = call(url, "POST", "/volumes", {"volume": {"size": int(size_gb), "volume_type": vtype,
                                                       "name": "bench-" + vtype}})
    expect(s, out, 202)
    vol = out["volume"]["id"]
    st = wait_for("volume available", lambda: volume_status(url, vol) in ("available", "error")
                  and volume_status(url, vol), 120)
    if st != "available":
        sys.exit("rbd_bench.py: volume %s is %s" % (vol, st))
    print(vol)


def cmd_attach(url, vol, initiator):
    connector = {"initiator": initiator, "ip": "127.0.0.1", "host": "bench", "platform": "x86_64",
                 "os_type": "linux", "multipath": False}
    s, out = call(url, "POST", "/attachments", {"attachment": {
        "volume_uuid": vol, "connector": connector, "instance_uuid": None}}, version="3.54")
    expect(s, out, 200)
    att = out["attachment"]
    data = att["connection_info"].get("data", att["connection_info"])
    s, out = call(url, "POST", "/attachments/%s/action" % att["id"], {"os-complete": None},
                  version="3.54")
    expect(s, out, 204)
    print(att["id"], data["target_portal"], data["target_iqn"], data["target_lun"],
          data["auth_username"], data["auth_password"])


def cmd_detach(url, att, vol):
    s, out = call(url, "DELETE", "/attachments/" + att, version="3.54")
    expect(s, out, 200)
    wait_for("volume available after detach", lambda: volume_status(url, vol) == "available", 60)


def cmd_backup(url, vol, name, incr=""):
    t0 = time.perf_counter()
    s, out = call(url, "POST", "/backups", {"backup": {"volume_id": vol, "name": name,
                                                       "incremental": incr == "incr"}})
    expect(s, out, 202)
    bid = out["backup"]["id"]

    def ended():
        b = call(url, "GET", "/backups/" + bid)[1]["backup"]
        return b if b["status"] in ("available", "error") else None
    b = wait_for("backup available", ended, 3600, 0.02)
    secs = time.perf_counter() - t0
    if b["status"] != "available":
        sys.exit("rbd_bench.py: backup %s ended in %s: %s" % (bid, b["status"], b.get("fail_reason")))
    print(bid, "%.2f" % secs)


class Writer:
    """rbd_aio_write with at most `depth` writes in flight."""

    def __init__(self, conf, pool, image, depth=8):
        import rados
        import rbd
        self.cluster = rados.Rados(conffile=conf)
        self.cluster.connect(timeout=30)
        self.ioctx = self.cluster.open_ioctx(pool)
        self.image = rbd.Image(self.ioctx, image)
        self.slots = threading.Semaphore(depth)
        self.errors = []

    def size(self):
        return self.image.size()

    def write(self, offset, data):
        self.slots.acquire()

        def done(completion):
            if completion.get_return_value() < 0:
                self.errors.append((offset, completion.get_return_value()))
            self.slots.release()
        self.image.aio_write(data, offset, done)

    def close(self):
        self.image.flush()
        self.image.close()
        self.ioctx.close()
        self.cluster.shutdown()
        if self.errors:
            sys.exit("rbd_bench.py: writes failed: %s" % self.errors[:5])


def cmd_fill(conf, pool, image):
    w = Writer(conf, pool, image)
    step = 4 << 20
    for off in range(0, w.size(), step):
        w.write(off, os.urandom(min(step, w.size() - off)))
    w.close()


def cmd_change(conf, pool, image, percent, block, seed):
    w = Writer(conf, pool, image)
    block = int(block)
    slots = w.size() // block
    n = max(1, round(slots * float(percent) / 100))
    picks = sorted(random.Random(int(seed)).sample(range(slots), n))
    for i in picks:
        w.write(i * block, os.urandom(block))
    w.close()
    print(n, n * block)


def main(argv):
    cmds = {"wait": cmd_wait, "type": cmd_type, "create": cmd_create, "attach": cmd_attach,
            "detach": cmd_detach, "backup": cmd_backup, "fill": cmd_fill, "change": cmd_change}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
