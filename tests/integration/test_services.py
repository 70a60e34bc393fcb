"""The operator's control of services and hosts against a real scoriad: os-services
freeze/thaw and what a frozen backend refuses, os-hosts list/show, `scoriad --manage`
(db, service, volume update_host), and the real `cinder` CLI's freeze-host, thaw-host,
service-list (this cinderclient has no host-list) and the openstack CLI's volume host set."""
import os
import sqlite3
import subprocess
import time

from test_admin import fault, run, wait_services_up

FROZEN = "Invalid input received: Modification operations are not allowed on frozen storage backends."


def wait_snapshot(d, snap_id, statuses=("available",), timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, _, out = d.get("/snapshots/" + snap_id)
        if st == 404 and "deleted" in statuses:
            return None
        if st == 200 and out["snapshot"]["status"] in statuses:
            return out["snapshot"]
        time.sleep(0.02)
    raise AssertionError("snapshot %s not %s" % (snap_id, statuses))


def create_snapshot(d, vol_id):
    st, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol_id}})
    assert st == 202, out
    return wait_snapshot(d, out["snapshot"]["id"])


def volume_service(d, host="testhost@file1"):
    return [s for s in d.get("/os-services?binary=cinder-volume")[2]["services"]
            if s["host"] == host][0]


def test_freeze_refuses_management_and_scheduling_until_thaw(scoriad):
    d = scoriad
    wait_services_up(d)
    vol = d.create_volume()
    snap = create_snapshot(d, vol["id"])

    st, _, out = d.put("/os-services/freeze", {"host": "testhost@file1"})
    assert st == 200 and out is None, out
    svc = volume_service(d)
    assert svc["frozen"] is True and svc["status"] == "disabled"
    assert svc["disabled_reason"] == "frozen"

    # Cinder's assert_not_frozen: volume delete (plain and forced), snapshot create and delete.
    st, _, out = d.delete("/volumes/" + vol["id"])
    assert st == 400 and fault(out, 400) == FROZEN
    st, _, out = d.post("/volumes/%s/action" % vol["id"], {"os-force_delete": {}})
    assert st == 400 and fault(out, 400) == FROZEN
    st, _, out = d.post("/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert st == 400 and fault(out, 400) == FROZEN
    st, _, out = d.delete("/snapshots/" + snap["id"])
    assert st == 400 and fault(out, 400) == FROZEN
    st, _, out = d.post("/snapshots/%s/action" % snap["id"], {"os-force_delete": {}})
    assert st == 400 and fault(out, 400) == FROZEN
    # Not gated in Cinder either: metadata updates, reads.
    assert d.put("/volumes/" + vol["id"], {"volume": {"name": "still"}})[0] == 200
    # The scheduler places nothing on a frozen backend (it is also disabled, but re-enabling
    # it alone does not unfreeze it).
    assert d.put("/os-services/enable",
                 {"host": "testhost@file1", "binary": "cinder-volume"})[0] == 200
    assert volume_service(d)["frozen"] is True
    new = d.create_volume(wait=False)
    assert d.wait_volume(new["id"], ("error",))["status"] == "error"

    # Freezing twice is refused with Cinder's words.
    st, _, out = d.put("/os-services/freeze", {"host": "testhost@file1"})
    assert st == 400
    assert fault(out, 400) == ("Invalid input received: No service could be changed: frozen in "
                               "['testhost@file1'] must be False to failover.")

    # A bare node names its only backend.
    st, _, out = d.put("/os-services/thaw", {"host": "testhost"})
    assert st == 200, out
    svc = volume_service(d)
    assert svc["frozen"] is False and svc["status"] == "enabled" and svc["disabled_reason"] == ""
    assert d.put("/os-services/thaw", {"host": "testhost@file1"})[0] == 400
    assert d.delete("/snapshots/" + snap["id"])[0] == 202
    wait_snapshot(d, snap["id"], ("deleted",))
    assert d.delete("/volumes/" + vol["id"])[0] == 202
    d.wait_volume(vol["id"], ("deleted",))
    assert d.create_volume()["os-vol-host-attr:host"] == "testhost@file1#file1"


def test_freeze_bad_input(make_daemon):
    d = make_daemon(backends={"a": {}, "b": {}}).start()
    wait_services_up(d)
    cases = [
        ({}, "Invalid input received: Host field is missing.", None),
        ({}, "Invalid input received: One and only one of cluster and host must be set.", "3.26"),
        ({"host": "testhost@a", "cluster": "c"},
         "Invalid input received: One and only one of cluster and host must be set.", "3.26"),
        ({"cluster": "c"}, "Invalid input received: No service found with cluster=c", "3.26"),
        ({"host": "nohost"}, "Invalid input received: No service found with host=nohost", None),
        # Two backends on the node: Cinder refuses to pick one.
        ({"host": "testhost"}, "Services from different clusters found.", None),
        ({"host": 5}, "Invalid input for field/attribute host. Value should be a string.", None),
        ({"host": "testhost@a", "binary": "cinder-volume"},
         "Invalid input for field/attribute binary. Additional properties are not allowed.", None),
    ]
    for action in ("freeze", "thaw"):
        for body, message, version in cases:
            st, _, out = d.put("/os-services/" + action, body, version=version)
            assert st == 400, (action, body, out)
            assert fault(out, 400) == message, (action, body)
    # Before 3.26 a cluster is not read: host is still required.
    st, _, out = d.put("/os-services/freeze", {"cluster": "c"}, version="3.0")
    assert st == 400 and fault(out, 400) == "Invalid input received: Host field is missing."
    st, _, out = d.request("PUT", "/os-services/freeze", raw=b"{nope")
    assert st == 400
    # Only the named backend froze.
    assert d.put("/os-services/freeze", {"host": "testhost@a"})[0] == 200
    frozen = {s["host"]: s["frozen"] for s in d.get("/os-services?binary=cinder-volume")[2]["services"]}
    assert frozen == {"testhost@a": True, "testhost@b": False}
    # Non-volume services carry no frozen field, as in Cinder.
    sched = d.get("/os-services?binary=cinder-scheduler")[2]["services"][0]
    assert "frozen" not in sched


def test_os_hosts_list_and_show(make_daemon):
    d = make_daemon(backends={"a": {"backend_availability_zone": "az1"}, "b": {}}).start()
    wait_services_up(d)
    st, _, out = d.get("/os-hosts")
    assert st == 200
    hosts = {(h["host_name"], h["service"]): h for h in out["hosts"]}
    assert set(hosts) == {("testhost", "cinder-scheduler"), ("testhost@a", "cinder-volume"),
                          ("testhost@b", "cinder-volume")}
    h = hosts[("testhost@a", "cinder-volume")]
    assert set(h) == {"host_name", "service", "zone", "service-status", "service-state",
                      "last-update"}
    assert h["zone"] == "az1" and h["service-status"] == "available"
    assert h["service-state"] == "enabled" and len(h["last-update"]) == 26
    assert [x["host_name"] for x in d.get("/os-hosts?zone=az1")[2]["hosts"]] == ["testhost@a"]
    assert d.get("/os-hosts?zone=nowhere")[2] == {"hosts": []}

    # Usage per project on one backend; counts are strings, as in Cinder.
    v1 = d.create_volume(size=2, availability_zone="az1")
    assert v1["os-vol-host-attr:host"] == "testhost@a#a"
    d.token = "other:p2"
    v2 = d.create_volume(size=3, availability_zone="az1")
    create_snapshot(d, v2["id"])
    d.token = "admin:admin"
    st, _, out = d.get("/os-hosts/testhost@a")
    assert st == 200, out
    rows = [r["resource"] for r in out["host"]]
    assert rows[0] == {"host": "testhost@a", "project": "(total)", "volume_count": "2",
                       "total_volume_gb": "5", "snapshot_count": "1", "total_snapshot_gb": "3"}
    assert sorted(rows[1:], key=lambda r: r["project"]) == [
        {"host": "testhost@a", "project": "admin", "volume_count": "1", "total_volume_gb": "2",
         "snapshot_count": "0", "total_snapshot_gb": "0"},
        {"host": "testhost@a", "project": "p2", "volume_count": "1", "total_volume_gb": "3",
         "snapshot_count": "1", "total_snapshot_gb": "3"}]
    st, _, out = d.get("/os-hosts/testhost@b")
    assert [r["resource"]["project"] for r in out["host"]] == ["(total)"]
    assert out["host"][0]["resource"]["volume_count"] == "0"

    st, _, out = d.get("/os-hosts/nohost")
    assert st == 404
    assert fault(out, 404) == "Service cinder-volume could not be found on host nohost."
    # The scheduler is no volume host.
    assert d.get("/os-hosts/testhost@nothing")[0] == 404
    # Cinder lists and shows enabled services only.
    assert d.put("/os-services/disable", {"host": "testhost@b", "binary": "cinder-volume"})[0] == 200
    assert "testhost@b" not in [h["host_name"] for h in d.get("/os-hosts")[2]["hosts"]]
    assert d.get("/os-hosts/testhost@b")[0] == 404


def test_cinder_cli_services_and_hosts(scoriad):
    wait_services_up(scoriad)
    cinder = ["cinder", "--os-auth-type", "noauth", "--os-user-id", "admin",
              "--os-project-id", "admin", "--os-endpoint", scoriad.endpoint]
    out = run(cinder + ["service-list"])
    assert "testhost@file1" in out and "cinder-volume" in out
    run(cinder + ["freeze-host", "testhost@file1"])
    assert volume_service(scoriad)["frozen"] is True
    out = run(cinder + ["--os-volume-api-version", "3.7", "service-list", "--withreplication"])
    assert "Frozen" in out and "True" in out
    run(cinder + ["thaw-host", "testhost@file1"])
    assert volume_service(scoriad)["frozen"] is False
    # This cinderclient has no host-list; the openstack CLI freezes and thaws with
    # `volume host set --disable/--enable`.
    osc = ["openstack", "--os-auth-type", "admin_token", "--os-token", "admin:admin",
           "--os-endpoint", scoriad.endpoint]
    run(osc + ["volume", "host", "set", "--disable", "testhost@file1"])
    assert volume_service(scoriad)["frozen"] is True
    run(osc + ["volume", "host", "set", "--enable", "testhost@file1"])
    assert volume_service(scoriad)["frozen"] is False


def manage(d, *args):
    """scoriad --manage against the daemon's configuration: (exit code, stdout, stderr)."""
    r = subprocess.run([os.path.join(d.bin_dir, "scoriad"), "--config", d.config_path,
                        "--manage"] + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def wait_manage_down(d, host, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        code, out, _ = manage(d, "service", "list")
        line = [l for l in out.splitlines() if (" %s " % host) in l]
        if code == 0 and line and "XXX" in line[0]:
            return
        time.sleep(0.5)
    raise AssertionError("%s never went down" % host)


def test_manage_against_a_daemon(make_daemon):
    backend = {"file_volume_dir": "$state_path/data", "volume_backend_name": "pool1"}
    d = make_daemon(backends={"old": backend}).start()
    wait_services_up(d)
    vol = d.create_volume()
    assert vol["os-vol-host-attr:host"] == "testhost@old#pool1"
    snap = create_snapshot(d, vol["id"])

    code, out, err = manage(d, "db", "version")
    version = int(out)
    assert code == 0 and version >= 6 and err == ""
    code, out, _ = manage(d, "db", "sync")
    assert code == 0 and int(out) == version
    code, out, _ = manage(d, "service", "list")
    line = [l for l in out.splitlines() if " testhost@old " in l][0]
    assert code == 0 and "cinder-volume" in line and ":-)" in line and "enabled" in line
    code, out, err = manage(d, "service", "remove", "cinder-volume", "testhost@old")
    assert code == 1 and out == ""
    assert err == ("scoriad --manage: service cinder-volume on host testhost@old is up; stop it "
                   "and wait service_down_time (5 s) first\n")
    code, _, err = manage(d, "volume", "update_host", "--currenthost", "testhost@old",
                          "--newhost", "testhost@new")
    assert code == 1 and "is up" in err
    code, _, err = manage(d, "service", "remove", "cinder-volume", "nohost@x")
    assert (code, err) == (1, "scoriad --manage: service cinder-volume on host nohost@x not found\n")
    code, _, err = manage(d, "volume", "frobnicate")
    assert code == 2 and err.startswith("scoriad --manage: ")

    # The backend is renamed in the configuration: stop, move its rows, start under the new name.
    d.stop()
    wait_manage_down(d, "testhost@old")
    code, out, err = manage(d, "volume", "update_host", "--currenthost", "testhost@old",
                            "--newhost", "testhost@new")
    assert code == 0, err
    assert out == "Moved 1 volume(s) and 0 task(s) from testhost@old to testhost@new.\n"
    code, out, _ = manage(d, "service", "remove", "cinder-volume", "testhost@old")
    assert (code, out) == (0, "Service cinder-volume on host testhost@old removed.\n")
    # Same configuration file (and database), the backend section renamed.
    with open(d.config_path) as f:
        conf = f.read()
    assert "enabled_backends = old\n" in conf and "[old]\n" in conf
    with open(d.config_path, "w") as f:
        f.write(conf.replace("enabled_backends = old\n", "enabled_backends = new\n")
                .replace("[old]\n", "[new]\n").replace("volume_backend_name = old\n", ""))
    d.start()
    wait_services_up(d)  # counts one volume service per d.backends entry: one
    hosts = [s["host"] for s in d.get("/os-services?binary=cinder-volume")[2]["services"]]
    assert hosts == ["testhost@new"]
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["os-vol-host-attr:host"] == \
        "testhost@new#pool1"
    # The new service serves the moved volume and its snapshot.
    assert d.delete("/snapshots/" + snap["id"])[0] == 202
    wait_snapshot(d, snap["id"], ("deleted",))
    assert d.delete("/volumes/" + vol["id"])[0] == 202
    d.wait_volume(vol["id"], ("deleted",))
