#!/usr/bin/env python3
# Regenerates the seed corpora in tests/fuzz/corpus/ (plain, digest-free PDUs; see the input
# formats at the top of pdu_fuzz.cc and login_fuzz.cc).
import hashlib, struct, os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')

def text(pairs):
    return b''.join(k.encode() + b'=' + v.encode() + b'\0' for k, v in pairs)

def pdu(op, flags=0, imm=False, itt=1, lun=0, f20=0, f24=0, f28=0, rest=b'', data=b'', isid=None, b2=0, b3=0):
    b = bytearray(48)
    b[0] = op | (0x40 if imm else 0)
    b[1] = flags; b[2] = b2; b[3] = b3
    b[5:8] = len(data).to_bytes(3, 'big')
    if isid is not None:
        b[8:14] = isid
    else:
        b[8:16] = lun.to_bytes(8, 'big')
    b[16:20] = itt.to_bytes(4, 'big')
    b[20:24] = f20.to_bytes(4, 'big')
    b[24:28] = f24.to_bytes(4, 'big')
    b[28:32] = f28.to_bytes(4, 'big')
    b[32:32 + len(rest)] = rest
    pad = (-len(data)) % 4
    return bytes(b) + data + b'\0' * pad

ISID = bytes([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a])
T = 'iqn.2024-01.io.scoria:vol1'
I = 'iqn.2008-11.org.linux-kvm'
ops = [('HeaderDigest', 'None,CRC32C'), ('DataDigest', 'None'), ('InitialR2T', 'No'),
       ('ImmediateData', 'Yes'), ('MaxBurstLength', '262144'), ('FirstBurstLength', '262144'),
       ('MaxRecvDataSegmentLength', '262144'), ('DataPDUInOrder', 'Yes'),
       ('DataSequenceInOrder', 'Yes'), ('DefaultTime2Wait', '2'), ('DefaultTime2Retain', '0'),
       ('IFMarker', 'No'), ('OFMarker', 'No'), ('ErrorRecoveryLevel', '0'),
       ('MaxConnections', '1'), ('MaxOutstandingR2T', '1')]

def login(t, c, csg, nsg, pairs, itt=1):
    flags = (0x80 if t else 0) | (0x40 if c else 0) | (csg << 2) | nsg
    return pdu(0x03, flags, True, itt, isid=ISID, f24=0, f28=0, data=text(pairs))

libiscsi = login(1, 0, 1, 3, [('InitiatorName', I), ('TargetName', T), ('SessionType', 'Normal')] + ops)
read10 = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0]) + bytes(6)
scsi_read = pdu(0x01, 0x80 | 0x40 | 1, False, 2, lun=0, f20=4096, f24=1, f28=1, rest=read10)
write10 = bytes([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0]) + bytes(6)
scsi_write = pdu(0x01, 0x80 | 0x20 | 1, False, 3, f20=512, f24=2, f28=1, rest=write10, data=bytes(range(256)) * 2)
nop = pdu(0x00, 0x80, True, 4, f20=0xffffffff, f24=3, f28=2, data=b'ping')
dataout = bytearray(pdu(0x05, 0x80, False, 3, f20=0xffffffff, f28=2, data=bytes(100)))
dataout[36:40] = (0).to_bytes(4, 'big'); dataout[40:44] = (512).to_bytes(4, 'big')
textreq = pdu(0x04, 0x80, True, 5, f20=0xffffffff, f24=3, f28=2, data=text([('SendTargets', 'All')]))
logout = pdu(0x06, 0x80, True, 6, f24=3, f28=2)
tmf = pdu(0x02, 0x80 | 1, True, 7, f20=2, f24=3, f28=2)
# 32-byte CDB with an extended CDB AHS.
ahs_cmd = bytearray(pdu(0x01, 0x80 | 1, False, 8, f24=4, f28=2, rest=bytes(16)))
ahs_cmd[4] = 5
ahs = bytes([0, 17, 1, 0]) + bytes(range(16))
ahs_cmd = bytes(ahs_cmd[:48]) + ahs

os.makedirs(root + '/pdu', exist_ok=True)
os.makedirs(root + '/login', exist_ok=True)
seeds = {'libiscsi_login': libiscsi, 'scsi_read10': scsi_read, 'scsi_write10_immediate': scsi_write,
         'nop_out_ping': nop, 'data_out': bytes(dataout), 'text_sendtargets': textreq,
         'logout': logout, 'tmf_abort_task': tmf, 'extended_cdb_ahs': ahs_cmd,
         'session_stream': libiscsi + scsi_read + scsi_write + nop + logout}
for name, body in seeds.items():
    open(f'{root}/pdu/{name}', 'wb').write(bytes([0, 0]) + body)
open(f'{root}/pdu/session_stream_chunked', 'wb').write(bytes([8, 7]) + seeds['session_stream'])

def rec(b):
    return struct.pack('>H', len(b)) + b

def strip(p):  # records carry BHS + unpadded data
    dlen = int.from_bytes(p[5:8], 'big')
    return p[:48 + dlen]

disc_login = login(1, 0, 1, 3, [('InitiatorName', I), ('SessionType', 'Discovery'),
                                ('HeaderDigest', 'None'), ('MaxRecvDataSegmentLength', '32768')])
chap1 = login(1, 0, 0, 1, [('InitiatorName', I), ('TargetName', T), ('SessionType', 'Normal'),
                           ('AuthMethod', 'CHAP,None')])
chap2 = login(0, 0, 0, 0, [('CHAP_A', '5')], 2)
resp = hashlib.md5(bytes([1]) + b'initiator-secret-1' + bytes([0x11]) * 16).hexdigest()
chap3 = login(1, 0, 0, 1, [('CHAP_N', 'user'), ('CHAP_R', '0x' + resp)], 3)
chap3m = login(1, 0, 0, 1, [('CHAP_N', 'user'), ('CHAP_R', '0x' + resp), ('CHAP_I', '9'),
                            ('CHAP_C', '0x' + '22' * 16)], 3)
op = login(1, 0, 1, 3, ops, 4)
sendtargets = strip(textreq)
login_seeds = {
    'libiscsi_noauth': bytes([0]) + rec(strip(libiscsi)) + rec(sendtargets),
    'discovery_sendtargets': bytes([0]) + rec(strip(disc_login)) + rec(sendtargets),
    'discovery_small_mrdsl': bytes([8]) + rec(strip(disc_login)) + rec(sendtargets) +
        rec(strip(pdu(0x04, 0x80, True, 5, f20=1))),
    'openiscsi_chap': bytes([1]) + b''.join(rec(strip(p)) for p in (chap1, chap2, chap3, op)),
    'mutual_chap': bytes([3]) + b''.join(rec(strip(p)) for p in (chap1, chap2, chap3m, op)),
    'chap_required_skipped': bytes([1]) + rec(strip(libiscsi)),
}
for name, body in login_seeds.items():
    open(f'{root}/login/{name}', 'wb').write(body)
print('ok')
