"""Volume types over HTTP against a real scoriad: CRUD, extra specs, project access, routing
of volumes to backends by type, and the error paths Cinder clients rely on."""
import os

MISSING = "00000000-0000-0000-0000-000000000000"


def fault(out, code):
    assert isinstance(out, dict) and len(out) == 1, out
    body = list(out.values())[0]
    assert body["code"] == code and body["message"], out
    return body["message"]


def create_type(d, name, status=200, **fields):
    body = {"volume_type": dict(name=name, **fields)}
    st, _, out = d.post("/types", body)
    assert st == status, (st, out)
    return out.get("volume_type") if st == 200 else out


def test_create_list_show_update_delete(scoriad):
    t = create_type(scoriad, "gold", description="fast disks", extra_specs={"a": "1"})
    assert t["name"] == "gold" and t["description"] == "fast disks"
    assert t["extra_specs"] == {"a": "1"}
    assert t["is_public"] is True and t["os-volume-type-access:is_public"] is True
    assert "qos_specs_id" not in t  # only in show and list, as Cinder's create answer
    assert "qos_specs_id" in scoriad.get("/types/" + t["id"])[2]["volume_type"]

    st, _, out = scoriad.get("/types")
    assert st == 200
    assert sorted(x["name"] for x in out["volume_types"]) == ["__DEFAULT__", "gold"]
    st, _, out = scoriad.get("/types/" + t["id"])
    assert st == 200 and out["volume_type"] == dict(t, qos_specs_id=None)
    st, _, out = scoriad.get("/types/default")
    assert st == 200 and out["volume_type"]["name"] == "__DEFAULT__"

    st, _, out = scoriad.put("/types/" + t["id"], {"volume_type": {"name": "platinum",
                                                                    "description": None}})
    assert st == 200, out
    assert out["volume_type"]["name"] == "platinum"
    assert out["volume_type"]["description"] == "fast disks"  # null means "unchanged"
    st, _, out = scoriad.put("/types/" + t["id"], {"volume_type": {"is_public": False}})
    assert st == 200 and out["volume_type"]["is_public"] is False
    # Cinder's update answer: the plain type (tempest's update_volume_types schema).
    assert set(out["volume_type"]) == {"id", "name", "description", "is_public", "extra_specs"}

    st, _, out = scoriad.delete("/types/" + t["id"])
    assert st == 202, out
    assert scoriad.get("/types/" + t["id"])[0] == 404


def test_type_errors(scoriad):
    create_type(scoriad, "dup")
    out = create_type(scoriad, "dup", status=409)
    assert "already exists" in fault(out, 409)
    for body in ({"volume_type": {}},                                  # name required
                 {"volume_type": {"name": ""}},
                 {"volume_type": {"name": "x" * 256}},
                 {"volume_type": {"name": 5}},
                 {"volume_type": {"name": "a", "bogus": 1}},            # additionalProperties
                 {"volume_type": {"name": "a", "extra_specs": {"bad key": "v"}}},
                 {"volume_type": {"name": "a", "extra_specs": {"k": 1}}},
                 {"volume_type": {"name": "a", "extra_specs": {"k": "v" * 256}}},
                 {"volume_type": {"name": "a", "os-volume-type-access:is_public": "maybe"}},
                 {"volume_type": {"name": "a", "extra_specs": {"multiattach": "<is> True",
                                                               "cacheable": "<is> True"}}},
                 {"type": {"name": "a"}}):
        st, _, out = scoriad.post("/types", body)
        assert st == 400, (body, st, out)
        fault(out, 400)
    assert scoriad.get("/types/" + MISSING)[0] == 404
    assert scoriad.get("/types/dup")[0] == 404, "Cinder resolves types by id only"
    assert scoriad.put("/types/" + MISSING, {"volume_type": {"name": "z"}})[0] == 404
    assert scoriad.delete("/types/" + MISSING)[0] == 404
    assert scoriad.get("/types?is_public=maybe")[0] == 400

    dup_id = [t for t in scoriad.get("/types")[2]["volume_types"] if t["name"] == "dup"][0]["id"]
    other = create_type(scoriad, "other")
    st, _, out = scoriad.put("/types/" + other["id"], {"volume_type": {"name": "dup"}})
    assert st == 409, out
    st, _, out = scoriad.put("/types/" + dup_id, {"volume_type": {}})
    assert st == 400 and "Specify volume type name" in fault(out, 400)
    st, _, out = scoriad.put("/types/" + dup_id, {"volume_type": {"name": "  "}})
    assert st == 400, out

    # The configured default type can be neither renamed nor deleted.
    default = scoriad.get("/types/default")[2]["volume_type"]
    st, _, out = scoriad.put("/types/" + default["id"], {"volume_type": {"name": "renamed"}})
    assert st == 400, out
    st, _, out = scoriad.put("/types/" + default["id"], {"volume_type": {"description": "d"}})
    assert st == 200 and out["volume_type"]["description"] == "d"
    st, _, out = scoriad.delete("/types/" + default["id"])
    assert st == 400 and "default" in fault(out, 400)


def test_type_in_use_cannot_be_deleted_nor_respecced(scoriad):
    # A scoped key: the CapabilitiesFilter ignores it, so the volume still lands.
    t = create_type(scoriad, "used", extra_specs={"note:k": "v"})
    vol = scoriad.create_volume(volume_type="used")
    assert vol["volume_type"] == "used"
    st, _, out = scoriad.delete("/types/" + t["id"])
    assert st == 400 and fault(out, 400) == "Target volume type is still in use."
    base = "/types/%s/extra_specs" % t["id"]
    for st, out in (scoriad.post(base, {"extra_specs": {"x": "y"}})[::2],
                    scoriad.put(base + "/note:k", {"note:k": "w"})[::2],
                    scoriad.delete(base + "/note:k")[::2]):
        assert st == 400 and fault(out, 400) == "Volume Type is currently in use.", out
    assert scoriad.get(base)[2] == {"extra_specs": {"note:k": "v"}}
    # Once the volume is gone, both work.
    assert scoriad.delete("/volumes/" + vol["id"])[0] == 202
    scoriad.wait_volume(vol["id"], ("deleted",))
    assert scoriad.post(base, {"extra_specs": {"x": "y"}})[0] == 200
    assert scoriad.delete("/types/" + t["id"])[0] == 202


def test_extra_specs_routes(scoriad):
    t = create_type(scoriad, "specs")
    base = "/types/%s/extra_specs" % t["id"]
    assert scoriad.get(base)[2] == {"extra_specs": {}}
    st, _, out = scoriad.post(base, {"extra_specs": {"a": "1", "b:c": "2"}})
    assert st == 200 and out == {"extra_specs": {"a": "1", "b:c": "2"}}
    st, _, out = scoriad.post(base, {"extra_specs": {"a": "3"}})
    assert st == 200
    assert scoriad.get(base)[2] == {"extra_specs": {"a": "3", "b:c": "2"}}
    st, _, out = scoriad.get(base + "/a")
    assert st == 200 and out == {"a": "3"}
    st, _, out = scoriad.get(base + "/nope")
    assert st == 404, out
    st, _, out = scoriad.put(base + "/a", {"a": "4"})
    assert st == 200 and out == {"a": "4"}
    assert scoriad.put(base + "/a", {"b": "4"})[0] == 400          # URI mismatch
    assert scoriad.put(base + "/a", {"a": "4", "b": "5"})[0] == 400  # too many items
    assert scoriad.put(base + "/a", {"a": 4})[0] == 400
    assert scoriad.post(base, {"extra_specs": {"sp ace": "x"}})[0] == 400
    assert scoriad.post(base, {"extra_specs": "x"})[0] == 400
    assert scoriad.post(base, {"specs": {}})[0] == 400
    st, _, _ = scoriad.delete(base + "/a")
    assert st == 202
    assert scoriad.delete(base + "/a")[0] == 404
    assert scoriad.get(base)[2] == {"extra_specs": {"b:c": "2"}}
    assert scoriad.get("/types/%s/extra_specs" % MISSING)[0] == 404
    assert scoriad.post("/types/%s/extra_specs" % MISSING, {"extra_specs": {"a": "1"}})[0] == 404


def test_private_types_and_project_access(scoriad):
    pub = create_type(scoriad, "pub")
    priv = create_type(scoriad, "priv", **{"os-volume-type-access:is_public": False})
    assert priv["is_public"] is False

    def names(query="", token="default"):
        st, _, out = scoriad.get("/types" + query, token=token)
        assert st == 200, out
        return sorted(t["name"] for t in out["volume_types"])

    assert names() == ["__DEFAULT__", "pub"]
    assert names("?is_public=None") == ["__DEFAULT__", "priv", "pub"]
    assert names("?is_public=false") == ["priv"]
    assert names("?is_public=true") == ["__DEFAULT__", "pub"]

    # Access lists exist only for private types.
    st, _, out = scoriad.get("/types/%s/os-volume-type-access" % pub["id"])
    assert st == 404, out
    st, _, out = scoriad.post("/types/%s/action" % pub["id"], {"addProjectAccess": {"project": "p1"}})
    assert st == 400 and "not applicable to public volume type" in fault(out, 400)

    action = "/types/%s/action" % priv["id"]
    assert scoriad.post(action, {"addProjectAccess": {"project": "p1"}})[0] == 202
    assert scoriad.post(action, {"addProjectAccess": {"project": "p1"}})[0] == 409
    assert scoriad.post(action, {"addProjectAccess": {}})[0] == 400
    assert scoriad.post(action, {"bogusAction": {}})[0] == 400
    st, _, out = scoriad.get("/types/%s/os-volume-type-access" % priv["id"])
    assert st == 200
    assert out == {"volume_type_access": [{"volume_type_id": priv["id"], "project_id": "p1"}]}
    # is_public=true also lists the private types shared with the caller's project.
    assert names("?is_public=true", token="u:p1") == ["__DEFAULT__", "priv", "pub"]
    assert scoriad.post(action, {"removeProjectAccess": {"project": "p1"}})[0] == 202
    assert scoriad.post(action, {"removeProjectAccess": {"project": "p1"}})[0] == 404
    assert scoriad.get("/types/%s/os-volume-type-access" % priv["id"])[2] == {"volume_type_access": []}


def test_list_filters_and_pagination(scoriad):
    create_type(scoriad, "t-a", extra_specs={"volume_backend_name": "file1"})
    create_type(scoriad, "t-b", extra_specs={"volume_backend_name": "other"})
    create_type(scoriad, "t-c")
    st, _, out = scoriad.get("/types?extra_specs={'volume_backend_name':'file1'}", version="3.52")
    assert st == 200 and [t["name"] for t in out["volume_types"]] == ["t-a"]
    # Before 3.52 the filter is ignored.
    st, _, out = scoriad.get("/types?extra_specs={'volume_backend_name':'file1'}", version="3.51")
    assert len(out["volume_types"]) == 4
    st, _, out = scoriad.get("/types?name=t-b&is_public=None")
    assert [t["name"] for t in out["volume_types"]] == ["t-b"]

    seen = []
    url = "/types?limit=2&sort=name:asc"
    while url:
        st, _, out = scoriad.get(url)
        assert st == 200, out
        seen += [t["name"] for t in out["volume_types"]]
        links = out.get("volume_type_links")
        url = links[0]["href"] if links else None
    assert seen == ["__DEFAULT__", "t-a", "t-b", "t-c"]
    assert scoriad.get("/types?marker=" + MISSING)[0] == 404
    assert scoriad.get("/types?sort=bogus")[0] == 400


def test_types_route_volumes_to_backends(make_daemon):
    d = make_daemon(backends={"fast": {}, "bulk": {}}).start()
    create_type(d, "fast", extra_specs={"volume_backend_name": "fast"})
    create_type(d, "bulk", extra_specs={"volume_backend_name": "bulk"})
    create_type(d, "nowhere", extra_specs={"volume_backend_name": "tape"})
    for name in ("fast", "bulk", "fast", "bulk"):
        vol = d.create_volume(size=1, volume_type=name)
        assert vol["os-vol-host-attr:host"] == "testhost@%s#%s" % (name, name)
        assert vol["volume_type"] == name
        assert os.path.exists(os.path.join(d.volume_dir(name), "volume-" + vol["id"]))
        other = "bulk" if name == "fast" else "fast"
        assert not os.path.exists(os.path.join(d.volume_dir(other), "volume-" + vol["id"]))
    vol = d.create_volume(size=1, volume_type="nowhere", wait=False)
    vol = d.wait_volume(vol["id"], ("error",))
    assert vol["os-vol-host-attr:host"] is None
    st, _, out = d.get("/messages?resource_uuid=" + vol["id"], version="3.3")
    assert st == 200 and len(out["messages"]) == 1
    assert "No valid backend was found" in out["messages"][0]["user_message"]
