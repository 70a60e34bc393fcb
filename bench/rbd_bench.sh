#!/usr/bin/env bash
# RBD benchmark, in one run against one Ceph cluster and one scoriad (an `rbd` backend and a
# `file` backend):
#   1. data path: the same RBD image through Scoria's iSCSI target (attached through the API,
#      "iscsi-rbd") and through QEMU's own librbd ("librbd", rbd driver, no target), plus a file
#      volume through the same target ("iscsi-file", the target without Ceph). One client for all
#      three: qemu-img bench (libiscsi for iscsi://, librbd for rbd), cache=none (librbd's cache
#      off, as on scoriad's connection).
#   2. backups of a SIZE_GB RBD volume of random bytes: Scoria's full backup (POST /backups until
#      available, posix store) vs `rbd snap create` + `rbd export`; then, per round, PCT % of
#      the volume rewritten in scattered blocks (1 MiB, then 4 KiB), Scoria's incremental vs
#      `rbd snap create` + `rbd export-diff --from-snap`. Files on the store's filesystem, synced.
# Prints figures and ratios; nothing fails on numbers. Method: docs/benchmarks.md.
#
# Usage: bench/rbd_bench.sh [BUILD_DIR]   (needs ceph-common with python3-rbd, qemu-block-extra)
# Without SCORIA_TEST_CEPH_CONF it starts its own single-node Ceph (tests/support/ceph_server.py,
# ~15 s) and runs itself under it.
# Environment (all optional):
#   SIZE_GB=4    size of the backup volume (SIZE_GB=1: a quick run)
#   DATA_GB=     size of the data-path volumes (default: SIZE_GB, at most 2)
#   DUR=4        seconds per measured data-path run (counts calibrated from a warm-up run)
#   REPS=3       repetitions per data-path cell, paths interleaved; the table shows the median
#   CELLS="rr1 rr32 rw1 rw32 sr sw"   data-path cells to run (default: all; CELLS= skips them)
#   BACKUP=1     run the backup part (0: skip it)
#   PCT=1        each incremental follows a rewrite of PCT % of the volume, in random aligned blocks
#   BLOCKS="1048576 4096"  block sizes of those rewrites, one incremental round each
#   BENCH_DIR=   parent of the temp dir (scoriad's state, file volume, backup store, exports)
#   SCORIA_EXTRA_CONF=  lines added to the [DEFAULT] section of scoriad's config, e.g.
#                $'iscsi_poll_max_us = 0' to run the target without adaptive polling
set -euo pipefail

build=${1:-build}
build=$(cd "$build" && pwd)
cd "$(dirname "$0")/.."
repo=$(pwd)
if [[ -z ${SCORIA_TEST_CEPH_CONF:-} ]]; then
  exec /usr/bin/python3 "$repo/tests/support/ceph_server.py" run -- bash "$repo/bench/rbd_bench.sh" "$build"
fi
CONF=$SCORIA_TEST_CEPH_CONF
export CEPH_CONF=$CONF

SIZE_GB=${SIZE_GB:-4}
DATA_GB=${DATA_GB:-$(( SIZE_GB < 2 ? SIZE_GB : 2 ))}
DUR=${DUR:-4}
REPS=${REPS:-3}
CELLS=" ${CELLS-rr1 rr32 rw1 rw32 sr sw} "
BACKUP=${BACKUP:-1}
PCT=${PCT:-1}
BLOCKS=${BLOCKS:-1048576 4096}
INIT=iqn.2026-01.org.scoria:rbd-bench
HZ=$(getconf CLK_TCK)
py() { /usr/bin/python3 "$repo/bench/rbd_bench.py" "$@"; }

for tool in qemu-img rbd ceph; do
  command -v $tool >/dev/null || { echo "missing $tool (packages: qemu-utils qemu-block-extra, ceph-common)" >&2; exit 1; }
done
[[ -x $build/bin/scoriad ]] || { echo "no $build/bin/scoriad: build the scoriad target first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "installing time (Debian package time) for the client's CPU figures"; apt-get install -y -qq time >/dev/null; }

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/scoria-rbd-bench.XXXXXX")
pool=scoria-rbd-bench-$$
spid=
cleanup() {
  if [[ -n $spid ]]; then
    kill "$spid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
  fi
  ceph osd pool rm "$pool" "$pool" --yes-i-really-really-mean-it >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_ticks() { [[ -n $1 && -r /proc/$1/stat ]] && awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" || echo 0; }
settle() { sync; sleep 2; }

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# scoria $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(ceph --version | awk '{print "ceph", $3}'), qemu-img $(qemu-img --version | head -1 | awk '{print $3}'), libiscsi $(dpkg-query -W -f '${Version}' libiscsi7 2>/dev/null || echo '?')"
echo "# cluster $CONF; work dir $work ($(df -T "$work" | awk 'NR==2{print $2}')); SIZE_GB=$SIZE_GB DATA_GB=$DATA_GB DUR=${DUR}s REPS=$REPS"
[[ -z ${SCORIA_EXTRA_CONF:-} ]] || echo "# scoriad [DEFAULT] extra: $(tr '\n' ';' <<<"$SCORIA_EXTRA_CONF")"

# ---- a pool of our own, removed at the end ----
ceph osd pool create "$pool" 8 8 replicated >/dev/null 2>&1
rbd pool init "$pool"

# ---- scoriad: api, scheduler, volume, backup; backends `ceph` (rbd) and `file` ----
state=$work/state
mkdir -p "$state"
api_port=$(free_port); target_port=$(free_port)
cat >"$state/scoria.conf" <<EOF
[DEFAULT]
state_path = $state
host = bench
enabled_services = api,scheduler,volume,backup
enabled_backends = ceph,file
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $api_port
target_ip_address = 127.0.0.1
target_port = $target_port
log_level = info
quota_volumes = -1
quota_gigabytes = -1
quota_backups = -1
quota_backup_gigabytes = -1
${SCORIA_EXTRA_CONF:-}

[database]
connection = sqlite:///\$state_path/scoria.sqlite

[ceph]
volume_driver = rbd
volume_backend_name = ceph
rbd_pool = $pool
rbd_ceph_conf = $CONF
rados_connect_timeout = 20

[file]
volume_driver = file
volume_backend_name = file
file_volume_dir = \$state_path/file
EOF
"$build/bin/scoriad" --config "$state/scoria.conf" >"$state/scoriad.log" 2>&1 &
spid=$!
URL=http://127.0.0.1:$api_port
py wait "$URL" || { tail -30 "$state/scoriad.log"; exit 1; }
py type "$URL" ceph ceph
py type "$URL" file file
osd_pid=$(pgrep -f -- "ceph-osd -c $CONF" | head -1 || true)   # read for its CPU time only

# ---- data path ----
declare -A OPTS PID
qopts_iscsi() {   # attachment line -> qemu --image-opts string
  local att portal iqn lun user pass
  read -r att portal iqn lun user pass <<<"$1"
  echo "driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=$portal,file.target=$iqn,file.lun=$lun,file.user=$user,file.password=$pass,file.initiator-name=$INIT"
}
PATHS=(iscsi-rbd librbd iscsi-file)
if [[ -n ${CELLS// /} ]]; then
  # Both volumes filled with random bytes: no read is of an unwritten object or of a hole.
  t0=$(now)
  data_rbd=$(py create "$URL" "$DATA_GB" ceph)
  data_file=$(py create "$URL" "$DATA_GB" file)
  py fill "$CONF" "$pool" "volume-$data_rbd"
  dd if=/dev/urandom of="$state/file/volume-$data_file" bs=1M count=$((DATA_GB * 1024)) conv=notrunc status=none
  echo "# data-path volumes ($DATA_GB GiB each, rbd $data_rbd, file $data_file) written in $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}') s"
  sync
  att_rbd=$(py attach "$URL" "$data_rbd" "$INIT")
  att_file=$(py attach "$URL" "$data_file" "$INIT")
  OPTS[iscsi-rbd]=$(qopts_iscsi "$att_rbd")
  OPTS[iscsi-file]=$(qopts_iscsi "$att_file")
  # The image stays attached (open in scoriad) while QEMU opens it too: runs never overlap, and
  # the exclusive lock moves to whoever writes first, in a warm-up run.
  OPTS[librbd]="driver=raw,file.driver=rbd,file.pool=$pool,file.image=volume-$data_rbd,file.conf=$CONF,file.user=admin"
  PID[iscsi-rbd]=$spid; PID[iscsi-file]=$spid; PID[librbd]=
fi
# qemu-img bench steps through the image by -S modulo (size - 4 KiB); a prime stride of 7919
# blocks (31 MiB: a different RADOS object each time) visits every 4 KiB block once per cycle.
# Sequential runs wrap around the same way (a 1 GiB image is read in about a second).
STRIDE=$((4096 * 7919))

qbench() {   # path count depth size step [-w] -> prints seconds
  local p=$1 c=$2 d=$3 s=$4 st=$5; shift 5
  /usr/bin/time -f "%U %S" -o "$work/client.time" \
    qemu-img bench --image-opts -t none -c "$c" -d "$d" -s "$s" -S "$st" --pattern=165 "$@" "${OPTS[$p]}" 2>&1 |
    awk '/Run completed in/ {print $4; f=1} END {if (!f) exit 1}'
}

# One measured run; sets R_IOPS R_MBS R_LAT_US R_TGT_US R_OSD_US R_CLI_US (CPU per I/O of
# scoriad, of the OSD and of the client; the client's includes its start-up and login).
qcell() {   # path depth size step [-w]
  local p=$1 d=$2 s=$3 st=$4; shift 4
  local c0=$(( s > 65536 ? 100 : (d == 1 ? 300 : 3000) ))
  local t0 c secs a1 a2 o1 o2
  t0=$(qbench "$p" "$c0" "$d" "$s" "$st" "$@")            # warm-up and calibration
  c=$(awk -v c0="$c0" -v t0="$t0" -v dur="$DUR" 'BEGIN {c = int(c0 * dur / (t0 > 0.001 ? t0 : 0.001)); if (c < c0) c = c0; print c}')
  a1=$(cpu_ticks "${PID[$p]}"); o1=$(cpu_ticks "$osd_pid")
  secs=$(qbench "$p" "$c" "$d" "$s" "$st" "$@")
  a2=$(cpu_ticks "${PID[$p]}"); o2=$(cpu_ticks "$osd_pid")
  read -r R_IOPS R_MBS R_LAT_US R_TGT_US R_OSD_US < <(awk -v c="$c" -v t="$secs" -v d="$d" -v s="$s" \
      -v da=$((a2 - a1)) -v dosd=$((o2 - o1)) -v hz="$HZ" \
    'BEGIN {printf "%.0f %.1f %.1f %.1f %.1f\n", c/t, c*s/t/1048576, t/c*d*1e6, da/hz*1e6/c, dosd/hz*1e6/c}')
  R_CLI_US=$(awk -v c="$c" '{printf "%.1f", ($1 + $2) * 1e6 / c}' "$work/client.time")
}

declare -A V   # V[metric|path] = values of all repetitions
ORDER=()
add() { [[ -v V["$1|iscsi-rbd"] ]] || ORDER+=("$1"); V["$1|$2"]+="$3 "; }
cpu() {   # metric-prefix path: the CPU columns of the last run
  add "$1 CPU us/IO scoriad" "$2" "$R_TGT_US"; add "$1 CPU us/IO OSD" "$2" "$R_OSD_US"
  add "$1 CPU us/IO client" "$2" "$R_CLI_US"
}
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2}'; }
on() { [[ $CELLS == *" $1 "* ]]; }

if [[ -n ${CELLS// /} ]]; then
  for rep in $(seq "$REPS"); do
    for p in "${PATHS[@]}"; do   # paths alternate inside each repetition
      if on rr1;  then qcell "$p" 1 4096 "$STRIDE";        add "4k randread QD1 IOPS" "$p" "$R_IOPS"; add "4k randread QD1 mean lat us" "$p" "$R_LAT_US"; cpu "4k randread QD1" "$p"; fi
      if on rr32; then qcell "$p" 32 4096 "$STRIDE";       add "4k randread QD32 IOPS" "$p" "$R_IOPS"; cpu "4k randread QD32" "$p"; fi
      if on rw1;  then qcell "$p" 1 4096 "$STRIDE" -w;     add "4k randwrite QD1 IOPS" "$p" "$R_IOPS"; add "4k randwrite QD1 mean lat us" "$p" "$R_LAT_US"; cpu "4k randwrite QD1" "$p"; fi
      if on rw32; then qcell "$p" 32 4096 "$STRIDE" -w;    add "4k randwrite QD32 IOPS" "$p" "$R_IOPS"; cpu "4k randwrite QD32" "$p"; fi
      if on sr;   then qcell "$p" 4 1048576 1048576;       add "1M seqread QD4 IOPS" "$p" "$R_IOPS"; add "1M seqread QD4 MiB/s" "$p" "$R_MBS"; cpu "1M seqread QD4" "$p"; fi
      if on sw;   then qcell "$p" 4 1048576 1048576 -w;    add "1M seqwrite QD4 IOPS" "$p" "$R_IOPS"; add "1M seqwrite QD4 MiB/s" "$p" "$R_MBS"; cpu "1M seqwrite QD4" "$p"; fi
      echo "# rep $rep/$REPS $p done (load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
  py detach "$URL" "${att_rbd%% *}" "$data_rbd"
  py detach "$URL" "${att_file%% *}" "$data_file"
fi

# ---- backups ----
declare -A B
if [[ $BACKUP == 1 ]]; then
  exp=$work/export   # next to the backup store (state/backup): the same filesystem
  mkdir -p "$exp"
  store=$state/backup
  stored() { [[ -e $1 ]] && du -s --block-size=1 "$1" | cut -f1 || echo 0; }
  t0=$(now)
  bvol=$(py create "$URL" "$SIZE_GB" ceph)
  img="$pool/volume-$bvol"
  py fill "$CONF" "$pool" "volume-$bvol"
  echo "# backup volume ($SIZE_GB GiB, $bvol) written with random bytes in $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}') s"

  settle; echo "# Scoria full backup"
  read -r full_id B[scoria_full] < <(py backup "$URL" "$bvol" full)
  B[scoria_full_bytes]=$(stored "$store")
  settle; echo "# rbd snap create + rbd export"
  t0=$(now)
  rbd snap create "$img@bench-full" >/dev/null 2>&1
  rbd export --no-progress "$img@bench-full" "$exp/full.raw" >/dev/null
  sync "$exp/full.raw"
  B[rbd_full]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
  B[rbd_full_bytes]=$(stored "$exp/full.raw")

  # Each round: PCT % of the volume rewritten in blocks of one size, then both incrementals
  # (Scoria's from its last backup, rbd's from the previous round's snapshot).
  prev=bench-full; round=0
  for blk in $BLOCKS; do
    round=$((round + 1))
    read -r nblk B[chg_$round] < <(py change "$CONF" "$pool" "volume-$bvol" "$PCT" "$blk" "$round")
    B[blk_$round]=$blk
    echo "# round $round: changed $nblk blocks of $blk bytes at random aligned offsets (${B[chg_$round]} bytes)"
    settle; echo "# Scoria incremental backup"
    before=$(stored "$store")
    read -r incr_id B[scoria_incr_$round] < <(py backup "$URL" "$bvol" "incr$round" incr)
    B[scoria_incr_${round}_bytes]=$(( $(stored "$store") - before ))
    grep -F "backup $incr_id:" "$state/scoriad.log" | grep "changed range" | tail -1 | sed 's/^.*backup [^:]*: /# scoriad: /' || true
    settle; echo "# rbd snap create + rbd export-diff --from-snap $prev"
    t0=$(now)
    rbd snap create "$img@bench-incr$round" >/dev/null 2>&1
    rbd export-diff --no-progress --from-snap "$prev" "$img@bench-incr$round" "$exp/incr$round.diff" >/dev/null
    sync "$exp/incr$round.diff"
    B[rbd_incr_$round]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
    B[rbd_incr_${round}_bytes]=$(stored "$exp/incr$round.diff")
    prev=bench-incr$round
  done
fi

# ---- results ----
ratio() { awk -v s="$1" -v g="$2" 'BEGIN {if (g + 0 > 0) printf "%.2f", s / g; else print "-"}'; }
if [[ -n ${CELLS// /} ]]; then
  echo
  echo "== data path, one ${DATA_GB} GiB RBD image: Scoria's iSCSI target vs QEMU's librbd; a file volume through the same target (median of $REPS; ratio = iscsi-rbd / librbd)"
  printf '%-36s | %10s | %10s | %6s | %10s | %s\n' metric iscsi-rbd librbd ratio iscsi-file "iscsi-rbd runs; librbd runs; iscsi-file runs"
  printf '%s\n' "-------------------------------------+------------+------------+--------+------------+----------------"
  for m in "${ORDER[@]}"; do
    a=$(median "${V[$m|iscsi-rbd]}"); b=$(median "${V[$m|librbd]}"); f=$(median "${V[$m|iscsi-file]}")
    r=$(ratio "$a" "$b"); [[ $m == *"CPU"* ]] && r=""
    printf '%-36s | %10s | %10s | %6s | %10s | %s; %s; %s\n' "$m" "$a" "$b" "$r" "$f" \
      "${V[$m|iscsi-rbd]% }" "${V[$m|librbd]% }" "${V[$m|iscsi-file]% }"
  done
  echo "# goal (issue): iSCSI over RBD within 15% of native librbd in IOPS, i.e. ratio >= 0.85 on the IOPS rows"
fi
if [[ $BACKUP == 1 ]]; then
  vol_mib=$((SIZE_GB * 1024))
  echo
  echo "== backups of a ${SIZE_GB} GiB RBD volume of random bytes; incrementals after ${PCT}% of it is rewritten in scattered blocks (data MiB/s: of the changed bytes)"
  printf '%-52s | %8s | %12s | %12s | %10s\n' step seconds "volume MiB/s" "data MiB/s" "stored MiB"
  printf '%s\n' "-----------------------------------------------------+----------+--------------+--------------+-----------"
  brow() { printf '%-52s | %8s | %12s | %12s | %10s\n' "$1" "$2" \
             "$(awk -v m="$vol_mib" -v s="$2" 'BEGIN{printf "%.0f", m/s}')" \
             "$(awk -v m="$3" -v s="$2" 'BEGIN{printf "%.1f", m/1048576/s}')" \
             "$(awk -v b="$4" 'BEGIN{printf "%.1f", b/1048576}')"; }
  brow "Scoria full backup (POST -> available)" "${B[scoria_full]}" $((vol_mib * 1048576)) "${B[scoria_full_bytes]}"
  brow "rbd export (+ snap create, sync)" "${B[rbd_full]}" $((vol_mib * 1048576)) "${B[rbd_full_bytes]}"
  echo "# Scoria / rbd time, full: $(ratio "${B[scoria_full]}" "${B[rbd_full]}")"
  for r in $(seq "$round"); do
    what="$(awk -v b="${B[chg_$r]}" -v k="${B[blk_$r]}" 'BEGIN{printf "%.0f MiB in %s blocks", b/1048576, (k >= 1048576 ? k/1048576 " MiB" : k/1024 " KiB")}')"
    brow "Scoria incremental, $what" "${B[scoria_incr_$r]}" "${B[chg_$r]}" "${B[scoria_incr_${r}_bytes]}"
    brow "rbd export-diff (+ snap, sync), $what" "${B[rbd_incr_$r]}" "${B[chg_$r]}" "${B[rbd_incr_${r}_bytes]}"
    echo "# Scoria / rbd time, incremental $r: $(ratio "${B[scoria_incr_$r]}" "${B[rbd_incr_$r]}")"
  done
  echo "# stored: du of the posix store (Scoria; incremental = growth) and of the export file (rbd)"
fi
echo "# end load $(cut -d' ' -f1-3 /proc/loadavg)"
