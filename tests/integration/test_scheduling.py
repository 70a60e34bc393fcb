"""Scheduling against a real scoriad: rescheduling after a driver failure, running out of
attempts, capacity limits, and routing by volume type."""
import os
import subprocess

import pytest


def chattr(path, flag):
    return subprocess.run(["chattr", flag, path], capture_output=True).returncode == 0


@pytest.fixture
def two_backends(make_daemon):
    d = make_daemon(backends={"a": {}, "b": {}}).start()
    yield d
    chattr(d.volume_dir("a"), "-i")


def messages_for(d, vol_id):
    status, _, out = d.get("/messages?resource_uuid=" + vol_id, version="3.3")
    assert status == 200, out
    return [m["user_message"] for m in out["messages"]]


def test_driver_failure_reschedules_to_another_backend(two_backends):
    d = two_backends
    if not chattr(d.volume_dir("a"), "+i"):
        pytest.skip("chattr +i is not supported here: cannot make backend a fail")
    vols = [d.create_volume(wait=False) for _ in range(4)]
    for v in vols:
        v = d.wait_volume(v["id"], ("available", "error"))
        assert v["status"] == "available", d.read_log()[-2000:]
        assert v["os-vol-host-attr:host"] == "testhost@b#b"
    assert os.listdir(d.volume_dir("a")) == []
    # The failure on a was real: the log says so.
    assert "create of" in d.read_log()


def test_out_of_attempts_is_error_with_user_message(two_backends):
    d = two_backends
    status, _, t = d.post("/types", {"volume_type": {"name": "only-a",
                                                      "extra_specs": {"volume_backend_name": "a"}}})
    assert status == 200, t
    if not chattr(d.volume_dir("a"), "+i"):
        pytest.skip("chattr +i is not supported here: cannot make backend a fail")
    vol = d.create_volume(wait=False, volume_type="only-a")
    vol = d.wait_volume(vol["id"], ("available", "error"))
    assert vol["status"] == "error"
    msgs = messages_for(d, vol["id"])
    assert any("No valid backend was found" in m for m in msgs), msgs
    assert os.listdir(d.volume_dir("a")) == []


def test_no_backend_matches_type(scoriad):
    status, _, t = scoriad.post("/types", {"volume_type": {"name": "nowhere",
                                                           "extra_specs": {"volume_backend_name": "zzz"}}})
    assert status == 200
    vol = scoriad.create_volume(wait=False, volume_type="nowhere")
    vol = scoriad.wait_volume(vol["id"], ("available", "error"))
    assert vol["status"] == "error"
    msgs = messages_for(scoriad, vol["id"])
    assert any("No valid backend was found" in m and "CapabilitiesFilter" in m for m in msgs), msgs
    # An error volume can be deleted and leaves nothing behind.
    assert scoriad.delete("/volumes/" + vol["id"])[0] == 202
    scoriad.wait_volume(vol["id"], ("deleted",))


def test_capacity_filter_and_over_subscription(make_daemon):
    # reserved 100% leaves less than 1 GiB (Cinder's floor(total x reserved)), and with no
    # over-subscription a 1 GiB volume does not fit: scheduling fails, nothing is created.
    d = make_daemon(backends={"full": {"reserved_percentage": "100",
                                       "max_over_subscription_ratio": "1.0"}}).start()
    vol = d.create_volume(wait=False)
    vol = d.wait_volume(vol["id"], ("available", "error"))
    assert vol["status"] == "error"
    assert any("CapacityFilter" in m for m in messages_for(d, vol["id"]))
    assert os.listdir(d.volume_dir("full")) == []


def test_extend_beyond_capacity_keeps_volume(make_daemon):
    d = make_daemon(backends={"small": {"max_over_subscription_ratio": "1.0"}},
                    extra_default={"quota_gigabytes": "-1", "per_volume_size_limit": "-1"}).start()
    vol = d.create_volume(size=1)
    status, _, _ = d.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 1000000}})
    assert status == 202
    vol = d.wait_volume(vol["id"], ("available", "error_extending"))
    assert vol["status"] == "available" and vol["size"] == 1
    assert any("extend volume" in m for m in messages_for(d, vol["id"]))
    assert os.stat(os.path.join(d.volume_dir("small"), "volume-" + vol["id"])).st_size == 1024 ** 3
