"""Backups to the object stores against a real scoriad and a real Ceph: `backup_driver = s3`
and `backup_driver = swift` (the radosgw that `make test` starts with
tests/support/ceph_server.py --rgw, named by SCORIA_TEST_RGW_URL) and `backup_driver = ceph`
(RADOS objects in a pool of that script's cluster, named by SCORIA_TEST_CEPH_CONF); each kind is
skipped, saying so, when its service is not there. A full backup of a file volume, an
incremental, restores byte for byte after the source is gone, deduplication seen in the bucket
(or pool), deletes with garbage collection; for ceph, an RBD volume backed up (its incremental
reading only RBD's changed extents) and restored into a file volume, and a user without caps or
a cluster that does not answer stopping scoriad at start with a clear line;
a gateway that answers 503 for a while during a backup (a proxy in front of radosgw: the job is
retried and succeeds), and for good (the backup goes to error naming the gateway); and a gateway
answering 503 (a fake endpoint) stops scoriad at start with a clear line.

What is in the bucket is checked behind the daemon's back with boto3: the S3 bucket and the
Swift container of one radosgw user are one namespace, so both stores are read the same way.
"""
import http.client
import http.server
import json
import os
import subprocess
import threading
import time
import uuid

import pytest

from test_backups import (create_backup, digest, enable_backup, needs_qemu, restore, volume_file,
                          wait_backup, wait_backup_service, wait_restored, write)

MiB = 1024 * 1024
RGW_URL = os.environ.get("SCORIA_TEST_RGW_URL")
CEPH_CONF = os.environ.get("SCORIA_TEST_CEPH_CONF")

needs_rgw = pytest.mark.skipif(
    not RGW_URL, reason="SCORIA_TEST_RGW_URL is not set: `make test` starts Ceph with radosgw "
    "for these tests (or: /usr/bin/python3 tests/support/ceph_server.py run --rgw -- pytest ...)")
needs_ceph = pytest.mark.skipif(
    not CEPH_CONF, reason="SCORIA_TEST_CEPH_CONF is not set: `make test` starts a Ceph cluster "
    "for these tests (or: /usr/bin/python3 tests/support/ceph_server.py run -- pytest ...)")
OBJECT_STORES = [pytest.param("s3", marks=needs_rgw), pytest.param("swift", marks=needs_rgw)]
ALL_STORES = OBJECT_STORES + [pytest.param("ceph", marks=needs_ceph)]


def ceph(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, CEPH_CONF=CEPH_CONF or ""), stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def ceph_user(request, caps):
    """client.<name> with `caps`, its keyring where the test cluster's conf finds it; removed
    when the test ends."""
    name = "it-backup-%s" % uuid.uuid4().hex[:12]
    keyring = os.path.join(os.path.dirname(CEPH_CONF), "ceph.client.%s.keyring" % name)
    args = ["ceph", "auth", "get-or-create", "client." + name]
    for daemon, cap in caps.items():
        args += [daemon, cap]
    ceph(*(args + ["-o", keyring]))
    request.addfinalizer(lambda: ceph("ceph", "auth", "rm", "client." + name, check=False))
    return name


def new_store(request, kind):
    """A bucket, container or pool of the test's own, and (ceph) a user with the least caps
    docs/backends.md gives: the store's config."""
    name = "scoria-it-%s-%s" % (kind, uuid.uuid4().hex[:12])
    if kind != "ceph":
        return name, store_config(kind, name)
    ceph("ceph", "osd", "pool", "create", name, "8", "8", "replicated")
    request.addfinalizer(lambda: ceph("ceph", "osd", "pool", "rm", name, name,
                                      "--yes-i-really-really-mean-it", check=False))
    user = ceph_user(request, {"mon": "allow r", "osd": "allow rw pool=" + name})
    return name, store_config("ceph", name, user)


def store_config(kind, bucket, ceph_user_name="admin"):
    if kind == "ceph":
        return {"backup_driver": "cinder.backup.drivers.ceph.CephBackupDriver",
                "backup_ceph_conf": CEPH_CONF,
                "backup_ceph_user": ceph_user_name,
                "backup_ceph_pool": bucket,
                "backup_ceph_op_timeout": "20"}
    if kind == "s3":
        return {"backup_driver": "s3",
                "backup_s3_endpoint_url": RGW_URL,
                "backup_s3_store_access_key": os.environ["SCORIA_TEST_S3_ACCESS_KEY"],
                "backup_s3_store_secret_key": os.environ["SCORIA_TEST_S3_SECRET_KEY"],
                "backup_s3_store_bucket": bucket}
    return {"backup_driver": "cinder.backup.drivers.swift.SwiftBackupDriver",
            "backup_swift_auth_url": RGW_URL + "/auth/1.0",
            "backup_swift_user": os.environ["SCORIA_TEST_SWIFT_USER"],
            "backup_swift_key": os.environ["SCORIA_TEST_SWIFT_KEY"],
            "backup_swift_container": bucket}


def keys(bucket, prefix, kind="s3"):
    """Every key under prefix in the bucket, read with boto3 (another S3 client); for the ceph
    store, every object of the pool, read with the rados CLI."""
    if kind == "ceph":
        return [k for k in ceph("rados", "-p", bucket, "ls").split() if k.startswith(prefix)]
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=RGW_URL,
                      aws_access_key_id=os.environ["SCORIA_TEST_S3_ACCESS_KEY"],
                      aws_secret_access_key=os.environ["SCORIA_TEST_S3_SECRET_KEY"],
                      region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


@needs_qemu
@pytest.mark.parametrize("kind", ALL_STORES)
def test_full_incremental_restore_delete(request, make_daemon, kind):
    bucket, conf = new_store(request, kind)

    bd = enable_backup(make_daemon(), conf)
    bd.start()
    wait_backup_service(bd)
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x11 0 6m", "write -P 0x22 100m 3m", "write -P 0x33 1020m 4m")
    state1 = digest(volume_file(bd, vol["id"]))
    full = create_backup(bd, vol["id"], name="full")
    chunks_full = set(keys(bucket, "chunks/", kind))
    assert len(chunks_full) >= 4, chunks_full  # 0x11 (2 chunks), 0x22, 0x33: 4 MiB chunks
    assert len(keys(bucket, "manifests/", kind)) == 1
    # the same bytes again: chunks are named by content, nothing new is stored
    again = create_backup(bd, vol["id"], name="again")
    assert set(keys(bucket, "chunks/", kind)) == chunks_full
    assert bd.delete("/backups/" + again["id"])[0] == 202
    wait_backup(bd, again["id"], ("deleted",))

    write(bd, vol["id"], "write -P 0x44 500m 4m", "write -z 100m 1m")
    state2 = digest(volume_file(bd, vol["id"]))
    assert state2 != state1
    inc = create_backup(bd, vol["id"], name="inc", incremental=True)
    assert inc["parent_id"] == full["id"]
    new_chunks = set(keys(bucket, "chunks/", kind)) - chunks_full
    assert 1 <= len(new_chunks) <= 2, new_chunks  # the 0x44 chunk and the re-zeroed 0x22 one

    # the source goes away; each backup restores on its own, byte for byte
    assert bd.delete("/volumes/" + vol["id"])[0] == 202
    bd.wait_volume(vol["id"], ("deleted",))
    for b, want in ((full, state1), (inc, state2)):
        out = restore(bd, b["id"], name="r-" + b["name"])
        rv = wait_restored(bd, b["id"], out["restore"]["volume_id"])
        assert rv["status"] == "available", bd.read_log()[-3000:]
        assert digest(volume_file(bd, rv["id"])) == want, b["name"]

    # deletes: the parent is refused while the incremental exists (Cinder's rule); deleting
    # the incremental collects the chunks only it used, deleting the full one the rest
    s, _, out = bd.delete("/backups/" + full["id"])
    assert s == 400 and "Incremental backups exist" in out["badRequest"]["message"], out
    assert bd.delete("/backups/" + inc["id"])[0] == 202
    wait_backup(bd, inc["id"], ("deleted",))
    left = set(keys(bucket, "chunks/", kind))
    assert not (left & new_chunks) and left == chunks_full, (left, new_chunks)
    assert bd.delete("/backups/" + full["id"])[0] == 202
    wait_backup(bd, full["id"], ("deleted",))
    assert keys(bucket, "manifests/", kind) == []
    assert keys(bucket, "chunks/", kind) == []


class _Always503(http.server.BaseHTTPRequestHandler):
    requests = 0

    def _answer(self):
        type(self).requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("kind", OBJECT_STORES)
def test_gateway_answering_503_stops_start_with_a_clear_error(make_daemon, kind):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Always503)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Always503.requests = 0
        url = "http://127.0.0.1:%d" % server.server_address[1]
        conf = store_config(kind, "never-made")
        if kind == "s3":
            conf.update(backup_s3_endpoint_url=url, backup_s3_retry_max_attempts="2")
        else:
            conf.update(backup_swift_auth_url=url + "/auth/1.0", backup_swift_retry_attempts="1",
                        backup_swift_retry_backoff="0")
        d = enable_backup(make_daemon(), conf)
        with pytest.raises(RuntimeError) as e:
            d.start()
        msg = str(e.value)
        assert url in msg and "503" in msg and "2 attempts" in msg, msg
        assert _Always503.requests == 2  # retried once, then gave up
        secret = conf.get("backup_s3_store_secret_key") or conf["backup_swift_key"]
        assert secret not in d.read_log()
    finally:
        server.shutdown()
        server.server_close()


class _Proxy(http.server.BaseHTTPRequestHandler):
    """Forwards every request to radosgw as it came (the Host header too: S3 signs it), or
    answers 503 while `failing` is set."""
    protocol_version = "HTTP/1.1"
    failing = False
    refused = 0

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if type(self).failing:
            type(self).refused += 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        host, port = RGW_URL[len("http://"):].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "keep-alive") or (
                    k.lower() == "content-length" and self.command != "HEAD"):
                continue
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

    def log_message(self, *args):
        pass


@needs_qemu
@pytest.mark.parametrize("kind", OBJECT_STORES)
def test_gateway_503_during_a_backup_is_retried_then_fails_clearly(make_daemon, kind):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Proxy.failing, _Proxy.refused = False, 0
        url = "http://127.0.0.1:%d" % server.server_address[1]
        bucket = "scoria-it-503-%s-%s" % (kind, uuid.uuid4().hex[:12])
        conf = store_config(kind, bucket)
        if kind == "s3":
            conf.update(backup_s3_endpoint_url=url, backup_s3_retry_max_attempts="2")
        else:  # the auth answer names radosgw itself: the storage URL goes through the proxy
            conf.update(backup_swift_auth_url=url + "/auth/1.0", backup_swift_url=url + "/swift/v1",
                        backup_swift_retry_attempts="1", backup_swift_retry_backoff="0")
        bd = enable_backup(make_daemon(), conf)
        bd.start()
        wait_backup_service(bd)
        vol = bd.create_volume(size=1)
        write(bd, vol["id"], "write -P 0x5a 0 8m")
        want = digest(volume_file(bd, vol["id"]))
        # down for a while: the store's retries give up, the task is retried with back-off
        _Proxy.failing = True
        b = create_backup(bd, vol["id"], wait=False)
        deadline = time.time() + 30
        while _Proxy.refused < 4:
            assert time.time() < deadline, bd.read_log()[-3000:]
            time.sleep(0.05)
        _Proxy.failing = False
        b = wait_backup(bd, b["id"], ("available", "error"), timeout=90)
        assert b["status"] == "available", (b, bd.read_log()[-3000:])
        out = restore(bd, b["id"])
        rv = wait_restored(bd, b["id"], out["restore"]["volume_id"])
        assert digest(volume_file(bd, rv["id"])) == want
        # down for good: the backup ends in error with the reason, not stuck in creating
        _Proxy.failing = True
        b2 = create_backup(bd, vol["id"], wait=False)
        b2 = wait_backup(bd, b2["id"], ("available", "error"), timeout=120)
        assert b2["status"] == "error", b2
        s, _, shown = bd.get("/backups/" + b2["id"], version="3.64")
        assert url in shown["backup"]["fail_reason"] and "503" in shown["backup"]["fail_reason"], \
            shown["backup"]
    finally:
        _Proxy.failing = False
        server.shutdown()
        server.server_close()


@needs_ceph
@needs_qemu
def test_rbd_volume_backed_up_to_the_ceph_store_restores_into_a_file_volume(request, make_daemon,
                                                                           tmp_path):
    """An RBD volume (volume_driver rbd, its own pool) backed up to the ceph store (another
    pool): the incremental reads only the extents RBD says changed (rbd_diff_iterate2, counted
    from the log as test_rbd.py does for the posix store), and the backup restores into a file
    volume byte for byte, equal to Ceph's own export of the image."""
    from test_rbd import back_up_rbd_volume_and_restore_into_file_volume, rbd_backend
    volumes = "it-vol-%s" % uuid.uuid4().hex[:12]
    ceph("ceph", "osd", "pool", "create", volumes, "8", "8", "replicated")
    request.addfinalizer(lambda: ceph("ceph", "osd", "pool", "rm", volumes, volumes,
                                      "--yes-i-really-really-mean-it", check=False))
    ceph("rbd", "pool", "init", volumes)
    backups, conf = new_store(request, "ceph")
    d = make_daemon(backends={"file-1": {}, "ceph": rbd_backend(volumes)},
                    extra_default={"quota_gigabytes": "-1", "quota_volumes": "-1"})
    enable_backup(d, conf).start()
    wait_backup_service(d)
    back_up_rbd_volume_and_restore_into_file_volume(
        d, volumes, tmp_path, stored_chunks=lambda: keys(backups, "chunks/", "ceph"))


@needs_ceph
def test_a_ceph_user_without_caps_on_the_pool_stops_start_with_a_clear_error(request,
                                                                             make_daemon):
    pool, _ = new_store(request, "ceph")
    for caps in ({"mon": "allow r", "osd": "allow rw pool=elsewhere"},
                 {"mon": "allow r", "osd": "allow r pool=" + pool}):
        user = ceph_user(request, caps)
        d = enable_backup(make_daemon(), store_config("ceph", pool, user))
        with pytest.raises(RuntimeError) as e:
            d.start(timeout=60)
        msg = str(e.value)
        assert "client.%s" % user in msg and "pool %s" % pool in msg, msg
        assert "allow rw pool=%s" % pool in msg, msg  # the caps it needs
        key = json.loads(ceph("ceph", "auth", "get", "client." + user, "-f", "json"))[0]["key"]
        assert key not in d.read_log()


@needs_ceph
def test_an_unreachable_cluster_stops_start_with_a_clear_error(request, make_daemon, tmp_path):
    pool, conf = new_store(request, "ceph")
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once it is closed
    dead = tmp_path / "dead.conf"
    dead.write_text("[global]\nmon_host = v2:127.0.0.1:%d\nkeyring = %s/$cluster.$name.keyring\n"
                    "log_to_stderr = false\nerr_to_stderr = false\n"
                    % (port, os.path.dirname(CEPH_CONF)))
    conf.update(backup_ceph_conf=str(dead), backup_ceph_op_timeout="3")
    d = enable_backup(make_daemon(), conf)
    started = time.time()
    with pytest.raises(RuntimeError) as e:
        d.start(timeout=60)
    msg = str(e.value)
    assert "pool %s" % pool in msg and str(dead) in msg, msg
    assert time.time() - started < 30
