"""SIGKILL in the middle of bursts of creates, extends and deletes, then restart: every volume
reaches a final state, and files and rows agree (no file without a row, no row without a file)."""
import os
import random
import threading
import time

FINAL = ("available", "error", "deleted")


def _burst(d, stop, created, lock):
    rnd = random.Random(threading.get_ident())
    while not stop.is_set():
        try:
            op = rnd.random()
            with lock:
                known = list(created)
            if op < 0.5 or not known:
                status, _, out = d.post("/volumes", {"volume": {"size": rnd.randint(1, 3)}})
                if status == 202:
                    with lock:
                        created.append(out["volume"]["id"])
            elif op < 0.75:
                vid = rnd.choice(known)
                d.post("/volumes/%s/action" % vid, {"os-extend": {"new_size": rnd.randint(4, 6)}})
            else:
                d.delete("/volumes/" + rnd.choice(known))
        except OSError:
            return  # the daemon is gone


def _all_volumes(d):
    """Every volume row, following the pages (the daemon runs with a small osapi_max_limit so
    the bursts always span several pages)."""
    volumes, marker = [], None
    while True:
        status, _, out = d.get("/volumes/detail" + ("?marker=" + marker if marker else ""))
        assert status == 200, out
        volumes += out["volumes"]
        if not out.get("volumes_links"):
            return volumes
        marker = out["volumes"][-1]["id"]


def _check_consistent(d, created):
    ids_seen = {}
    for vid in created:
        vol = d.wait_volume(vid, FINAL, timeout=60)
        if vol is not None:
            ids_seen[vid] = vol
    rows = {v["id"]: v for v in _all_volumes(d)}
    for v in rows.values():
        assert v["status"] in ("available", "error"), v
    files = {f[len("volume-"):] for f in os.listdir(d.volume_dir()) if f.startswith("volume-")}
    on_backend = {i for i, v in rows.items() if v["os-vol-host-attr:host"]}
    available = {i for i, v in rows.items() if v["status"] == "available"}
    assert files - set(rows) == set(), "files without rows"
    assert available - files == set(), "available rows without files"
    for vid in available:
        size = os.stat(os.path.join(d.volume_dir(), "volume-" + vid)).st_size
        assert size == rows[vid]["size"] * 1024 ** 3, (vid, size, rows[vid]["size"])
    return len(rows), len(files), len(on_backend)


def test_sigkill_during_bursts(make_daemon):
    d = make_daemon(extra_default={"quota_volumes": "-1", "quota_gigabytes": "-1",
                                   "osapi_max_limit": "25"}).start()
    created, lock = [], threading.Lock()
    interrupted = 0
    for round_no in range(3):
        stop = threading.Event()
        threads = [threading.Thread(target=_burst, args=(d, stop, created, lock)) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.4 + 0.3 * round_no)
        d.kill()
        stop.set()
        for t in threads:
            t.join()
        # Work the crash interrupted: queued or leased tasks and volumes in transit.
        interrupted += d.db_scalar("SELECT COUNT(*) FROM tasks")
        d.start()
        rows, files, placed = _check_consistent(d, created)
        assert rows > 0
    assert interrupted > 0, "the kills never interrupted any work: the test proves nothing"
    # After everything settled nothing is left in a transitional state.
    assert all(v["status"] in ("available", "error") for v in _all_volumes(d))


def test_restart_resumes_pending_tasks(make_daemon):
    """Tasks queued while no volume service ran are done after it comes back."""
    d = make_daemon().start()
    vol = d.create_volume()
    d.stop()
    # Start only the API and scheduler: the delete stays queued for the backend.
    cfg = open(d.config_path).read()
    open(d.config_path, "w").write(cfg.replace("enabled_services = api,scheduler,volume",
                                               "enabled_services = api,scheduler"))
    d.start()
    assert d.delete("/volumes/" + vol["id"])[0] == 202
    time.sleep(0.5)
    assert d.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "deleting"
    assert os.path.exists(os.path.join(d.volume_dir(), "volume-" + vol["id"]))
    d.stop()
    open(d.config_path, "w").write(cfg)
    d.start()
    d.wait_volume(vol["id"], ("deleted",))
    assert not os.path.exists(os.path.join(d.volume_dir(), "volume-" + vol["id"]))
