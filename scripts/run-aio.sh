#!/usr/bin/env bash
# All-in-one node: writes $STATE/scoria.conf on first use (SQLite + one `file` backend under the
# state directory, API on 127.0.0.1:8776) and runs scoriad in the foreground. Ctrl-C stops it;
# running it again keeps everything.
set -euo pipefail
bin=${1:?usage: run-aio.sh SCORIAD STATE_DIR}
state=${2:?usage: run-aio.sh SCORIAD STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
conf=$state/scoria.conf
if [ ! -f "$conf" ]; then
  cat >"$conf" <<CONF
[DEFAULT]
state_path = $state
host = $(hostname -s 2>/dev/null || echo localhost)
enabled_services = api,scheduler,volume,backup
enabled_backends = file1
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 8776

[database]
connection = sqlite:///\$state_path/scoria.sqlite

[file1]
volume_driver = file
volume_backend_name = file1
file_volume_dir = \$state_path/volumes
CONF
  echo "wrote $conf"
fi
echo "scoriad: API on http://127.0.0.1:8776/v3 (try: build/bin/scoria create --name db1 10)"
exec "$bin" --config "$conf"
