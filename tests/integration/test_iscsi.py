"""The data path against a real scoriad: clients nobody here wrote (libiscsi's tools, QEMU's
iscsi:// driver) log in with the CHAP credentials the API returned, move data, and are refused
with a wrong secret, from another initiator, to an unknown target and after detach."""
import os
import shutil

import pytest

from iscsi_util import (QEMU_INITIATOR, TEST_INITIATOR, attach, detach, image_opts, run, url)

pytestmark = pytest.mark.skipif(not shutil.which("iscsi-inq") or not shutil.which("qemu-img"),
                                reason="libiscsi-bin and qemu-utils are needed")

MiB = 1024 * 1024


@pytest.fixture
def target(make_daemon):
    from conftest import free_port
    d = make_daemon(extra_default={"target_ip_address": "127.0.0.1",
                                   "target_port": str(free_port()),
                                   "quota_gigabytes": "-1"}).start()
    return d


def test_libiscsi_tools_with_chap(target):
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], "iqn.2024-01.org.example:host1")
    assert data["auth_method"] == "CHAP" and data["target_lun"] == 0
    assert data["target_iqn"] == "iqn.2010-10.org.openstack:volume-" + vol["id"]
    init = ["-i", "iqn.2024-01.org.example:host1"]
    out = run(["iscsi-inq"] + init + [url(data)]).stdout
    assert "SCORIA" in out
    out = run(["iscsi-readcapacity16"] + init + [url(data)]).stdout
    assert "Totalsize:1073741824" in out.replace(" ", "")
    out = run(["iscsi-inq", "-e", "1", "-c", "0x80"] + init + [url(data)]).stdout
    assert vol["id"].replace("-", "")[:16] in out.replace("-", "") or out.strip()
    out = run(["iscsi-ls", "-s"] + init + ["iscsi://%s%%%s@%s" % (
        data["auth_username"], data["auth_password"], data["target_portal"])]).stdout
    assert data["target_iqn"] in out


def test_refusals(target):
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], "iqn.2024-01.org.example:host1")
    init = ["-i", "iqn.2024-01.org.example:host1"]
    # wrong secret: authentication failure
    p = run(["iscsi-inq"] + init + [url(data, password="wrongsecret12345")], check=False)
    assert p.returncode != 0
    # another initiator, right secret: authorization failure
    p = run(["iscsi-inq", "-i", "iqn.2024-01.org.example:intruder", url(data)], check=False)
    assert p.returncode != 0
    # unknown target
    bogus = dict(data, target_iqn="iqn.2010-10.org.openstack:volume-nope")
    p = run(["iscsi-inq"] + init + [url(bogus)], check=False)
    assert p.returncode != 0
    # the right one still works, and stops working after detach
    run(["iscsi-inq"] + init + [url(data)])
    detach(d, att)
    p = run(["iscsi-inq"] + init + [url(data)], check=False)
    assert p.returncode != 0
    log = d.read_log()
    assert data["auth_password"] not in log, "secrets must never be logged"


def test_mutual_chap(target):
    """An initiator that asks for mutual CHAP checks the target with the target credentials
    of the attachment (target_auth_username/password, a Scoria extension of connection_info);
    with the wrong target secret the initiator itself refuses the target."""
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], "iqn.2024-01.org.example:host1")
    assert data["target_auth_username"] and data["target_auth_password"]
    assert data["target_auth_password"] != data["auth_password"]
    init = ["-i", "iqn.2024-01.org.example:host1"]

    def mutual(password):
        return url(data) + "?target_user=%s&target_password=%s" % (
            data["target_auth_username"], password)

    out = run(["iscsi-inq"] + init + [mutual(data["target_auth_password"])]).stdout
    assert "SCORIA" in out
    p = run(["iscsi-inq"] + init + [mutual("wrongsecret12345")], check=False)
    assert p.returncode != 0
    # The same through libiscsi's environment variables, with a full read of the disk.
    env = dict(os.environ, LIBISCSI_CHAP_TARGET_USERNAME=data["target_auth_username"],
               LIBISCSI_CHAP_TARGET_PASSWORD=data["target_auth_password"])
    out = run(["iscsi-readcapacity16"] + init + [url(data)], env=env).stdout
    assert "Totalsize:1073741824" in out.replace(" ", "")
    # One-way CHAP still works for initiators that do not ask.
    run(["iscsi-inq"] + init + [url(data)])
    log = d.read_log()
    assert data["target_auth_password"] not in log, "secrets must never be logged"
    detach(d, att)


def test_qemu_convert_compare_and_io_patterns(target, tmp_path):
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    src = tmp_path / "src.raw"
    with open(src, "wb") as f:
        f.write(os.urandom(8 * MiB))
        f.truncate(1024 * MiB)
    opts = image_opts(data)
    run(["qemu-img", "convert", "-n", "-f", "raw", str(src), "--target-image-opts", opts])
    run(["qemu-img", "compare", "--image-opts", "driver=file,filename=%s" % src, opts])
    # qemu-io: write a pattern at an odd offset, read it back, check a hole reads as zero
    run(["qemu-io", "--image-opts", opts, "-c", "write -P 0xab 12345k 3m",
         "-c", "read -P 0xab 12345k 3m", "-c", "read -P 0 900m 1m", "-c", "flush"])
    # the bytes are on the volume file itself
    path = os.path.join(d.volume_dir(), "volume-" + vol["id"])
    with open(path, "rb") as f:
        f.seek(12345 * 1024)
        assert f.read(3 * MiB) == b"\xab" * (3 * MiB)
    # a wrong password fails
    p = run(["qemu-img", "info", "--image-opts", image_opts(data, password="x" * 16)], check=False)
    assert p.returncode != 0


def test_read_only_attachment_refuses_writes(target):
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], QEMU_INITIATOR, mode="ro")
    assert data["access_mode"] == "ro"
    opts = image_opts(data)
    run(["qemu-io", "-r", "--image-opts", opts, "-c", "read 0 64k"])
    # QEMU sees the write-protect bit (MODE SENSE) and refuses to open it read-write.
    p = run(["qemu-io", "--image-opts", opts, "-c", "write -P 1 0 64k"], check=False)
    assert p.returncode != 0 and "write protected" in p.stderr
    # Every writing command fails with DATA PROTECT: libiscsi's own read-only checks.
    detach(d, att)
    att, data = attach(d, vol["id"], TEST_INITIATOR, mode="ro")
    p = run(["iscsi-test-cu", "-d", "-s", "--test=SCSI.ReadOnly", url(data)], check=False)
    summary = [l.split() for l in p.stdout.splitlines() if l.strip().startswith("tests")]
    assert summary and summary[0][2] == summary[0][3] and int(summary[0][2]) >= 1, p.stdout[-2000:]
    assert "Logical unit is not write-protected" not in p.stdout


def test_restart_keeps_export_and_data(target):
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], QEMU_INITIATOR)
    opts = image_opts(data)
    run(["qemu-io", "--image-opts", opts, "-c", "write -P 0x5a 1m 1m", "-c", "flush"])
    d.restart()
    run(["qemu-io", "--image-opts", opts, "-c", "read -P 0x5a 1m 1m"])


def test_online_extend_is_seen(target):
    d = target
    vol = d.create_volume(size=1)
    att, data = attach(d, vol["id"], "iqn.2024-01.org.example:host1")
    status, _, out = d.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 2}},
                            version="3.42")
    assert status == 202, out
    d.wait_volume(vol["id"], ("in-use",))
    for _ in range(100):
        v = d.get("/volumes/" + vol["id"])[2]["volume"]
        if v["size"] == 2:
            break
    out = run(["iscsi-readcapacity16", "-i", "iqn.2024-01.org.example:host1", url(data)]).stdout
    assert "Totalsize:2147483648" in out.replace(" ", "")
