"""libiscsi's conformance suite (iscsi-test-cu, Debian libiscsi-bin 1.19) against Scoria's
target: the SCSI family with destructive tests allowed (-d) and the iSCSI family.

It runs against scoria-target, the target of scoriad without the control plane, because the
suite logs in as two initiators with one set of credentials, while scoriad gives each
attachment its own CHAP secret. Every test that does not pass is listed with its reason in
docs/iscsi.md; the floors below are the results recorded there, so a regression fails."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import BIN_DIR, free_port

pytestmark = pytest.mark.skipif(not shutil.which("iscsi-test-cu"), reason="libiscsi-bin is needed")

INITIATORS = ["iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test",
              "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2"]
TARGET = "iqn.2010-10.org.openstack:volume-00000000-0000-0000-0000-000000000001"


# The suite also runs against the ASan+UBSan build of the target when `make test` built it
# (SCORIA_ASAN_BIN): any sanitizer report aborts the target and fails the run.
BUILDS = [BIN_DIR] + ([os.environ["SCORIA_ASAN_BIN"]] if os.environ.get("SCORIA_ASAN_BIN") else [])


@pytest.fixture(params=BUILDS, ids=lambda b: "asan" if b != BIN_DIR else "release")
def harness(tmp_path, request):
    img = tmp_path / "lun.img"
    with open(img, "wb") as f:
        f.truncate(1024 ** 3)
    port = free_port()
    args = [os.path.join(request.param, "scoria-target"), "--port", str(port), "--file", str(img)]
    for i in INITIATORS:
        args += ["--allow", i]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    assert TARGET in line, line
    yield "iscsi://127.0.0.1:%d/%s/0" % (port, TARGET)
    assert p.poll() is None, "the target died during the suite:\n" + p.stdout.read()[-3000:]
    p.terminate()
    p.wait(timeout=10)


def run_family(url, family):
    p = subprocess.run(["iscsi-test-cu", "-d", "-v", "--test=" + family, url],
                       capture_output=True, text=True, timeout=900)
    out = p.stdout + p.stderr
    m = re.search(r"^\s*tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)
    assert m, out[-3000:]
    total, ran, passed, failed = map(int, m.groups())
    failing = re.findall(r"Test: (\S+) \.\.\.FAILED", out)
    return total, passed, failing, out


def test_iscsi_family(harness):
    total, passed, failing, out = run_family(harness, "iSCSI")
    assert (total, passed) == (15, 15), (failing, out[-3000:])


def test_scsi_family(harness):
    total, passed, failing, out = run_family(harness, "SCSI")
    print("SCSI family: %d of %d passed; failing: %s" % (passed, total, failing))
    assert total == 215
    assert passed == 215, (failing, out[-5000:])
