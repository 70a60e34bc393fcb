"""End-to-end tests of the `scoria` CLI against a real scoriad.

Each test runs the real binary (build/bin/scoria, from the `scoriad` fixture's bin_dir) in a
subprocess with SCORIA_ENDPOINT pointing at the daemon the fixture started, and checks exit
codes, stdout (tables or --json) and stderr the way a script or an operator would. Names are
unique per test so tests do not depend on each other or on order.

Cinder semantics these rely on: volumes go creating -> available; extend goes
available -> extending -> available at the new size; a volume type whose
volume_backend_name matches no backend makes create end in `error` with a user message;
scoped extra specs (`scoria:...`) are ignored by the scheduler; noauth tokens are
user:project and every caller is admin, with lists scoped to the token's project unless
--all-tenants.
"""

import json
import os
import socket
import subprocess
import time
import uuid

import pytest

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_WAIT_FAILED = 0, 1, 2, 3, 4


def _env(endpoint, extra=None):
    env = dict(os.environ)
    for var in ("SCORIA_ENDPOINT", "SCORIA_TOKEN", "SCORIA_API_VERSION"):
        env.pop(var, None)
    env["SCORIA_ENDPOINT"] = endpoint
    env.update(extra or {})
    return env


def scoria(daemon, *args, env=None, timeout=120):
    """Runs scoria against `daemon`; returns the CompletedProcess (text mode)."""
    binary = os.path.join(daemon.bin_dir, "scoria")
    return subprocess.run([binary, *args], capture_output=True, text=True,
                          env=_env(daemon.endpoint, env), timeout=timeout)


def ok(daemon, *args, **kw):
    p = scoria(daemon, *args, **kw)
    assert p.returncode == EXIT_OK, f"scoria {' '.join(args)} -> {p.returncode}\n{p.stderr}"
    return p


def js(daemon, *args, **kw):
    """Runs with --json and parses stdout."""
    return json.loads(ok(daemon, "--json", *args, **kw).stdout)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_volume(daemon, name, size=1, *extra):
    vol = js(daemon, "create", str(size), "--name", name, "--wait", *extra)
    assert vol["status"] == "available", vol
    return vol


def wait_status(daemon, ref, status, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if js(daemon, "show", ref)["status"] == status:
            return
        time.sleep(0.2)
    pytest.fail(f"volume {ref} not {status} after {timeout} s")


def wait_gone(daemon, volume_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = scoria(daemon, "show", volume_id)
        if p.returncode == EXIT_ERROR and "No volume with a name or ID" in p.stderr:
            return
        time.sleep(0.2)
    pytest.fail(f"volume {volume_id} still exists after {timeout} s")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- volumes ---------------------------------------------------------------------------------

def test_create_wait_then_list_and_show_by_name(scoriad):
    name = unique("vol")
    vol = create_volume(scoriad, name, 1, "--description", "first", "--metadata", "a=1", "b=2")
    assert vol["name"] == name
    assert vol["size"] == 1
    assert vol["description"] == "first"
    assert vol["metadata"] == {"a": "1", "b": "2"}

    listed = js(scoriad, "list")
    assert vol["id"] in [v["id"] for v in listed]

    table = ok(scoriad, "list").stdout
    header = table.splitlines()[1]
    for column in ("ID", "Status", "Name", "Size", "Volume Type", "Bootable", "Attached to"):
        assert f" {column} " in header, header
    assert name in table

    shown = js(scoriad, "show", name)
    assert shown["id"] == vol["id"]
    assert shown["status"] == "available"
    by_id = js(scoriad, "show", vol["id"])
    assert by_id["name"] == name

    text = ok(scoriad, "show", name).stdout
    assert "| Property" in text and "| Value" in text
    assert f"| id " in text and vol["id"] in text


def test_create_without_wait_returns_creating_volume(scoriad):
    name = unique("nowait")
    vol = js(scoriad, "create", "1", "--name", name)
    assert vol["status"] in ("creating", "available")
    assert vol["name"] == name
    # Cinder refuses to delete a volume still `creating` on a backend: let it settle first.
    wait_status(scoriad, vol["id"], "available")
    ok(scoriad, "delete", vol["id"], "--wait")


def test_list_filters(scoriad):
    name = unique("filt")
    vol = create_volume(scoriad, name)
    assert [v["id"] for v in js(scoriad, "list", "--name", name)] == [vol["id"]]
    assert vol["id"] in [v["id"] for v in js(scoriad, "list", "--status", "available")]
    assert js(scoriad, "list", "--name", unique("none")) == []
    assert len(js(scoriad, "list", "--limit", "1")) == 1


def test_extend_wait(scoriad):
    name = unique("ext")
    create_volume(scoriad, name)
    p = ok(scoriad, "extend", name, "2", "--wait")
    assert p.stdout == ""
    assert js(scoriad, "show", name)["size"] == 2
    assert js(scoriad, "extend", name, "3", "--wait")["size"] == 3


def test_extend_to_smaller_size_is_an_api_error(scoriad):
    name = unique("shrink")
    create_volume(scoriad, name, 2)
    p = scoria(scoriad, "extend", name, "1")
    assert p.returncode == EXIT_ERROR
    assert p.stderr.startswith("scoria: error: ")
    assert p.stderr.rstrip().endswith("(HTTP 400)"), p.stderr
    assert js(scoriad, "show", name)["size"] == 2


def test_update_name_and_description(scoriad):
    old, new = unique("old"), unique("new")
    vol = create_volume(scoriad, old)
    updated = js(scoriad, "update", old, "--name", new, "--description", "described")
    assert updated["id"] == vol["id"]
    assert updated["name"] == new
    shown = js(scoriad, "show", new)
    assert shown["description"] == "described"
    p = scoria(scoriad, "show", old)
    assert p.returncode == EXIT_ERROR
    assert p.stderr == f"scoria: error: No volume with a name or ID of '{old}' exists.\n"


def test_metadata_set_unset_show(scoriad):
    name = unique("meta")
    create_volume(scoriad, name)
    ok(scoriad, "metadata", name, "set", "a=1", "b=two")
    assert js(scoriad, "metadata-show", name) == {"a": "1", "b": "two"}
    ok(scoriad, "metadata", name, "unset", "a")
    assert js(scoriad, "metadata-show", name) == {"b": "two"}
    assert js(scoriad, "show", name)["metadata"] == {"b": "two"}
    assert "Metadata-property" in ok(scoriad, "metadata-show", name).stdout


def test_set_bootable(scoriad):
    name = unique("boot")
    create_volume(scoriad, name)
    ok(scoriad, "set-bootable", name, "true")
    assert js(scoriad, "show", name)["bootable"] == "true"
    ok(scoriad, "set-bootable", name, "false")
    assert js(scoriad, "show", name)["bootable"] == "false"


def test_reset_state(scoriad):
    name = unique("reset")
    create_volume(scoriad, name)
    ok(scoriad, "reset-state", name, "--state", "error")
    assert js(scoriad, "show", name)["status"] == "error"
    ok(scoriad, "reset-state", name)  # defaults to available
    assert js(scoriad, "show", name)["status"] == "available"


def test_delete_wait(scoriad):
    name = unique("del")
    vol = create_volume(scoriad, name)
    p = ok(scoriad, "delete", name, "--wait")
    assert f"Request to delete volume {name} has been accepted." in p.stdout
    p = scoria(scoriad, "show", vol["id"])
    assert p.returncode == EXIT_ERROR
    assert p.stderr == f"scoria: error: No volume with a name or ID of '{vol['id']}' exists.\n"
    assert vol["id"] not in [v["id"] for v in js(scoriad, "list")]


def test_delete_several(scoriad):
    a, b = unique("da"), unique("db")
    create_volume(scoriad, a)
    create_volume(scoriad, b)
    ok(scoriad, "delete", a, b, "--wait")
    assert js(scoriad, "list", "--name", a) == []
    assert js(scoriad, "list", "--name", b) == []


def test_force_delete(scoriad):
    name = unique("force")
    vol = create_volume(scoriad, name)
    ok(scoriad, "reset-state", name, "--state", "error_deleting")
    ok(scoriad, "force-delete", name)
    wait_gone(scoriad, vol["id"])


def test_duplicate_names_need_an_id(scoriad):
    name = unique("dup")
    create_volume(scoriad, name)
    create_volume(scoriad, name)
    p = scoria(scoriad, "show", name)
    assert p.returncode == EXIT_ERROR
    assert p.stderr == (f"scoria: error: Multiple volume matches found for '{name}', "
                        "use an ID to be more specific.\n")


def test_lists_are_scoped_to_the_tokens_project(scoriad):
    name = unique("scoped")
    vol = create_volume(scoriad, name)  # as admin:admin
    other = {"SCORIA_TOKEN": "someone:otherproject"}
    assert vol["id"] not in [v["id"] for v in js(scoriad, "list", env=other)]
    assert vol["id"] in [v["id"] for v in js(scoriad, "list", "--all-tenants", env=other)]
    # Name lookups use all_tenants=1 like cinderclient, so an admin finds it anyway.
    assert js(scoriad, "show", name, env=other)["id"] == vol["id"]


def test_summary_and_limits(scoriad):
    create_volume(scoriad, unique("sum"), 1)
    summary = js(scoriad, "summary")
    assert summary["total_count"] >= 1
    assert summary["total_size"] >= 1
    limits = js(scoriad, "absolute-limits")
    assert "maxTotalVolumes" in limits["absolute"]
    assert limits["absolute"]["totalVolumesUsed"] >= 1
    assert "maxTotalVolumes" in ok(scoriad, "absolute-limits").stdout


def test_volume_survives_restart(scoriad):
    name = unique("durable")
    vol = create_volume(scoriad, name)
    scoriad.restart()
    shown = js(scoriad, "show", name)
    assert shown["id"] == vol["id"]
    assert shown["status"] == "available"


# --- volume types ------------------------------------------------------------------------------

def test_type_create_key_list_show_and_use(scoriad):
    tname = unique("type")
    created = js(scoriad, "type-create", tname, "--description", "test type")
    assert created["name"] == tname
    ok(scoriad, "type-key", tname, "set", "scoria:test=1", "scoria:other=x")
    ok(scoriad, "type-key", tname, "unset", "scoria:other")

    types = js(scoriad, "type-list")
    mine = [t for t in types if t["name"] == tname]
    assert len(mine) == 1 and mine[0]["id"] == created["id"]
    assert tname in ok(scoriad, "type-list").stdout

    shown = js(scoriad, "type-show", tname)
    assert shown["id"] == created["id"]
    assert shown["extra_specs"] == {"scoria:test": "1"}
    specs = js(scoriad, "extra-specs-list")
    assert [t["extra_specs"] for t in specs if t["name"] == tname] == [{"scoria:test": "1"}]

    vname = unique("typed")
    vol = create_volume(scoriad, vname, 1, "--volume-type", tname)
    assert vol["volume_type"] == tname
    assert tname in ok(scoriad, "list", "--name", vname).stdout

    # A type in use cannot be deleted (400); once the volume is gone it can.
    p = scoria(scoriad, "type-delete", tname)
    assert p.returncode == EXIT_ERROR and "(HTTP 400)" in p.stderr, p.stderr
    ok(scoriad, "delete", vname, "--wait")
    ok(scoriad, "type-delete", tname)
    p = scoria(scoriad, "type-show", tname)
    assert p.returncode == EXIT_ERROR
    assert p.stderr == f"scoria: error: No volume type with a name or ID of '{tname}' exists.\n"


def test_type_update_and_duplicate(scoriad):
    tname, renamed = unique("tu"), unique("tu2")
    ok(scoriad, "type-create", tname)
    p = scoria(scoriad, "type-create", tname)
    assert p.returncode == EXIT_ERROR
    assert "(HTTP 409)" in p.stderr, p.stderr
    updated = js(scoriad, "type-update", tname, "--name", renamed, "--description", "d2")
    assert updated["name"] == renamed
    assert js(scoriad, "type-show", renamed)["description"] == "d2"
    ok(scoriad, "type-delete", renamed)


def test_type_default(scoriad):
    default = js(scoriad, "type-default")
    assert default["name"]
    assert default["name"] in [t["name"] for t in js(scoriad, "type-list")]


def test_create_that_cannot_be_scheduled_exits_4(scoriad):
    tname = unique("nowhere")
    ok(scoriad, "type-create", tname)
    ok(scoriad, "type-key", tname, "set", f"volume_backend_name={unique('nobackend')}")
    vname = unique("unsched")
    p = scoria(scoriad, "create", "1", "--name", vname, "--volume-type", tname, "--wait")
    assert p.returncode == EXIT_WAIT_FAILED, p.stderr
    assert "is in status 'error'" in p.stderr, p.stderr
    assert js(scoriad, "show", vname)["status"] == "error"
    ids = [m.get("resource_uuid") for m in js(scoriad, "message-list")]
    assert js(scoriad, "show", vname)["id"] in ids
    ok(scoriad, "delete", vname, "--wait")
    ok(scoriad, "type-delete", tname)


# --- services and the rest ---------------------------------------------------------------------

def test_admin_listings_are_json(scoriad):
    services = js(scoriad, "service-list")
    assert any(s["binary"] == "cinder-volume" for s in services), services
    zones = js(scoriad, "availability-zone-list")
    assert any(z["zoneName"] == "nova" for z in zones), zones
    pools = js(scoriad, "get-pools", "--detail")
    assert pools and all("name" in p for p in pools)
    assert "capabilities" in pools[0]
    assert "Binary" in ok(scoriad, "service-list").stdout


def test_service_disable_enable(scoriad):
    volume_services = [s for s in js(scoriad, "service-list", "--binary", "cinder-volume")]
    assert volume_services
    host = volume_services[0]["host"]
    disabled = js(scoriad, "service-disable", host, "cinder-volume", "--reason", "maintenance")
    assert disabled["status"] == "disabled"
    listed = js(scoriad, "service-list", "--host", host, "--binary", "cinder-volume")
    assert listed[0]["status"] == "disabled"
    assert listed[0]["disabled_reason"] == "maintenance"
    enabled = js(scoriad, "service-enable", host, "cinder-volume")
    assert enabled["status"] == "enabled"


# --- errors and exit codes ---------------------------------------------------------------------

def test_unknown_volume_exits_1_with_cinder_message(scoriad):
    name = unique("ghost")
    p = scoria(scoriad, "show", name)
    assert p.returncode == EXIT_ERROR
    assert p.stdout == ""
    assert p.stderr == f"scoria: error: No volume with a name or ID of '{name}' exists.\n"
    ghost_id = str(uuid.uuid4())
    p = scoria(scoriad, "delete", ghost_id)
    assert p.returncode == EXIT_ERROR
    assert p.stderr == f"scoria: error: No volume with a name or ID of '{ghost_id}' exists.\n"


def test_unreachable_endpoint_exits_3(scoriad):
    endpoint = f"http://127.0.0.1:{closed_port()}/v3"
    p = scoria(scoriad, "list", env={"SCORIA_ENDPOINT": endpoint})
    assert p.returncode == EXIT_UNREACHABLE
    assert p.stderr.startswith(f"scoria: error: cannot reach {endpoint}: "), p.stderr
    p = scoria(scoriad, "--endpoint", endpoint, "show", "x")
    assert p.returncode == EXIT_UNREACHABLE


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["list", "--bogus"],
    ["create"],
    ["create", "notanumber"],
    ["create", "0"],
    ["set-bootable", "v", "maybe"],
    ["metadata", "v", "toggle", "a=1"],
    ["update", "v"],
    ["--api-version", "2.0", "list"],
])
def test_usage_errors_exit_2(scoriad, args):
    p = scoria(scoriad, *args)
    assert p.returncode == EXIT_USAGE, (args, p.stderr)
    assert p.stderr


def test_help_exits_0(scoriad):
    p = scoria(scoriad, "--help")
    assert p.returncode == EXIT_OK
    assert "create" in p.stdout and "Exit codes" in p.stdout


def test_unsupported_microversion_is_an_api_error(scoriad):
    p = scoria(scoriad, "--api-version", "3.999", "list")
    assert p.returncode == EXIT_ERROR
    assert "(HTTP 406)" in p.stderr, p.stderr


def test_json_output_is_parsable_for_every_listing(scoriad):
    create_volume(scoriad, unique("json"))
    for args in (["list"], ["type-list"], ["extra-specs-list"], ["service-list"],
                 ["availability-zone-list"], ["get-pools"], ["message-list"]):
        out = js(scoriad, *args)
        assert isinstance(out, list), args
    for args in (["summary"], ["absolute-limits"], ["type-default"]):
        assert isinstance(js(scoriad, *args), dict), args
