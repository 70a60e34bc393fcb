"""scoriad refuses a bad configuration with one line naming file, section, key and what was
expected, and exits non-zero without touching anything."""
import os
import subprocess

from conftest import BIN_DIR


def run_with(tmp_path, text):
    conf = tmp_path / "scoria.conf"
    conf.write_text(text)
    p = subprocess.run([os.path.join(BIN_DIR, "scoriad"), "--config", str(conf)],
                       capture_output=True, text=True, timeout=20)
    return p, str(conf)


GOOD = """[DEFAULT]
state_path = {state}
enabled_backends = f
osapi_volume_listen = 127.0.0.1
[database]
connection = sqlite:///$state_path/db.sqlite
[f]
volume_driver = file
file_volume_dir = $state_path/vols
"""


def test_good_config_checks(tmp_path):
    conf = tmp_path / "ok.conf"
    conf.write_text(GOOD.format(state=tmp_path))
    p = subprocess.run([os.path.join(BIN_DIR, "scoriad"), "--config", str(conf), "--check-config"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_errors_name_file_section_key(tmp_path):
    cases = [
        (GOOD.replace("volume_driver = file", "volume_driver = lvm"), "[f] volume_driver"),
        (GOOD.replace("[f]\n", "[f]\nbogus_key = 1\n"), "[f] unknown key bogus_key"),
        (GOOD.replace("file_volume_dir = $state_path/vols\n", ""), "[f] missing required key file_volume_dir"),
        (GOOD + "reserved_percentage = 200\n", "[f] reserved_percentage"),
        (GOOD + "max_over_subscription_ratio = lots\n", "[f] max_over_subscription_ratio"),
        (GOOD.replace("[DEFAULT]\n", "[DEFAULT]\nosapi_volume_listen_port = 99999\n"),
         "[DEFAULT] osapi_volume_listen_port"),
        (GOOD.replace("enabled_backends = f", "enabled_backends = f,g"), "g"),
        (GOOD.replace("[DEFAULT]\n", "[DEFAULT]\nscheduler_default_filters = NoSuchFilter\n"),
         "NoSuchFilter"),
        (GOOD.replace("[f]\n", "[f]\nfilter_function = 1 +\n"), "[f] filter_function"),
    ]
    for text, needle in cases:
        p, conf = run_with(tmp_path, text.format(state=tmp_path))
        assert p.returncode != 0, (needle, p.stdout, p.stderr)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert len(lines) == 1, p.stderr
        assert conf in lines[0] and needle in lines[0], (needle, lines[0])
    assert not os.path.exists(tmp_path / "db.sqlite")
    assert not os.path.exists(tmp_path / "vols")


def test_missing_file(tmp_path):
    p = subprocess.run([os.path.join(BIN_DIR, "scoriad"), "--config", str(tmp_path / "nope.conf")],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "nope.conf" in p.stderr


def test_port_in_use_is_a_clear_error(scoriad, tmp_path):
    text = GOOD.format(state=tmp_path).replace(
        "[DEFAULT]\n", "[DEFAULT]\nosapi_volume_listen_port = %d\n" % scoriad.port)
    p, _ = run_with(tmp_path, text)
    assert p.returncode != 0
    assert "127.0.0.1:%d" % scoriad.port in p.stderr
