#!/usr/bin/env bash
# Runs every benchmark and prints its figures. Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk (HTTP load generator)"; apt-get install -y -qq wrk >/dev/null; }
echo "== scheduler: one decision over 1,000 and 10,000 pools"
"$build/bin/scheduler_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
echo "== control plane: scoriad with one file backend, on SQLite and on PostgreSQL"
/usr/bin/python3 bench/api_bench.py "$build/bin"
echo "== data path: Scoria's iSCSI target vs tgt on loopback, files on ext4 (or what holds \$TMPDIR)"
bash bench/iscsi_bench.sh "$build"
if [[ $(id -u) == 0 ]] && command -v mkfs.xfs >/dev/null; then
  echo "== data path again, files on a fresh XFS (the file driver's filesystem)"
  BENCH_FS=xfs bash bench/iscsi_bench.sh "$build"
fi
echo "== backup: Scoria's repository vs restic and zstd -1 | sha256sum"; bash bench/backup_bench.sh "$build"
if command -v ceph-osd >/dev/null && command -v rbd >/dev/null; then
  echo "== RBD: one image through Scoria's iSCSI target and through QEMU's librbd; backups vs rbd export (a throw-away Ceph)"
  bash bench/rbd_bench.sh "$build"
else
  echo "== RBD: skipped (no ceph-osd / rbd: scripts/install-deps.sh installs them)"
fi
