"""Volumes over HTTP against a real scoriad: lifecycle, persistence, bad input."""
import os
from concurrent.futures import ThreadPoolExecutor


def test_create_list_show_delete(scoriad):
    vol = scoriad.create_volume(size=2, name="db1")
    assert vol["size"] == 2 and vol["name"] == "db1"
    assert vol["os-vol-host-attr:host"] == "testhost@file1#file1"
    path = os.path.join(scoriad.volume_dir(), "volume-" + vol["id"])
    st = os.stat(path)
    assert st.st_size == 2 * 1024 ** 3
    assert st.st_blocks == 0, "volume files are sparse"

    status, _, out = scoriad.get("/volumes")
    assert status == 200
    assert [v["id"] for v in out["volumes"]] == [vol["id"]]
    assert set(out["volumes"][0]) == {"id", "name", "links"}

    status, _, _ = scoriad.delete("/volumes/" + vol["id"])
    assert status == 202
    scoriad.wait_volume(vol["id"], ("deleted",))
    assert not os.path.exists(path)


def test_restart_keeps_everything(scoriad):
    vol = scoriad.create_volume(size=1, name="keep", metadata={"a": "b"})
    scoriad.restart()
    status, _, out = scoriad.get("/volumes/" + vol["id"])
    assert status == 200
    assert out["volume"]["status"] == "available"
    assert out["volume"]["metadata"] == {"a": "b"}


def test_extend(scoriad):
    vol = scoriad.create_volume(size=1)
    status, _, out = scoriad.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 3}})
    assert status == 202, out
    vol = scoriad.wait_volume(vol["id"], ("available",))
    assert vol["size"] == 3
    assert os.stat(os.path.join(scoriad.volume_dir(), "volume-" + vol["id"])).st_size == 3 * 1024 ** 3
    # Shrinking or equal: 400, nothing changes.
    for size in (3, 2):
        status, _, out = scoriad.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": size}})
        assert status == 400, out
        assert "badRequest" in out
    assert scoriad.get("/volumes/" + vol["id"])[2]["volume"]["size"] == 3


def test_bad_input_is_400_and_changes_nothing(scoriad):
    cases = [
        ("POST", "/volumes", '{"volume": {"size": 1', 400),           # malformed JSON
        ("POST", "/volumes", '[1, 2]', 400),                          # not an object
        ("POST", "/volumes", '{"volume": {"size": "ten"}}', 400),     # wrong type
        ("POST", "/volumes", '{"volume": {"size": true}}', 400),
        ("POST", "/volumes", '{"volume": {"size": -1}}', 400),        # negative
        ("POST", "/volumes", '{"volume": {"size": 0}}', 400),         # zero
        ("POST", "/volumes", '{"volume": {"size": 99999999999999999999}}', 400),  # absurd
        ("POST", "/volumes", '{"volume": {"size": 1.5}}', 400),
        ("POST", "/volumes", '{"volume": {}}', 400),                  # missing size
        ("POST", "/volumes", '{"volume": "x"}', 400),
        ("POST", "/volumes", '{"volume": {"size": 1, "volume_type": "nope"}}', 404),
        ("POST", "/volumes", '{"volume": {"size": 1, "availability_zone": "mars"}}', 400),
        ("POST", "/volumes", '{"volume": {"size": 1, "metadata": {"k": 1}}}', 400),
        ("POST", "/volumes", '{"volume": {"size": 1, "name": "%s"}}' % ("x" * 300), 400),
        ("POST", "/volumes", '{"volume": {"size": 1, "multiattach": true}}', 400),
    ]
    for method, path, raw, want in cases:
        status, _, out = scoriad.request(method, path, raw=raw)
        assert status == want, (raw, status, out)
        assert isinstance(out, dict) and len(out) == 1, out
        fault = list(out.values())[0]
        assert fault["code"] == want and fault["message"], out
    # Unknown keys are refused from 3.53.
    status, _, _ = scoriad.post("/volumes", {"volume": {"size": 1, "bogus": 1}}, version="3.53")
    assert status == 400
    assert scoriad.get("/volumes")[2]["volumes"] == []
    assert os.listdir(scoriad.volume_dir()) == []


def test_absurd_size_over_quota_is_413(scoriad):
    status, _, out = scoriad.post("/volumes", {"volume": {"size": 5000}})
    assert status == 413, out
    assert "gigabytes quota" in out["overLimit"]["message"]
    assert scoriad.get("/volumes")[2]["volumes"] == []


def test_racing_creates_never_pass_the_last_unit_of_quota(scoriad):
    """50 creates at once against a quota of 10 volumes: exactly 10 are accepted (the check
    and the insert are one transaction under the writers' lock; issue 12)."""
    status, _, out = scoriad.put("/os-quota-sets/racers", {"quota_set": {"volumes": 10}})
    assert status == 200, out

    def create(i):
        return scoriad.post("/volumes", {"volume": {"size": 1, "name": "r%d" % i}},
                            token="racer%d:racers" % i)[0]

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(create, range(50)))
    assert sorted(set(codes)) == [202, 413], codes
    assert codes.count(202) == 10, codes
    status, _, out = scoriad.get("/volumes", token="admin:racers")
    assert len(out["volumes"]) == 10, out
    status, _, out = scoriad.get("/os-quota-sets/racers?usage=True", token="admin:racers")
    assert out["quota_set"]["volumes"]["in_use"] == 10, out


def test_unknown_ids_and_illegal_transitions(scoriad):
    missing = "00000000-0000-0000-0000-000000000000"
    assert scoriad.get("/volumes/" + missing)[0] == 404
    assert scoriad.get("/volumes/not-a-uuid")[0] == 404
    assert scoriad.delete("/volumes/" + missing)[0] == 404
    assert scoriad.post("/volumes/%s/action" % missing, {"os-extend": {"new_size": 2}})[0] == 404
    vol = scoriad.create_volume()
    # reset to in-use without attachments: refused; to deleting: refused.
    for st in ("deleting", "bogus"):
        status, _, _ = scoriad.post("/volumes/%s/action" % vol["id"], {"os-reset_status": {"status": st}})
        assert status == 400
    status, _, _ = scoriad.post("/volumes/%s/action" % vol["id"], {"os-reset_status": {"status": "error"}})
    assert status == 202
    # extend needs available
    status, _, out = scoriad.post("/volumes/%s/action" % vol["id"], {"os-extend": {"new_size": 5}})
    assert status == 400, out
    assert scoriad.post("/volumes/%s/action" % vol["id"], {"os-nope": {}})[0] == 400
    # an error volume can be deleted
    assert scoriad.delete("/volumes/" + vol["id"])[0] == 202
    scoriad.wait_volume(vol["id"], ("deleted",))


def test_microversions(scoriad):
    status, headers, _ = scoriad.get("/volumes", version="3.71")
    assert status == 200 and headers["OpenStack-API-Version"] == "volume 3.71"
    assert scoriad.get("/volumes", version="3.72")[0] == 406
    assert scoriad.get("/volumes", version="2.0")[0] == 406
    assert scoriad.get("/volumes", version="x.y")[0] == 400
    status, headers, _ = scoriad.get("/volumes", version="latest")
    assert headers["OpenStack-API-Version"] == "volume 3.71"
    assert scoriad.get("/volumes/summary", version="3.11")[0] == 404
    status, _, out = scoriad.get("/volumes/summary", version="3.12")
    assert status == 200 and out["volume-summary"]["total_count"] == 0


def test_versions_and_foreign_paths(scoriad):
    status, _, out = scoriad.get(scoriad.url + "/", token=None)
    assert status == 300 and out["versions"][0]["version"] == "3.71"
    assert scoriad.get(scoriad.url + "/v3", token=None)[0] == 200
    assert scoriad.get(scoriad.url + "/v3/", token=None)[0] == 200
    assert scoriad.get("/servers/detail")[0] == 404
    assert scoriad.get("/myproject/servers/detail", token="admin:myproject")[0] == 404


def test_project_scoping_and_all_tenants(scoriad):
    a = scoriad.create_volume(name="a")
    status, _, out = scoriad.get("/volumes", token="bob:other")
    assert out["volumes"] == []
    # project in the URL, non-hex
    status, _, out = scoriad.get("/admin/volumes/detail")
    assert status == 200 and [v["id"] for v in out["volumes"]] == [a["id"]]
    assert scoriad.get("/other/volumes", token="admin:admin")[0] == 400
    status, _, out = scoriad.get("/volumes?all_tenants=1", token="bob:other")
    assert [v["id"] for v in out["volumes"]] == [a["id"]]


def test_pagination_and_count(scoriad):
    ids = [scoriad.create_volume(name="v%d" % i, wait=False)["id"] for i in range(7)]
    seen = []
    url = "/volumes?limit=3&sort=name:asc"
    while url:
        status, _, out = scoriad.get(url, version="3.45")
        seen += [v["name"] for v in out["volumes"]]
        links = out.get("volumes_links")
        url = links[0]["href"] if links else None
    assert seen == ["v%d" % i for i in range(7)]
    status, _, out = scoriad.get("/volumes?with_count=true&limit=2", version="3.45")
    assert out["count"] == 7 and len(out["volumes"]) == 2
    assert scoriad.get("/volumes?limit=-1")[0] == 400
    assert scoriad.get("/volumes?sort=bogus:asc")[0] == 400
    assert scoriad.get("/volumes?marker=00000000-0000-0000-0000-000000000000")[0] == 404
    for i in ids:
        scoriad.wait_volume(i, ("available",))


def test_metadata_routes(scoriad):
    vol = scoriad.create_volume(metadata={"a": "1"})
    vid = vol["id"]
    assert scoriad.post("/volumes/%s/metadata" % vid, {"metadata": {"b": "2"}})[2]["metadata"] == {"a": "1", "b": "2"}
    assert scoriad.put("/volumes/%s/metadata" % vid, {"metadata": {"c": "3"}})[2]["metadata"] == {"c": "3"}
    assert scoriad.get("/volumes/%s/metadata/c" % vid)[2] == {"meta": {"c": "3"}}
    assert scoriad.put("/volumes/%s/metadata/c" % vid, {"meta": {"d": "4"}})[0] == 400
    assert scoriad.delete("/volumes/%s/metadata/zz" % vid)[0] == 404
    assert scoriad.delete("/volumes/%s/metadata/c" % vid)[0] == 200
    assert scoriad.get("/volumes/%s/metadata" % vid)[2] == {"metadata": {}}


def test_oversized_body_is_413(scoriad):
    big = '{"volume": {"size": 1, "name": "%s"}}' % ("x" * (2 << 20))
    status, _, out = scoriad.request("POST", "/volumes", raw=big)
    assert status == 413, out
    assert scoriad.get("/volumes")[2]["volumes"] == []
