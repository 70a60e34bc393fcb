"""One scoriad with three kinds of backend, as an operator runs it: `enabled_backends =
file-1,ceph,nfs` (the file driver, Ceph RBD and NFS), volume types choosing among them, and
backups from each backend restored into the others, on each backup store.

It needs the Ceph cluster and the NFS server `make test` starts once for every test
(SCORIA_TEST_CEPH_CONF from tests/support/ceph_server.py, SCORIA_TEST_NFS_SHARES from
tests/support/nfs_server.py); without them the module is skipped, saying so. The bytes are
compared behind the daemon's back, on each backend's own storage: the volume file, `rbd
export`, the file in the NFS export's directory.
"""
import os
import subprocess

import pytest

from test_backups import (create_backup, digest, enable_backup, needs_qemu, restore,
                          wait_backup_service, wait_restored, write)

MiB = 1024 * 1024
CEPH_CONF = os.environ.get("SCORIA_TEST_CEPH_CONF")
NFS_SHARES = [s for s in os.environ.get("SCORIA_TEST_NFS_SHARES", "").split(",") if s]
NFS_DIRS = [s for s in os.environ.get("SCORIA_TEST_NFS_EXPORT_DIRS", "").split(",") if s]
RGW_URL = os.environ.get("SCORIA_TEST_RGW_URL")

pytestmark = [
    pytest.mark.skipif(not CEPH_CONF or len(NFS_SHARES) < 2,
                       reason="needs SCORIA_TEST_CEPH_CONF and SCORIA_TEST_NFS_SHARES: `make "
                       "test` starts Ceph and ganesha for these tests"),
    needs_qemu,
]

# volume type -> backend section
TYPES = {"gold": "ceph", "silver": "nfs", "bronze": "file-1"}


def ceph(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, CEPH_CONF=CEPH_CONF), stdin=subprocess.DEVNULL)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


@pytest.fixture(scope="module")
def pool():
    name = "it-mixed-%d" % os.getpid()
    ceph("ceph", "osd", "pool", "create", name, "8", "8", "replicated")
    ceph("rbd", "pool", "init", name)
    yield name
    subprocess.run(["ceph", "osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it"],
                   env=dict(os.environ, CEPH_CONF=CEPH_CONF), capture_output=True,
                   stdin=subprocess.DEVNULL)


def store_config(kind, tmp_path):
    """The [DEFAULT] options of one backup store; None when this run has no such store."""
    if kind == "posix":
        return {}
    if kind == "ceph":
        name = "it-mixed-backups-%d-%s" % (os.getpid(), tmp_path.name[-8:].lower()
                                           .replace("_", "-"))
        ceph("ceph", "osd", "pool", "create", name, "8", "8", "replicated")
        return {"backup_driver": "ceph", "backup_ceph_conf": CEPH_CONF,
                "backup_ceph_user": "admin", "backup_ceph_pool": name,
                "backup_ceph_op_timeout": "20"}
    if kind == "nfs":
        return {"backup_driver": "nfs", "backup_share": NFS_SHARES[1],
                "backup_mount_options": os.environ["SCORIA_TEST_NFS_MOUNT_OPTIONS"]}
    if not RGW_URL:
        return None
    if kind == "s3":
        return {"backup_driver": "s3", "backup_s3_endpoint_url": RGW_URL,
                "backup_s3_store_access_key": os.environ["SCORIA_TEST_S3_ACCESS_KEY"],
                "backup_s3_store_secret_key": os.environ["SCORIA_TEST_S3_SECRET_KEY"],
                "backup_s3_store_bucket": "mixed-%d-%s" % (os.getpid(), tmp_path.name[-8:].lower()
                                                           .replace("_", "-"))}
    return None


def mixed_daemon(make_daemon, pool, tmp_path, store):
    shares = tmp_path / "nfs_shares"
    shares.write_text(NFS_SHARES[0] + "\n")
    defaults = {"quota_gigabytes": "-1", "quota_volumes": "-1", "quota_snapshots": "-1",
                "quota_backups": "-1", "quota_backup_gigabytes": "-1"}
    d = make_daemon(backends={
        "file-1": {},
        "ceph": {"volume_driver": "cinder.volume.drivers.rbd.RBDDriver", "rbd_pool": pool,
                 "rbd_ceph_conf": CEPH_CONF, "rados_connect_timeout": "20"},
        "nfs": {"volume_driver": "cinder.volume.drivers.nfs.NfsDriver",
                "nfs_shares_config": str(shares),
                "nfs_mount_options": os.environ["SCORIA_TEST_NFS_MOUNT_OPTIONS"]},
    }, extra_default=defaults)
    enable_backup(d, store).start()
    wait_backup_service(d, timeout=30)
    for name, backend in TYPES.items():
        st, _, out = d.post("/types", {"volume_type": {
            "name": name, "extra_specs": {"volume_backend_name": backend}}})
        assert st == 200, out
    return d


def backend_of(vol):
    return vol["os-vol-host-attr:host"].split("@")[1].split("#")[0]


def stored_bytes(d, pool, vol, tmp_path):
    """A local file with the volume's bytes, read from its backend's own storage."""
    backend = backend_of(vol)
    if backend == "file-1":
        return os.path.join(d.volume_dir("file-1"), "volume-" + vol["id"])
    if backend == "nfs":
        for directory in NFS_DIRS:
            p = os.path.join(directory, "volume-" + vol["id"])
            if os.path.exists(p):
                return p
        raise AssertionError("volume-%s is on no NFS export (%s)" % (vol["id"], NFS_DIRS))
    out = str(tmp_path / ("export-" + vol["id"]))
    ceph("rbd", "export", "--no-progress", "%s/volume-%s" % (pool, vol["id"]), out)
    return out


def test_volume_types_choose_the_backend_and_each_backend_works(make_daemon, pool, tmp_path):
    d = mixed_daemon(make_daemon, pool, tmp_path, {})
    st, _, out = d.get("/scheduler-stats/get_pools")
    assert sorted(p["name"] for p in out["pools"]) == \
        ["testhost@ceph#ceph", "testhost@file-1#file-1", "testhost@nfs#nfs"], out
    for type_name, backend in TYPES.items():
        vol = d.create_volume(size=1, volume_type=type_name, wait=False)
        vol = d.wait_volume(vol["id"], ("available",), timeout=60)
        assert backend_of(vol) == backend, vol
        write(d, vol["id"], "write -P 0x5a 3m 2m")
        # a snapshot and a clone stay on the volume's backend, with its bytes
        st, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
        assert st == 202, out
        clone = d.create_volume(size=1, source_volid=vol["id"], wait=False)
        clone = d.wait_volume(clone["id"], ("available",), timeout=60)
        assert backend_of(clone) == backend, clone
        assert digest(stored_bytes(d, pool, clone, tmp_path)) == \
            digest(stored_bytes(d, pool, vol, tmp_path))
    # a type naming no backend: the scheduler places it, and it becomes available
    st, _, out = d.post("/types", {"volume_type": {"name": "any"}})
    assert st == 200, out
    d.create_volume(size=1, volume_type="any", wait=True)


@pytest.mark.parametrize("store", ["posix", "nfs", "s3", "ceph"])
def test_backups_from_each_backend_restore_into_the_others(request, make_daemon, pool, tmp_path,
                                                          store):
    """Each backend's volume is backed up to the store and restored into a volume of the next
    backend (ceph -> nfs -> file-1 -> ceph), byte for byte."""
    config = store_config(store, tmp_path)
    if config is None:
        pytest.skip("no %s gateway in this run (SCORIA_TEST_RGW_URL)" % store)
    if store == "ceph":
        request.addfinalizer(lambda: subprocess.run(
            ["ceph", "osd", "pool", "rm", config["backup_ceph_pool"],
             config["backup_ceph_pool"], "--yes-i-really-really-mean-it"],
            env=dict(os.environ, CEPH_CONF=CEPH_CONF), capture_output=True,
            stdin=subprocess.DEVNULL))
    d = mixed_daemon(make_daemon, pool, tmp_path, config)
    order = ["gold", "silver", "bronze"]
    sources = {}
    for i, type_name in enumerate(order):
        vol = d.create_volume(size=1, volume_type=type_name, wait=False)
        vol = d.wait_volume(vol["id"], ("available",), timeout=60)
        write(d, vol["id"], "write -P 0x%02x 0 1m" % (0x31 + i),
              "write -P 0x%02x 700m 3m" % (0x41 + i), "write -P 0x%02x 1023m 1m" % (0x51 + i))
        sources[type_name] = vol
    for i, type_name in enumerate(order):
        src = sources[type_name]
        backup = create_backup(d, src["id"], name="from-" + type_name)
        into_type = order[(i + 1) % len(order)]
        target = d.create_volume(size=1, volume_type=into_type, wait=False)
        target = d.wait_volume(target["id"], ("available",), timeout=60)
        assert backend_of(target) == TYPES[into_type]
        restore(d, backup["id"], volume_id=target["id"])
        assert wait_restored(d, backup["id"], target["id"])["status"] == "available", \
            d.read_log()[-3000:]
        assert digest(stored_bytes(d, pool, target, tmp_path)) == \
            digest(stored_bytes(d, pool, src, tmp_path)), (type_name, "->", into_type)
