#!/usr/bin/env bash
# Data-path benchmark: Scoria's iSCSI target (scoria-target, the TargetServer scoriad runs)
# against tgt (tgtd, Cinder's default target), same machine, same run, loopback.
# Prints figures and ratios; nothing fails on numbers. Method: docs/benchmarks.md.
#
# Usage: bench/iscsi_bench.sh [BUILD_DIR]
# Environment (all optional):
#   BASE=        a second build dir: its scoria-target runs too, as "base", on its own file,
#                interleaved with the others (before/after comparisons in the same conditions)
#   CELLS="rr1 rr32 perf rw1 rw32 sr sw"  which cells to run (default: all)
#   DUR=5        seconds per measured run (counts are calibrated from a warm-up run)
#   REPS=3       repetitions per cell; the table shows the median
#   SIZE_MB=2048 backing file size (one file per target, same content, pre-written)
#   BENCH_DIR=   parent of the temp dir holding the files (default: $TMPDIR or /tmp,
#                i.e. the disk; /dev/shm removes disk variance)
#   PIN=1        target on CPU 1, client on CPU 0 (PIN=0: unpinned, both compete)
#   FIO=1        also measure the disk itself with fio (O_DIRECT, io_uring) for reference
#   BENCH_FS=    xfs: the files live on a fresh XFS (reflink=1, the file driver's recommended
#                filesystem) made in a loop-mounted image under the temp dir (root only)
#   FILL_BS=1M   block size of the dd that writes each backing file: it sets the size of the
#                page-cache folios the 4 KiB writes land in (see the dd comment below)
set -euo pipefail

build=${1:-build}
build=$(cd "$build" && pwd)
DUR=${DUR:-5}
REPS=${REPS:-3}
SIZE_MB=${SIZE_MB:-2048}
PIN=${PIN:-1}
FIO=${FIO:-1}
FILL_BS=${FILL_BS:-1M}
IQN=iqn.2010-10.org.openstack:volume-00000000-0000-0000-0000-000000000001
INIT=iqn.2026-01.org.scoria:bench
SCORIA_PORT=${SCORIA_PORT:-13262}
TGT_PORT=${TGT_PORT:-13261}
TGT_CTL=${TGT_CTL:-$((20000 + RANDOM % 10000))}   # tgtd control port (its own socket)
HZ=$(getconf CLK_TCK)

for tool in tgtd tgtadm iscsi-perf qemu-img; do
  command -v $tool >/dev/null || { echo "missing $tool (packages: tgt, libiscsi-bin, qemu-utils qemu-block-extra)" >&2; exit 1; }
done
[[ -x $build/bin/scoria-target ]] || { echo "no $build/bin/scoria-target: build the scoria-target target first" >&2; exit 1; }
BASE=${BASE:-}
if [[ -n $BASE ]]; then
  BASE=$(cd "$BASE" && pwd)
  [[ -x $BASE/bin/scoria-target ]] || { echo "no $BASE/bin/scoria-target" >&2; exit 1; }
fi
CELLS=" ${CELLS:-rr1 rr32 perf rw1 rw32 sr sw} "
BASE_PORT=${BASE_PORT:-13263}
[[ -x /usr/bin/time ]] || { echo "installing time (Debian package time) for the client's CPU figures"; apt-get install -y -qq time >/dev/null; }
if [[ $FIO == 1 ]] && ! command -v fio >/dev/null; then
  echo "installing fio (Debian package fio) for the local-disk reference"
  apt-get install -y -qq fio >/dev/null
fi

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/scoria-iscsi-bench.XXXXXX")
spid= tpid= bpid= fsimg=
cleanup() {
  [[ -n $tpid ]] && { tgtadm -C "$TGT_CTL" --op delete --mode system >/dev/null 2>&1 || true
                      sleep 0.2; kill -9 "$tpid" 2>/dev/null || true; }
  [[ -n $spid ]] && { kill "$spid" 2>/dev/null || true; }
  [[ -n $bpid ]] && { kill "$bpid" 2>/dev/null || true; }
  wait 2>/dev/null || true
  [[ -n $fsimg ]] && { umount "$work" 2>/dev/null || umount -l "$work" 2>/dev/null || true; rm -f "$fsimg"; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BENCH_FS=${BENCH_FS:-}
if [[ $BENCH_FS == xfs ]]; then
  command -v mkfs.xfs >/dev/null || { echo "BENCH_FS=xfs needs mkfs.xfs (package xfsprogs)" >&2; exit 1; }
  fsimg="$work.xfs"
  truncate -s $(( SIZE_MB * 4 + 1024 ))M "$fsimg"
  mkfs.xfs -q -m reflink=1 "$fsimg"
  mount -o loop "$fsimg" "$work"
elif [[ -n $BENCH_FS ]]; then
  echo "BENCH_FS: only xfs is known" >&2; exit 1
fi

if [[ $PIN == 1 ]]; then srv=(taskset -c 1); cli=(taskset -c 0); else srv=(); cli=(); fi

# ---- backing files: same size, same (random) content, fully written, same filesystem ----
echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# scoria $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'), tgt $(dpkg-query -W -f '${Version}' tgt 2>/dev/null), qemu-img $(qemu-img --version | head -1 | awk '{print $3}'), libiscsi $(dpkg-query -W -f '${Version}' libiscsi-bin 2>/dev/null)"
[[ -n $BASE ]] && echo "# base: $BASE ($(git -C "$BASE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "# files: $work ($(df -T "$work" | awk 'NR==2{print $2}')${fsimg:+ on loop image $fsimg}), ${SIZE_MB} MiB each, written with dd bs=$FILL_BS; DUR=${DUR}s REPS=$REPS PIN=$PIN"
# Both files are written the same way (FILL_BS dd writes from one random seed): how a file was
# written shapes its page cache (folio sizes), and 4 KiB buffered overwrites into a file
# written by dd cost ~2x the kernel time of one written by cp (ext4_block_write_begin), so a
# cp'd copy for one target only would bias the write figures. ext4 walks every buffer head
# of the folio on each write, so with bs=1M (1 MiB folios) a 4 KiB write costs ~26 us of
# kernel CPU here, with bs=4k ~10 us (docs/benchmarks.md, "Figures after inline writes").
dd if=/dev/urandom of="$work/seed" bs=1M count="$SIZE_MB" status=none
files="scoria tgt"; [[ -n $BASE ]] && files+=" base"
for f in $files; do dd if="$work/seed" of="$work/$f.img" bs="$FILL_BS" status=none; done
rm -f "$work/seed"
sync

# ---- targets ----
"${srv[@]}" "$build/bin/scoria-target" --port "$SCORIA_PORT" --file "$work/scoria.img" \
  --allow "$INIT" --log-level warning >"$work/scoria.out" 2>"$work/scoria.err" &
spid=$!
"${srv[@]}" tgtd -f -C "$TGT_CTL" --iscsi portal=127.0.0.1:"$TGT_PORT" >"$work/tgtd.log" 2>&1 &
tpid=$!
for _ in $(seq 50); do [[ -s $work/scoria.out ]] && break; sleep 0.1; done
[[ -s $work/scoria.out ]] || { echo "scoria-target did not start:"; cat "$work/scoria.err"; exit 1; }
if [[ -n $BASE ]]; then
  "${srv[@]}" "$BASE/bin/scoria-target" --port "$BASE_PORT" --file "$work/base.img" \
    --allow "$INIT" --log-level warning >"$work/base.out" 2>"$work/base.err" &
  bpid=$!
  for _ in $(seq 50); do [[ -s $work/base.out ]] && break; sleep 0.1; done
  [[ -s $work/base.out ]] || { echo "base scoria-target did not start:"; cat "$work/base.err"; exit 1; }
fi
tgtctl() { tgtadm -C "$TGT_CTL" --lld iscsi "$@"; }
for _ in $(seq 50); do tgtctl --op show --mode target >/dev/null 2>&1 && break; sleep 0.1; done
tgtctl --op new --mode target --tid 1 -T "$IQN"
tgtctl --op new --mode logicalunit --tid 1 --lun 1 -b "$work/tgt.img"   # LUN 0 is tgt's controller
tgtctl --op bind --mode target --tid 1 -I ALL

declare -A PID=([scoria]=$spid [tgt]=$tpid [base]=$bpid)
declare -A URL=([scoria]="iscsi://127.0.0.1:$SCORIA_PORT/$IQN/0" [tgt]="iscsi://127.0.0.1:$TGT_PORT/$IQN/1"
                [base]="iscsi://127.0.0.1:$BASE_PORT/$IQN/0")
declare -A OPTS=(
  [scoria]="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$SCORIA_PORT,file.target=$IQN,file.lun=0,file.initiator-name=$INIT"
  [tgt]="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$TGT_PORT,file.target=$IQN,file.lun=1,file.initiator-name=$INIT"
  [base]="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:$BASE_PORT,file.target=$IQN,file.lun=0,file.initiator-name=$INIT")
TARGETS=(scoria tgt); [[ -n $BASE ]] && TARGETS+=(base)

cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }   # utime+stime, all threads
now() { date +%s.%N; }

# qemu-img bench: fixed count, sequential with a step; "random" 4 KiB uses a large step
# modulo (size - 4 KiB): with the default 2 GiB that modulus is 4 KiB * (2^19 - 1), a prime,
# so the stride visits every 4 KiB block once per cycle in a scattered order.
STRIDE=$((4096 * 7919))
qbench() {   # target count depth size step [-w] -> prints seconds
  local t=$1 c=$2 d=$3 s=$4 st=$5; shift 5
  "${cli[@]}" /usr/bin/time -f "%U %S" -o "$work/client.time" \
    qemu-img bench --image-opts -t none -c "$c" -d "$d" -s "$s" -S "$st" --pattern=165 "$@" "${OPTS[$t]}" 2>&1 |
    awk '/Run completed in/ {print $4; f=1} END {if (!f) exit 1}'
}

# One measured run of a qemu-img bench cell; sets R_IOPS R_LAT_US R_MBS R_CPU_US R_CLI_US
# (R_CLI_US: the client's own user+sys CPU per I/O, start-up and login included, so that a
# run bound by the client, not by the target, shows as such).
qcell() {   # target depth size step [-w]
  local t=$1 d=$2 s=$3 st=$4; shift 4
  local c0=$(( d == 1 ? 1000 : (s > 65536 ? 500 : 10000) ))
  local t0 c secs c1 c2
  t0=$(qbench "$t" "$c0" "$d" "$s" "$st" "$@")            # warm-up and calibration
  c=$(awk -v c0="$c0" -v t0="$t0" -v dur="$DUR" 'BEGIN {c = int(c0 * dur / (t0 > 0.001 ? t0 : 0.001)); if (c < c0) c = c0; print c}')
  if (( s > 65536 )); then  # keep sequential runs inside the file
    local max=$(( SIZE_MB * 1048576 / s - d )); (( c > max )) && c=$max
  fi
  sync   # start clean: the previous run's dirty pages are not written back during this one
  c1=$(cpu_ticks "${PID[$t]}")
  secs=$(qbench "$t" "$c" "$d" "$s" "$st" "$@")
  c2=$(cpu_ticks "${PID[$t]}")
  read -r R_IOPS R_LAT_US R_MBS R_CPU_US < <(awk -v c="$c" -v t="$secs" -v d="$d" -v s="$s" -v dt=$((c2 - c1)) -v hz="$HZ" \
    'BEGIN {printf "%.0f %.1f %.1f %.2f\n", c/t, t/c*d*1e6, c*s/t/1e6, dt/hz*1e6/c}')
  R_CLI_US=$(awk -v c="$c" '{printf "%.2f", ($1 + $2) * 1e6 / c}' "$work/client.time")
}

# iscsi-perf: true random 4 KiB READ16 at QD32 for DUR seconds (a second client for reads).
pcell() {   # target
  local t=$1 c1 c2 a b out iops
  "${cli[@]}" iscsi-perf -i "$INIT" -t 1 -m 32 -b 8 -r "${URL[$t]}" >/dev/null 2>&1 || true   # warm-up
  c1=$(cpu_ticks "${PID[$t]}"); a=$(now)
  out=$("${cli[@]}" iscsi-perf -i "$INIT" -t "$DUR" -m 32 -b 8 -r "${URL[$t]}" 2>&1 | tr '\r' '\n')
  b=$(now); c2=$(cpu_ticks "${PID[$t]}")
  iops=$(awk '/^iops average/ {v = $3} END {print v + 0}' <<<"$out")
  read -r R_IOPS R_LAT_US R_MBS R_CPU_US < <(awk -v i="$iops" -v a="$a" -v b="$b" -v dt=$((c2 - c1)) -v hz="$HZ" \
    'BEGIN {n = i * (b - a); printf "%.0f %.1f %.1f %.2f\n", i, (i > 0 ? 32e6 / i : 0), i * 4096 / 1e6, (n > 0 ? dt/hz*1e6/n : 0)}')
}

declare -A V   # V[metric|target] = space-separated values of all repetitions
ORDER=()
add() { [[ -v V["$1|scoria"] ]] || ORDER+=("$1"); V["$1|$2"]+="$3 "; }
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2}'; }

on() { [[ $CELLS == *" $1 "* ]]; }
for rep in $(seq "$REPS"); do
  for t in "${TARGETS[@]}"; do   # alternate targets inside each repetition
    if on rr1; then qcell "$t" 1 4096 "$STRIDE";      add "4k randread QD1 IOPS [hi]" $t "$R_IOPS"; add "4k randread QD1 mean lat us [lo]" $t "$R_LAT_US"; add "4k randread QD1 target CPU us/IO [lo]" $t "$R_CPU_US"; fi
    if on rr32; then qcell "$t" 32 4096 "$STRIDE";    add "4k randread QD32 IOPS [hi]" $t "$R_IOPS"; add "4k randread QD32 mean lat us [lo]" $t "$R_LAT_US"; add "4k randread QD32 target CPU us/IO [lo]" $t "$R_CPU_US"; add "4k randread QD32 client CPU us/IO" $t "$R_CLI_US"; fi
    if on perf; then pcell "$t";                      add "4k randread QD32 IOPS iscsi-perf [hi]" $t "$R_IOPS"; add "4k randread QD32 iscsi-perf CPU us/IO [lo]" $t "$R_CPU_US"; fi
    if on rw1; then qcell "$t" 1 4096 "$STRIDE" -w;   add "4k randwrite QD1 IOPS [hi]" $t "$R_IOPS"; add "4k randwrite QD1 mean lat us [lo]" $t "$R_LAT_US"; add "4k randwrite QD1 target CPU us/IO [lo]" $t "$R_CPU_US"; fi
    if on rw32; then qcell "$t" 32 4096 "$STRIDE" -w; add "4k randwrite QD32 IOPS [hi]" $t "$R_IOPS"; add "4k randwrite QD32 mean lat us [lo]" $t "$R_LAT_US"; add "4k randwrite QD32 target CPU us/IO [lo]" $t "$R_CPU_US"; add "4k randwrite QD32 client CPU us/IO" $t "$R_CLI_US"; fi
    if on sr; then qcell "$t" 4 1048576 1048576;      add "1M seqread QD4 MB/s [hi]" $t "$R_MBS"; add "1M seqread QD4 target CPU us/IO [lo]" $t "$R_CPU_US"; fi
    if on sw; then qcell "$t" 4 1048576 1048576 -w;   add "1M seqwrite QD4 MB/s [hi]" $t "$R_MBS"; add "1M seqwrite QD4 target CPU us/IO [lo]" $t "$R_CPU_US"; fi
    echo "# rep $rep/$REPS $t done (load $(cut -d' ' -f1 /proc/loadavg))"
  done
done

echo
echo "== iSCSI data path, loopback: Scoria vs tgt (median of $REPS; ratio = scoria/tgt; [hi]/[lo]: which way is better)"
if [[ -n $BASE ]]; then
  printf '%-42s | %10s | %10s | %6s | %10s | %6s | %s\n' metric scoria tgt ratio base "s/base" "scoria runs; tgt runs; base runs"
  printf '%s\n' "-------------------------------------------+------------+------------+--------+------------+--------+----------------------"
else
  printf '%-42s | %10s | %10s | %6s | %s\n' metric scoria tgt ratio "scoria runs; tgt runs"
  printf '%s\n' "-------------------------------------------+------------+------------+--------+----------------------"
fi
ratio() { awk -v s="$1" -v g="$2" 'BEGIN {if (g + 0 > 0) printf "%.2f", s / g; else print "-"}'; }
for m in "${ORDER[@]}"; do
  s=$(median "${V[$m|scoria]}"); g=$(median "${V[$m|tgt]}")
  if [[ -n $BASE ]]; then
    b=$(median "${V[$m|base]}")
    printf '%-42s | %10s | %10s | %6s | %10s | %6s | %s; %s; %s\n' "$m" "$s" "$g" "$(ratio "$s" "$g")" "$b" "$(ratio "$s" "$b")" \
      "${V[$m|scoria]% }" "${V[$m|tgt]% }" "${V[$m|base]% }"
  else
    printf '%-42s | %10s | %10s | %6s | %s; %s\n' "$m" "$s" "$g" "$(ratio "$s" "$g")" "${V[$m|scoria]% }" "${V[$m|tgt]% }"
  fi
done

if [[ $FIO == 1 ]]; then
  echo
  echo "== local disk under the backing files (fio, O_DIRECT, io_uring, ${DUR}s each; the targets do buffered I/O on these files)"
  printf '%-30s | %12s | %10s\n' job IOPS MB/s
  for job in "randread 4k 1" "randread 4k 32" "randwrite 4k 1" "randwrite 4k 32" "read 1M 4" "write 1M 4"; do
    read -r rw bs qd <<<"$job"
    out=$("${cli[@]}" fio --name=x --filename="$work/scoria.img" --direct=1 --rw="$rw" --bs="$bs" --iodepth="$qd" \
          --ioengine=io_uring --runtime="$DUR" --time_based --output-format=terse --terse-version=3 2>/dev/null)
    # terse v3: read iops field 8, read bw KiB/s field 7; write iops 49, write bw 48
    awk -F';' -v j="$rw $bs QD$qd" '{ if ($8 + 0 > 0) printf "%-30s | %12d | %10.1f\n", j, $8, $7 * 1024 / 1e6;
                                      else printf "%-30s | %12d | %10.1f\n", j, $49, $48 * 1024 / 1e6 }' <<<"$out"
  done
fi
echo "# end load $(cut -d' ' -f1-3 /proc/loadavg)"
