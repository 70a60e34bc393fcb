"""auth_strategy = keystone against a real Keystone (tests/support/keystone_server.py, which
`make test` starts once for the whole run): tokens validated by Keystone, Cinder's policy
defaults, projects isolated from each other, the 401/403/404/503 answers, the token cache
(revocation, Keystone down), and the `cinder` and `openstack` CLIs logging in with a password.

Identities (keystone_server.py): alpha-member and alpha-reader in project alpha, beta-member in
beta, admin (admin of project admin), scoria (the service user).
"""
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import Daemon
from test_backups import enable_backup, wait_backup

KS = os.environ.get("SCORIA_TEST_KEYSTONE")
pytestmark = pytest.mark.skipif(not KS, reason="no Keystone (run under keystone_server.py, "
                                               "as make test does)")
PASSWORD = os.environ.get("SCORIA_TEST_KEYSTONE_PASSWORD", "")


def token(user, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    r = requests.post(KS + "/v3/auth/tokens", json=body, timeout=30)
    r.raise_for_status()
    return r.headers["X-Subject-Token"], r.json()["token"]["project"]["id"]


def keystone_daemon(cache_time=30, request_timeout=2):
    d = Daemon(tempfile.mkdtemp(prefix="scoria-ks-"),
               extra_default={"auth_strategy": "keystone", "quota_volumes": "-1",
                              "quota_backups": "-1"},
               extra_sections={"keystone_authtoken": {
                   "www_authenticate_uri": KS + "/v3", "auth_url": KS, "username": "scoria",
                   "password": PASSWORD, "project_name": "service",
                   "token_cache_time": str(cache_time),
                   "http_request_timeout": str(request_timeout)}})
    return d


@pytest.fixture(scope="module")
def ks():
    """One keystone-mode scoriad and a token per identity: {"member": (token, project_id)...}."""
    d = keystone_daemon()
    enable_backup(d)
    d.start()
    ids = {"member": token("alpha-member", "alpha"), "reader": token("alpha-reader", "alpha"),
           "other": token("beta-member", "beta"), "admin": token("admin", "admin")}
    d.token = ids["admin"][0]
    yield d, ids
    d.stop()
    log = d.read_log()
    # No secret in the log: the service password, nor any token a test sent.
    assert PASSWORD not in log
    for t, _ in ids.values():
        assert t not in log
    subprocess.run(["rm", "-rf", d.state_dir])


def call(d, who, method, path, body=None, **kw):
    return d.request(method, path, body=body, token=who[0], **kw)


def test_missing_or_unknown_token_is_401_with_the_keystone_challenge(ks):
    d, ids = ks
    for tok in (None, "", "gAAAAABnot-a-token"):
        status, headers, out = d.get("/volumes", token=tok)
        assert status == 401, (tok, status, out)
        assert "unauthorized" in out, out
        assert headers.get("WWW-Authenticate") == 'Keystone uri="%s/v3"' % KS, headers


def test_member_owns_reader_reads_other_project_sees_nothing(ks):
    d, ids = ks
    member, reader, other, admin = ids["member"], ids["reader"], ids["other"], ids["admin"]
    status, _, out = call(d, member, "POST", "/volumes", {"volume": {"size": 1, "name": "a1"}})
    assert status == 202, out
    vid = out["volume"]["id"]
    assert out["volume"]["user_id"] == requests.get(
        KS + "/v3/auth/tokens", headers={"X-Auth-Token": member[0], "X-Subject-Token": member[0]},
        timeout=10).json()["token"]["user"]["id"]
    d.wait_volume(vid, ("available",))
    # The project in the URL must be the token's.
    status, _, _ = call(d, member, "GET", "/%s/volumes/%s" % (member[1], vid))
    assert status == 200
    status, _, out = call(d, other, "GET", "/%s/volumes/%s" % (member[1], vid))
    assert status == 400, out

    # The reader of alpha reads alpha's volume but changes nothing.
    status, _, out = call(d, reader, "GET", "/volumes/detail")
    assert status == 200 and [v["id"] for v in out["volumes"]] == [vid], out
    assert call(d, reader, "GET", "/volumes/" + vid)[0] == 200
    for method, path, body, rule in [
            ("POST", "/volumes", {"volume": {"size": 1}}, "volume:create"),
            ("DELETE", "/volumes/" + vid, None, "volume:delete"),
            ("PUT", "/volumes/" + vid, {"volume": {"name": "x"}}, "volume:update"),
            ("POST", "/volumes/%s/action" % vid, {"os-extend": {"new_size": 2}}, "volume:extend"),
            ("POST", "/volumes/%s/metadata" % vid, {"metadata": {"k": "v"}},
             "volume:create_volume_metadata"),
            ("POST", "/snapshots", {"snapshot": {"volume_id": vid}}, "volume:create_snapshot"),
            ("POST", "/backups", {"backup": {"volume_id": vid}}, "backup:create")]:
        status, _, out = call(d, reader, method, path, body, version="3.27")
        assert status == 403, (method, path, status, out)
        assert out["forbidden"]["message"] == "Policy doesn't allow %s to be performed." % rule

    # A member of beta: alpha's volume does not exist for it (404, as Cinder hides existence).
    status, _, out = call(d, other, "GET", "/volumes/detail?all_tenants=1")
    assert status == 200 and vid not in [v["id"] for v in out["volumes"]], out
    for method, path, body in [
            ("GET", "/volumes/" + vid, None),
            ("DELETE", "/volumes/" + vid, None),
            ("PUT", "/volumes/" + vid, {"volume": {"name": "x"}}),
            ("POST", "/volumes/%s/action" % vid, {"os-extend": {"new_size": 2}}),
            ("POST", "/snapshots", {"snapshot": {"volume_id": vid}}),
            ("POST", "/backups", {"backup": {"volume_id": vid}}),
            ("POST", "/attachments", {"attachment": {"volume_uuid": vid}})]:
        status, _, out = call(d, other, method, path, body, version="3.27")
        assert status == 404, (method, path, status, out)

    # A member is no admin: no reset-status, no force-delete, no other projects.
    for action in ({"os-reset_status": {"status": "error"}}, {"os-force_delete": {}}):
        status, _, out = call(d, member, "POST", "/volumes/%s/action" % vid, action)
        assert status == 403, out
    status, _, out = call(d, member, "GET", "/volumes?all_tenants=1")
    assert [v["id"] for v in out["volumes"]] == [vid]
    # Admin-only fields and filters: not for a member.
    status, _, out = call(d, member, "GET", "/volumes/" + vid)
    assert "os-vol-host-attr:host" not in out["volume"], out
    status, _, out = call(d, member, "GET", "/volumes?host=x", version="3.31")
    assert status == 400, out
    status, _, out = call(d, ids["admin"], "GET", "/volumes/" + vid)
    assert out["volume"]["os-vol-host-attr:host"].startswith("testhost@"), out
    # The admin sees every project, and may.
    status, _, out = call(d, admin, "GET", "/volumes?all_tenants=1")
    assert vid in [v["id"] for v in out["volumes"]]
    status, _, out = call(d, admin, "POST", "/volumes/%s/action" % vid,
                          {"os-reset_status": {"status": "available"}})
    assert status == 202, out
    # The owner deletes it.
    assert call(d, member, "DELETE", "/volumes/" + vid)[0] == 202
    d.wait_volume(vid, ("deleted",))


def test_another_project_cannot_touch_snapshots_backups_or_restore_into_a_volume(ks):
    d, ids = ks
    member, other = ids["member"], ids["other"]
    vids = {}
    for who in ("member", "other"):
        status, _, out = call(d, ids[who], "POST", "/volumes", {"volume": {"size": 1}})
        assert status == 202, out
        vids[who] = out["volume"]["id"]
        d.wait_volume(vids[who], ("available",))
    status, _, out = call(d, member, "POST", "/snapshots", {"snapshot": {"volume_id": vids["member"]}})
    assert status == 202, out
    sid = out["snapshot"]["id"]
    bids = {}
    for who in ("member", "other"):
        status, _, out = call(d, ids[who], "POST", "/backups",
                              {"backup": {"volume_id": vids[who], "force": True}})
        assert status == 202, out
        bids[who] = out["backup"]["id"]
        wait_backup(d, bids[who], ("available",))
    # Lists: nothing of alpha's; shows and changes: 404.
    assert sid not in [x["id"] for x in call(d, other, "GET", "/snapshots?all_tenants=1")[2]["snapshots"]]
    assert bids["member"] not in [x["id"] for x in call(d, other, "GET", "/backups?all_tenants=1")[2]["backups"]]
    for method, path, body in [
            ("GET", "/snapshots/" + sid, None),
            ("DELETE", "/snapshots/" + sid, None),
            ("GET", "/backups/" + bids["member"], None),
            ("DELETE", "/backups/" + bids["member"], None),
            ("POST", "/backups/%s/restore" % bids["member"], {"restore": {}}),
            # its own backup restored into alpha's volume
            ("POST", "/backups/%s/restore" % bids["other"], {"restore": {"volume_id": vids["member"]}})]:
        status, _, out = call(d, other, method, path, body)
        assert status == 404, (method, path, status, out)
    # alpha's things are all still there.
    assert call(d, member, "GET", "/snapshots/" + sid)[0] == 200
    assert call(d, member, "GET", "/backups/" + bids["member"])[2]["backup"]["status"] == "available"
    assert call(d, member, "GET", "/volumes/" + vids["member"])[2]["volume"]["status"] == "available"


def test_a_private_type_is_seen_and_used_only_by_projects_with_access(ks):
    d, ids = ks
    admin, member, other = ids["admin"], ids["member"], ids["other"]
    status, _, out = call(d, admin, "POST", "/types",
                          {"volume_type": {"name": "beta-only", "os-volume-type-access:is_public": False}})
    assert status == 200, out
    tid = out["volume_type"]["id"]
    status, _, out = call(d, admin, "POST", "/types/%s/action" % tid,
                          {"addProjectAccess": {"project": other[1]}})
    assert status == 202, out
    # A member may not manage types or their access.
    status, _, out = call(d, other, "POST", "/types/%s/action" % tid,
                          {"addProjectAccess": {"project": member[1]}})
    assert status == 403, out
    assert call(d, member, "POST", "/types", {"volume_type": {"name": "mine"}})[0] == 403
    # alpha does not see it; beta sees and uses it.
    assert tid not in [t["id"] for t in call(d, member, "GET", "/types")[2]["volume_types"]]
    assert call(d, member, "GET", "/types/" + tid)[0] == 404
    status, _, out = call(d, member, "POST", "/volumes",
                          {"volume": {"size": 1, "volume_type": "beta-only"}})
    assert status == 404, out
    assert tid in [t["id"] for t in call(d, other, "GET", "/types")[2]["volume_types"]]
    status, _, out = call(d, other, "POST", "/volumes",
                          {"volume": {"size": 1, "volume_type": "beta-only"}})
    assert status == 202, out
    d.wait_volume(out["volume"]["id"], ("available",))


def test_a_transfer_is_invisible_to_other_projects_until_accepted(ks):
    d, ids = ks
    member, other, reader = ids["member"], ids["other"], ids["reader"]
    status, _, out = call(d, member, "POST", "/volumes", {"volume": {"size": 1}})
    vid = out["volume"]["id"]
    d.wait_volume(vid, ("available",))
    status, _, out = call(d, reader, "POST", "/volume-transfers", {"transfer": {"volume_id": vid}},
                          version="3.57")
    assert status == 403, out  # volume:create_transfer needs a member
    status, _, out = call(d, member, "POST", "/volume-transfers", {"transfer": {"volume_id": vid}},
                          version="3.57")
    assert status == 202, out
    t = out["transfer"]
    assert call(d, other, "GET", "/volume-transfers/" + t["id"], version="3.57")[0] == 404
    assert call(d, other, "GET", "/volume-transfers", version="3.57")[2]["transfers"] == []
    assert call(d, other, "DELETE", "/volume-transfers/" + t["id"], version="3.57")[0] == 404
    status, _, out = call(d, other, "POST", "/volume-transfers/%s/accept" % t["id"],
                          {"accept": {"auth_key": t["auth_key"]}}, version="3.57")
    assert status == 202, out
    assert call(d, other, "GET", "/volumes/" + vid)[0] == 200
    assert call(d, member, "GET", "/volumes/" + vid)[0] == 404
    assert call(d, other, "DELETE", "/volumes/" + vid)[0] == 202


def test_keystone_down_cached_tokens_work_new_ones_get_503(ks):
    d, ids = ks
    cached = ids["member"]
    assert call(d, cached, "GET", "/volumes")[0] == 200  # validated, now cached
    fresh = token("alpha-reader", "alpha")  # never shown to scoriad yet
    group = int(os.environ["SCORIA_TEST_KEYSTONE_PID"])
    os.killpg(group, signal.SIGSTOP)
    try:
        assert call(d, cached, "GET", "/volumes")[0] == 200
        status, _, out = call(d, fresh, "GET", "/volumes")
        assert status == 503 and "serviceUnavailable" in out, (status, out)
    finally:
        os.killpg(group, signal.SIGCONT)
    # Keystone back: the same token is validated now (failures are not cached).
    deadline = time.time() + 15
    while call(d, fresh, "GET", "/volumes")[0] != 200:
        assert time.time() < deadline, "scoriad did not recover after Keystone came back"
        time.sleep(0.2)


def test_revoked_token_is_refused_once_its_cache_entry_expires():
    d = keystone_daemon(cache_time=1).start()
    try:
        tok = token("alpha-member", "alpha")
        admin = token("admin", "admin")[0]
        assert d.get("/volumes", token=tok[0])[0] == 200
        r = requests.delete(KS + "/v3/auth/tokens", timeout=10,
                            headers={"X-Auth-Token": admin, "X-Subject-Token": tok[0]})
        assert r.status_code == 204, r.text
        time.sleep(1.5)
        status, _, out = d.get("/volumes", token=tok[0])
        assert status == 401, (status, out)
    finally:
        d.stop()
        subprocess.run(["rm", "-rf", d.state_dir])


def daemon_with_policy(text):
    d = keystone_daemon()
    policy = os.path.join(d.state_dir, "policy.yaml")
    with open(policy, "w") as f:
        f.write(text)
    with open(d.config_path, "a") as f:
        f.write("\n[oslo_policy]\npolicy_file = %s\n" % policy)
    return d


def test_a_bad_policy_file_stops_the_start():
    d = daemon_with_policy('"volume:delte": "role:admin"\n')
    with pytest.raises(RuntimeError) as e:
        d.start()
    assert "volume:delte" in str(e.value)
    subprocess.run(["rm", "-rf", d.state_dir])


def test_a_policy_file_moves_rules_between_roles(ks):
    # Deletes for admins only; reset-status handed to members (the handlers add no admin check
    # of their own to what the policy says).
    d = daemon_with_policy('"volume:delete": "rule:admin_api"\n'
                           '"volume_extension:volume_admin_actions:reset_status": "role:member"\n'
                           ).start()
    try:
        member = token("alpha-member", "alpha")
        d.token = token("admin", "admin")[0]
        status, _, out = d.post("/volumes", {"volume": {"size": 1}}, token=member[0])
        assert status == 202, out
        vid = out["volume"]["id"]
        d.wait_volume(vid, ("available",))
        status, _, out = d.delete("/volumes/" + vid, token=member[0])
        assert status == 403 and "volume:delete" in out["forbidden"]["message"], out
        status, _, out = d.post("/volumes/%s/action" % vid,
                                {"os-reset_status": {"status": "error"}}, token=member[0])
        assert status == 202, out
        assert d.get("/volumes/" + vid)[2]["volume"]["status"] == "error"
        assert d.delete("/volumes/" + vid)[0] == 202  # the admin may
    finally:
        d.stop()
        subprocess.run(["rm", "-rf", d.state_dir])


def test_cinder_and_openstack_clients_log_in_with_a_password(ks):
    d, ids = ks
    # A region of this test's own whose volumev3 endpoint is this scoriad.
    admin = ids["admin"][0]
    h = {"X-Auth-Token": admin}
    region = "scoria-%d" % d.port
    requests.post(KS + "/v3/regions", json={"region": {"id": region}}, headers=h,
                  timeout=10).raise_for_status()
    services = requests.get(KS + "/v3/services?type=volumev3", headers=h, timeout=10).json()
    sid = services["services"][0]["id"]
    for interface in ("public", "internal"):
        requests.post(KS + "/v3/endpoints", headers=h, timeout=10, json={"endpoint": {
            "service_id": sid, "interface": interface, "region_id": region,
            "url": d.url + "/v3/%(project_id)s"}}).raise_for_status()
    env = dict(os.environ, OS_AUTH_URL=KS + "/v3", OS_USERNAME="alpha-member",
               OS_PASSWORD=PASSWORD, OS_PROJECT_NAME="alpha", OS_USER_DOMAIN_ID="default",
               OS_PROJECT_DOMAIN_ID="default", OS_REGION_NAME=region,
               OS_IDENTITY_API_VERSION="3", OS_VOLUME_API_VERSION="3.59")
    for var in ("OS_TOKEN", "OS_AUTH_TYPE", "OS_CLOUD"):
        env.pop(var, None)
    out = subprocess.run(["/usr/bin/cinder", "create", "--name", "via-cinder", "1"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(["/usr/bin/openstack", "volume", "list", "-f", "json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    names = [v["Name"] for v in json.loads(out.stdout)]
    assert "via-cinder" in names, names
    # The reader's CLI is refused with Cinder's words.
    env.update(OS_USERNAME="alpha-reader")
    out = subprocess.run(["/usr/bin/cinder", "create", "1"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0 and "volume:create" in out.stderr, (out.stdout, out.stderr)
