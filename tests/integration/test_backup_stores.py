"""Backups to the object stores against a real scoriad and a real radosgw: `backup_driver = s3`
and `backup_driver = swift` (the radosgw that `make test` starts with
tests/support/ceph_server.py --rgw, named by SCORIA_TEST_RGW_URL; without it the module is
skipped, saying so). A full backup of a file volume, an incremental, restores byte for byte
after the source is gone, deduplication seen in the bucket, deletes with garbage collection;
a gateway that answers 503 for a while during a backup (a proxy in front of radosgw: the job is
retried and succeeds), and for good (the backup goes to error naming the gateway); and a gateway
answering 503 (a fake endpoint) stops scoriad at start with a clear line.

What is in the bucket is checked behind the daemon's back with boto3: the S3 bucket and the
Swift container of one radosgw user are one namespace, so both stores are read the same way.
"""
import http.client
import http.server
import os
import threading
import time
import uuid

import pytest

from test_backups import (create_backup, digest, enable_backup, needs_qemu, restore, volume_file,
                          wait_backup, wait_backup_service, wait_restored, write)

MiB = 1024 * 1024
RGW_URL = os.environ.get("SCORIA_TEST_RGW_URL")

pytestmark = pytest.mark.skipif(
    not RGW_URL, reason="SCORIA_TEST_RGW_URL is not set: `make test` starts Ceph with radosgw "
    "for these tests (or: /usr/bin/python3 tests/support/ceph_server.py run --rgw -- pytest ...)")


def store_config(kind, bucket):
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


def keys(bucket, prefix):
    """Every key under prefix in the bucket, read with boto3 (another S3 client)."""
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
@pytest.mark.parametrize("kind", ["s3", "swift"])
def test_full_incremental_restore_delete(make_daemon, kind):
    bucket = "scoria-it-%s-%s" % (kind, uuid.uuid4().hex[:12])
    bd = enable_backup(make_daemon(), store_config(kind, bucket))
    bd.start()
    wait_backup_service(bd)
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x11 0 6m", "write -P 0x22 100m 3m", "write -P 0x33 1020m 4m")
    state1 = digest(volume_file(bd, vol["id"]))
    full = create_backup(bd, vol["id"], name="full")
    chunks_full = set(keys(bucket, "chunks/"))
    assert len(chunks_full) >= 4, chunks_full  # 0x11 (2 chunks), 0x22, 0x33: 4 MiB chunks
    assert len(keys(bucket, "manifests/")) == 1
    # the same bytes again: chunks are named by content, nothing new is stored
    again = create_backup(bd, vol["id"], name="again")
    assert set(keys(bucket, "chunks/")) == chunks_full
    assert bd.delete("/backups/" + again["id"])[0] == 202
    wait_backup(bd, again["id"], ("deleted",))

    write(bd, vol["id"], "write -P 0x44 500m 4m", "write -z 100m 1m")
    state2 = digest(volume_file(bd, vol["id"]))
    assert state2 != state1
    inc = create_backup(bd, vol["id"], name="inc", incremental=True)
    assert inc["parent_id"] == full["id"]
    new_chunks = set(keys(bucket, "chunks/")) - chunks_full
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
    left = set(keys(bucket, "chunks/"))
    assert not (left & new_chunks) and left == chunks_full, (left, new_chunks)
    assert bd.delete("/backups/" + full["id"])[0] == 202
    wait_backup(bd, full["id"], ("deleted",))
    assert keys(bucket, "manifests/") == []
    assert keys(bucket, "chunks/") == []


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


@pytest.mark.parametrize("kind", ["s3", "swift"])
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
@pytest.mark.parametrize("kind", ["s3", "swift"])
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
