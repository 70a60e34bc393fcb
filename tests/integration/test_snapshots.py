"""Snapshots, volumes from snapshots, clones and revert against a real scoriad.

Data goes through the iSCSI target with QEMU's client (qemu-io over iscsi://), and is checked
byte for byte on the copies. Both copy paths of the file driver run: the sparse copy on the
machine's filesystem (ext4 here), and reflink on an XFS filesystem this test makes on a loop
device (skipped, with the reason, where that is impossible). The log line of the driver names
the path that ran, and the filesystem's used space shows that a reflink shares the data.
"""
import glob
import os
import random
import shutil
import subprocess
import time

import pytest

from conftest import free_port
from iscsi_util import QEMU_INITIATOR, attach, detach, image_opts, run

MiB = 1024 * 1024
HAVE_QEMU = shutil.which("qemu-io") is not None


@pytest.fixture
def d(make_daemon):
    return make_daemon(extra_default={"quota_gigabytes": "-1", "quota_volumes": "-1",
                                      "quota_snapshots": "-1",
                                      "target_port": str(free_port())}).start()


def wait_snapshot(d, sid, statuses, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        status, _, out = d.get("/snapshots/" + sid)
        if status == 404:
            if "deleted" in statuses:
                return None
            raise AssertionError("snapshot %s vanished" % sid)
        last = out["snapshot"]
        if last["status"] in statuses:
            return last
        time.sleep(0.02)
    raise AssertionError("snapshot %s stuck in %s (wanted %s)\n%s" % (
        sid, last and last["status"], statuses, d.read_log()[-3000:]))


def snapshot(d, vol_id, wait=True, version=None, **fields):
    body = {"snapshot": dict(volume_id=vol_id, **fields)}
    status, _, out = d.post("/snapshots", body, version=version)
    assert status == 202, (status, out)
    snap = out["snapshot"]
    assert snap["status"] == "creating"
    # Cinder's extended attributes are in show and /snapshots/detail only, not in a create.
    assert "os-extended-snapshot-attributes:progress" not in snap
    assert d.get("/snapshots/" + snap["id"])[2]["snapshot"][
        "os-extended-snapshot-attributes:progress"] in ("0%", "100%")
    if wait:
        snap = wait_snapshot(d, snap["id"], ("available",))
        assert snap["os-extended-snapshot-attributes:progress"] == "100%"
    return snap


def file_of(d, kind, ident, backend="file1"):
    return os.path.join(d.volume_dir(backend), "%s-%s" % (kind, ident))


def read(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


# --- API rules --------------------------------------------------------------------------------

def test_snapshot_crud_views_metadata_and_lists(d):
    vol = d.create_volume(size=2)
    s1 = snapshot(d, vol["id"], name="first", metadata={"k": "v"})
    assert s1["size"] == 2 and s1["volume_id"] == vol["id"] and s1["metadata"] == {"k": "v"}
    assert s1["os-extended-snapshot-attributes:project_id"] == "admin"
    status, _, out = d.get("/snapshots/" + s1["id"], version="3.65")
    assert status == 200
    snap = out["snapshot"]
    assert snap["user_id"] == "admin" and snap["consumes_quota"] is True
    assert snap["group_snapshot_id"] is None
    assert "user_id" not in d.get("/snapshots/" + s1["id"], version="3.40")[2]["snapshot"]
    # update
    status, _, out = d.put("/snapshots/" + s1["id"], {"snapshot": {"name": "renamed",
                                                                   "description": "d"}})
    assert status == 200 and out["snapshot"]["name"] == "renamed"
    assert d.put("/snapshots/" + s1["id"], {"snapshot": {}})[0] == 400
    assert d.put("/snapshots/" + s1["id"], {"snapshot": {"size": 3}})[0] == 400
    # metadata sub-resource
    base = "/snapshots/%s/metadata" % s1["id"]
    assert d.get(base)[2] == {"metadata": {"k": "v"}}
    assert d.post(base, {"metadata": {"a": "1"}})[2] == {"metadata": {"k": "v", "a": "1"}}
    assert d.put(base, {"metadata": {"b": "2"}})[2] == {"metadata": {"b": "2"}}
    assert d.put(base + "/c", {"meta": {"c": "3"}})[0] == 200
    assert d.get(base + "/c")[2] == {"meta": {"c": "3"}}
    assert d.put(base + "/c", {"meta": {"x": "3"}})[0] == 400
    assert d.delete(base + "/c")[0] == 200
    assert d.delete(base + "/c")[0] == 404
    assert d.get(base + "/nope")[0] == 404
    assert d.post(base, {"metadata": "x"})[0] == 400
    # lists, filters, sort, pagination, count
    s2 = snapshot(d, vol["id"], name="second")
    s3 = snapshot(d, vol["id"], name="third")
    status, _, out = d.get("/snapshots")
    assert status == 200 and [s["id"] for s in out["snapshots"]] == [s3["id"], s2["id"], s1["id"]]
    out = d.get("/snapshots/detail?name=second")[2]
    assert [s["id"] for s in out["snapshots"]] == [s2["id"]]
    out = d.get("/snapshots/detail?volume_id=%s&sort=name:asc" % vol["id"])[2]
    assert [s["name"] for s in out["snapshots"]] == ["renamed", "second", "third"]
    out = d.get("/snapshots/detail?limit=2&with_count=true", version="3.45")[2]
    assert len(out["snapshots"]) == 2 and out["count"] == 3 and "snapshots_links" in out
    nxt = out["snapshots_links"][0]["href"]
    out = d.get(nxt, version="3.45")[2]
    assert [s["id"] for s in out["snapshots"]] == [s1["id"]]
    assert d.get("/snapshots?marker=nope")[0] == 404
    assert d.get("/snapshots?sort=bogus:asc")[0] == 400
    out = d.get("/snapshots/detail?metadata={'b':'2'}")[2]
    assert [s["id"] for s in out["snapshots"]] == [s1["id"]]
    # another project lists none of them (noauth callers are admins: all_tenants shows them)
    status, _, out = d.get("/snapshots", token="u2:p2")
    assert status == 200 and out["snapshots"] == []
    out = d.get("/snapshots?all_tenants=1", token="u2:p2")[2]
    assert len(out["snapshots"]) == 3
    # limits count snapshots; gigabytes count the snapshots' size too
    lim = d.get("/limits")[2]["limits"]["absolute"]
    assert lim["totalSnapshotsUsed"] == 3
    assert lim["totalGigabytesUsed"] == 2 + 3 * 2
    # delete
    assert d.delete("/snapshots/" + s3["id"])[0] == 202
    wait_snapshot(d, s3["id"], ("deleted",))
    assert not os.path.exists(file_of(d, "snapshot", s3["id"]))
    assert d.delete("/snapshots/" + s3["id"])[0] == 404


def test_create_rules_force_by_microversion_and_bad_input(d):
    vol = d.create_volume(size=1)
    # an in-use volume (state only; the data path is tested below)
    assert d.post("/volumes/%s/action" % vol["id"],
                  {"os-reset_status": {"status": "in-use", "attach_status": "attached"}})[0] == 202
    status, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert status == 400 and "must be available" in out["badRequest"]["message"]
    assert d.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "force": False}})[0] == 400
    s = snapshot(d, vol["id"], force=True)  # < 3.66: force allows in-use
    s = snapshot(d, vol["id"], force="true", version="3.65")  # cinderclient sends a string
    snapshot(d, vol["id"], version="3.66")  # >= 3.66: in-use needs no force
    status, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "force": False}},
                            version="3.66")
    assert status == 400, out
    # a volume in error is refused, with or without force
    assert d.post("/volumes/%s/action" % vol["id"],
                  {"os-reset_status": {"status": "error", "attach_status": "detached"}})[0] == 202
    for body in ({"volume_id": vol["id"]}, {"volume_id": vol["id"], "force": True}):
        status, _, out = d.post("/snapshots", {"snapshot": body})
        assert status == 400 and "current status is: error" in out["badRequest"]["message"]
    # bad input
    assert d.post("/snapshots", {"snapshot": {"volume_id": "nope"}})[0] == 404
    assert d.post("/snapshots", {"snapshot": {"volume_id": None}})[0] == 404  # Cinder looks it up
    assert d.post("/snapshots", {"snapshot": {}})[0] == 400
    assert d.post("/snapshots", {"snapshot": {"volume_id": 5}})[0] == 400
    assert d.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "force": "maybe"}})[0] == 400
    assert d.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "bogus": 1}})[0] == 400
    assert d.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "name": 7}})[0] == 400
    assert d.post("/snapshots", {"volume_id": vol["id"]})[0] == 400
    assert d.post("/snapshots", raw="{not json")[0] == 400
    assert d.get("/snapshots/nope")[0] == 404
    # nothing was made by the refusals
    assert len(d.get("/snapshots")[2]["snapshots"]) == 3


def test_quota_snapshots_and_gigabytes(make_daemon):
    d = make_daemon(extra_default={"quota_snapshots": "1", "quota_gigabytes": "3"}).start()
    vol = d.create_volume(size=1)
    snapshot(d, vol["id"])
    status, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert status == 413 and "SnapshotLimitExceeded" in out["overLimit"]["message"]
    # 1 GiB volume + 1 GiB snapshot used: a 2 GiB volume exceeds the 3 GiB quota
    status, _, out = d.post("/volumes", {"volume": {"size": 2}})
    assert status == 413 and "gigabytes" in out["overLimit"]["message"]


def test_volume_delete_with_snapshots_cascade_reset_force(d):
    vol = d.create_volume(size=1)
    s1 = snapshot(d, vol["id"])
    s2 = snapshot(d, vol["id"])
    status, _, out = d.delete("/volumes/" + vol["id"])
    assert status == 400 and "snapshot" in out["badRequest"]["message"]
    assert d.post("/volumes/%s/action" % vol["id"], {"os-force_delete": None})[0] == 400
    # reset-status and force-delete of a snapshot (admin actions)
    assert d.post("/snapshots/%s/action" % s1["id"],
                  {"os-reset_status": {"status": "creating"}})[0] == 202
    assert d.get("/snapshots/" + s1["id"])[2]["snapshot"]["status"] == "creating"
    assert d.post("/snapshots/%s/action" % s1["id"],
                  {"os-reset_status": {"status": "bogus"}})[0] == 400
    assert d.post("/snapshots/%s/action" % s1["id"], {"os-reset_status": {}})[0] == 400
    assert d.delete("/snapshots/" + s1["id"])[0] == 400  # creating: not deletable
    # cascade needs every snapshot available or error
    assert d.delete("/volumes/%s?cascade=true" % vol["id"])[0] == 400
    assert d.post("/snapshots/%s/action" % s1["id"], {"os-force_delete": {}})[0] == 202
    wait_snapshot(d, s1["id"], ("deleted",))
    assert not os.path.exists(file_of(d, "snapshot", s1["id"]))
    assert d.post("/snapshots/%s/action" % s2["id"], {"os-bogus": {}})[0] == 400
    # cascade: the snapshot goes first, then the volume
    assert d.delete("/volumes/%s?cascade=maybe" % vol["id"])[0] == 400
    assert d.delete("/volumes/%s?cascade=true" % vol["id"])[0] == 202
    d.wait_volume(vol["id"], ("deleted",))
    assert d.get("/snapshots/" + s2["id"])[0] == 404
    assert glob.glob(os.path.join(d.volume_dir(), "*" + vol["id"][:8] + "*")) == []
    assert glob.glob(os.path.join(d.volume_dir(), "snapshot-*")) == []


def test_create_from_source_and_revert_rules(d):
    vol = d.create_volume(size=2)
    s = snapshot(d, vol["id"])
    # size defaults to the source's; smaller is refused; larger is extended
    status, _, out = d.post("/volumes", {"volume": {"snapshot_id": s["id"]}})
    assert status == 202 and out["volume"]["size"] == 2 and out["volume"]["snapshot_id"] == s["id"]
    v_def = d.wait_volume(out["volume"]["id"], ("available",))
    status, _, out = d.post("/volumes", {"volume": {"snapshot_id": s["id"], "size": 1}})
    assert status == 400 and "snapshot size" in out["badRequest"]["message"]
    status, _, out = d.post("/volumes", {"volume": {"source_volid": vol["id"], "size": 1}})
    assert status == 400 and "source volume size" in out["badRequest"]["message"]
    status, _, out = d.post("/volumes", {"volume": {"snapshot_id": s["id"], "size": 3}})
    assert status == 202
    big = d.wait_volume(out["volume"]["id"], ("available",))
    assert os.path.getsize(file_of(d, "volume", big["id"])) == 3 * 1024 * MiB
    # bad sources
    assert d.post("/volumes", {"volume": {"snapshot_id": "nope"}})[0] == 404
    assert d.post("/volumes", {"volume": {"source_volid": "nope"}})[0] == 404
    assert d.post("/volumes", {"volume": {"snapshot_id": 5}})[0] == 400
    assert d.post("/volumes", {"volume": {"snapshot_id": s["id"],
                                          "source_volid": vol["id"]}})[0] == 400
    assert d.post("/snapshots/%s/action" % s["id"],
                  {"os-reset_status": {"status": "error"}})[0] == 202
    status, _, out = d.post("/volumes", {"volume": {"snapshot_id": s["id"]}})
    assert status == 400 and "available" in out["badRequest"]["message"]
    assert d.post("/snapshots/%s/action" % s["id"],
                  {"os-reset_status": {"status": "available"}})[0] == 202
    # the copies are on the source's pool, with the source's type and AZ
    admin = d.get("/volumes/" + v_def["id"])[2]["volume"]
    assert admin["os-vol-host-attr:host"] == d.get("/volumes/" + vol["id"])[2]["volume"][
        "os-vol-host-attr:host"]
    # revert: 3.40+, latest snapshot only, sizes equal
    body = {"revert": {"snapshot_id": s["id"]}}
    assert d.post("/volumes/%s/action" % vol["id"], body, version="3.39")[0] == 400
    s_new = snapshot(d, vol["id"])
    status, _, out = d.post("/volumes/%s/action" % vol["id"], body, version="3.40")
    assert status == 400 and "latest" in out["badRequest"]["message"]
    assert d.post("/volumes/%s/action" % vol["id"], {"revert": {}}, version="3.40")[0] == 400
    assert d.post("/volumes/%s/action" % big["id"], {"revert": {"snapshot_id": s["id"]}},
                  version="3.40")[0] == 400  # big has no snapshots
    assert d.post("/volumes/%s/action" % vol["id"],
                  {"os-reset_status": {"status": "error"}})[0] == 202
    status, _, out = d.post("/volumes/%s/action" % vol["id"],
                            {"revert": {"snapshot_id": s_new["id"]}}, version="3.40")
    assert status == 409, out
    assert d.post("/volumes/%s/action" % vol["id"],
                  {"os-reset_status": {"status": "available"}})[0] == 202
    assert d.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 3}})[0] == 202
    d.wait_volume(vol["id"], ("available",))
    status, _, out = d.post("/volumes/%s/action" % vol["id"],
                            {"revert": {"snapshot_id": s_new["id"]}}, version="3.40")
    assert status == 400 and "size" in out["badRequest"]["message"]


# --- Data through iSCSI ---------------------------------------------------------------------

def qemu_io(data, *cmds, check=True):
    args = ["qemu-io", "--image-opts", image_opts(data)]
    for c in cmds:
        args += ["-c", c]
    return run(args, check=check)


def snapshot_clone_revert_data(d, backend="file1"):
    """Writes through iSCSI into an attached volume, snapshots it in-use, writes more, then
    checks a volume from the snapshot, a clone and a revert byte for byte. Returns the ids."""
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "in-use"
    # writes acknowledged (no flush from the client) before the snapshot must be in it
    qemu_io(data, "write -P 0x11 0 4m", "write -P 0x22 700m 1m")
    snap = snapshot(d, vol["id"], force=True)
    qemu_io(data, "write -P 0x33 0 1m", "write -P 0x44 300m 2m", "flush")
    from_snap = d.create_volume(snapshot_id=snap["id"])
    clone = d.create_volume(source_volid=vol["id"], size=2)
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
    # the volume from the snapshot: the bytes before the snapshot only (through iSCSI)
    att2, data2 = attach(d, from_snap["id"], QEMU_INITIATOR)
    qemu_io(data2, "read -P 0x11 0 4m", "read -P 0x22 700m 1m", "read -P 0 300m 2m")
    detach(d, att2)
    # the clone: everything, and 1 GiB more of zeroes
    att3, data3 = attach(d, clone["id"], QEMU_INITIATOR)
    qemu_io(data3, "read -P 0x33 0 1m", "read -P 0x11 1m 3m", "read -P 0x44 300m 2m",
            "read -P 0x22 700m 1m", "read -P 0 1500m 1m")
    detach(d, att3)
    # files agree byte for byte with what the snapshot holds
    sfile = file_of(d, "snapshot", snap["id"], backend)
    with open(sfile, "rb") as a, open(file_of(d, "volume", from_snap["id"], backend), "rb") as b:
        while True:
            x, y = a.read(64 * MiB), b.read(64 * MiB)
            assert x == y
            if not x:
                break
    # revert: the volume holds the snapshot's bytes again
    status, _, out = d.post("/volumes/%s/action" % vol["id"],
                            {"revert": {"snapshot_id": snap["id"]}}, version="3.40")
    assert status == 202, out
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] in ("reverting", "available")
    d.wait_volume(vol["id"], ("available",))
    assert wait_snapshot(d, snap["id"], ("available",))
    att4, data4 = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data4, "read -P 0x11 0 4m", "read -P 0 300m 2m", "read -P 0x22 700m 1m")
    detach(d, att4)
    return vol, snap, from_snap, clone


@pytest.mark.skipif(not HAVE_QEMU, reason="qemu-utils is needed")
def test_data_sparse_copy_path(d):
    fs = subprocess.run(["stat", "-f", "-c", "%T", d.volume_dir()], capture_output=True,
                        text=True).stdout.strip()
    vol, snap, from_snap, clone = snapshot_clone_revert_data(d)
    log = d.read_log()
    if fs in ("xfs", "btrfs"):
        pytest.skip("the state directory is on %s: reflink ran (tested below)" % fs)
    assert "snapshot %s of volume %s made by sparse copy" % (snap["id"], vol["id"]) in log, fs
    assert "volume %s made from volume %s by sparse copy" % (clone["id"], vol["id"]) in log
    # sparse: a 1 GiB snapshot with 5 MiB written allocates about that much
    st = os.stat(file_of(d, "snapshot", snap["id"]))
    assert st.st_blocks * 512 < 16 * MiB, st.st_blocks


def used_bytes(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@pytest.fixture
def xfs_dir(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("making an XFS loop filesystem needs root")
    if not shutil.which("mkfs.xfs"):
        pytest.skip("mkfs.xfs is missing (xfsprogs; scripts/install-deps.sh installs it)")
    img = tmp_path / "xfs.img"
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(1024 * MiB)
    p = run(["mkfs.xfs", "-q", "-m", "reflink=1", str(img)], check=False)
    if p.returncode != 0:
        pytest.skip("mkfs.xfs -m reflink=1 failed: " + p.stderr)
    p = run(["mount", "-o", "loop", str(img), str(mnt)], check=False)
    if p.returncode != 0:
        pytest.skip("cannot mount a loop device here: " + p.stderr.strip())
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


@pytest.mark.skipif(not HAVE_QEMU, reason="qemu-utils is needed")
def test_data_reflink_path_on_xfs(make_daemon, xfs_dir):
    d = make_daemon(backends={"file1": {"file_volume_dir": xfs_dir}},
                    extra_default={"quota_gigabytes": "-1",
                                   "target_port": str(free_port())}).start()
    d.volume_dir = lambda backend="file1": xfs_dir
    # a volume with 64 MiB of data: a reflinked snapshot must not add 64 MiB of used space
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    qemu_io(data, "write -P 0x5a 0 64m", "flush")
    detach(d, att)
    d.wait_volume(vol["id"], ("available",))
    os.sync()
    before = used_bytes(xfs_dir)
    snap = snapshot(d, vol["id"])
    os.sync()
    after = used_bytes(xfs_dir)
    log = d.read_log()
    assert "snapshot %s of volume %s made by reflink" % (snap["id"], vol["id"]) in log
    assert after - before < 8 * MiB, (before, after)
    # filefrag marks shared extents
    p = run(["filefrag", "-v", file_of(d, "snapshot", snap["id"])], check=False)
    if p.returncode == 0:
        assert "shared" in p.stdout, p.stdout[-2000:]
    # and the whole flow works on it (copies and revert by reflink)
    v2, snap2, from_snap, clone = snapshot_clone_revert_data(d)
    log = d.read_log()
    assert "volume %s made from snapshot %s by reflink" % (from_snap["id"], snap2["id"]) in log
    assert "volume %s reverted to snapshot %s by reflink" % (v2["id"], snap2["id"]) in log
    d.stop()


# --- Crash safety ---------------------------------------------------------------------------

def test_kill_during_snapshot_bursts_leaves_nothing_stuck(make_daemon):
    d = make_daemon(extra_default={"quota_gigabytes": "-1", "quota_volumes": "-1",
                                   "quota_snapshots": "-1"}).start()
    vols = [d.create_volume(size=1)["id"] for _ in range(4)]
    for v in vols:  # some data, so copies take a moment
        with open(file_of(d, "volume", v), "r+b") as f:
            for off in range(0, 64 * MiB, 4 * MiB):
                f.seek(off)
                f.write(os.urandom(64 * 1024))
    rng = random.Random(7)
    made = []
    for round_ in range(8):
        for _ in range(12):
            v = rng.choice(vols)
            status, _, out = d.post("/snapshots", {"snapshot": {"volume_id": v}})
            assert status == 202, out
            made.append(out["snapshot"]["id"])
        for sid in rng.sample(made, min(4, len(made))):
            d.delete("/snapshots/" + sid)  # 202, or 400/404 when not deletable (yet)
        # one volume from a snapshot and one clone per round, in flight at the kill
        status, _, out = d.get("/snapshots?status=available")
        avail = [s["id"] for s in out["snapshots"]]
        if avail:
            d.post("/volumes", {"volume": {"snapshot_id": avail[0]}})
        d.post("/volumes", {"volume": {"source_volid": vols[0]}})
        time.sleep(rng.uniform(0.0, 0.05))
        d.kill()
        d.start()
    deadline = time.time() + 60
    while time.time() < deadline:
        snaps = d.get("/snapshots/detail?limit=1000")[2]["snapshots"]
        vols_now = d.get("/volumes/detail?limit=1000")[2]["volumes"]
        busy = [s for s in snaps if s["status"] in ("creating", "deleting")]
        busy += [v for v in vols_now if v["status"] in ("creating", "deleting")]
        if not busy:
            break
        time.sleep(0.2)
    assert not busy, busy
    assert all(s["status"] == "available" for s in snaps), snaps
    assert all(v["status"] == "available" for v in vols_now), vols_now
    # rows and files agree: every snapshot row has its file, every file its row, no temporaries
    files = {os.path.basename(p)[len("snapshot-"):]
             for p in glob.glob(os.path.join(d.volume_dir(), "snapshot-*"))}
    assert files == {s["id"] for s in snaps}
    vfiles = {os.path.basename(p)[len("volume-"):]
              for p in glob.glob(os.path.join(d.volume_dir(), "volume-*"))}
    assert vfiles == {v["id"] for v in vols_now}
    assert glob.glob(os.path.join(d.volume_dir(), "tmp-*")) == []
    # each snapshot equals its volume where the volume was not written since (never, here)
    for s in snaps:
        assert read(file_of(d, "snapshot", s["id"]), 0, 64 * 1024) == \
            read(file_of(d, "volume", s["volume_id"]), 0, 64 * 1024)


# --- The scoria CLI ---------------------------------------------------------------------------

def test_cli_snapshot_verbs(d):
    from test_cli import js, ok, scoria, EXIT_ERROR

    vol = d.create_volume(size=1, name="clivol")
    snap = js(d, "snapshot-create", "clivol", "--name", "clisnap", "--wait")
    assert snap["status"] == "available" and snap["volume_id"] == vol["id"]
    listed = js(d, "snapshot-list", "--volume", "clivol")
    assert [s["id"] for s in listed] == [snap["id"]]
    assert "clisnap" in ok(d, "snapshot-list").stdout
    assert js(d, "snapshot-show", "clisnap")["id"] == snap["id"]
    from_snap = js(d, "create", "--snapshot-id", "clisnap", "--name", "fromsnap", "--wait")
    assert from_snap["snapshot_id"] == snap["id"] and from_snap["size"] == 1
    clone = js(d, "create", "2", "--source-volid", "clivol", "--wait")
    assert clone["source_volid"] == vol["id"] and clone["size"] == 2
    reverted = js(d, "revert", "clivol", "clisnap", "--wait")
    assert reverted["status"] == "available"
    p = scoria(d, "delete", "clivol")
    assert p.returncode == EXIT_ERROR and "snapshot" in p.stderr
    p = scoria(d, "snapshot-show", "nope")
    assert p.returncode == EXIT_ERROR and "No snapshot with a name or ID of 'nope'" in p.stderr
    ok(d, "snapshot-delete", "clisnap", "--wait")
    assert js(d, "snapshot-list") == []
    ok(d, "delete", "clivol", "--wait")


# --- Clients nobody here wrote ----------------------------------------------------------------

def test_cinder_and_openstack_clients_snapshots(d):
    from test_clients import CINDER, OPENSTACK, cinder, openstack
    if not CINDER or not OPENSTACK:
        pytest.skip("python3-cinderclient / python3-openstackclient are not installed")
    vol = d.create_volume(size=1, name="cv")
    out = cinder(d, "snapshot-create", "--name", "cs1", "cv")  # microversion 3.70: no force
    assert "cs1" in out
    status, _, snaps = d.get("/snapshots?name=cs1")
    sid = snaps["snapshots"][0]["id"]
    wait_snapshot(d, sid, ("available",))
    out = cinder(d, "snapshot-list")
    assert "cs1" in out and "available" in out
    assert "cs1" in cinder(d, "snapshot-show", "cs1")
    cinder(d, "snapshot-metadata", "cs1", "set", "k=v")
    assert d.get("/snapshots/%s/metadata" % sid)[2]["metadata"] == {"k": "v"}
    cinder(d, "create", "--snapshot-id", sid, "--name", "from-cs1", "1")
    cinder(d, "create", "--source-volid", vol["id"], "--name", "clone-cv", "1")
    for name in ("from-cs1", "clone-cv"):
        out = d.get("/volumes/detail?name=" + name)[2]["volumes"]
        d.wait_volume(out[0]["id"], ("available",))
    cinder(d, "--os-volume-api-version", "3.40", "revert-to-snapshot", "cs1")
    d.wait_volume(vol["id"], ("available",))
    # openstack (3.0): force is sent as a boolean
    out = openstack(d, "volume", "snapshot", "create", "--volume", "cv", "--force", "-f", "json",
                    "os1")
    os1 = __import__("json").loads(out)
    wait_snapshot(d, os1["id"], ("available",))
    assert "os1" in openstack(d, "volume", "snapshot", "list")
    openstack(d, "volume", "snapshot", "delete", "os1")
    wait_snapshot(d, os1["id"], ("deleted",))
    cinder(d, "delete", "--cascade", "cv")
    d.wait_volume(vol["id"], ("deleted",))
