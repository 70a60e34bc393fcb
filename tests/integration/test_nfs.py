"""The nfs driver and the nfs backup store against a real scoriad and a real nfs-ganesha.

Each module run starts its own ganesha (tests/support/nfs_server.py; 0.2 s) so that one test
can stop and restart it while a volume is attached without disturbing a server other tests
share. Volumes are written and read through Scoria's iSCSI target with QEMU and libiscsi.
"""
import hashlib
import os
import shutil
import sys
import time

import pytest

from conftest import REPO, free_port
from iscsi_util import QEMU_INITIATOR, attach, detach, image_opts, run, url

sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import nfs_server  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (shutil.which("ganesha.nfsd") and shutil.which("rpcbind") and shutil.which("qemu-io")
         and shutil.which("iscsi-readcapacity16")),
    reason="needs nfs-ganesha, rpcbind, qemu-utils and libiscsi-bin (scripts/install-deps.sh)")

GiB = 1024 ** 3
INIT = "iqn.2024-01.org.example:nfs-host"


@pytest.fixture(scope="module")
def nfs():
    server = nfs_server.NfsServer(small_export=False).start()
    yield server
    server.cleanup()


def nfs_daemon(make_daemon, nfs, tmp_path, backup=False, extra_default=None):
    shares = tmp_path / "nfs_shares"
    shares.write_text("# the module's ganesha\n" + "\n".join(nfs.shares) + "\n")
    defaults = {"quota_gigabytes": "-1", "quota_volumes": "-1", "quota_snapshots": "-1",
                "quota_backups": "-1", "quota_backup_gigabytes": "-1",
                "target_port": str(free_port())}
    defaults.update(extra_default or {})
    d = make_daemon(backends={
        "nfs1": {"volume_driver": "cinder.volume.drivers.nfs.NfsDriver",
                 "nfs_shares_config": str(shares),
                 "nfs_mount_options": nfs.mount_options + ",hard,timeo=20"},
        "file1": {}}, extra_default=defaults)
    if backup:
        with open(d.config_path) as f:
            text = f.read()
        text = text.replace("enabled_services = api,scheduler,volume",
                            "enabled_services = api,scheduler,volume,backup")
        with open(d.config_path, "w") as f:
            f.write(text)
    d.start()
    for name, backend in (("on-nfs", "nfs1"), ("on-file", "file1")):
        st, _, out = d.post("/types", {"volume_type": {
            "name": name, "extra_specs": {"volume_backend_name": backend}}})
        assert st == 200, out
    return d


@pytest.fixture
def d(make_daemon, nfs, tmp_path):
    daemon = nfs_daemon(make_daemon, nfs, tmp_path)
    yield daemon
    if daemon.proc is not None and daemon.proc.poll() is not None:
        pytest.fail("scoriad died (exit %s):\n%s" % (daemon.proc.returncode,
                                                      daemon.read_log()[-4000:]))


def local_file(nfs, vol_id, suffix=""):
    """The export directory's file of a volume (or of one of its snapshots), wherever it is."""
    for directory in nfs.export_dirs:
        p = os.path.join(directory, "volume-" + vol_id + suffix)
        if os.path.exists(p):
            return p
    return None


def wait_snapshot(d, sid, statuses, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, _, out = d.get("/snapshots/" + sid)
        if st == 404 and "deleted" in statuses:
            return None
        if st == 200 and out["snapshot"]["status"] in statuses:
            return out["snapshot"]
        time.sleep(0.05)
    raise AssertionError("snapshot %s not %s\n%s" % (sid, statuses, d.read_log()[-3000:]))


def new_nfs_volume(d, size=1):
    st, _, out = d.post("/volumes", {"volume": {"size": size, "volume_type": "on-nfs"}})
    assert st == 202, out
    return d.wait_volume(out["volume"]["id"], ("available",), timeout=60)


def wait_backup(d, bid, timeout=180):
    deadline = time.time() + timeout
    while True:
        b = d.get("/backups/" + bid)[2]["backup"]
        if b["status"] in ("available", "error"):
            return b
        assert time.time() < deadline, d.read_log()[-3000:]
        time.sleep(0.2)


def io_failed(p):
    """A qemu-io run reported an I/O error (its exit code is 0 for some failed commands)."""
    out = (p.stdout + p.stderr).lower()
    return p.returncode != 0 or "error" in out or "verification failed" in out


def qemu_io(data, *cmds, check=True):
    args = ["qemu-io", "--image-opts", image_opts(data)]
    for c in cmds:
        args += ["-c", c]
    return run(args, check=check, timeout=120)


def test_volume_lifecycle_on_nfs(d, nfs):
    vol = new_nfs_volume(d)
    admin = d.get("/volumes/" + vol["id"])[2]["volume"]
    assert admin["os-vol-host-attr:host"].startswith("testhost@nfs1")
    path = local_file(nfs, vol["id"])
    assert path and os.stat(path).st_size == GiB, "the volume is a file on an export"

    # Attached over iSCSI: data written through the target lands in the file on the share.
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x5a 1m 2m", "write -P 0x11 900m 64k", "flush")
    with open(path, "rb") as f:
        f.seek(1 << 20)
        assert f.read(4096) == b"\x5a" * 4096
    # Online extend, seen by the initiator.
    st, _, out = d.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 2}},
                        version="3.42")
    assert st == 202, out
    deadline = time.time() + 30
    while d.get("/volumes/" + vol["id"])[2]["volume"]["size"] != 2:
        assert time.time() < deadline, d.read_log()[-3000:]
        time.sleep(0.05)
    out = run(["iscsi-readcapacity16", "-i", QEMU_INITIATOR, url(data)]).stdout
    assert "Totalsize:2147483648" in out.replace(" ", "")
    qemu_io(data, "write -P 0x77 1500m 1m", "read -P 0x77 1500m 1m", "read -P 0x5a 1m 2m")
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
    assert os.stat(path).st_size == 2 * GiB

    # Snapshot: a copy on the same share.
    st, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert st == 202, out
    snap = wait_snapshot(d, out["snapshot"]["id"], ("available",))
    spath = local_file(nfs, vol["id"], ".snapshot-" + snap["id"])
    assert spath and os.path.dirname(spath) == os.path.dirname(path)
    # A volume with snapshots cannot be deleted.
    assert d.delete("/volumes/" + vol["id"])[0] == 400

    # Clone and volume-from-snapshot hold the bytes.
    st, _, out = d.post("/volumes", {"volume": {"size": 2, "source_volid": vol["id"]}})
    assert st == 202, out
    clone = d.wait_volume(out["volume"]["id"], ("available",), timeout=120)
    st, _, out = d.post("/volumes", {"volume": {"size": 3, "snapshot_id": snap["id"]}})
    assert st == 202, out
    fromsnap = d.wait_volume(out["volume"]["id"], ("available",), timeout=120)
    for v, size in ((clone, 2), (fromsnap, 3)):
        att, data = attach(d, v["id"], QEMU_INITIATOR)
        out = run(["iscsi-readcapacity16", "-i", QEMU_INITIATOR, url(data)]).stdout
        assert "Totalsize:%d" % (size * GiB) in out.replace(" ", "")
        qemu_io(data, "read -P 0x5a 1m 2m", "read -P 0x11 900m 64k", "read -P 0x77 1500m 1m")
        detach(d, att)
        d.wait_volume(v["id"], ("available",))

    # Revert: new data goes, the snapshot's comes back.
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x99 1m 1m", "flush")
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
    st, _, out = d.post("/volumes/%s/action" % vol["id"], {"revert": {"snapshot_id": snap["id"]}},
                        version="3.40")
    assert st == 202, out
    d.wait_volume(vol["id"], ("available",), timeout=120)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "read -P 0x5a 1m 2m")
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))

    # Deletes: the snapshot first, then the volume; the files go, the copies stay.
    assert d.delete("/snapshots/" + snap["id"])[0] == 202
    wait_snapshot(d, snap["id"], ("deleted",))
    assert not os.path.exists(spath)
    for v in (vol, clone, fromsnap):
        assert d.delete("/volumes/" + v["id"])[0] == 202
        d.wait_volume(v["id"], ("deleted",), timeout=60)
        assert local_file(nfs, v["id"]) is None


def test_ganesha_stopped_while_attached(d, nfs):
    vol = new_nfs_volume(d)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x42 4m 1m", "flush")

    nfs.stop()
    try:
        t0 = time.time()
        p = qemu_io(data, "write -P 0x43 8m 64k", "flush", check=False)
        failed_write = io_failed(p)
        p = qemu_io(data, "read -P 0x42 4m 64k", check=False)
        failed_read = io_failed(p)
        assert failed_write and failed_read, "I/O must fail while the server is gone:\n" + \
            p.stdout + p.stderr
        assert time.time() - t0 < 60, "errors come quickly, not after hanging"
        # The daemon stays up and answers.
        assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "in-use"
        assert d.proc.poll() is None
    finally:
        nfs.restart()

    # After the server returns, I/O recovers by itself (the device reconnects).
    deadline = time.time() + 30
    while True:
        p = qemu_io(data, "read -P 0x42 4m 1m", "write -P 0x44 12m 64k", "read -P 0x44 12m 64k",
                    "flush", check=False)
        if not io_failed(p):
            break
        assert time.time() < deadline, "no recovery after restart:\n%s%s\n%s" % (
            p.stdout, p.stderr, d.read_log()[-3000:])
        time.sleep(1)
    assert "connection lost" in d.read_log() and "reconnected" in d.read_log()
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))


def test_backup_to_nfs_store_and_restore_into_a_file_volume(make_daemon, nfs, tmp_path):
    d = nfs_daemon(make_daemon, nfs, tmp_path, backup=True, extra_default={
        "backup_driver": "cinder.backup.drivers.nfs.NFSBackupDriver",
        "backup_share": nfs.shares[1],
        "backup_mount_options": nfs.mount_options})
    deadline = time.time() + 15
    while not any(x["state"] == "up" for x in
                  d.get("/os-services?binary=cinder-backup")[2]["services"]):
        assert time.time() < deadline, d.read_log()[-3000:]
        time.sleep(0.1)
    vol = new_nfs_volume(d)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x3c 0 1m", "write -P 0xc3 333m 5m", "write -P 0x01 1023m 1m",
            "flush")
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))

    st, _, out = d.post("/backups", {"backup": {"volume_id": vol["id"]}}, version="3.64")
    assert st == 202, out
    bid = out["backup"]["id"]
    b = wait_backup(d, bid)
    assert b["status"] == "available", "%s\n%s" % (
        b, "\n".join(l for l in d.read_log().splitlines() if " debug " not in l)[-4000:])
    # The repository is on the backup share (its export directory), not under state_path.
    backup_dir = nfs.export_dirs[1]
    assert os.path.isdir(os.path.join(backup_dir, "chunks")), os.listdir(backup_dir)
    assert not os.path.exists(os.path.join(d.state_dir, "backup", "chunks"))

    # Restore into a new volume on the file backend; compare both byte for byte.
    st, _, out = d.post("/volumes", {"volume": {"size": 1, "volume_type": "on-file"}})
    assert st == 202, out
    target = d.wait_volume(out["volume"]["id"], ("available",))
    st, _, out = d.post("/backups/%s/restore" % bid, {"restore": {"volume_id": target["id"]}})
    assert st == 202, out
    b = wait_backup(d, bid)
    target = d.wait_volume(target["id"], ("available", "error", "error_restoring"), timeout=60)
    assert target["status"] == "available", (target, d.read_log()[-3000:])
    assert d.get("/volumes/" + target["id"])[2]["volume"]["os-vol-host-attr:host"].startswith(
        "testhost@file1")

    digests = []
    for v in (vol, target):
        att, data = attach(d, v["id"], QEMU_INITIATOR)
        out = str(tmp_path / ("img-" + v["id"]))
        run(["qemu-img", "convert", "--image-opts", image_opts(data), "-O", "raw", out])
        detach(d, att)
        d.wait_volume(v["id"], ("available",))
        with open(out, "rb") as f:
            h = hashlib.sha256()
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digests.append(h.hexdigest())
        os.remove(out)
    assert digests[0] == digests[1], "the restored file volume differs from the nfs volume"


def test_bad_nfs_configuration_stops_the_start_clearly(make_daemon, nfs, tmp_path):
    shares = tmp_path / "shares"
    shares.write_text(nfs.shares[0] + "\n")
    cases = [
        ({"nfs_shares_config": str(tmp_path / "missing")}, "nfs_shares_config"),
        ({"nfs_shares_config": str(shares), "nfs_mount_options": "vers=4"},
         "only NFS version 3"),
        ({"nfs_shares_config": str(shares), "nfs_mount_options": "port=1,mountport=1"},
         "no NFS share answers"),
    ]
    for opts, expected in cases:
        d = make_daemon(backends={"nfs1": dict({"volume_driver": "nfs"}, **opts)})
        with pytest.raises(RuntimeError) as e:
            d.start()
        assert expected in str(e.value), str(e.value)[-2000:]


def test_hung_server_times_out_then_recovers(d, nfs):
    """ganesha stopped with SIGSTOP: nothing answers, the connection stays open. With timeo=20
    (2 s, the daemon's nfs_mount_options) I/O fails after the timeout instead of hanging, and
    works again once the server answers."""
    vol = new_nfs_volume(d)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x21 2m 1m", "flush")
    nfs.pause()
    try:
        t0 = time.time()
        p = qemu_io(data, "read -P 0x21 2m 64k", check=False)
        took = time.time() - t0
        assert io_failed(p), p.stdout + p.stderr
        assert took < 60, "a hung server must time out (took %.1f s)" % took
        print("hung server: I/O failed after %.1f s" % took)
    finally:
        nfs.resume()
    deadline = time.time() + 30
    while True:
        p = qemu_io(data, "read -P 0x21 2m 1m", check=False)
        if not io_failed(p):
            break
        assert time.time() < deadline, "no recovery:\n%s%s\n%s" % (p.stdout, p.stderr,
                                                                      d.read_log()[-3000:])
        time.sleep(1)
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
