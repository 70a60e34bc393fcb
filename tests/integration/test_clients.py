"""Clients nobody here wrote: Debian's `cinder` (python3-cinderclient, microversion 3.70) and
`openstack` (python3-openstackclient 6.0, microversion 3.0) drive volumes on a real scoriad."""
import json
import os
import shutil
import subprocess
import time

import pytest

CINDER = shutil.which("cinder", path="/usr/bin")
OPENSTACK = shutil.which("openstack", path="/usr/bin")


def run(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CINDER_"))}
    env.update(env_extra or {})
    p = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (" ".join(args), p.stdout, p.stderr)
    return p.stdout


def cinder(d, *args):
    return run(["/usr/bin/python3", CINDER, "--os-auth-type", "noauth", "--os-user-id", "admin",
                "--os-project-id", "admin", "--os-endpoint", d.endpoint] + list(args))


def openstack(d, *args):
    return run(["/usr/bin/python3", OPENSTACK, "--os-auth-type", "admin_token", "--os-token",
                "admin:admin", "--os-endpoint", d.endpoint] + list(args))


def wait_status(d, name, want):
    for _ in range(500):
        status, _, out = d.get("/volumes/detail?name=" + name)
        vols = out["volumes"]
        if want == "deleted" and not vols:
            return None
        if vols and vols[0]["status"] == want:
            return vols[0]
        time.sleep(0.02)
    raise AssertionError("%s never reached %s" % (name, want))


@pytest.mark.skipif(not CINDER, reason="python3-cinderclient is not installed")
def test_cinder_cli_volume_lifecycle(scoriad):
    out = cinder(scoriad, "create", "--name", "cv1", "1")
    assert "cv1" in out
    wait_status(scoriad, "cv1", "available")
    out = cinder(scoriad, "list")
    assert "cv1" in out and "available" in out
    out = cinder(scoriad, "show", "cv1")  # by name: 404 on id, then a name search
    assert "cv1" in out
    cinder(scoriad, "extend", "cv1", "2")
    vol = wait_status(scoriad, "cv1", "available")
    for _ in range(200):
        if scoriad.get("/volumes/" + vol["id"])[2]["volume"]["size"] == 2:
            break
        time.sleep(0.02)
    assert scoriad.get("/volumes/" + vol["id"])[2]["volume"]["size"] == 2
    cinder(scoriad, "metadata", "cv1", "set", "k=v")
    assert scoriad.get("/volumes/" + vol["id"])[2]["volume"]["metadata"] == {"k": "v"}
    cinder(scoriad, "reset-state", "--state", "error", "cv1")
    assert scoriad.get("/volumes/" + vol["id"])[2]["volume"]["status"] == "error"
    cinder(scoriad, "delete", "cv1")
    wait_status(scoriad, "cv1", "deleted")
    assert os.listdir(scoriad.volume_dir()) == []


@pytest.mark.skipif(not OPENSTACK, reason="python3-openstackclient is not installed")
def test_openstack_cli_volume_lifecycle(scoriad):
    out = json.loads(openstack(scoriad, "volume", "create", "--size", "1", "ov1", "-f", "json"))
    assert out["name"] == "ov1"
    wait_status(scoriad, "ov1", "available")
    rows = json.loads(openstack(scoriad, "volume", "list", "-f", "json"))
    assert [r["Name"] for r in rows] == ["ov1"]
    openstack(scoriad, "volume", "set", "--size", "2", "ov1")
    vol = wait_status(scoriad, "ov1", "available")
    openstack(scoriad, "volume", "set", "--property", "a=b", "ov1")
    shown = json.loads(openstack(scoriad, "volume", "show", "ov1", "-f", "json"))
    assert shown["size"] == 2
    openstack(scoriad, "volume", "delete", "ov1")
    wait_status(scoriad, "ov1", "deleted")
    assert vol["id"] not in str(os.listdir(scoriad.volume_dir()))
