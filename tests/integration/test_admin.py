"""Admin routes against a real scoriad: availability zones, services (enable/disable and what
the scheduler then does), pools, limits, quota sets, user messages, and the real `cinder` and
`openstack` CLIs talking to them."""
import os
import subprocess
import time

MISSING = "00000000-0000-0000-0000-000000000000"


def fault(out, code):
    assert isinstance(out, dict) and len(out) == 1, out
    body = list(out.values())[0]
    assert body["code"] == code and body["message"], out
    return body["message"]


def wait_services_up(d, timeout=10):
    """Until the scheduler and every volume service have reported."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        services = d.get("/os-services")[2]["services"]
        volumes = [s for s in services if s["binary"] == "cinder-volume"]
        if len(volumes) == len(d.backends) and all(s["state"] == "up" for s in services):
            return services
        time.sleep(0.1)
    raise AssertionError("services not up: %s" % d.get("/os-services")[2])


def test_availability_zones(make_daemon):
    d = make_daemon(backends={"a": {"backend_availability_zone": "az1"},
                              "b": {"backend_availability_zone": "az2"}}).start()
    wait_services_up(d)
    st, _, out = d.get("/os-availability-zone")
    assert st == 200
    assert out == {"availabilityZoneInfo": [
        {"zoneName": "az1", "zoneState": {"available": True}},
        {"zoneName": "az2", "zoneState": {"available": True}}]}
    assert d.put("/os-services/disable", {"host": "testhost@b", "binary": "cinder-volume"})[0] == 200
    zones = {z["zoneName"]: z["zoneState"]["available"]
             for z in d.get("/os-availability-zone")[2]["availabilityZoneInfo"]}
    assert zones == {"az1": True, "az2": False}
    # No AZ given: the volume takes the AZ of the backend it lands on.
    vol = d.create_volume()
    assert vol["availability_zone"] == "az1"
    assert vol["os-vol-host-attr:host"] == "testhost@a#a"


def test_services_list_shape_and_filters(scoriad):
    services = wait_services_up(scoriad)
    assert sorted((s["binary"], s["host"]) for s in services) == [
        ("cinder-scheduler", "testhost"), ("cinder-volume", "testhost@file1")]
    vol = [s for s in services if s["binary"] == "cinder-volume"][0]
    assert vol["zone"] == "nova" and vol["status"] == "enabled" and vol["state"] == "up"
    assert vol["disabled_reason"] is None and len(vol["updated_at"]) == 26
    assert vol["replication_status"] == "disabled" and vol["frozen"] is False
    assert vol["active_backend_id"] is None
    assert "cluster" not in vol and "backend_state" not in vol  # 3.0
    st, _, out = scoriad.get("/os-services", version="3.49")
    for s in out["services"]:
        assert "cluster" in s and s["cluster"] is None
        assert ("backend_state" in s) == (s["binary"] == "cinder-volume")
        if s["binary"] == "cinder-volume":
            assert s["backend_state"] == "up"
    st, _, out = scoriad.get("/os-services?binary=cinder-scheduler")
    assert [s["binary"] for s in out["services"]] == ["cinder-scheduler"]
    # host=testhost also matches testhost@file1, as Cinder's host filter does.
    st, _, out = scoriad.get("/os-services?host=testhost")
    assert len(out["services"]) == 2
    st, _, out = scoriad.get("/os-services?host=testhost@file1")
    assert [s["host"] for s in out["services"]] == ["testhost@file1"]
    assert scoriad.get("/os-services?host=elsewhere")[2] == {"services": []}


def test_service_disable_enable_and_scheduling(scoriad):
    wait_services_up(scoriad)
    key = {"host": "testhost@file1", "binary": "cinder-volume"}
    st, _, out = scoriad.put("/os-services/disable", key)
    assert st == 200, out
    assert out["status"] == "disabled" and out["disabled"] is True
    assert out["host"] == "testhost@file1" and out["binary"] == "cinder-volume"
    svc = scoriad.get("/os-services?binary=cinder-volume")[2]["services"][0]
    assert svc["status"] == "disabled"

    # A disabled backend is never chosen: the volume ends in error, and the user message says why.
    vol = scoriad.create_volume(wait=False)
    vol = scoriad.wait_volume(vol["id"], ("error",))
    st, _, out = scoriad.get("/messages", version="3.3")
    assert st == 200 and len(out["messages"]) == 1
    msg = out["messages"][0]
    assert msg["resource_uuid"] == vol["id"] and msg["resource_type"] == "VOLUME"
    assert "No valid backend was found" in msg["user_message"]
    assert msg["event_id"] == "VOLUME_VOLUME_001_003" and msg["message_level"] == "ERROR"

    st, _, out = scoriad.put("/os-services/disable-log-reason",
                             dict(key, disabled_reason="maintenance"))
    assert st == 200 and out["disabled_reason"] == "maintenance"
    svc = scoriad.get("/os-services?binary=cinder-volume")[2]["services"][0]
    assert svc["disabled_reason"] == "maintenance"
    assert scoriad.put("/os-services/disable-log-reason", dict(key, disabled_reason=" "))[0] == 400
    assert scoriad.put("/os-services/disable-log-reason",
                       dict(key, disabled_reason="x" * 256))[0] == 400

    st, _, out = scoriad.put("/os-services/enable", key)
    assert st == 200 and out["status"] == "enabled" and out["disabled"] is False
    svc = scoriad.get("/os-services?binary=cinder-volume")[2]["services"][0]
    assert svc["status"] == "enabled" and svc["disabled_reason"] is None
    vol = scoriad.create_volume()
    assert vol["os-vol-host-attr:host"] == "testhost@file1#file1"

    st, _, out = scoriad.put("/os-services/enable", {"host": "nohost", "binary": "cinder-volume"})
    assert st == 404, out
    assert scoriad.put("/os-services/disable", {"binary": "cinder-volume"})[0] == 400
    assert scoriad.put("/os-services/bogus", key)[0] == 404
    assert scoriad.put("/os-services/failover_host", key)[0] == 501


def test_get_pools(make_daemon):
    d = make_daemon(backends={"fast": {}, "bulk": {}}).start()
    wait_services_up(d)
    st, _, out = d.get("/scheduler-stats/get_pools")
    assert st == 200
    assert sorted(p["name"] for p in out["pools"]) == ["testhost@bulk#bulk", "testhost@fast#fast"]
    assert all(set(p) == {"name"} for p in out["pools"])
    d.create_volume(size=3, volume_type=None)
    st, _, out = d.get("/scheduler-stats/get_pools?detail=true")
    caps = {p["name"]: p["capabilities"] for p in out["pools"]}
    assert caps["testhost@fast#fast"]["volume_backend_name"] == "fast"
    assert sum(c["allocated_capacity_gb"] for c in caps.values()) == 3
    for c in caps.values():
        assert c["total_capacity_gb"] > 0 and c["storage_protocol"]
        assert len(c["timestamp"]) == 26
    assert d.get("/scheduler-stats/get_pools?detail=maybe")[0] == 400

    # Filters: from 3.28 by name and capabilities, from 3.35 by volume type.
    st, _, out = d.get("/scheduler-stats/get_pools?name=testhost@fast%23fast", version="3.28")
    assert [p["name"] for p in out["pools"]] == ["testhost@fast#fast"]
    st, _, out = d.get("/scheduler-stats/get_pools?volume_backend_name=bulk", version="3.28")
    assert [p["name"] for p in out["pools"]] == ["testhost@bulk#bulk"]
    st, _, out = d.get("/scheduler-stats/get_pools?volume_backend_name=bulk", version="3.27")
    assert len(out["pools"]) == 2
    st, _, out = d.post("/types", {"volume_type": {"name": "b",
                                                   "extra_specs": {"volume_backend_name": "bulk"}}})
    assert st == 200
    st, _, out = d.get("/scheduler-stats/get_pools?volume_type=b", version="3.35")
    assert [p["name"] for p in out["pools"]] == ["testhost@bulk#bulk"]
    assert d.get("/scheduler-stats/get_pools?volume_type=nope", version="3.35")[0] == 404


def test_limits(scoriad):
    st, _, out = scoriad.get("/limits")
    assert st == 200 and out["limits"]["rate"] == []
    absolute = out["limits"]["absolute"]
    assert absolute == {"maxTotalVolumes": 10, "maxTotalSnapshots": 10,
                        "maxTotalVolumeGigabytes": 1000, "maxTotalBackups": 10,
                        "maxTotalBackupGigabytes": 1000, "totalVolumesUsed": 0,
                        "totalGigabytesUsed": 0, "totalSnapshotsUsed": 0,
                        "totalBackupsUsed": 0, "totalBackupGigabytesUsed": 0}
    scoriad.create_volume(size=2)
    scoriad.create_volume(size=3, wait=False)
    absolute = scoriad.get("/limits")[2]["limits"]["absolute"]
    assert absolute["totalVolumesUsed"] == 2 and absolute["totalGigabytesUsed"] == 5
    # Another project's view; from 3.39 an admin may ask for one with project_id.
    assert scoriad.get("/limits", token="u:other")[2]["limits"]["absolute"]["totalVolumesUsed"] == 0
    scoriad.put("/os-quota-sets/other", {"quota_set": {"volumes": 3}})
    absolute = scoriad.get("/limits?project_id=other", version="3.39")[2]["limits"]["absolute"]
    assert absolute["maxTotalVolumes"] == 3 and absolute["totalVolumesUsed"] == 0
    absolute = scoriad.get("/limits?project_id=other", version="3.38")[2]["limits"]["absolute"]
    assert absolute["maxTotalVolumes"] == 10 and absolute["totalVolumesUsed"] == 2


def test_quota_sets(scoriad):
    st, _, out = scoriad.get("/os-quota-sets/admin")
    assert st == 200
    # Per volume type too, as Cinder: the default type's resources, unlimited.
    assert out == {"quota_set": {"id": "admin", "volumes": 10, "snapshots": 10, "gigabytes": 1000,
                                 "backups": 10, "backup_gigabytes": 1000,
                                 "per_volume_gigabytes": -1, "groups": 10,
                                 "volumes___DEFAULT__": -1, "gigabytes___DEFAULT__": -1,
                                 "snapshots___DEFAULT__": -1}}
    assert scoriad.get("/os-quota-sets/admin/defaults")[2] == out
    scoriad.create_volume(size=2)
    st, _, out = scoriad.get("/os-quota-sets/admin?usage=True")
    assert out["quota_set"]["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert out["quota_set"]["gigabytes"] == {"limit": 1000, "in_use": 2, "reserved": 0}
    assert scoriad.get("/os-quota-sets/admin?usage=False")[2]["quota_set"]["volumes"] == 10

    # cinderclient sends tenant_id inside quota_set; it is ignored.
    st, _, out = scoriad.put("/os-quota-sets/admin?skip_validation=False",
                             {"quota_set": {"tenant_id": "admin", "volumes": 2, "gigabytes": "4",
                                            "groups": 4}})
    assert st == 200, out
    assert "id" not in out["quota_set"]
    assert out["quota_set"]["volumes"] == 2 and out["quota_set"]["gigabytes"] == 4
    assert out["quota_set"]["groups"] == 4
    assert scoriad.get("/os-quota-sets/admin/defaults")[2]["quota_set"]["volumes"] == 10

    # Over the new limits: 413 with Cinder's messages.
    st, _, out = scoriad.post("/volumes", {"volume": {"size": 3}})
    assert st == 413 and "gigabytes quota" in fault(out, 413)
    scoriad.create_volume(size=1)
    st, _, out = scoriad.post("/volumes", {"volume": {"size": 1}})
    assert st == 413 and "VolumeLimitExceeded" in fault(out, 413)
    assert scoriad.put("/os-quota-sets/admin", {"quota_set": {"per_volume_gigabytes": 1}})[0] == 200
    st, _, out = scoriad.put("/os-quota-sets/admin", {"quota_set": {"volumes": 5}})
    assert st == 200
    st, _, out = scoriad.post("/volumes", {"volume": {"size": 2}})
    assert st == 413 and "VolumeSizeExceedsLimit" in fault(out, 413)

    # Bad input and limits below usage: 400, nothing changes.
    for body in ({"quota_set": {"volumes": -2}}, {"quota_set": {"volumes": "abc"}},
                 {"quota_set": {"volumes": 2 ** 31}}, {"quota_set": {"volumes": True}},
                 {"quota_set": {"volumes": 1.5}}, {"quota_set": {"bogus": 1}},
                 {"quota_set": {"volumes_gold": 1}}, {"quotas": {"volumes": 1}},
                 {"quota_set": {"volumes": 1}},     # 2 volumes exist
                 {"quota_set": {"gigabytes": 2}}):  # 3 GiB used
        st, _, out = scoriad.put("/os-quota-sets/admin", body)
        assert st == 400, (body, st, out)
        fault(out, 400)
    assert scoriad.get("/os-quota-sets/admin")[2]["quota_set"]["volumes"] == 5
    # -1 (unlimited) and per_volume_gigabytes are exempt from the usage check.
    st, _, out = scoriad.put("/os-quota-sets/admin", {"quota_set": {"gigabytes": -1,
                                                                    "per_volume_gigabytes": 0}})
    assert st == 200 and out["quota_set"]["gigabytes"] == -1

    st, _, out = scoriad.delete("/os-quota-sets/admin")
    assert st == 200 and out is None
    assert scoriad.get("/os-quota-sets/admin")[2]["quota_set"]["volumes"] == 10
    # Another project's quota does not touch ours.
    assert scoriad.put("/os-quota-sets/p2", {"quota_set": {"volumes": 0}})[0] == 200
    assert scoriad.get("/os-quota-sets/admin")[2]["quota_set"]["volumes"] == 10
    st, _, _ = scoriad.post("/volumes", {"volume": {"size": 1}}, token="u:p2")
    assert st == 413


def test_quota_classes_and_per_type_quotas(scoriad):
    # The default class replaces the quota_* options for every project without its own value.
    st, _, out = scoriad.get("/os-quota-class-sets/default")
    assert st == 200 and out["quota_class_set"]["id"] == "default", out
    assert out["quota_class_set"]["volumes"] == 10
    st, _, out = scoriad.put("/os-quota-class-sets/default",
                             {"quota_class_set": {"volumes": 3, "snapshots": "4"}})
    assert st == 200 and out["quota_class_set"]["volumes"] == 3, out
    assert "id" not in out["quota_class_set"]
    assert scoriad.get("/os-quota-sets/fresh")[2]["quota_set"]["volumes"] == 3
    assert scoriad.get("/os-quota-sets/fresh/defaults")[2]["quota_set"]["snapshots"] == 4
    # A project's own value still wins; another class does not touch projects.
    scoriad.put("/os-quota-sets/own", {"quota_set": {"volumes": 7}})
    assert scoriad.get("/os-quota-sets/own")[2]["quota_set"]["volumes"] == 7
    assert scoriad.put("/os-quota-class-sets/gold", {"quota_class_set": {"volumes": 99}})[0] == 200
    assert scoriad.get("/os-quota-class-sets/gold")[2]["quota_class_set"]["volumes"] == 99
    assert scoriad.get("/os-quota-sets/fresh")[2]["quota_set"]["volumes"] == 3
    for body in ({"quota_class_set": {"bogus": 1}}, {"quota_class_set": {"volumes": -5}},
                 {"quota_set": {"volumes": 1}}):
        st, _, out = scoriad.put("/os-quota-class-sets/default", body)
        assert st == 400, (body, out)
    scoriad.put("/os-quota-class-sets/default", {"quota_class_set": {"volumes": 10,
                                                                     "snapshots": 10}})

    # Per-type limits: volumes_<type>, gigabytes_<type>, snapshots_<type>.
    st, _, out = scoriad.post("/types", {"volume_type": {"name": "gold"}})
    assert st == 200, out
    st, _, out = scoriad.get("/os-quota-sets/admin")
    assert out["quota_set"]["volumes_gold"] == -1
    st, _, out = scoriad.put("/os-quota-sets/admin", {"quota_set": {
        "volumes_gold": 1, "gigabytes_gold": 3, "snapshots_gold": 1}})
    assert st == 200 and out["quota_set"]["volumes_gold"] == 1, out
    gold = scoriad.create_volume(size=2, volume_type="gold")
    st, _, out = scoriad.post("/volumes", {"volume": {"size": 1, "volume_type": "gold"}})
    assert st == 413 and "volumes_gold" in fault(out, 413), out
    scoriad.create_volume(size=1)  # another type: not counted against gold
    st, _, out = scoriad.post("/snapshots", {"snapshot": {"volume_id": gold["id"]}})
    assert st == 413 and "gigabytes_gold quota" in fault(out, 413), out  # 2 + 2 > 3
    assert scoriad.put("/os-quota-sets/admin", {"quota_set": {"gigabytes_gold": 10}})[0] == 200
    st, _, out = scoriad.post("/snapshots", {"snapshot": {"volume_id": gold["id"]}})
    assert st == 202, out
    st, _, out = scoriad.post("/snapshots", {"snapshot": {"volume_id": gold["id"]}})
    assert st == 413 and "SnapshotLimitExceeded" in fault(out, 413), out
    st, _, out = scoriad.get("/os-quota-sets/admin?usage=True")
    q = out["quota_set"]
    assert q["volumes_gold"] == {"limit": 1, "in_use": 1, "reserved": 0}
    assert q["gigabytes_gold"]["in_use"] == 4 and q["snapshots_gold"]["in_use"] == 1
    # Extending past the type's gigabytes is refused too.
    st, _, out = scoriad.post("/volumes/%s/action" % gold["id"], {"os-extend": {"new_size": 9}})
    assert st == 413 and "gigabytes_gold" in fault(out, 413), out


def test_extensions(scoriad):
    status, _, out = scoriad.get("/extensions")
    assert status == 200, out
    names = {e["name"] for e in out["extensions"]}
    assert {"Hosts", "Quotas", "QuotaClasses", "VolumeTransfer", "Backups"} <= names
    for e in out["extensions"]:
        assert set(e) == {"alias", "name", "description", "updated", "links"}, e


def test_messages(make_daemon):
    d = make_daemon(backends={"file1": {}}).start()
    d.post("/types", {"volume_type": {"name": "nowhere",
                                      "extra_specs": {"volume_backend_name": "tape"}}})
    ids = []
    for _ in range(3):
        vol = d.create_volume(volume_type="nowhere", wait=False)
        d.wait_volume(vol["id"], ("error",))
        ids.append(vol["id"])
    assert d.get("/messages")[0] == 404, "messages need 3.3"
    st, _, out = d.get("/messages", version="3.3")
    assert st == 200 and len(out["messages"]) == 3
    m = out["messages"][0]
    assert set(m) >= {"id", "event_id", "user_message", "message_level", "resource_type",
                      "resource_uuid", "created_at", "guaranteed_until", "request_id", "links"}
    assert m["resource_uuid"] == ids[-1], "newest first"
    assert m["expires_at"] == m["guaranteed_until"]  # asked for (X-Scoria-Details)
    d.scoria_details = False
    assert "expires_at" not in d.get("/messages", version="3.3")[2]["messages"][0]
    d.scoria_details = True
    assert [x["resource_uuid"] for x in out["messages"]] == ids[::-1]

    st, _, out = d.get("/messages?resource_uuid=" + ids[0], version="3.3")
    assert [x["resource_uuid"] for x in out["messages"]] == [ids[0]]
    mid = out["messages"][0]["id"]
    st, _, out = d.get("/messages/" + mid, version="3.3")
    assert st == 200 and out["message"]["id"] == mid
    assert out["message"]["links"][0]["href"].endswith("/v3/messages/" + mid)

    # Paging, sorting.
    st, _, out = d.get("/messages?limit=2&sort=created_at:asc", version="3.5")
    assert [x["resource_uuid"] for x in out["messages"]] == ids[:2]
    nxt = out["messages_links"][0]["href"]
    st, _, out = d.get(nxt, version="3.5")
    assert [x["resource_uuid"] for x in out["messages"]] == ids[2:]

    # Scoped to the caller's project unless all_tenants.
    assert d.get("/messages", version="3.3", token="u:other")[2]["messages"] == []
    st, _, out = d.get("/messages?all_tenants=1", version="3.3", token="u:other")
    assert len(out["messages"]) == 3

    st, _, out = d.delete("/messages/" + mid, version="3.3")
    assert st == 204 and out is None
    assert d.get("/messages/" + mid, version="3.3")[0] == 404
    assert d.delete("/messages/" + mid, version="3.3")[0] == 404
    assert len(d.get("/messages", version="3.3")[2]["messages"]) == 2


def run(args, **kw):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("OS_") or k.startswith("CINDER"):
            del env[k]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, **kw)
    assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r.stdout


def test_cinder_and_openstack_clis(scoriad):
    wait_services_up(scoriad)
    cinder = ["cinder", "--os-auth-type", "noauth", "--os-user-id", "admin",
              "--os-project-id", "admin", "--os-endpoint", scoriad.endpoint]
    out = run(cinder + ["type-create", "gold"])
    assert "gold" in out
    run(cinder + ["type-key", "gold", "set", "volume_backend_name=file1"])
    out = run(cinder + ["type-list"])
    assert "gold" in out and "__DEFAULT__" in out
    out = run(cinder + ["extra-specs-list"])
    assert "volume_backend_name" in out and "file1" in out
    out = run(cinder + ["service-list"])
    assert "cinder-volume" in out and "testhost@file1" in out and "up" in out
    out = run(cinder + ["get-pools", "--detail"])
    assert "testhost@file1#file1" in out and "total_capacity_gb" in out
    out = run(cinder + ["availability-zone-list"])
    assert "nova" in out and "available" in out
    out = run(cinder + ["absolute-limits"])
    assert "maxTotalVolumes" in out and "totalGigabytesUsed" in out
    out = run(cinder + ["quota-show", "admin"])
    assert "per_volume_gigabytes" in out and "volumes" in out
    out = run(cinder + ["quota-update", "--volumes", "20", "admin"])
    assert "20" in out
    out = run(cinder + ["quota-usage", "admin"])
    assert "In_use" in out
    out = run(cinder + ["service-disable", "testhost@file1", "cinder-volume"])
    assert "disabled" in out
    out = run(cinder + ["service-enable", "testhost@file1", "cinder-volume"])
    assert "enabled" in out
    out = run(cinder + ["message-list"])
    assert "Resource UUID" in out
    run(cinder + ["type-delete", "gold"])

    osc = ["openstack", "--os-auth-type", "admin_token", "--os-token", "admin:admin",
           "--os-endpoint", scoriad.endpoint]
    out = run(osc + ["volume", "type", "list"])
    assert "__DEFAULT__" in out and "gold" not in out
    out = run(osc + ["volume", "service", "list"])
    assert "cinder-volume" in out and "testhost@file1" in out
    out = run(osc + ["volume", "type", "create", "silver"])
    assert "silver" in out
    out = run(osc + ["volume", "type", "show", "silver"])
    assert "silver" in out
