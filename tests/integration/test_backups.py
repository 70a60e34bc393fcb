"""Backups against a real scoriad: the Backups API and its rules, the backup service's jobs on
real data written and read through the iSCSI target with QEMU, dedup, corruption, crashes, and
the scoria CLI's backup verbs."""
import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import Daemon, BIN_DIR
from iscsi_util import QEMU_INITIATOR, attach, detach, image_opts, run

MiB = 1024 * 1024
GiB = 1024 * MiB

needs_qemu = pytest.mark.skipif(not shutil.which("qemu-io") or not shutil.which("qemu-img"),
                                reason="qemu-utils is needed")


def enable_backup(d, extra=None):
    """The fixture's config enables api,scheduler,volume; add the backup service."""
    with open(d.config_path) as f:
        text = f.read()
    text = text.replace("enabled_services = api,scheduler,volume",
                        "enabled_services = api,scheduler,volume,backup")
    for k, v in (extra or {}).items():
        text = text.replace("[database]", "%s = %s\n\n[database]" % (k, v), 1)
    with open(d.config_path, "w") as f:
        f.write(text)
    return d


@pytest.fixture
def bd(make_daemon):
    d = enable_backup(make_daemon())
    d.start()
    wait_backup_service(d)
    return d


def repo_dir(d):
    return os.path.join(d.state_dir, "backup")


def wait_backup_service(d, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s, _, out = d.get("/os-services?binary=cinder-backup")
        if s == 200 and any(x["state"] == "up" for x in out["services"]):
            return
        time.sleep(0.1)
    raise AssertionError("no backup service:\n" + d.read_log()[-3000:])


def wait_backup(d, bid, statuses, timeout=60):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        s, _, out = d.get("/backups/" + bid, version="3.64")
        if s == 404:
            if "deleted" in statuses:
                return None
            raise AssertionError("backup %s vanished" % bid)
        last = out["backup"]
        if last["status"] in statuses:
            return last
        time.sleep(0.05)
    raise AssertionError("backup %s stuck in %s (wanted %s)\n%s" % (
        bid, last and last["status"], statuses, d.read_log()[-4000:]))


def create_backup(d, vol_id, wait=True, expect=202, **fields):
    s, _, out = d.post("/backups", {"backup": dict(volume_id=vol_id, **fields)}, version="3.64")
    assert s == expect, (s, out)
    if expect != 202:
        return out
    b = out["backup"]
    if wait:
        b = wait_backup(d, b["id"], ("available", "error"))
        assert b["status"] == "available", (b, d.read_log()[-3000:])
    return b


def restore(d, bid, volume_id=None, name=None, expect=202):
    body = {"restore": {}}
    if volume_id:
        body["restore"]["volume_id"] = volume_id
    if name:
        body["restore"]["name"] = name
    s, _, out = d.post("/backups/%s/restore" % bid, body)
    assert s == expect, (s, out)
    return out


def wait_restored(d, bid, vid, timeout=120):
    """The restore of backup bid into volume vid has ended. While the backup is `restoring`
    its target volume is never `available` (a new one finishes its creation in
    restoring-backup): a user must not attach an empty volume."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        # The volume first: the restore ends both in one transaction, so an `available` volume
        # read before a still-`restoring` backup was available while empty.
        vs, _, vout = d.get("/volumes/" + vid)
        s, _, bout = d.get("/backups/" + bid)
        assert s == 200, bout
        if vs == 200 and bout["backup"]["status"] == "restoring":
            assert vout["volume"]["status"] != "available", "restore target usable while empty"
        if bout["backup"]["status"] in ("available", "error"):
            break
        time.sleep(0.02)
    wait_backup(d, bid, ("available", "error"), timeout=timeout)
    return d.wait_volume(vid, ("available", "error", "error_restoring"), timeout=timeout)


def action(d, bid, name, args=None, version=None):
    return d.post("/backups/%s/action" % bid, {name: args if args is not None else {}},
                  version=version)


def write(d, vol_id, *cmds):
    """qemu-io commands against the volume, attached for the time of the call."""
    att, data = attach(d, vol_id, QEMU_INITIATOR)
    try:
        args = ["qemu-io", "--image-opts", image_opts(data)]
        for c in cmds:
            args += ["-c", c]
        run(args + ["-c", "flush"])
    finally:
        detach(d, att)
    d.wait_volume(vol_id, ("available",))


def read_image(d, vol_id, path):
    """The volume's bytes, read through the iSCSI target into a local raw file."""
    att, data = attach(d, vol_id, QEMU_INITIATOR)
    try:
        run(["qemu-img", "convert", "--image-opts", image_opts(data), "-O", "raw",
             str(path)])
    finally:
        detach(d, att)
    d.wait_volume(vol_id, ("available",))
    return path


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            h.update(block)
    return h.hexdigest()


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def verify(d, bid, timeout=60):
    s, _, out = action(d, bid, "os-verify")
    assert s == 202, (s, out)
    deadline = time.time() + timeout
    while time.time() < deadline:
        b = d.get("/backups/" + bid)[2]["backup"]
        if b["verified_at"]:
            return b["verify_result"]
        time.sleep(0.05)
    raise AssertionError("verify of %s did not end" % bid)


def cli(d, *args, check=True):
    env = dict(os.environ, SCORIA_ENDPOINT=d.endpoint, SCORIA_TOKEN=d.token)
    p = subprocess.run([os.path.join(BIN_DIR, "scoria")] + list(args), capture_output=True,
                       text=True, timeout=120, env=env)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


# --- the API's rules ---------------------------------------------------------------------------


def test_backup_service_is_listed_and_default_services_include_backup(bd):
    s, _, out = bd.get("/os-services?binary=cinder-backup")
    assert s == 200
    assert [x["host"] for x in out["services"]] == ["testhost"]


def test_create_show_list_update_delete_and_views(bd):
    vol = bd.create_volume(size=1)
    b = create_backup(bd, vol["id"], name="b1", description="first", container="c1",
                      metadata={"k": "v"})
    assert b["size"] == 1 and b["volume_id"] == vol["id"] and b["name"] == "b1"
    assert b["is_incremental"] is False and b["has_dependent_backups"] is False
    assert b["container"] == "c1" and b["metadata"] == {"k": "v"}
    assert b["fail_reason"] is None and b["data_timestamp"] and b["object_count"] >= 0
    assert b["progress"] is None and b["snapshot_id"] is None
    assert b["user_id"] == "admin" and b["encryption_key_id"] is None
    assert b["os-backup-project-attr:project_id"] == "admin"
    # the volume is back to available, and the temporary snapshot is gone
    assert bd.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "available"
    deadline = time.time() + 10
    while bd.get("/snapshots")[2]["snapshots"] and time.time() < deadline:
        time.sleep(0.05)
    assert bd.get("/snapshots")[2]["snapshots"] == []
    # old microversions hide the newer fields
    old = bd.get("/backups/" + b["id"])[2]["backup"]
    assert "metadata" not in old and "user_id" not in old
    # Scoria's additions only for a client that asks (X-Scoria-Details): Cinder's clients and
    # tempest's schemas know none of them.
    assert {"parent_id", "progress", "verify_result", "verified_at"} <= set(old)
    bd.scoria_details = False
    try:
        plain = bd.get("/backups/" + b["id"], version="3.64")[2]["backup"]
        assert not {"parent_id", "progress", "verify_result", "verified_at"} & set(plain), plain
        assert plain["is_incremental"] is False and plain["id"] == b["id"]
    finally:
        bd.scoria_details = True
    # list, detail, filters, sort, pagination, count
    b2 = create_backup(bd, vol["id"], name="b2")
    s, _, out = bd.get("/backups")
    assert s == 200 and {x["id"] for x in out["backups"]} == {b["id"], b2["id"]}
    assert set(out["backups"][0]) == {"id", "name", "links"}
    out = bd.get("/backups/detail?name=b2")[2]
    assert [x["id"] for x in out["backups"]] == [b2["id"]]
    out = bd.get("/backups/detail?sort=name:asc&limit=1")[2]
    assert [x["name"] for x in out["backups"]] == ["b1"]
    assert "marker=" + b["id"] in out["backups_links"][0]["href"]
    out = bd.get("/backups/detail?sort=name:asc&limit=1&marker=" + b["id"])[2]
    assert [x["name"] for x in out["backups"]] == ["b2"]
    out = bd.get("/backups/detail?with_count=true", version="3.45")[2]
    assert out["count"] == 2
    assert bd.get("/backups?marker=" + "0" * 8 + "-0000-0000-0000-" + "0" * 12)[0] == 404
    assert bd.get("/backups?sort=bogus")[0] == 400
    # update (3.9+)
    s, _, out = bd.put("/backups/" + b["id"], {"backup": {"name": "renamed"}}, version="3.9")
    assert s == 200 and out["backup"]["name"] == "renamed"
    assert bd.put("/backups/" + b["id"], {"backup": {"name": "x"}})[0] == 404  # 3.0: no route
    s, _, out = bd.put("/backups/" + b["id"], {"backup": {"size": 3}}, version="3.9")
    assert s == 400
    # delete
    assert bd.delete("/backups/" + b["id"])[0] == 202
    wait_backup(bd, b["id"], ("deleted",))


def test_an_incremental_has_a_parent_of_its_own_project(bd):
    """A backup belongs to the project that made it (an admin backing up someone's volume
    makes the admin's); an incremental's parent is the latest of its own project's backups of
    the volume, never another project's (Cinder; cinder_tempest_plugin's crossproject tests)."""
    vol = bd.create_volume(size=1)
    bd.token = "ops:operators"  # another project's admin (noauth: every caller is an admin)
    theirs = create_backup(bd, vol["id"])
    bd.token = "admin:admin"
    out = create_backup(bd, vol["id"], incremental=True, expect=400)
    assert "No backups available to do an incremental backup" in out["badRequest"]["message"]
    mine = create_backup(bd, vol["id"])
    incr = create_backup(bd, vol["id"], incremental=True)
    assert incr["parent_id"] == mine["id"] and incr["is_incremental"] is True
    shown = bd.get("/backups/" + theirs["id"], version="3.64")[2]["backup"]
    assert shown["has_dependent_backups"] is False
    assert bd.get("/backups/" + mine["id"], version="3.64")[2]["backup"]["has_dependent_backups"]


def test_create_rules(bd):
    vol = bd.create_volume(size=1)
    unknown = "11111111-2222-3333-4444-555555555555"
    # unknown volume, bad bodies and types
    s, _, out = bd.post("/backups", {"backup": {"volume_id": unknown}})
    assert s == 404 and "could not be found" in out["itemNotFound"]["message"]
    assert bd.post("/backups", {"backup": {}})[0] == 400
    assert bd.post("/backups", {"backup": {"volume_id": 5}})[0] == 400
    assert bd.post("/backups", {"backup": {"volume_id": vol["id"], "incremental": "maybe"}})[0] == 400
    assert bd.post("/backups", {"backup": {"volume_id": vol["id"], "bogus": 1}})[0] == 400
    assert bd.post("/backups", {"backup": {"volume_id": vol["id"], "name": 7}})[0] == 400
    assert bd.post("/backups", {"nope": {}})[0] == 400
    assert bd.request("POST", "/backups", raw="{not json")[0] == 400
    # incremental without a parent
    s, _, out = bd.post("/backups", {"backup": {"volume_id": vol["id"], "incremental": True}})
    assert s == 400 and "No backups available" in out["badRequest"]["message"]
    # in-use without force
    att, _ = attach(bd, vol["id"], QEMU_INITIATOR)
    try:
        bd.wait_volume(vol["id"], ("in-use",))
        s, _, out = bd.post("/backups", {"backup": {"volume_id": vol["id"]}})
        assert s == 400 and "force" in out["badRequest"]["message"]
        b = create_backup(bd, vol["id"], force=True)  # with force it works
        assert bd.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "in-use"
    finally:
        detach(bd, att)
    # a volume in another state
    bd.post("/volumes/%s/action" % vol["id"], {"os-reset_status": {"status": "error"}})
    s, _, out = bd.post("/backups", {"backup": {"volume_id": vol["id"]}})
    assert s == 400 and "error" in out["badRequest"]["message"]
    bd.post("/volumes/%s/action" % vol["id"], {"os-reset_status": {"status": "available"}})
    assert b["status"] == "available"


def test_quota(make_daemon):
    d = enable_backup(make_daemon(), {"quota_backups": "1", "quota_backup_gigabytes": "2"})
    d.start()
    wait_backup_service(d)
    v1 = d.create_volume(size=1)
    create_backup(d, v1["id"])
    s, _, out = d.post("/backups", {"backup": {"volume_id": v1["id"]}})
    assert s == 413 and "BackupLimitExceeded" in out["overLimit"]["message"]
    usage = d.get("/os-quota-sets/admin?usage=true")[2]["quota_set"]
    assert usage["backups"]["in_use"] == 1 and usage["backup_gigabytes"]["in_use"] == 1
    absolute = d.get("/limits")[2]["limits"]["absolute"]
    assert absolute["totalBackupsUsed"] == 1 and absolute["totalBackupGigabytesUsed"] == 1
    s, _, out = d.put("/os-quota-sets/admin", {"quota_set": {"backups": 0}})
    assert s == 400, out  # below what is used
    s, _, out = d.put("/os-quota-sets/admin", {"quota_set": {"backups": 5}})
    assert s == 200, out
    v3 = d.create_volume(size=3)
    s, _, out = d.post("/backups", {"backup": {"volume_id": v3["id"]}})
    assert s == 413 and "VolumeBackupSizeExceedsAvailableQuota" in out["overLimit"]["message"]
    assert d.get("/volumes/" + v3["id"])[2]["volume"]["status"] == "available"


def test_no_backup_service_is_503(make_daemon):
    d = make_daemon().start()  # backup not enabled
    vol = d.create_volume(size=1)
    s, _, out = d.post("/backups", {"backup": {"volume_id": vol["id"]}})
    assert s == 503, out
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "available"


def test_delete_rules_dependants_reset_and_force_delete(bd):
    vol = bd.create_volume(size=1)
    full = create_backup(bd, vol["id"])
    inc = create_backup(bd, vol["id"], incremental=True)
    assert inc["is_incremental"] is True and inc["parent_id"] == full["id"]
    assert bd.get("/backups/" + full["id"])[2]["backup"]["has_dependent_backups"] is True
    s, _, out = bd.delete("/backups/" + full["id"])
    assert s == 400 and "Incremental backups exist" in out["badRequest"]["message"]
    s, _, out = action(bd, full["id"], "os-force_delete")
    assert s == 400 and "Incremental backups exist" in out["badRequest"]["message"]
    # reset-status: only available / error, admin only
    assert action(bd, inc["id"], "os-reset_status", {"status": "creating"})[0] == 400
    assert action(bd, inc["id"], "os-reset_status", {"status": 1})[0] == 400
    assert action(bd, inc["id"], "os-reset_status", {"status": "error"},
                  )[0] == 202
    assert bd.get("/backups/" + inc["id"])[2]["backup"]["status"] == "error"
    assert action(bd, inc["id"], "os-bogus")[0] == 400
    # an error backup can be deleted; then the parent can
    assert bd.delete("/backups/" + inc["id"])[0] == 202
    wait_backup(bd, inc["id"], ("deleted",))
    assert bd.get("/backups/" + full["id"])[2]["backup"]["has_dependent_backups"] is False
    assert action(bd, full["id"], "os-force_delete")[0] == 202
    wait_backup(bd, full["id"], ("deleted",))
    unknown = "11111111-2222-3333-4444-555555555555"
    assert bd.delete("/backups/" + unknown)[0] == 404
    assert bd.get("/backups/" + unknown)[0] == 404
    # the repository holds no manifest any more, and garbage was collected
    assert os.listdir(os.path.join(repo_dir(bd), "manifests")) == []


def test_restore_rules(bd):
    vol = bd.create_volume(size=2)
    b = create_backup(bd, vol["id"])
    small = bd.create_volume(size=1)
    out = restore(bd, b["id"], volume_id=small["id"], expect=400)
    assert "too small" in out["badRequest"]["message"]
    unknown = "11111111-2222-3333-4444-555555555555"
    restore(bd, b["id"], volume_id=unknown, expect=404)
    restore(bd, unknown, expect=404)
    s, _, out = bd.post("/backups/%s/restore" % b["id"], {"restore": {"volume_id": 3}})
    assert s == 400
    s, _, out = bd.post("/backups/%s/restore" % b["id"], {"restore": {"bogus": 3}})
    assert s == 400
    s, _, out = bd.post("/backups/%s/restore" % b["id"], {"restore": []})
    assert s == 400
    s, _, out = bd.post("/backups/%s/restore" % b["id"], {})
    assert s == 400
    # an in-use target
    big = bd.create_volume(size=2)
    att, _ = attach(bd, big["id"], QEMU_INITIATOR)
    try:
        bd.wait_volume(big["id"], ("in-use",))
        out = restore(bd, b["id"], volume_id=big["id"], expect=400)
        assert "must be available" in out["badRequest"]["message"]
    finally:
        detach(bd, att)
    # a backup that is not available
    action(bd, b["id"], "os-reset_status", {"status": "error"})
    out = restore(bd, b["id"], expect=400)
    assert "must be available" in out["badRequest"]["message"]
    # a volume of another project (admin sees it, but it is not the backup's project)
    other = bd.post("/volumes", {"volume": {"size": 2}}, token="o:oproj")[2]["volume"]
    bd.wait_volume(other["id"], ("available",))
    action(bd, b["id"], "os-reset_status", {"status": "available"})
    out = restore(bd, b["id"], volume_id=other["id"], expect=400)
    assert "project" in out["badRequest"]["message"]


def test_export_import_record(bd):
    vol = bd.create_volume(size=1)
    b = create_backup(bd, vol["id"], name="exported")
    s, _, out = bd.get("/backups/%s/export_record" % b["id"])
    assert s == 200, out
    rec = out["backup-record"]
    assert rec["backup_service"] == "cinder.backup.drivers.posix.PosixBackupDriver"
    fields = json.loads(base64.b64decode(rec["backup_url"]))
    assert fields["id"] == b["id"] and fields["size"] == 1 and fields["service_metadata"]
    # importing an existing backup is refused
    s, _, out = bd.post("/backups/import_record", {"backup-record": rec})
    assert s == 400 and "already exists" in out["badRequest"]["message"]
    # bad records
    s, _, _ = bd.post("/backups/import_record",
                      {"backup-record": {"backup_service": rec["backup_service"],
                                         "backup_url": "!!!"}})
    assert s == 400
    s, _, _ = bd.post("/backups/import_record",
                      {"backup-record": {"backup_service": rec["backup_service"],
                                         "backup_url": base64.b64encode(b'{"id": 1}').decode()}})
    assert s == 400
    assert bd.post("/backups/import_record", {"backup-record": {"backup_url": "x"}})[0] == 400
    # a record whose id differs from its manifest record's: imported, then refused by the
    # backup service (the manifest it names is another backup's)
    db_backup = json.loads(base64.b64decode(rec["backup_url"]))
    db_backup["id"] = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    fake = dict(rec, backup_url=base64.b64encode(json.dumps(db_backup).encode()).decode())
    s, _, out = bd.post("/backups/import_record", {"backup-record": fake})
    assert s == 201, out
    imported = wait_backup(bd, db_backup["id"], ("available", "error"))
    assert imported["status"] == "error"  # its manifest record names another backup
    assert "import" in imported["fail_reason"]


def test_import_after_losing_the_database(make_daemon, tmp_path):
    """export_record, a fresh database, import_record: the backup restores."""
    d = enable_backup(make_daemon())
    d.start()
    wait_backup_service(d)
    vol = d.create_volume(size=1)
    b = create_backup(d, vol["id"])
    rec = d.get("/backups/%s/export_record" % b["id"])[2]["backup-record"]
    d.stop()
    d.lose_database()
    d.start()
    wait_backup_service(d)
    s, _, out = d.post("/backups/import_record", {"backup-record": rec})
    assert s == 201, out
    imported = wait_backup(d, b["id"], ("available", "error"))
    assert imported["status"] == "available", imported
    out = restore(d, b["id"])
    assert wait_restored(d, b["id"], out["restore"]["volume_id"])["status"] == "available"


# --- real data through the iSCSI target ----------------------------------------------------


@needs_qemu
def test_full_incremental_restore_byte_for_byte(bd, tmp_path):
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x11 0 4m", "write -P 0x22 100m 3m", "write -P 0x33 1020m 4m")
    # a snapshot of the volume, then change it
    s, _, out = bd.post("/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "s1"}})
    assert s == 202, out
    snap = out["snapshot"]
    deadline = time.time() + 30
    while bd.get("/snapshots/" + snap["id"])[2]["snapshot"]["status"] != "available":
        assert time.time() < deadline
        time.sleep(0.05)
    write(bd, vol["id"], "write -P 0x44 2m 4m")
    state1 = digest(read_image(bd, vol["id"], tmp_path / "state1.raw"))
    full = create_backup(bd, vol["id"], name="full")
    write(bd, vol["id"], "write -P 0x55 500m 8m", "write -z 100m 1m")
    state2 = digest(read_image(bd, vol["id"], tmp_path / "state2.raw"))
    inc = create_backup(bd, vol["id"], name="inc", incremental=True)
    assert inc["parent_id"] == full["id"]
    # a backup of the snapshot: the bytes before the second write
    from_snap = create_backup(bd, vol["id"], snapshot_id=snap["id"])
    assert from_snap["snapshot_id"] == snap["id"]
    assert bd.get("/snapshots/" + snap["id"])[2]["snapshot"]["status"] == "available"
    # the source goes away
    assert bd.delete("/snapshots/" + snap["id"])[0] == 202
    deadline = time.time() + 30
    while bd.get("/snapshots/" + snap["id"])[0] != 404:
        assert time.time() < deadline
        time.sleep(0.05)
    assert bd.delete("/volumes/" + vol["id"])[0] == 202
    bd.wait_volume(vol["id"], ("deleted",))
    # restore each into a new volume and compare byte for byte
    for b, want in ((full, state1), (inc, state2)):
        out = restore(bd, b["id"], name="r-" + b["name"])
        assert out["restore"]["backup_id"] == b["id"]
        assert out["restore"]["volume_name"] == "r-" + b["name"]
        rv = wait_restored(bd, b["id"], out["restore"]["volume_id"])
        assert rv["status"] == "available", bd.read_log()[-3000:]
        assert wait_backup(bd, b["id"], ("available",))["fail_reason"] is None
        assert digest(read_image(bd, rv["id"], tmp_path / ("r-%s.raw" % b["name"]))) == want
    out = restore(bd, from_snap["id"])
    rv = wait_restored(bd, from_snap["id"], out["restore"]["volume_id"])
    img = read_image(bd, rv["id"], tmp_path / "snap.raw")
    with open(img, "rb") as f:
        f.seek(2 * MiB)
        assert f.read(MiB) == b"\x11" * MiB  # before the 0x44 write
    # restore into an existing, larger volume: it reads as the backup + zeroes
    target = bd.create_volume(size=2)
    write(bd, target["id"], "write -P 0x77 0 8m", "write -P 0x77 1500m 1m")
    restore(bd, inc["id"], volume_id=target["id"])
    assert wait_restored(bd, inc["id"], target["id"])["status"] == "available"
    img = read_image(bd, target["id"], tmp_path / "existing.raw")
    with open(img, "rb") as f:
        data = f.read(GiB)
        assert hashlib.sha256(data).hexdigest() == state2
        f.seek(1500 * MiB)
        assert f.read(MiB) == b"\0" * MiB
    assert verify(bd, inc["id"]) == "ok"


def volume_file(d, vol_id):
    return os.path.join(d.volume_dir(), "volume-" + vol_id)


@needs_qemu
def test_chain_of_ten_incrementals_each_restorable(make_daemon, tmp_path):
    """Data goes in through iSCSI; the states are compared on the backend's files (reading
    1 GiB through the target 33 times would take minutes)."""
    bd = enable_backup(make_daemon(), {"quota_backups": "20"})
    bd.start()
    wait_backup_service(bd)
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x01 0 2m")
    backups = [(create_backup(bd, vol["id"]), digest(volume_file(bd, vol["id"])))]
    for i in range(1, 11):
        write(bd, vol["id"], "write -P %d %dm 1m" % (i + 1, 10 * i), "write -z %dm 64k" % (i - 1))
        b = create_backup(bd, vol["id"], incremental=True)
        assert b["parent_id"] == backups[-1][0]["id"]
        backups.append((b, digest(volume_file(bd, vol["id"]))))
    assert len({want for _, want in backups}) == 11  # every state differs
    target = bd.create_volume(size=1)
    for b, want in reversed(backups):
        restore(bd, b["id"], volume_id=target["id"])
        assert wait_restored(bd, b["id"], target["id"])["status"] == "available"
        assert digest(volume_file(bd, target["id"])) == want, b["id"]
    # and through the target, once
    assert digest(read_image(bd, target["id"], tmp_path / "t.raw")) == backups[0][1]


@needs_qemu
def test_dedup_across_volumes(bd, tmp_path):
    pattern = tmp_path / "pattern.raw"
    with open(pattern, "wb") as f:
        f.write(os.urandom(32 * MiB))
    vols = [bd.create_volume(size=1) for _ in range(2)]
    for v in vols:
        att, data = attach(bd, v["id"], QEMU_INITIATOR)
        run(["qemu-img", "convert", "-n", "-f", "raw", str(pattern), "--target-image-opts",
             image_opts(data)])
        detach(bd, att)
        bd.wait_volume(v["id"], ("available",))
    create_backup(bd, vols[0]["id"])
    chunks = os.path.join(repo_dir(bd), "chunks")
    after_first = dir_bytes(chunks)
    assert after_first > 30 * MiB  # random data does not compress
    create_backup(bd, vols[1]["id"])
    assert dir_bytes(chunks) == after_first  # no chunk stored twice
    manifests = os.path.join(repo_dir(bd), "manifests")
    assert len(os.listdir(manifests)) == 2
    assert dir_bytes(manifests) < 1 * MiB  # the second backup added its manifest only


@needs_qemu
def test_backup_chunk_size_sets_what_an_incremental_stores(make_daemon, tmp_path):
    """backup_chunk_size = 64 KiB: three scattered 4 KiB writes into random data store three
    64 KiB chunks (with the default 4 MiB chunks they would store 12 MiB), and the chain still
    restores byte for byte."""
    bd = enable_backup(make_daemon(), {"backup_chunk_size": "65536"})
    bd.start()
    wait_backup_service(bd)
    with open(os.path.join(repo_dir(bd), "config")) as f:
        assert json.load(f)["chunk_size"] == 65536
    vol = bd.create_volume(size=1)
    pattern = tmp_path / "random.raw"
    with open(pattern, "wb") as f:
        f.write(os.urandom(16 * MiB))
    att, data = attach(bd, vol["id"], QEMU_INITIATOR)
    run(["qemu-img", "convert", "-n", "-f", "raw", str(pattern), "--target-image-opts",
         image_opts(data)])
    detach(bd, att)
    bd.wait_volume(vol["id"], ("available",))
    full = create_backup(bd, vol["id"])
    chunks = os.path.join(repo_dir(bd), "chunks")
    after_full = dir_bytes(chunks)
    assert after_full > 15 * MiB
    write(bd, vol["id"], "write -P 7 1m 4k", "write -P 8 5m 4k", "write -P 9 9m 4k")
    want = digest(volume_file(bd, vol["id"]))
    incr = create_backup(bd, vol["id"], incremental=True)
    assert incr["parent_id"] == full["id"]
    added = dir_bytes(chunks) - after_full
    assert 3 * 60 * 1024 < added < 3 * 68 * 1024, added  # three chunks, stored whole
    target = bd.create_volume(size=1)
    restore(bd, incr["id"], volume_id=target["id"])
    assert wait_restored(bd, incr["id"], target["id"])["status"] == "available"
    assert digest(volume_file(bd, target["id"])) == want


@needs_qemu
def test_corrupt_chunk_is_detected_by_verify_and_restore(bd, tmp_path):
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x5a 0 8m")
    b = create_backup(bd, vol["id"])
    assert verify(bd, b["id"]) == "ok"
    chunk = sorted(glob.glob(os.path.join(repo_dir(bd), "chunks", "*", "*")))[0]
    with open(chunk, "r+b") as f:
        f.seek(os.path.getsize(chunk) - 10)
        f.write(b"corruption")
    result = verify(bd, b["id"])
    assert result != "ok" and os.path.basename(chunk) in result, result
    p = cli(bd, "backup-verify", b["id"], check=False)
    assert p.returncode == 4 and "damaged" in p.stderr, (p.stdout, p.stderr)
    target = bd.create_volume(size=1)
    restore(bd, b["id"], volume_id=target["id"])
    v = wait_restored(bd, b["id"], target["id"])
    assert v["status"] == "error_restoring"
    got = wait_backup(bd, b["id"], ("available",))
    assert "corrupt" in got["fail_reason"] and os.path.basename(chunk) in got["fail_reason"]
    msgs = bd.get("/messages?resource_uuid=" + target["id"], version="3.3")[2]["messages"]
    assert any("restore backup" in m["user_message"] for m in msgs)


def _kill_during(bd, bid, op):
    """Waits until the job reports progress, then SIGKILLs scoriad."""
    deadline = time.time() + 60
    while time.time() < deadline:
        b = bd.get("/backups/" + bid)[2]["backup"]
        if b["progress"] and b["progress"]["operation"] == op and b["progress"]["bytes_done"] > 0:
            bd.kill()
            return b["progress"]
        assert b["status"] in ("creating", "restoring"), b
        time.sleep(0.01)
    raise AssertionError("no progress seen")


@needs_qemu
def test_sigkill_during_backup_and_restore(bd, tmp_path):
    src = tmp_path / "big.raw"
    with open(src, "wb") as f:
        for _ in range(24):
            f.write(os.urandom(16 * MiB))  # incompressible: the job takes a while
    vol = bd.create_volume(size=1)
    att, data = attach(bd, vol["id"], QEMU_INITIATOR)
    run(["qemu-img", "convert", "-n", "-f", "raw", str(src), "--target-image-opts",
         image_opts(data)])
    detach(bd, att)
    bd.wait_volume(vol["id"], ("available",))
    want = digest(read_image(bd, vol["id"], tmp_path / "want.raw"))
    s, _, out = bd.post("/backups", {"backup": {"volume_id": vol["id"]}})
    assert s == 202
    bid = out["backup"]["id"]
    progress = _kill_during(bd, bid, "backup")
    assert 0 < progress["percent"] <= 100 and progress["bytes_total"] > 0
    bd.start()
    b = wait_backup(bd, bid, ("available", "error"), timeout=120)
    if b["status"] == "error":
        assert b["fail_reason"]
    assert b["progress"] is None
    assert bd.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "available"
    deadline = time.time() + 20
    while bd.get("/snapshots")[2]["snapshots"] and time.time() < deadline:
        time.sleep(0.1)
    assert bd.get("/snapshots")[2]["snapshots"] == []  # the temporary snapshot is removed
    assert not glob.glob(os.path.join(bd.volume_dir(), "*snapshot*"))
    assert b["status"] == "available"  # the job resumed
    assert verify(bd, bid) == "ok"
    # restore, killed half-way
    target = bd.create_volume(size=1)
    restore(bd, bid, volume_id=target["id"])
    _kill_during(bd, bid, "restore")
    bd.start()
    v = wait_restored(bd, bid, target["id"])
    b = wait_backup(bd, bid, ("available",))
    assert v["status"] == "available", (v, b)
    assert digest(read_image(bd, target["id"], tmp_path / "got.raw")) == want
    assert verify(bd, bid) == "ok"
    # the killed jobs' repository locks were removed at start, so nothing holds the
    # repository now (a GC can run)
    assert os.listdir(os.path.join(repo_dir(bd), "locks")) == []
    assert "left by an earlier process" in bd.read_log()


# --- volume create from a backup (3.47) ----------------------------------------------------


@needs_qemu
def test_volume_create_with_backup_id(bd, tmp_path):
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x42 0 1m")
    b = create_backup(bd, vol["id"])
    s, _, out = bd.post("/volumes", {"volume": {"size": 2, "backup_id": b["id"]}}, version="3.47")
    assert s == 202, out
    nv = wait_restored(bd, b["id"], out["volume"]["id"])
    assert nv["status"] == "available" and nv["size"] == 2
    img = read_image(bd, nv["id"], tmp_path / "nv.raw")
    with open(img, "rb") as f:
        assert f.read(MiB) == b"\x42" * MiB
    # without a size the volume gets the backup's
    s, _, out = bd.post("/volumes", {"volume": {"backup_id": b["id"]}}, version="3.47")
    assert s == 202 and out["volume"]["size"] == 1, out
    wait_restored(bd, b["id"], out["volume"]["id"])
    unknown = "11111111-2222-3333-4444-555555555555"
    s, _, out = bd.post("/volumes", {"volume": {"size": 1, "backup_id": unknown}}, version="3.47")
    assert s == 404, out
    s, _, out = bd.post("/volumes", {"volume": {"size": 1, "backup_id": 5}}, version="3.47")
    assert s == 400, out
    big = bd.create_volume(size=2)
    bb = create_backup(bd, big["id"])
    s, _, out = bd.post("/volumes", {"volume": {"size": 1, "backup_id": bb["id"]}}, version="3.47")
    assert s == 400 and "smaller than the backup size" in out["badRequest"]["message"], out
    # before 3.47 backup_id is ignored, as Cinder does: a plain volume
    s, _, out = bd.post("/volumes", {"volume": {"size": 1, "backup_id": b["id"]}}, version="3.46")
    assert s == 202, out
    assert wait_backup(bd, b["id"], ("available",))["status"] == "available"


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_backup_verbs(bd):
    vol = bd.create_volume(size=1, name="clivol")
    p = cli(bd, "backup-create", "clivol", "--name", "cb", "--wait")
    assert "cb" in p.stdout and "available" in p.stdout
    assert "100%" in p.stderr  # the progress bar
    p = cli(bd, "backup-create", "clivol", "--incremental", "--name", "cb2", "--wait", "--json")
    inc = json.loads(p.stdout)
    assert inc["is_incremental"] is True
    p = cli(bd, "backup-list")
    assert "cb" in p.stdout and "cb2" in p.stdout
    p = cli(bd, "--json", "backup-show", "cb")
    full = json.loads(p.stdout)
    p = cli(bd, "backup-delete", "cb", check=False)
    assert p.returncode == 1 and "Incremental backups exist" in p.stderr
    p = cli(bd, "backup-verify", "cb")
    assert "ok" in p.stdout
    p = cli(bd, "backup-restore", "cb2", "--name", "restored", "--wait", "--json")
    r = json.loads(p.stdout)
    assert r["volume_name"] == "restored"
    assert bd.get("/volumes/" + r["volume_id"])[2]["volume"]["status"] == "available"
    p = cli(bd, "backup-restore", "cb2", "--volume", "restored", "--wait")
    p = cli(bd, "--json", "backup-export", "cb")
    rec = json.loads(p.stdout)
    assert rec["backup_service"] and rec["backup_url"]
    p = cli(bd, "backup-import", rec["backup_service"], rec["backup_url"], check=False)
    assert p.returncode == 1 and "already exists" in p.stderr
    cli(bd, "backup-delete", "cb2", "--wait")
    cli(bd, "backup-delete", full["id"], "--wait")
    assert bd.get("/backups")[2]["backups"] == []
    p = cli(bd, "backup-show", "nothing", check=False)
    assert p.returncode == 1
    p = cli(bd, "backup-create", "clivol", "--incremental", check=False)
    assert p.returncode == 1 and "No backups available" in p.stderr


# --- clients nobody here wrote ---------------------------------------------------------------

CINDER = shutil.which("cinder", path="/usr/bin")
OPENSTACK = shutil.which("openstack", path="/usr/bin")


def _client(args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CINDER_"))}
    p = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (" ".join(args), p.stdout, p.stderr)
    return p.stdout


@pytest.mark.skipif(not CINDER or not OPENSTACK, reason="cinderclient / openstackclient missing")
def test_cinder_and_openstack_clients_drive_backups(bd):
    def cinder(*args):
        return _client(["/usr/bin/python3", CINDER, "--os-auth-type", "noauth", "--os-user-id",
                        "admin", "--os-project-id", "admin", "--os-endpoint", bd.endpoint]
                       + list(args))

    def openstack(*args):
        return _client(["/usr/bin/python3", OPENSTACK, "--os-auth-type", "admin_token",
                        "--os-token", "admin:admin", "--os-endpoint", bd.endpoint] + list(args))

    vol = bd.create_volume(size=1, name="cbv")
    out = cinder("backup-create", "--name", "cb1", "cbv")
    bid = [l.split("|")[2].strip() for l in out.splitlines() if "| id " in l][0]
    wait_backup(bd, bid, ("available",))
    out = cinder("backup-create", "--name", "cb2", "--incremental", "cbv")
    bid2 = [l.split("|")[2].strip() for l in out.splitlines() if "| id " in l][0]
    wait_backup(bd, bid2, ("available",))
    out = cinder("backup-list")
    assert "cb1" in out and "cb2" in out and "available" in out
    out = cinder("backup-show", "cb1")
    assert "has_dependent_backups" in out and "True" in out
    out = cinder("backup-restore", "--volume", vol["id"], "cb2")
    assert bid2 in out
    wait_restored(bd, bid2, vol["id"])
    out = cinder("backup-export", bid)
    assert "backup_url" in out
    cinder("backup-delete", "cb2")
    wait_backup(bd, bid2, ("deleted",))
    out = openstack("volume", "backup", "list")
    assert "cb1" in out and "cb2" not in out
    out = openstack("volume", "backup", "show", "cb1")
    assert "available" in out
    openstack("volume", "backup", "delete", "cb1")
    wait_backup(bd, bid, ("deleted",))
