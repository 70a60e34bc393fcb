"""Changed-block tracking of the file driver against a real scoriad: an incremental backup
reads only the granules written since its parent's snapshot, and a SIGKILL with the volume
attached makes the next incremental read everything (and still restore byte for byte)."""
import os
import re
import time

from iscsi_util import QEMU_INITIATOR, attach, detach, image_opts, run
from test_backups import (MiB, bd, create_backup, digest, needs_qemu,  # noqa: F401 (fixture)
                          restore, volume_file, wait_backup_service, wait_restored, write)


def bytes_read(d, bid):
    """What the backup job of `bid` read from the volume, from its log line."""
    m = re.search(r"backup %s: volume \S+ read (\d+) B" % bid, d.read_log())
    assert m, d.read_log()[-3000:]
    return int(m.group(1))


def changed_line(d, bid):
    m = re.search(r"backup %s: (\d+) B in (\d+) changed range\(s\)" % bid, d.read_log())
    return (int(m.group(1)), int(m.group(2))) if m else None


def restored_digest(d, bid):
    out = restore(d, bid)
    rv = wait_restored(d, bid, out["restore"]["volume_id"])
    assert rv["status"] == "available", d.read_log()[-3000:]
    return digest(volume_file(d, rv["id"]))


@needs_qemu
def test_incremental_reads_only_the_changed_granules(bd):
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x11 0 64m", "write -P 0x22 512m 32m")
    full = create_backup(bd, vol["id"])
    assert bytes_read(bd, full["id"]) == 96 * MiB  # the allocated ranges
    assert changed_line(bd, full["id"]) is None

    # 1 MiB inside one 4 MiB granule, and 4 KiB straddling two more
    write(bd, vol["id"], "write -P 0x33 300m 1m", "write -P 0x44 %d 8k" % (700 * MiB - 4096))
    want = digest(volume_file(bd, vol["id"]))
    inc = create_backup(bd, vol["id"], incremental=True)
    assert inc["parent_id"] == full["id"]
    assert changed_line(bd, inc["id"]) == (12 * MiB, 2)  # 300m..304m, 696m..704m
    assert bytes_read(bd, inc["id"]) == 12 * MiB
    assert restored_digest(bd, inc["id"]) == want

    # nothing written since: nothing read
    inc2 = create_backup(bd, vol["id"], incremental=True)
    assert changed_line(bd, inc2["id"]) == (0, 0)
    assert bytes_read(bd, inc2["id"]) == 0
    assert restored_digest(bd, inc2["id"]) == want

    # a discard through the target is a change too
    write(bd, vol["id"], "discard 0 4m")
    want = digest(volume_file(bd, vol["id"]))
    inc3 = create_backup(bd, vol["id"], incremental=True)
    assert changed_line(bd, inc3["id"]) == (4 * MiB, 1)
    assert restored_digest(bd, inc3["id"]) == want


@needs_qemu
def test_sigkill_with_the_volume_attached_makes_the_next_incremental_read_everything(bd):
    vol = bd.create_volume(size=1)
    write(bd, vol["id"], "write -P 0x11 0 16m")
    full = create_backup(bd, vol["id"])
    att, data = attach(bd, vol["id"], QEMU_INITIATOR)
    run(["qemu-io", "--image-opts", image_opts(data), "-c", "write -P 0x55 100m 1m",
         "-c", "flush"])
    bd.kill()  # the write is on the file, its mark only in the dead process's memory
    bd.start()
    wait_backup_service(bd)
    want = digest(volume_file(bd, vol["id"]))
    inc = create_backup(bd, vol["id"], incremental=True, force=True)  # still in-use
    assert changed_line(bd, inc["id"]) is None
    assert re.search(r"backup %s: reading every allocated range \(no changed ranges: [^)]*"
                     r"stopped without closing" % inc["id"], bd.read_log()), bd.read_log()[-3000:]
    assert bytes_read(bd, inc["id"]) == 17 * MiB  # everything allocated, hash-compared
    # tracking is whole again from that backup's snapshot on
    run(["qemu-io", "--image-opts", image_opts(data), "-c", "write -P 0x66 200m 4k",
         "-c", "flush"])
    detach(bd, att)
    bd.wait_volume(vol["id"], ("available",))
    want2 = digest(volume_file(bd, vol["id"]))
    inc2 = create_backup(bd, vol["id"], incremental=True)
    assert changed_line(bd, inc2["id"]) == (4 * MiB, 1)
    assert restored_digest(bd, inc["id"]) == want
    assert restored_digest(bd, inc2["id"]) == want2
    assert restored_digest(bd, full["id"]) != want


def test_the_change_map_goes_with_the_volume(bd):
    vol = bd.create_volume(size=1)
    create_backup(bd, vol["id"])
    path = os.path.join(bd.volume_dir(), "changes-" + vol["id"])
    assert os.path.exists(path)
    assert not os.path.exists(os.path.join(bd.volume_dir(), "tmp-changes-" + vol["id"]))
    s, _, out = bd.get("/backups?volume_id=" + vol["id"])
    for b in out["backups"]:
        assert bd.delete("/backups/" + b["id"])[0] == 202
    deadline = time.time() + 30
    while bd.get("/backups?volume_id=" + vol["id"])[2]["backups"]:
        assert time.time() < deadline
        time.sleep(0.05)
    assert bd.delete("/volumes/" + vol["id"])[0] == 202
    bd.wait_volume(vol["id"], ("deleted",))
    assert os.listdir(bd.volume_dir()) == []
