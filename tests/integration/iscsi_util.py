"""Helpers for iSCSI tests: attach a volume through the API, build libiscsi / QEMU addresses."""
import subprocess

QEMU_INITIATOR = "iqn.2008-11.org.linux-kvm"  # what qemu-img / qemu-io log in as by default
TEST_INITIATOR = "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test"


def attach(d, vol_id, initiator, mode=None, host="testhost"):
    connector = {"initiator": initiator, "ip": "127.0.0.1", "host": host,
                 "platform": "x86_64", "os_type": "linux", "multipath": False}
    body = {"attachment": {"volume_uuid": vol_id, "connector": connector,
                           "instance_uuid": None}}
    if mode:
        body["attachment"]["mode"] = mode
    status, _, out = d.post("/attachments", body, version="3.54")
    assert status == 200, (status, out)
    att = out["attachment"]
    ci = att["connection_info"]
    data = ci.get("data", ci)
    status, _, out = d.post("/attachments/%s/action" % att["id"], {"os-complete": None},
                            version="3.54")
    assert status == 204, (status, out)
    return att["id"], data


def detach(d, attachment_id):
    status, _, out = d.delete("/attachments/" + attachment_id, version="3.54")
    assert status == 200, (status, out)


def url(data, user=None, password=None, lun=None):
    user = data["auth_username"] if user is None else user
    password = data["auth_password"] if password is None else password
    cred = "%s%%%s@" % (user, password) if user else ""
    return "iscsi://%s%s/%s/%d" % (cred, data["target_portal"], data["target_iqn"],
                                   data["target_lun"] if lun is None else lun)


def image_opts(data, initiator=QEMU_INITIATOR, password=None):
    host, port = data["target_portal"].rsplit(":", 1)
    return ("driver=iscsi,transport=tcp,portal=%s:%s,target=%s,lun=%d,user=%s,password=%s,"
            "initiator-name=%s" % (host, port, data["target_iqn"], data["target_lun"],
                                   data["auth_username"],
                                   data["auth_password"] if password is None else password,
                                   initiator))


def run(args, timeout=120, check=True, env=None):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert p.returncode == 0, "%s -> %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p
