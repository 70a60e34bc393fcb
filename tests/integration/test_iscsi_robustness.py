"""Bad input on the wire: garbage, oversized or truncated PDUs, a login that never finishes,
an abrupt disconnect in the middle of a write. Each bad connection is dropped cleanly, nothing
crashes, and a well-behaved session on the same target keeps working throughout."""
import os
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import BIN_DIR, free_port

pytestmark = pytest.mark.skipif(not shutil.which("iscsi-inq"), reason="libiscsi-bin is needed")

TARGET = "iqn.2010-10.org.openstack:volume-00000000-0000-0000-0000-000000000001"
GOOD = "iqn.2024-01.org.example:good"


@pytest.fixture
def harness(tmp_path):
    img = tmp_path / "lun.img"
    with open(img, "wb") as f:
        f.truncate(256 * 1024 * 1024)
    port = free_port()
    log = open(tmp_path / "target.log", "w")
    p = subprocess.Popen([os.path.join(BIN_DIR, "scoria-target"), "--port", str(port),
                          "--file", str(img), "--allow", GOOD, "--log-level", "info"],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    assert TARGET in p.stdout.readline()
    yield port, p
    p.terminate()
    p.wait(timeout=10)


def good_session_works(port):
    r = subprocess.run(["iscsi-inq", "-i", GOOD, "iscsi://127.0.0.1:%d/%s/0" % (port, TARGET)],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0 and "SCORIA" in r.stdout


def login_pdu(initiator, target, csg=1, nsg=3, transit=True, data_len_override=None):
    text = ("InitiatorName=%s\0TargetName=%s\0SessionType=Normal\0HeaderDigest=None\0"
            "DataDigest=None\0" % (initiator, target)).encode()
    dlen = len(text) if data_len_override is None else data_len_override
    flags = (0x80 if transit else 0) | (csg << 2) | nsg
    bhs = bytearray(48)
    bhs[0] = 0x43  # immediate Login Request
    bhs[1] = flags
    bhs[4] = 0
    bhs[5:8] = dlen.to_bytes(3, "big")
    bhs[8:14] = b"\x80\x00\x00\x00\x00\x01"  # ISID
    struct.pack_into(">I", bhs, 16, 1)  # ITT
    return bytes(bhs) + text + b"\0" * ((4 - len(text) % 4) % 4)


def closed_by_target(sock, timeout=5):
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_garbage_and_bad_pdus_are_dropped(harness):
    port, proc = harness
    assert good_session_works(port)
    cases = [
        os.urandom(4096),                                   # noise
        b"\x01" + b"\x00" * 47,                              # SCSI command before login
        login_pdu(GOOD, TARGET, data_len_override=0xffffff),  # absurd data segment length
        bytes([0x43, 0x87, 0, 0, 200]) + b"\x00" * 43,      # AHS that does not fit
    ]
    for payload in cases:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(payload)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        assert closed_by_target(s), payload[:8]
        s.close()
        assert proc.poll() is None, "the target must survive"
    assert good_session_works(port)


def test_truncated_pdu_and_abrupt_disconnect(harness):
    port, proc = harness
    # Half a header, then the peer vanishes.
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(login_pdu(GOOD, TARGET)[:20])
    s.close()
    # A full login, then a WRITE(10) announcing 1 MiB of which we send a little, then reset.
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(login_pdu(GOOD, TARGET))
    s.settimeout(5)
    resp = s.recv(48)
    assert len(resp) == 48 and resp[0] & 0x3f == 0x23 and resp[36] == 0, resp.hex()
    cmd = bytearray(48)
    cmd[0] = 0x01
    cmd[1] = 0x80 | 0x20  # F, W
    struct.pack_into(">I", cmd, 16, 2)          # ITT
    struct.pack_into(">I", cmd, 20, 1 << 20)    # EDTL
    cmd[32] = 0x2a                              # WRITE(10)
    struct.pack_into(">H", cmd, 32 + 7, 2048)   # 2048 blocks
    s.sendall(bytes(cmd))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST in the middle of the command
    time.sleep(0.2)
    assert proc.poll() is None
    assert good_session_works(port)


def test_login_from_unknown_initiator_and_target(harness):
    port, proc = harness
    for initiator, target, status in ((GOOD, "iqn.nope:x", 0x0203),
                                      ("iqn.2024-01.org.example:bad", TARGET, 0x0202)):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(login_pdu(initiator, target))
        s.settimeout(5)
        resp = s.recv(48)
        assert resp[0] & 0x3f == 0x23
        assert (resp[36] << 8 | resp[37]) == status, resp.hex()
        assert closed_by_target(s)
        s.close()
    assert good_session_works(port)
