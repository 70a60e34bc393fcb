"""Volume transfers (/volume-transfers, 3.55; /os-volume-transfer): one project offers a volume,
another accepts it with the auth key; the volume and its snapshots change project, quotas of
the receiver apply, the key is checked, and a cancelled transfer gives the volume back.

Under noauth every caller is an admin, so ownership is checked through the projects' own
(unscoped) lists and the volumes' tenant attribute; test_keystone.py checks that another
project gets 404s."""

import time

V = "3.57"
ALICE = "alice:pa"
BOB = "bob:pb"


def offer(d, vol_id, **extra):
    status, _, out = d.post("/volume-transfers", {"transfer": dict(volume_id=vol_id, **extra)},
                            token=ALICE, version=V)
    assert status == 202, out
    return out["transfer"]


def test_transfer_moves_the_volume_and_its_snapshots(scoriad):
    d = scoriad
    d.token = ALICE
    vol = d.create_volume(size=1, name="gift")
    status, _, snap = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert status == 202, snap
    snap_id = snap["snapshot"]["id"]
    deadline = time.time() + 30
    while d.get("/snapshots/" + snap_id)[2]["snapshot"]["status"] != "available":
        assert time.time() < deadline, "snapshot not available"
        time.sleep(0.02)

    t = offer(d, vol["id"], name="for bob")
    assert len(t["auth_key"]) == 16 and t["name"] == "for bob"
    assert t["source_project_id"] == "pa" and t["accepted"] is False
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "awaiting-transfer"
    # The volume is spoken for: no delete, no second transfer.
    assert d.delete("/volumes/" + vol["id"])[0] == 400
    status, _, out = d.post("/volume-transfers", {"transfer": {"volume_id": vol["id"]}},
                            token=ALICE, version=V)
    assert status == 400, out
    # The offering project lists and shows it; the key is never shown again.
    status, _, out = d.get("/volume-transfers/detail", token=ALICE, version=V)
    assert [x["id"] for x in out["transfers"]] == [t["id"]]
    assert "auth_key" not in out["transfers"][0]
    assert d.get("/volume-transfers/" + t["id"], token=ALICE, version=V)[0] == 200
    # Bob's list holds nothing of it, and a wrong key is refused.
    assert d.get("/volume-transfers", token=BOB, version=V)[2]["transfers"] == []
    status, _, out = d.post("/volume-transfers/%s/accept" % t["id"],
                            {"accept": {"auth_key": "x" * 16}}, token=BOB, version=V)
    assert status == 400 and "invalid auth key" in out["badRequest"]["message"], out
    assert d.get("/volumes", token=BOB)[2]["volumes"] == []

    status, _, out = d.post("/volume-transfers/%s/accept" % t["id"],
                            {"accept": {"auth_key": t["auth_key"]}}, token=BOB, version=V)
    assert status == 202, out
    assert out["transfer"]["volume_id"] == vol["id"]
    status, _, out = d.get("/volumes/" + vol["id"], token=BOB)
    assert status == 200 and out["volume"]["status"] == "available", out
    assert out["volume"]["user_id"] == "bob"
    assert out["volume"]["os-vol-tenant-attr:tenant_id"] == "pb"
    assert [v["id"] for v in d.get("/volumes", token=BOB)[2]["volumes"]] == [vol["id"]]
    assert d.get("/volumes", token=ALICE)[2]["volumes"] == []
    assert [x["id"] for x in d.get("/snapshots", token=BOB)[2]["snapshots"]] == [snap_id]
    assert d.get("/snapshots", token=ALICE)[2]["snapshots"] == []
    # The transfer is gone; accepting again finds nothing.
    assert d.get("/volume-transfers/" + t["id"], token=ALICE, version=V)[0] == 404
    assert d.get("/volume-transfers", token=ALICE, version=V)[2]["transfers"] == []
    status, _, _ = d.post("/volume-transfers/%s/accept" % t["id"],
                          {"accept": {"auth_key": t["auth_key"]}}, token=BOB, version=V)
    assert status == 404


def test_cancel_quota_and_bad_input(scoriad):
    d = scoriad
    d.token = ALICE
    vol = d.create_volume(size=2)
    # Bad bodies and unknown volumes: 400/404, nothing changes.
    for body, want in (({"transfer": {}}, 400), ({"transfr": {"volume_id": vol["id"]}}, 400),
                       ({"transfer": {"volume_id": "0" * 36}}, 404)):
        status, _, out = d.post("/volume-transfers", body, token=ALICE, version=V)
        assert status == want, (body, status, out)
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "available"

    # Bob's quota is full: the accept is refused and the volume stays offered.
    assert d.put("/os-quota-sets/pb", {"quota_set": {"gigabytes": 1}})[0] == 200
    t = offer(d, vol["id"])
    status, _, out = d.post("/volume-transfers/%s/accept" % t["id"],
                            {"accept": {"auth_key": t["auth_key"]}}, token=BOB, version=V)
    assert status == 413, out
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "awaiting-transfer"
    # Alice cancels: the volume is hers and available again; the legacy path sees the same.
    status, _, out = d.get("/os-volume-transfer", token=ALICE)
    assert [x["id"] for x in out["transfers"]] == [t["id"]]
    assert d.delete("/os-volume-transfer/" + t["id"], token=ALICE)[0] == 202
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "available"
    assert d.get("/volume-transfers", token=ALICE, version=V)[2]["transfers"] == []
    # A volume in use cannot be offered.
    status, _, _ = d.post("/volumes/%s/action" % vol["id"], {"os-reset_status": {"status": "error"}})
    status, _, out = d.post("/volume-transfers", {"transfer": {"volume_id": vol["id"]}},
                            token=ALICE, version=V)
    assert status == 400, out
