"""Attach and detach against a real scoriad: the attachments API (3.27+), the legacy volume
actions, restart, and the cinder / scoria clients. The daemon runs with whatever Exporter is
wired (scoriad's own iSCSI target; exports are also checked through its log here, and
over the wire in test_iscsi.py)."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

CINDER = shutil.which("cinder", path="/usr/bin")
V = "3.54"
IQN = "iqn.1994-05.com.redhat:host1"
IQN2 = "iqn.1994-05.com.redhat:host2"


def connector(initiator=IQN, host="host1"):
    return {"initiator": initiator, "ip": "127.0.0.1", "host": host, "platform": "x86_64",
            "os_type": "linux", "multipath": False}


def create_attachment(d, vol_id, conn=None, instance=None, mode=None, version=V):
    body = {"volume_uuid": vol_id}
    if instance:
        body["instance_uuid"] = instance
    if conn is not None:
        body["connector"] = conn
    if mode:
        body["mode"] = mode
    return d.post("/attachments", {"attachment": body}, version=version)


def vol_status(d, vol_id):
    return d.get("/volumes/" + vol_id)[2]["volume"]


def listed(d, vol_id):
    """The volume as GET /volumes/detail shows it."""
    status, _, out = d.get("/volumes/detail")
    assert status == 200, out
    return next(v for v in out["volumes"] if v["id"] == vol_id)


def action(d, vol_id, name, args=None, version=None):
    return d.post("/volumes/%s/action" % vol_id, {name: args}, version=version)


def test_reserve_attach_complete_delete(scoriad):
    vol = scoriad.create_volume(size=1)
    inst = str(uuid.uuid4())
    status, _, out = create_attachment(scoriad, vol["id"], instance=inst)
    assert status == 200, out
    att = out["attachment"]
    assert att["status"] == "reserved"
    assert att["connection_info"] == {}
    assert att["instance"] == inst and att["volume_id"] == vol["id"]
    assert att["attached_at"] == "" and att["detached_at"] == ""
    assert vol_status(scoriad, vol["id"])["status"] == "reserved"

    # A second reserve of a non-multiattach volume for another instance is refused; for the
    # same instance (Nova's live migration) it is accepted.
    assert create_attachment(scoriad, vol["id"], instance=str(uuid.uuid4()))[0] == 400
    status, _, out2 = create_attachment(scoriad, vol["id"], instance=inst)
    assert status == 200, out2
    status, _, _ = scoriad.delete("/attachments/" + out2["attachment"]["id"], version=V)
    assert status == 200

    status, _, out = scoriad.put("/attachments/" + att["id"],
                                 {"attachment": {"connector": connector()}}, version=V)
    assert status == 200, out
    att = out["attachment"]
    assert att["status"] == "attaching"
    ci = att["connection_info"]
    assert ci["driver_volume_type"] == "iscsi"
    assert ci["attachment_id"] == att["id"]
    assert ci["data"]["target_iqn"] == "iqn.2010-10.org.openstack:volume-" + vol["id"]
    assert vol_status(scoriad, vol["id"])["status"] == "attaching"
    other = scoriad.create_volume()  # detached, in the same listing
    assert listed(scoriad, vol["id"])["attachments"] == []

    status, _, out = scoriad.post("/attachments/%s/action" % att["id"], {"os-complete": None},
                                  version="3.44")
    assert status == 204, out
    v = vol_status(scoriad, vol["id"])
    assert v["status"] == "in-use"
    assert len(v["attachments"]) == 1
    # The listing reads attachments only for attached volumes: the same view as GET one.
    assert listed(scoriad, vol["id"])["attachments"] == v["attachments"]
    assert listed(scoriad, other["id"])["attachments"] == []
    a = v["attachments"][0]
    assert a["attachment_id"] == att["id"] and a["server_id"] == inst
    assert a["id"] == vol["id"] and a["host_name"] == "host1" and a["attached_at"]
    status, _, shown = scoriad.get("/attachments/" + att["id"], version=V)
    assert shown["attachment"]["status"] == "attached"
    assert shown["attachment"]["attached_at"]

    status, _, out = scoriad.delete("/attachments/" + att["id"], version=V)
    assert status == 200, out
    assert out == {"attachments": []}
    v = vol_status(scoriad, vol["id"])
    assert v["status"] == "available" and v["attachments"] == []
    assert listed(scoriad, vol["id"])["attachments"] == []
    assert scoriad.get("/attachments/" + att["id"], version=V)[0] == 404
    log = scoriad.read_log()
    assert "exported as iqn.2010-10.org.openstack:volume-" + vol["id"] in log
    assert "volume %s unexported" % vol["id"] in log


def test_connection_info_shape_and_unique_chap(make_daemon):
    from conftest import free_port
    port = free_port()
    d = make_daemon(extra_default={"target_ip_address": "127.0.0.1", "target_port": str(port)}).start()
    vols = [d.create_volume(size=1) for _ in range(2)]
    infos = []
    for i, vol in enumerate(vols):
        status, _, out = create_attachment(d, vol["id"], conn=connector("iqn.x:h%d" % i))
        assert status == 200, out
        infos.append(out["attachment"]["connection_info"])
        assert out["attachment"]["status"] == "attaching"
        assert out["attachment"]["attach_mode"] == "rw"
    ci = infos[0]
    assert set(ci) == {"driver_volume_type", "data", "attachment_id", "enforce_multipath"}
    assert ci["enforce_multipath"] is False
    data = ci["data"]
    assert data == {
        "target_discovered": False,
        "target_iqn": "iqn.2010-10.org.openstack:volume-" + vols[0]["id"],
        "target_portal": "127.0.0.1:%d" % port,
        "target_lun": 0,
        "volume_id": vols[0]["id"],
        "auth_method": "CHAP",
        "auth_username": data["auth_username"],
        "auth_password": data["auth_password"],
        "target_auth_username": data["target_auth_username"],
        "target_auth_password": data["target_auth_password"],
        "access_mode": "rw",
        "discard": True,
        "encrypted": False,
        "qos_specs": None,
        "cacheable": False,
    }
    for c in infos:
        assert len(c["data"]["auth_username"]) == 20 and c["data"]["auth_username"].isalnum()
        assert len(c["data"]["auth_password"]) == 16 and c["data"]["auth_password"].isalnum()
        assert len(c["data"]["target_auth_password"]) == 16
        assert c["data"]["target_auth_password"] != c["data"]["auth_password"]
    assert infos[0]["data"]["auth_username"] != infos[1]["data"]["auth_username"]
    assert infos[0]["data"]["auth_password"] != infos[1]["data"]["auth_password"]
    log = d.read_log()
    assert data["auth_password"] not in log, "CHAP secrets are never logged"
    assert data["target_auth_password"] not in log, "CHAP secrets are never logged"


def test_ro_mode(scoriad):
    vol = scoriad.create_volume(size=1)
    status, _, out = create_attachment(scoriad, vol["id"], conn=connector(), mode="ro")
    assert status == 200, out
    assert out["attachment"]["attach_mode"] == "ro"
    assert out["attachment"]["connection_info"]["data"]["access_mode"] == "ro"
    # mode needs 3.54; a bad mode is 400.
    assert create_attachment(scoriad, vol["id"], mode="ro", version="3.53")[0] == 400
    vol2 = scoriad.create_volume(size=1)
    assert create_attachment(scoriad, vol2["id"], mode="rx")[0] == 400


def test_bad_connectors_and_versions(scoriad):
    vol = scoriad.create_volume(size=1)
    for bad in ("iqn", ["x"], {"ip": "1.2.3.4"}, {"initiator": 5}, {"initiator": ""},
                {"nqn": "nqn.2014-08.org.nvmexpress:uuid:1"}):
        status, _, out = create_attachment(scoriad, vol["id"], conn=bad)
        assert status == 400, (bad, out)
    assert vol_status(scoriad, vol["id"])["status"] == "available"
    assert scoriad.get("/attachments/detail", version=V)[2]["attachments"] == []
    # The attachments API starts at 3.27, os-complete at 3.44.
    assert create_attachment(scoriad, vol["id"], version="3.26")[0] == 404
    status, _, out = create_attachment(scoriad, vol["id"], conn=connector())
    assert status == 200
    att_id = out["attachment"]["id"]
    assert scoriad.post("/attachments/%s/action" % att_id, {"os-complete": None},
                        version="3.43")[0] == 404
    assert create_attachment(scoriad, str(uuid.uuid4()))[0] == 404
    status, _, out = scoriad.put("/attachments/" + att_id, {"attachment": {"connector": "x"}},
                                 version=V)
    assert status == 400


def test_illegal_transitions(scoriad):
    vol = scoriad.create_volume(size=1)
    # Error volume: no attachment.
    assert action(scoriad, vol["id"], "os-reset_status", {"status": "error"})[0] == 202
    status, _, out = create_attachment(scoriad, vol["id"], conn=connector())
    assert status == 400, out
    assert action(scoriad, vol["id"], "os-reset_status", {"status": "available"})[0] == 202

    # os-complete on an unknown id: 404; on a reserved one: 400; twice: 400.
    assert scoriad.post("/attachments/%s/action" % uuid.uuid4(), {"os-complete": None},
                        version=V)[0] == 404
    status, _, out = create_attachment(scoriad, vol["id"])
    att_id = out["attachment"]["id"]
    assert scoriad.post("/attachments/%s/action" % att_id, {"os-complete": None},
                        version=V)[0] == 400
    assert scoriad.put("/attachments/" + att_id, {"attachment": {"connector": connector()}},
                       version=V)[0] == 200
    assert scoriad.post("/attachments/%s/action" % att_id, {"os-complete": None},
                        version=V)[0] == 204
    status, _, out = scoriad.post("/attachments/%s/action" % att_id, {"os-complete": None},
                                  version=V)
    assert status == 400, out

    # A volume with attachments is not deleted, not even forced.
    status, _, out = scoriad.delete("/volumes/" + vol["id"])
    assert status == 400, out
    assert action(scoriad, vol["id"], "os-force_delete")[0] == 400

    # Extend of an in-use volume needs 3.42.
    status, _, out = action(scoriad, vol["id"], "os-extend", {"new_size": 2}, version="3.41")
    assert status == 400, out
    status, _, out = action(scoriad, vol["id"], "os-extend", {"new_size": 2}, version="3.42")
    assert status == 202, out
    v = scoriad.wait_volume(vol["id"], ("in-use",))
    assert v["size"] == 2
    assert "volume %s capacity changed" % vol["id"] in scoriad.read_log()

    # Another instance may not attach the in-use volume.
    assert create_attachment(scoriad, vol["id"], instance=str(uuid.uuid4()))[0] == 400

    assert scoriad.delete("/attachments/" + att_id, version=V)[0] == 200
    assert scoriad.delete("/attachments/" + att_id, version=V)[0] == 404
    assert scoriad.delete("/volumes/" + vol["id"])[0] == 202
    scoriad.wait_volume(vol["id"], ("deleted",))


def test_list_filters_and_scoping(scoriad):
    vols = [scoriad.create_volume(size=1) for _ in range(2)]
    inst = str(uuid.uuid4())
    a1 = create_attachment(scoriad, vols[0]["id"], instance=inst)[2]["attachment"]
    a2 = create_attachment(scoriad, vols[1]["id"], conn=connector())[2]["attachment"]
    status, _, out = scoriad.get("/attachments", version=V)
    assert status == 200
    assert {a["id"] for a in out["attachments"]} == {a1["id"], a2["id"]}
    assert set(out["attachments"][0]) == {"id", "status", "instance", "volume_id"}
    out = scoriad.get("/attachments/detail?volume_id=" + vols[1]["id"], version=V)[2]
    assert [a["id"] for a in out["attachments"]] == [a2["id"]]
    assert "connection_info" in out["attachments"][0]
    out = scoriad.get("/attachments?instance_id=" + inst, version=V)[2]
    assert [a["id"] for a in out["attachments"]] == [a1["id"]]
    out = scoriad.get("/attachments?status=attaching", version=V)[2]
    assert [a["id"] for a in out["attachments"]] == [a2["id"]]
    out = scoriad.get("/attachments?attach_status=reserved", version=V)[2]
    assert [a["id"] for a in out["attachments"]] == [a1["id"]]
    # Another project sees nothing unless all_tenants.
    out = scoriad.get("/attachments", version=V, token="other:other")[2]
    assert out["attachments"] == []
    out = scoriad.get("/attachments?all_tenants=1", version=V, token="other:other")[2]
    assert len(out["attachments"]) == 2
    out = scoriad.get("/attachments?limit=1", version=V)[2]
    assert len(out["attachments"]) == 1


def test_delete_returns_remaining_attachments_of_multiattach_volume(scoriad):
    status, _, out = scoriad.post("/types", {"volume_type": {
        "name": "multi", "extra_specs": {"multiattach": "<is> True"}}})
    assert status == 200, out
    vol = scoriad.create_volume(size=1, volume_type="multi")
    assert vol["multiattach"] is True
    ids = []
    for i, iqn in enumerate((IQN, IQN2)):
        status, _, out = create_attachment(scoriad, vol["id"], conn=connector(iqn, "h%d" % i),
                                           instance=str(uuid.uuid4()))
        assert status == 200, out
        ids.append(out["attachment"]["id"])
        assert scoriad.post("/attachments/%s/action" % ids[-1], {"os-complete": None},
                            version=V)[0] == 204
    v = vol_status(scoriad, vol["id"])
    assert v["status"] == "in-use" and len(v["attachments"]) == 2
    status, _, out = scoriad.delete("/attachments/" + ids[0], version=V)
    assert status == 200
    assert [a["id"] for a in out["attachments"]] == [ids[1]]
    assert out["attachments"][0]["status"] == "attached"
    assert vol_status(scoriad, vol["id"])["status"] == "in-use"
    # The export stays while one attachment remains.
    assert "volume %s unexported" % vol["id"] not in scoriad.read_log()
    assert scoriad.delete("/attachments/" + ids[1], version=V)[2] == {"attachments": []}
    assert vol_status(scoriad, vol["id"])["status"] == "available"
    assert "volume %s unexported" % vol["id"] in scoriad.read_log()


def test_legacy_action_flow(scoriad):
    """cinderclient's order: reserve, initialize_connection, attach, begin_detaching,
    terminate_connection, detach."""
    vol = scoriad.create_volume(size=1)
    vid = vol["id"]
    inst = str(uuid.uuid4())
    assert action(scoriad, vid, "os-reserve")[0] == 202
    assert vol_status(scoriad, vid)["status"] == "attaching"
    assert action(scoriad, vid, "os-reserve")[0] == 400  # not available any more
    status, _, out = action(scoriad, vid, "os-initialize_connection", {"connector": connector()})
    assert status == 200, out
    ci = out["connection_info"]
    assert ci["driver_volume_type"] == "iscsi"
    assert ci["data"]["target_iqn"].endswith("volume-" + vid)
    assert "attachment_id" not in ci
    # Again with the same initiator: the same connection (same CHAP user).
    status, _, again = action(scoriad, vid, "os-initialize_connection", {"connector": connector()})
    assert again["connection_info"]["data"]["auth_username"] == ci["data"]["auth_username"]
    status, _, out = action(scoriad, vid, "os-attach",
                            {"instance_uuid": inst, "mountpoint": "/dev/vdb", "mode": "rw"})
    assert status == 202, out
    v = vol_status(scoriad, vid)
    assert v["status"] == "in-use"
    assert len(v["attachments"]) == 1 and v["attachments"][0]["device"] == "/dev/vdb"
    att_id = v["attachments"][0]["attachment_id"]
    assert action(scoriad, vid, "os-begin_detaching")[0] == 202
    assert vol_status(scoriad, vid)["status"] == "detaching"
    assert action(scoriad, vid, "os-roll_detaching")[0] == 202
    assert vol_status(scoriad, vid)["status"] == "in-use"
    assert action(scoriad, vid, "os-begin_detaching")[0] == 202
    status, _, out = action(scoriad, vid, "os-terminate_connection", {"connector": connector()})
    assert status == 202, out
    assert "volume %s unexported" % vid in scoriad.read_log()
    status, _, out = action(scoriad, vid, "os-detach", {"attachment_id": att_id})
    assert status == 202, out
    v = vol_status(scoriad, vid)
    assert v["status"] == "available" and v["attachments"] == []
    assert scoriad.get("/attachments?all_tenants=1", version=V)[2]["attachments"] == []


def test_legacy_rollback_and_bad_args(scoriad):
    vol = scoriad.create_volume(size=1)
    vid = vol["id"]
    assert action(scoriad, vid, "os-initialize_connection", {"connector": {"ip": "x"}})[0] == 400
    assert action(scoriad, vid, "os-initialize_connection", {})[0] == 400
    assert action(scoriad, vid, "os-attach", {"instance_uuid": "x"})[0] == 400  # no mountpoint
    assert action(scoriad, vid, "os-begin_detaching")[0] == 400  # not in-use
    # Nova's rollback: reserve, initialize_connection, terminate_connection, unreserve.
    assert action(scoriad, vid, "os-reserve")[0] == 202
    assert action(scoriad, vid, "os-initialize_connection", {"connector": connector()})[0] == 200
    assert action(scoriad, vid, "os-terminate_connection", {"connector": connector()})[0] == 202
    assert action(scoriad, vid, "os-unreserve")[0] == 202
    v = vol_status(scoriad, vid)
    assert v["status"] == "available"
    assert scoriad.get("/attachments?all_tenants=1", version=V)[2]["attachments"] == []
    # os-attach without a connection (Cinder allows it) and os-detach without an id.
    assert action(scoriad, vid, "os-attach", {"host_name": "h", "mountpoint": "/mnt"})[0] == 202
    assert vol_status(scoriad, vid)["status"] == "in-use"
    assert action(scoriad, vid, "os-detach", {"attachment_id": str(uuid.uuid4())})[0] == 404
    assert action(scoriad, vid, "os-detach", {})[0] == 202
    assert vol_status(scoriad, vid)["status"] == "available"


def test_reset_status_detached_removes_attachments_and_exports(scoriad):
    vol = scoriad.create_volume(size=1)
    status, _, out = create_attachment(scoriad, vol["id"], conn=connector())
    att_id = out["attachment"]["id"]
    assert scoriad.post("/attachments/%s/action" % att_id, {"os-complete": None},
                        version=V)[0] == 204
    status, _, out = action(scoriad, vol["id"], "os-reset_status",
                            {"status": "available", "attach_status": "detached"})
    assert status == 202, out
    assert scoriad.get("/attachments/" + att_id, version=V)[0] == 404
    v = vol_status(scoriad, vol["id"])
    assert v["status"] == "available" and v["attachments"] == []
    import time
    for _ in range(500):
        if "volume %s unexported" % vol["id"] in scoriad.read_log():
            break
        time.sleep(0.01)
    assert "volume %s unexported" % vol["id"] in scoriad.read_log()
    assert scoriad.delete("/volumes/" + vol["id"])[0] == 202


def test_restart_keeps_attachment_and_restores_export(scoriad):
    vol = scoriad.create_volume(size=1)
    status, _, out = create_attachment(scoriad, vol["id"], conn=connector(),
                                       instance=str(uuid.uuid4()))
    att = out["attachment"]
    assert scoriad.post("/attachments/%s/action" % att["id"], {"os-complete": None},
                        version=V)[0] == 204
    scoriad.restart()
    v = vol_status(scoriad, vol["id"])
    assert v["status"] == "in-use"
    assert v["attachments"][0]["attachment_id"] == att["id"]
    status, _, shown = scoriad.get("/attachments/" + att["id"], version=V)
    assert shown["attachment"]["connection_info"] == att["connection_info"]
    assert "restored export of volume %s for attachment %s" % (vol["id"], att["id"]) in \
        scoriad.read_log()
    assert scoriad.delete("/attachments/" + att["id"], version=V)[0] == 200
    assert vol_status(scoriad, vol["id"])["status"] == "available"


def cinder(d, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CINDER_"))}
    p = subprocess.run(["/usr/bin/python3", CINDER, "--os-auth-type", "noauth", "--os-user-id",
                        "admin", "--os-project-id", "admin", "--os-endpoint", d.endpoint,
                        "--os-volume-api-version", "3.54"] + list(args),
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (args, p.stdout, p.stderr)
    return p.stdout


@pytest.mark.skipif(not CINDER, reason="python3-cinderclient is not installed")
def test_cinder_attachment_commands(scoriad):
    vol = scoriad.create_volume(size=1, name="att1")
    server = str(uuid.uuid4())
    out = cinder(scoriad, "attachment-create", "--connect", "true", "--initiator", IQN,
                 "--ip", "10.0.0.1", "--host", "h1", "att1", server)
    assert "attaching" in out and "iscsi" in out, out
    out = cinder(scoriad, "attachment-list")
    assert server in out and vol["id"] in out, out
    att_id = scoriad.get("/attachments", version=V)[2]["attachments"][0]["id"]
    out = cinder(scoriad, "attachment-show", att_id)
    assert "target_iqn" in out, out
    cinder(scoriad, "attachment-complete", att_id)
    assert vol_status(scoriad, vol["id"])["status"] == "in-use"
    cinder(scoriad, "attachment-delete", att_id)
    assert vol_status(scoriad, vol["id"])["status"] == "available"
    assert "att1" in cinder(scoriad, "list")


def scoria(d, *args, check=True):
    p = subprocess.run([os.path.join(d.bin_dir, "scoria"), "--endpoint", d.endpoint] +
                       list(args), capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (args, p.stdout, p.stderr)
    return p


def test_scoria_attach_detach(scoriad):
    vol = scoriad.create_volume(size=1, name="sv")
    p = scoria(scoriad, "attach", "sv", "--initiator", IQN, "--host", "h1")
    assert "target_iqn" in p.stdout and "--image-opts driver=iscsi" in p.stdout, p.stdout
    assert "iscsi://" in p.stdout
    v = vol_status(scoriad, vol["id"])
    assert v["status"] == "in-use"
    p = scoria(scoriad, "attachment-list")
    assert vol["id"] in p.stdout and "attached" in p.stdout
    p = scoria(scoriad, "--json", "attach", "sv", "--initiator", IQN2, "--mode", "ro",
               check=False)
    assert p.returncode == 1, p  # not multiattach: already in use
    scoria(scoriad, "detach", "sv")
    assert vol_status(scoriad, vol["id"])["status"] == "available"
    p = scoria(scoriad, "--json", "attach", "sv", "--initiator", IQN2, "--mode", "ro")
    att = json.loads(p.stdout)
    assert att["connection_info"]["data"]["access_mode"] == "ro"
    assert att["status"] == "attached"
    scoria(scoriad, "detach", "sv", "--attachment", att["id"])
    assert vol_status(scoriad, vol["id"])["status"] == "available"
