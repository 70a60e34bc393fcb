"""Scoria on several hosts: a controller, two storage nodes, PostgreSQL and a client, each in a
network namespace of its own (tests/support/cluster.py), all real processes.

One topology for the module; each scenario starts from every process running and leaves it so.
Needs root (network namespaces), PostgreSQL, libiscsi-bin and qemu-utils.
"""
import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import BIN_DIR, free_port
from iscsi_util import image_opts, url

import cluster as cluster_mod

INITIATOR = "iqn.2024-01.org.example:client"
FINAL = ("available", "error")


def _skip_reason():
    reason = cluster_mod.unavailable_reason()
    if reason:
        return reason
    for tool in ("iscsi-inq", "qemu-io"):
        if not shutil.which(tool):
            return "%s is needed (libiscsi-bin, qemu-utils)" % tool
    try:
        cluster_mod.pg_server._bindir()
    except RuntimeError as e:
        return str(e)
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    c = cluster_mod.Cluster(BIN_DIR)
    t0 = time.time()
    try:
        c.build().start_database().add_nodes().start_all()
        print("cluster up in %.1f s" % (time.time() - t0))
        yield c
    finally:
        c.teardown()


@pytest.fixture
def cl(cluster):
    """The module's cluster with every process running (a scenario that failed half-way may
    have left one stopped)."""
    if not cluster.pg.pid:
        cluster.pg.restart()
    for name in ("ctl", "node1", "node2"):
        if not cluster.nodes[name].running():
            cluster.nodes[name].start()
    cluster.wait_for(lambda: all(s["state"] == "up" for s in cluster.services()),
                     cluster.service_down_time * 3, "every service up")
    return cluster


def backend_host(vol):
    return vol["os-vol-host-attr:host"].split("@")[0]


def volume_files(c):
    """{volume id: [node names holding its file]} over both storage nodes."""
    found = {}
    for name in ("node1", "node2"):
        vdir = c.nodes[name].volume_dir()
        for f in os.listdir(vdir) if os.path.isdir(vdir) else []:
            if f.startswith("volume-"):
                found.setdefault(f[len("volume-"):], []).append(name)
    return found


def all_volumes(c):
    volumes, marker = [], None
    while True:
        status, out = c.get("/volumes/detail?limit=100" + ("&marker=" + marker if marker else ""))
        assert status == 200, out
        volumes += out["volumes"]
        if not out.get("volumes_links"):
            return volumes
        marker = out["volumes"][-1]["id"]


def attach(c, vol_id):
    connector = {"initiator": INITIATOR, "ip": cluster_mod.ADDRESSES["client"], "host": "client",
                 "platform": "x86_64", "os_type": "linux", "multipath": False}
    status, out = c.post("/attachments", {"attachment": {
        "volume_uuid": vol_id, "connector": connector, "instance_uuid": None}}, version="3.54")
    assert status == 200, (status, out)
    att = out["attachment"]
    status, out = c.post("/attachments/%s/action" % att["id"], {"os-complete": None},
                         version="3.54")
    assert status == 204, (status, out)
    return att["id"], att["connection_info"]["data"]


def detach(c, att_id):
    status, out = c.delete("/attachments/" + att_id, version="3.54")
    assert status == 200, (status, out)


def delete_all_volumes(c):
    for v in all_volumes(c):
        status, out = c.delete("/volumes/" + v["id"])
        assert status == 202, (status, out)
    for v in all_volumes(c):
        c.wait_volume(v["id"], ("deleted",))


def test_volumes_on_both_nodes_and_attach_from_client(cl):
    vols = [cl.create_volume(size=1, wait=False) for _ in range(6)]
    vols = [cl.wait_volume(v["id"], ("available",)) for v in vols]
    placed = {backend_host(v) for v in vols}
    assert placed == {"node1", "node2"}, [v["os-vol-host-attr:host"] for v in vols]
    files = volume_files(cl)
    for v in vols:
        assert files[v["id"]] == [backend_host(v)], (v["id"], files.get(v["id"]))

    for node in ("node1", "node2"):
        vol = next(v for v in vols if backend_host(v) == node)
        att_id, data = attach(cl, vol["id"])
        address = cluster_mod.ADDRESSES[node]
        assert data["target_portal"] == "%s:%d" % (address, cluster_mod.TARGET_PORT), data
        # libiscsi from the client namespace: the node's own target answers.
        out = cl.exec_in("client", ["iscsi-inq", "-i", INITIATOR, url(data)]).stdout
        assert "SCORIA" in out
        out = cl.exec_in("client", ["iscsi-readcapacity16", "-i", INITIATOR, url(data)]).stdout
        assert "1073741824" in out, out
        # QEMU: write a pattern, then read it back in another process (a new login).
        pattern = 0x31 if node == "node1" else 0x32
        opts = image_opts(data, initiator=INITIATOR)
        cl.exec_in("client", ["qemu-io", "--image-opts", opts,
                              "-c", "write -P %d 1m 2m" % pattern, "-c", "flush"])
        cl.exec_in("client", ["qemu-io", "-r", "--image-opts", opts,
                              "-c", "read -P %d 1m 2m" % pattern, "-c", "read -P 0 8m 1m"])
        # The bytes are in that node's file, nowhere else.
        with open(os.path.join(cl.nodes[node].volume_dir(), "volume-" + vol["id"]), "rb") as f:
            f.seek(1024 * 1024)
            assert f.read(2 * 1024 * 1024) == bytes([pattern]) * (2 * 1024 * 1024)
        detach(cl, att_id)
        # After detach the target refuses the initiator.
        p = cl.exec_in("client", ["iscsi-inq", "-i", INITIATOR, url(data)], check=False)
        assert p.returncode != 0
    delete_all_volumes(cl)
    assert volume_files(cl) == {}


def test_storage_node_killed(cl):
    on_node1 = []
    while len(on_node1) < 2:  # the scheduler spreads: a few creates put two on node1
        v = cl.create_volume()
        if backend_host(v) == "node1":
            on_node1.append(v)
    on_node1, attached = on_node1
    att_id, _ = attach(cl, attached["id"])
    cl.nodes["node1"].kill()
    killed_at = time.time()

    def node1_down():
        states = {s["host"]: s["state"] for s in cl.services() if s["host"].startswith("node1")}
        return states and all(s == "down" for s in states.values())
    # It goes down once its last heartbeat is older than service_down_time (polled, with room
    # for a loaded machine).
    cl.wait_for(node1_down, cl.service_down_time * 4, "node1 shown down")
    print("node1 shown down %.1f s after kill -9" % (time.time() - killed_at))
    assert all(s["state"] == "up" for s in cl.services() if not s["host"].startswith("node1"))

    new = [cl.create_volume(wait=False) for _ in range(4)]
    new = [cl.wait_volume(v["id"], ("available", "error")) for v in new]
    assert [backend_host(v) for v in new] == ["node2"] * 4, new

    # An attach needs node1's target: refused at once (503), nothing left behind.
    connector = {"initiator": INITIATOR, "ip": cluster_mod.ADDRESSES["client"], "host": "client"}
    status, out = cl.post("/attachments", {"attachment": {
        "volume_uuid": on_node1["id"], "connector": connector}}, version="3.54")
    assert status == 503, (status, out)
    assert "node1@file1" in out["serviceUnavailable"]["message"], out
    status, out = cl.get("/attachments?volume_id=" + on_node1["id"], version="3.54")
    assert status == 200 and out["attachments"] == [], (status, out)
    assert cl.wait_volume(on_node1["id"], ("available",))["attachments"] == []

    # A detach needs no target on a dead node: answered at once (200, not an error after the
    # wait for the unexport), the row stays `detaching` until node1 is back and removes it.
    status, out = cl.delete("/attachments/" + att_id, version="3.54")
    assert status == 200, (status, out)
    assert [a["status"] for a in out["attachments"]] == ["detaching"], out

    status, out = cl.delete("/volumes/" + on_node1["id"])
    assert status == 202, (status, out)
    # The delete is addressed to node1, which is dead: the volume stays `deleting` and its
    # file stays. Polled over a few report intervals.
    deadline = time.time() + 3
    while time.time() < deadline:
        assert cl.wait_volume(on_node1["id"], ("deleting",))["status"] == "deleting"
        time.sleep(0.2)
    assert os.path.exists(os.path.join(cl.nodes["node1"].volume_dir(),
                                       "volume-" + on_node1["id"]))
    restarted_at = time.time()
    cl.nodes["node1"].start(wait=False)
    cl.wait_volume(on_node1["id"], ("deleted",))
    print("the waiting delete done %.1f s after node1's restart" % (time.time() - restarted_at))
    assert not os.path.exists(os.path.join(cl.nodes["node1"].volume_dir(),
                                           "volume-" + on_node1["id"]))
    cl.wait_for(lambda: cl.services_up("node1"), cl.service_down_time * 3, "node1 up again")
    cl.wait_for(lambda: cl.get("/attachments?volume_id=" + attached["id"],
                               version="3.54")[1]["attachments"] == [],
                cl.service_down_time * 3, "the detach finished by node1")
    assert cl.wait_volume(attached["id"], ("available",))["attachments"] == []
    delete_all_volumes(cl)


def _burst(c, stop, created, lock):
    while not stop.is_set():
        try:
            status, out = c.post("/volumes", {"volume": {"size": 1}})
        except OSError:
            return  # the controller is gone
        if status == 202:
            with lock:
                created.append(out["volume"]["id"])


def test_controller_killed_during_creates(cl):
    interrupted = 0
    created, lock = [], threading.Lock()
    for round_no in range(2):
        stop = threading.Event()
        threads = [threading.Thread(target=_burst, args=(cl, stop, created, lock))
                   for _ in range(6)]
        for t in threads:
            t.start()
        # Kill once the burst is under way (some creates answered), not after a fixed time.
        goal = len(created) + 10 + 10 * round_no
        cl.wait_for(lambda: len(created) >= goal, 30, "creates under way")
        cl.nodes["ctl"].kill()
        stop.set()
        for t in threads:
            t.join()
        interrupted += int(cl.pg.psql("SELECT COUNT(*) FROM tasks", db="scoria"))
        cl.nodes["ctl"].start()
        print("round %d: %d creates answered, %s task rows at the kill"
              % (round_no, len(created), interrupted))
        for vid in created:
            cl.wait_volume(vid, FINAL, timeout=60)
    assert interrupted > 0, "the kills never interrupted any work: the test proves nothing"

    rows = {v["id"]: v for v in all_volumes(cl)}
    assert set(created) <= set(rows)
    for v in rows.values():  # also rows whose 202 never reached the client
        v = cl.wait_volume(v["id"], FINAL, timeout=60)
        rows[v["id"]] = v
    files = volume_files(cl)
    assert set(files) - set(rows) == set(), "files without volume rows"
    for vid, v in rows.items():
        if v["status"] == "available":
            # Created exactly once, on the node the row names.
            assert files.get(vid) == [backend_host(v)], (vid, v["os-vol-host-attr:host"],
                                                         files.get(vid))
    assert int(cl.pg.psql("SELECT COUNT(*) FROM tasks WHERE target <> 'failed'",
                          db="scoria")) == 0
    delete_all_volumes(cl)


def _placed_or_failed(c, vol_id):
    status, out = c.get("/volumes/" + vol_id)
    assert status == 200, (status, out)
    v = out["volume"]
    return v if v["os-vol-host-attr:host"] or v["status"] != "creating" else None


def test_database_goes_away_and_comes_back(cl):
    vol = cl.create_volume()
    log_mark = {n: len(cl.nodes[n].read_log()) for n in cl.nodes}
    cl.pg.stop()
    status, out = cl.get("/volumes/" + vol["id"])
    assert status == 503, (status, out)
    assert set(out) == {"serviceUnavailable"}, out
    assert out["serviceUnavailable"]["code"] == 503
    assert out["serviceUnavailable"]["message"], out
    status, out = cl.post("/volumes", {"volume": {"size": 1}})
    assert status == 503, (status, out)
    assert out["serviceUnavailable"]["code"] == 503
    # Every process keeps running through the outage.
    assert all(cl.nodes[n].running() for n in ("ctl", "node1", "node2"))
    # Longer than service_down_time: when the database returns, every heartbeat in it is
    # stale. Elapsed time is the condition here, so this one waits by the clock.
    time.sleep(cl.service_down_time + 1)

    # The storage nodes are frozen while the database returns: alive, but their first
    # heartbeats come only after the scheduler has placed a create.
    for n in ("node1", "node2"):
        cl.nodes[n].pause()
    try:
        cl.pg.restart()
        # The services recover by themselves: no restart of any scoriad.
        cl.wait_for(lambda: cl.get("/volumes/" + vol["id"])[0] == 200, 30,
                    "the api answering again")
        assert {s["host"]: s["state"] for s in cl.services()}["node1@file1"] == "down"
        # The heartbeats the outage prevented do not make the nodes dead: the scheduler places
        # the create (it used to fail it: "No valid backend was found").
        first = cl.create_volume(wait=False)
        placed = cl.wait_for(lambda: _placed_or_failed(cl, first["id"]), 30,
                             "the scheduler's decision")
    finally:
        for n in ("node1", "node2"):
            cl.nodes[n].resume()
    assert placed["status"] != "error", placed
    assert cl.wait_volume(first["id"], FINAL)["status"] == "available"
    back_at = time.time()
    cl.wait_for(lambda: all(s["state"] == "up" for s in cl.services()),
                cl.service_down_time * 4, "every service up again")
    print("every service up %.1f s after the nodes resumed" % (time.time() - back_at))
    # The outage is logged once per task worker and its recovery, not once per worker thread
    # per poll (before: dozens of lines per node for this outage).
    # (A claim already waiting on the network when the database returns may fail after
    # another thread's succeeded, so the bound is the worker threads: 1 scheduler thread on
    # ctl; 4 per backend and 3 backup threads on a node.)
    # Each worker logs its recovery at its next successful claim, which an idle worker may
    # make a moment after the services show up: wait for the lines, not for the clock.
    for n, threads in (("ctl", 1), ("node1", 7), ("node2", 7)):
        def log_since():
            return cl.nodes[n].read_log()[log_mark[n]:]
        cl.wait_for(lambda: log_since().count("tasks: claims work again") ==
                    log_since().count("tasks: claim failed"), 30,
                    "a recovery line for each claim failure on %s" % n)
        assert log_since().count("tasks: claim failed") <= threads, (n, log_since()[-3000:])
    after = cl.create_volume()
    assert after["status"] == "available"
    assert all(cl.nodes[n].running() for n in ("ctl", "node1", "node2"))
    delete_all_volumes(cl)


def test_database_partitioned_away(cl):
    """The database host stops answering without closing anything (a partition): requests
    on connections already open must fail, not wait for the kernel's TCP timeouts."""
    vol = cl.create_volume()
    cl.partition("db")
    cut_at = time.time()
    try:
        # The api's pooled connections are open: its first request must notice the silence
        # (tcp_user_timeout) and answer 503, well within the client's patience.
        status, out = cl.http("GET", cl.api + "/volumes/" + vol["id"], timeout=90)
        assert status == 503, (status, out)
        assert out["serviceUnavailable"]["code"] == 503, out
        print("partitioned: first 503 after %.1f s" % (time.time() - cut_at))
        # Cut off for longer than service_down_time: every heartbeat is stale when it heals.
        time.sleep(max(0.0, cl.service_down_time + 1 - (time.time() - cut_at)))
    finally:
        cl.heal("db")
    healed_at = time.time()
    cl.wait_for(lambda: cl.get("/volumes/" + vol["id"])[0] == 200, 60, "the api answering again")
    print("healed: api answers after %.1f s" % (time.time() - healed_at))
    # Every process noticed and recovered: a create goes through the scheduler and a node.
    assert cl.create_volume()["status"] == "available"
    cl.wait_for(lambda: all(s["state"] == "up" for s in cl.services()),
                cl.service_down_time * 4, "every service up again")
    print("healed: every service up after %.1f s" % (time.time() - healed_at))
    assert all(cl.nodes[n].running() for n in ("ctl", "node1", "node2"))
    delete_all_volumes(cl)


@pytest.mark.parametrize("log_to_file", [False, True])
def test_unreachable_database_at_start(tmp_path, log_to_file):
    """Runs in the root namespace: a closed port on loopback is unreachable enough."""
    port = free_port()  # nothing listens there
    log_file = tmp_path / "scoriad.log"
    conf = tmp_path / "scoria.conf"
    conf.write_text("\n".join([
        "[DEFAULT]", "state_path = %s" % tmp_path, "host = lonely",
        "enabled_services = api,scheduler", "osapi_volume_listen = 127.0.0.1",
        "osapi_volume_listen_port = %d" % free_port(),
        "log_file = %s" % (log_file if log_to_file else ""), "",
        "[database]", "connection = postgresql://postgres@127.0.0.1:%d/scoria" % port, ""]))
    p = subprocess.run([os.path.join(BIN_DIR, "scoriad"), "--config", str(conf)],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    lines = [line for line in (p.stdout + p.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "cannot start" in lines[0] and "database unavailable" in lines[0], lines
    assert "127.0.0.1:%d" % port in lines[0] and "Connection refused" in lines[0], lines
    if log_to_file:
        assert "cannot start" in log_file.read_text()
