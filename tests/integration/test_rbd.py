"""The rbd driver in a real scoriad against a real Ceph: the cluster named by
SCORIA_TEST_CEPH_CONF, which `make test` starts once (tests/support/ceph_server.py); without it
the module is skipped, saying so.

The lifecycle through the API with the images checked behind the daemon's back (`rbd`): create,
extend, snapshots, volumes from snapshots and clones as layered clones, revert, the delete rules
(a snapshot or volume clones depend on is hidden, kept, and removed with its last clone); data
through the iSCSI target with QEMU (`iscsi://`); a backup of an RBD volume (full, then an
incremental that reads only RBD's changed extents) restored into a `file` volume byte for byte.
"""
import json
import os
import subprocess
import time

import pytest

from iscsi_util import QEMU_INITIATOR, attach, detach, image_opts, run
from test_backups import (create_backup, digest, enable_backup, restore, wait_backup_service,
                          wait_restored)
from test_snapshots import qemu_io, snapshot, wait_snapshot

MiB = 1024 * 1024
GiB = 1024 * MiB
CEPH_CONF = os.environ.get("SCORIA_TEST_CEPH_CONF")

pytestmark = pytest.mark.skipif(
    not CEPH_CONF, reason="SCORIA_TEST_CEPH_CONF is not set: `make test` starts a Ceph cluster "
    "for these tests (or: /usr/bin/python3 tests/support/ceph_server.py run -- pytest ...)")


def ceph(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, CEPH_CONF=CEPH_CONF), stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


@pytest.fixture
def pool(request):
    name = "it-%d-%s" % (os.getpid(), request.node.name.replace("_", "-")[:40])
    ceph("ceph", "osd", "pool", "create", name, "8", "8", "replicated")
    ceph("rbd", "pool", "init", name)
    yield name
    ceph("ceph", "osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it", check=False)


def rbd_backend(pool_name, **extra):
    opts = {"volume_driver": "cinder.volume.drivers.rbd.RBDDriver", "rbd_pool": pool_name,
            "rbd_ceph_conf": CEPH_CONF, "rados_connect_timeout": "20"}
    opts.update(extra)
    return opts


@pytest.fixture
def d(make_daemon, pool):
    return make_daemon(backends={"ceph": rbd_backend(pool)},
                       extra_default={"quota_gigabytes": "-1", "quota_volumes": "-1",
                                      "quota_snapshots": "-1"}).start()


def images(pool_name):
    return sorted(json.loads(ceph("rbd", "ls", "-l", "--format", "json", pool_name)),
                  key=lambda i: (i["image"], i.get("snapshot", "")))


def image_names(pool_name):
    return sorted({i["image"] for i in images(pool_name)})


def info(pool_name, image):
    return json.loads(ceph("rbd", "info", "--format", "json", "%s/%s" % (pool_name, image)))


def wait_gone(d, path, timeout=30):
    deadline = time.time() + timeout
    while d.get(path)[0] != 404:
        assert time.time() < deadline, d.read_log()[-3000:]
        time.sleep(0.05)


def test_lifecycle_images_and_delete_rules(d, pool):
    vol = d.create_volume(size=1)
    name = "volume-" + vol["id"]
    assert image_names(pool) == [name]
    assert info(pool, name)["size"] == GiB
    assert "layering" in info(pool, name)["features"]

    assert d.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 2}})[0] == 202
    d.wait_volume(vol["id"], ("available",))
    assert info(pool, name)["size"] == 2 * GiB

    snap = snapshot(d, vol["id"])
    assert [i.get("snapshot") for i in images(pool) if i.get("snapshot")] == \
        ["snapshot-" + snap["id"]]
    from_snap = d.create_volume(snapshot_id=snap["id"], size=2)
    clone = d.create_volume(source_volid=vol["id"], size=3)
    for v in (from_snap, clone):
        i = info(pool, "volume-" + v["id"])
        assert i["parent"]["image"] == name, i  # layered clones, not copies
    assert info(pool, "volume-" + clone["id"])["size"] == 3 * GiB
    assert info(pool, "volume-" + clone["id"])["parent"]["snapshot"] == \
        "volume-%s.clone_snap" % clone["id"]

    # The API's rule: a volume with snapshots cannot be deleted.
    st, _, out = d.delete("/volumes/" + vol["id"])
    assert st == 400, out
    # The snapshot has a clone: gone for the user, kept (renamed) in Ceph.
    assert d.delete("/snapshots/" + snap["id"])[0] == 202
    wait_gone(d, "/snapshots/" + snap["id"])
    assert [i.get("snapshot") for i in images(pool) if i["image"] == name and
            i.get("snapshot", "").startswith("snapshot-")] == ["snapshot-%s.deleted" % snap["id"]]
    # The volume has clones: gone for the user, kept as volume-<id>.deleted.
    assert d.delete("/volumes/" + vol["id"])[0] == 202
    d.wait_volume(vol["id"], ("deleted",))
    assert name + ".deleted" in image_names(pool)
    assert name not in image_names(pool)
    # The clones are whole volumes still: they extend, and the last one gone takes the rest.
    assert d.post("/volumes/%s/action" % from_snap["id"], {"os-extend": {"new_size": 4}})[0] == 202
    d.wait_volume(from_snap["id"], ("available",))
    for v in (from_snap, clone):
        assert d.delete("/volumes/" + v["id"])[0] == 202
        d.wait_volume(v["id"], ("deleted",))
    assert image_names(pool) == []

    # Capacity comes from the cluster: thin, with what the pool can still take.
    st, _, out = d.get("/scheduler-stats/get_pools?detail=true")
    caps = out["pools"][0]["capabilities"]
    assert caps["thin_provisioning_support"] is True
    assert caps["total_capacity_gb"] > 0 and caps["free_capacity_gb"] > 0


@pytest.mark.skipif(not os.path.exists("/usr/bin/qemu-io"), reason="qemu-utils is needed")
def test_iscsi_data_snapshot_clone_revert(d, pool, tmp_path):
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x11 0 4m", "write -P 0x22 700m 1m")
    snap = snapshot(d, vol["id"], force=True)  # in-use: the manager gates and flushes
    qemu_io(data, "write -P 0x33 0 1m", "write -P 0x44 300m 2m", "flush")
    from_snap = d.create_volume(snapshot_id=snap["id"])
    clone = d.create_volume(source_volid=vol["id"], size=2)
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))

    att, data = attach(d, from_snap["id"], QEMU_INITIATOR)
    qemu_io(data, "read -P 0x11 0 4m", "read -P 0x22 700m 1m", "read -P 0 300m 2m")
    # and it is the snapshot's bytes exactly: the target's view against rbd export's
    run(["qemu-img", "convert", "--image-opts", image_opts(data), "-O", "raw",
         str(tmp_path / "from_snap.raw")])
    detach(d, att)
    ceph("rbd", "export", "--no-progress", "%s/volume-%s@snapshot-%s" % (pool, vol["id"], snap["id"]),
         str(tmp_path / "snap.raw"))
    assert digest(tmp_path / "from_snap.raw") == digest(tmp_path / "snap.raw")

    att, data = attach(d, clone["id"], QEMU_INITIATOR)
    qemu_io(data, "read -P 0x33 0 1m", "read -P 0x11 1m 3m", "read -P 0x44 300m 2m",
            "read -P 0x22 700m 1m", "read -P 0 1500m 1m")
    # the initiator sees the new size after an extend of an attached volume
    assert d.post("/volumes/%s/action" % clone["id"], {"os-extend": {"new_size": 3}},
                  version="3.42")[0] == 202
    deadline = time.time() + 30
    while d.get("/volumes/" + clone["id"])[2]["volume"]["size"] != 3:
        assert time.time() < deadline
        time.sleep(0.05)
    d.wait_volume(clone["id"], ("in-use",))
    qemu_io(data, "write -P 0x55 2500m 1m", "read -P 0x55 2500m 1m")
    detach(d, att)

    st, _, out = d.post("/volumes/%s/action" % vol["id"], {"revert": {"snapshot_id": snap["id"]}},
                        version="3.40")
    assert st == 202, out
    d.wait_volume(vol["id"], ("available",))
    assert wait_snapshot(d, snap["id"], ("available",))
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "read -P 0x11 0 4m", "read -P 0 300m 2m", "read -P 0x22 700m 1m")
    detach(d, att)


def type_for(d, name, backend):
    st, _, out = d.post("/types", {"volume_type": {
        "name": name, "extra_specs": {"volume_backend_name": backend}}})
    assert st == 200, out
    return out["volume_type"]["id"]


@pytest.mark.skipif(not os.path.exists("/usr/bin/qemu-io"), reason="qemu-utils is needed")
def test_backup_of_rbd_volume_restored_into_file_volume(make_daemon, pool, tmp_path):
    d = make_daemon(backends={"file-1": {}, "ceph": rbd_backend(pool)},
                    extra_default={"quota_gigabytes": "-1", "quota_volumes": "-1"})
    enable_backup(d).start()
    wait_backup_service(d)
    back_up_rbd_volume_and_restore_into_file_volume(d, pool, tmp_path)


def back_up_rbd_volume_and_restore_into_file_volume(d, pool, tmp_path, stored_chunks=None):
    """On a started daemon with backends "ceph" (rbd on `pool`) and "file-1" and a backup
    service: a full backup of an RBD volume, an incremental that reads only RBD's changed
    extents, and its restore into a file volume, compared byte for byte with the source and
    with Ceph's own export. `stored_chunks()`, when given, lists the store's chunk objects: the
    full backup stores 3, the incremental 3 more (test_backup_stores.py, the ceph store)."""
    type_for(d, "ceph", "ceph")
    type_for(d, "plain", "file-1")
    vol = d.create_volume(size=1, volume_type="ceph")
    assert vol["os-vol-host-attr:host"].startswith("testhost@ceph"), vol
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x61 0 4m", "write -P 0x62 100m 3m", "write -P 0x63 1020m 4m",
            "flush")
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
    full = create_backup(d, vol["id"], name="full")
    if stored_chunks:
        chunks_full = set(stored_chunks())
        assert len(chunks_full) == 3, chunks_full  # one 4 MiB chunk each write

    # three extents changed: the incremental reads those (RBD's diff), not the volume
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x71 1m 64k", "write -P 0x72 500m 1m", "write -P 0x73 1021m 4k",
            "flush")
    run(["qemu-img", "convert", "--image-opts", image_opts(data), "-O", "raw",
         str(tmp_path / "source.raw")])
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
    inc = create_backup(d, vol["id"], name="inc", incremental=True)
    assert inc["parent_id"] == full["id"]
    line = [l for l in d.read_log().splitlines()
            if "backup %s:" % inc["id"] in l and "changed range(s)" in l]
    assert line, d.read_log()[-3000:]
    assert " in 3 changed range(s)" in line[0], line[0]
    changed_bytes = int(line[0].split("backup %s: " % inc["id"])[1].split(" B in")[0])
    assert changed_bytes < 12 * MiB, line[0]  # within the three 4 MiB objects touched
    if stored_chunks:
        assert len(set(stored_chunks()) - chunks_full) == 3

    # restore into a volume of the file backend, compare byte for byte
    target = d.create_volume(size=1, volume_type="plain")
    assert target["os-vol-host-attr:host"].startswith("testhost@file-1"), target
    restore(d, inc["id"], volume_id=target["id"])
    assert wait_restored(d, inc["id"], target["id"])["status"] == "available", d.read_log()[-3000:]
    restored = os.path.join(d.volume_dir("file-1"), "volume-" + target["id"])
    assert digest(restored) == digest(tmp_path / "source.raw")
    # and against Ceph's own export of the image
    ceph("rbd", "export", "--no-progress", "%s/volume-%s" % (pool, vol["id"]),
         str(tmp_path / "export.raw"))
    assert digest(restored) == digest(tmp_path / "export.raw")


def test_a_user_without_caps_on_the_pool_stops_the_start_with_a_clear_error(make_daemon, pool):
    """rbd_user without caps on rbd_pool: scoriad refuses to start (as for any unusable backend),
    saying which backend, which cephx user and which pool."""
    user = "it-nocaps-%d" % os.getpid()
    conf_dir = os.path.dirname(CEPH_CONF)
    ceph("ceph", "auth", "get-or-create", "client." + user, "mon", "profile rbd", "osd",
         "profile rbd pool=elsewhere", "-o", os.path.join(conf_dir, "ceph.client.%s.keyring" % user))
    try:
        d = make_daemon(backends={"ceph": rbd_backend(pool, rbd_user=user)})
        with pytest.raises(RuntimeError) as e:
            d.start(timeout=60)
        msg = str(e.value)
        assert "backend ceph" in msg and "client.%s" % user in msg and "pool %s" % pool in msg, msg
    finally:
        ceph("ceph", "auth", "del", "client." + user, check=False)


@pytest.mark.skipif(not os.path.exists("/usr/bin/qemu-io"), reason="qemu-utils is needed")
def test_native_rbd_connection_info_for_qemu(make_daemon, pool):
    """A connector naming driver_volume_type rbd gets Cinder's rbd connection_info, which QEMU's
    own rbd driver opens (no target involved); an iSCSI attachment of the same volume sees the
    bytes QEMU wrote."""
    secret = "457eb676-33da-42ec-9a8c-9293d545c337"
    d = make_daemon(backends={"ceph": rbd_backend(pool, rbd_secret_uuid=secret,
                                                  report_discard_supported="true")}).start()
    vol = d.create_volume(size=1)
    connector = {"initiator": QEMU_INITIATOR, "ip": "127.0.0.1", "host": "testhost",
                 "platform": "x86_64", "os_type": "linux", "multipath": False,
                 "driver_volume_type": "rbd"}
    st, _, out = d.post("/attachments", {"attachment": {"volume_uuid": vol["id"],
                                                        "connector": connector}}, version="3.54")
    assert st == 200, out
    att = out["attachment"]
    ci = att["connection_info"]
    assert ci["driver_volume_type"] == "rbd", ci
    data = ci["data"]
    mons = json.loads(ceph("ceph", "mon", "dump", "--format", "json"))["mons"]
    v1 = [a["addr"] for a in mons[0]["public_addrs"]["addrvec"] if a["type"] == "v1"][0]
    assert data["name"] == "%s/volume-%s" % (pool, vol["id"])
    assert data["hosts"] == [v1.split(":")[0]] and data["ports"] == [v1.split(":")[1].split("/")[0]]
    assert data["auth_enabled"] is True and data["auth_username"] == "admin"
    assert data["secret_type"] == "ceph" and data["secret_uuid"] == secret
    assert data["discard"] is True and data["access_mode"] == "rw"
    assert d.post("/attachments/%s/action" % att["id"], {"os-complete": None},
                  version="3.54")[0] == 204
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "in-use"

    # What a hypervisor builds from it: monitors from hosts/ports, the user's keyring.
    mon_host = "\\:".join([data["hosts"][0], data["ports"][0]])
    keyring = os.path.join(os.path.dirname(CEPH_CONF), "ceph.client.admin.keyring")
    spec = "rbd:%s:id=%s:mon_host=%s:keyring=%s" % (data["name"], data["auth_username"],
                                                    mon_host, keyring)
    run(["qemu-io", "-f", "raw", spec, "-c", "write -P 0x5a 1m 2m", "-c", "flush"])
    run(["qemu-io", "-f", "raw", "rbd:%s:id=admin:conf=%s" % (data["name"], CEPH_CONF),
         "-c", "read -P 0x5a 1m 2m", "-c", "read -P 0 0 1m"])
    st, _, out = d.delete("/attachments/" + att["id"], version="3.54")
    assert st == 200, out
    d.wait_volume(vol["id"], ("available",))
    # the same bytes through Scoria's own target
    att2, idata = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(idata, "read -P 0x5a 1m 2m")
    detach(d, att2)



def _signal_mon(sig):
    pid = os.environ.get("SCORIA_TEST_CEPH_MON_PID")
    if not pid:
        pytest.skip("SCORIA_TEST_CEPH_MON_PID is not set (tests/support/ceph_server.py sets it)")
    os.kill(int(pid), sig)


def _wait_status(d, path, key, leaving, timeout=90):
    """Polls until the resource's status is no longer in `leaving`; returns it."""
    deadline = time.time() + timeout
    while True:
        status = d.get(path)[2][key]["status"]
        if status not in leaving:
            return status
        assert time.time() < deadline, "%s stuck in %s:\n%s" % (path, status, d.read_log()[-3000:])
        time.sleep(0.2)


def pool_state(d):
    st, _, out = d.get("/scheduler-stats/get_pools?detail=true",
                       headers={"OpenStack-API-Version": "volume 3.49"})
    assert st == 200, out
    return out["pools"][0]["capabilities"]["backend_state"]


def test_monitor_stopped_mid_operation(make_daemon, pool):
    """The single monitor stopped (SIGSTOP: nothing answers, connections stay open) while
    operations run. What needs only the OSDs completes (a new volume, an extend); what needs the
    monitor (a snapshot id) times out after rados_connect_timeout, is retried, and ends in
    `error` with the cause logged; a snapshot whose monitor comes back during its retries
    completes. Nothing is left creating or extending, and everything works after the return."""
    import signal
    d = make_daemon(backends={"ceph": rbd_backend(pool, rados_connect_timeout="3")},
                    extra_default={"quota_gigabytes": "-1", "quota_volumes": "-1",
                                   "quota_snapshots": "-1"}).start()
    vol = d.create_volume(size=1)

    def post_snapshot():
        st, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "s"}})
        assert st == 202, out
        return out["snapshot"]

    # The monitor stays away for good: every attempt times out.
    _signal_mon(signal.SIGSTOP)
    try:
        snap = post_snapshot()
        st, _, out = d.post("/volumes", {"volume": {"size": 1}})
        assert st == 202, out
        new = out["volume"]
        assert d.post("/volumes/%s/action" % vol["id"],
                      {"os-extend": {"new_size": 2}})[0] == 202
        assert _wait_status(d, "/volumes/" + new["id"], "volume", ("creating",)) == "available"
        assert _wait_status(d, "/snapshots/" + snap["id"], "snapshot", ("creating",)) == "error"
        assert _wait_status(d, "/volumes/" + vol["id"], "volume", ("extending",)) == "available"
        # The service is up; its pool says the backend is down, with the last capacities.
        assert pool_state(d) == "down"
        assert [s["state"] for s in d.get("/os-services?binary=cinder-volume")[2]["services"]] \
            == ["up"]
    finally:
        _signal_mon(signal.SIGCONT)
    log = d.read_log()
    assert "failed to allocate snapshot id" in log or "Connection timed out" in log, log[-3000:]
    assert "snapshot %s of %s failed" % (snap["id"], vol["id"]) in log, log[-3000:]
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["size"] == 2
    assert info(pool, "volume-" + vol["id"])["size"] == 2 * GiB

    # The monitor comes back while the task is retrying: the snapshot completes.
    _signal_mon(signal.SIGSTOP)
    try:
        retried = post_snapshot()
        time.sleep(5)  # at least one attempt timed out (3 s)
        assert d.get("/snapshots/" + retried["id"])[2]["snapshot"]["status"] == "creating"
    finally:
        _signal_mon(signal.SIGCONT)
    assert _wait_status(d, "/snapshots/" + retried["id"], "snapshot", ("creating",)) == "available"
    deadline = time.time() + 30
    while pool_state(d) != "up":
        assert time.time() < deadline, d.read_log()[-3000:]
        time.sleep(0.2)

    # Afterwards everything works: the failed snapshot and the rest are deleted cleanly.
    for path in ("/snapshots/" + snap["id"], "/snapshots/" + retried["id"]):
        assert d.delete(path)[0] == 202
        wait_gone(d, path)
    for v in (vol, new):
        assert d.delete("/volumes/" + v["id"])[0] == 202
        d.wait_volume(v["id"], ("deleted",))
    assert image_names(pool) == []
