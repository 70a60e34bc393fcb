#!/usr/bin/env bash
# Backup benchmark: Scoria's backup repository vs restic vs the `zstd -1 | sha256sum` near-limit,
# on the same raw image, in one run. Usage: bench/backup_bench.sh [BUILD_DIR] [WORK_DIR]
#
# Image (SIZE_GIB, default 4): first quarter random (incompressible) data, second quarter a copy
# of it (dedup), second half never written (sparse holes). Steps, each timed:
#   1. Scoria full backup (allocated ranges from SEEK_DATA/SEEK_HOLE, as the file driver reports)
#   2. restic full backup of the same file (repository v2, zstd "auto")
#   3. zstd -1 -T2 | sha256sum over the whole image: compress + hash, no storage (near-limit)
#   4. change 1% of the volume: 64 random writes of 640 KiB at 4 KiB-aligned offsets (~40 MiB,
#      some into the never-written half), made through the file driver's tracked device
#      (`backup_bench track`), which records them in the volume's change map
#   5. Scoria incremental without change tracking: all allocated ranges re-read, chunks
#      compared by hash with the parent's manifest; and with it: only the ranges the file
#      driver's change map gives (whole 4 MiB granules) read
#   6. restic incremental (it re-reads and re-chunks the changed file)
#   7. Scoria restore of the incremental into a new sparse file (checked with cmp), restic restore
# The page cache is warm for every reader (the image fits in RAM); repositories are on the
# same filesystem as the image, and every chunk / pack is fsynced by both tools.
set -euo pipefail
build=${1:-build}
work=${2:-/var/tmp/scoria-backup-bench}
size_gib=${SIZE_GIB:-4}
cd "$(dirname "$0")/.."
bin="$build/bin/backup_bench"
[ -x "$bin" ] || { echo "build $bin first (ninja -C $build backup_bench)"; exit 1; }
for t in restic zstd python3 openssl; do command -v $t >/dev/null || { echo "missing $t (scripts/install-deps.sh)"; exit 1; }; done

rm -rf "$work"; mkdir -p "$work"
mkdir -p "$work/vol"
img="$work/vol/volume-bench"  # the file driver's layout, for its change map
q=$((size_gib * 1024 / 4))   # MiB in a quarter
export RESTIC_PASSWORD=scoria-bench RESTIC_CACHE_DIR="$work/restic-cache"

now() { date +%s.%N; }
# Before each timed step: write back what earlier steps left dirty, so no step pays for another.
settle() { sync; sleep 2; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.0f", b/1e6/s}'; }
size_of() { du -sb "$1" | cut -f1; }
json() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "== making a ${size_gib} GiB image: ${q} MiB random, a copy of it, $((q * 2)) MiB never written"
truncate -s "${size_gib}G" "$img"
(openssl enc -aes-128-ctr -nosalt -pass pass:scoria -in /dev/zero 2>/dev/null || true) | head -c "$((q * 1024 * 1024))" > "$work/q1"
dd if="$work/q1" of="$img" bs=4M conv=notrunc status=none
dd if="$work/q1" of="$img" bs=4M seek=$((q / 4)) conv=notrunc status=none
rm "$work/q1"; sync
vol_bytes=$((size_gib * 1024 * 1024 * 1024))
cat "$img" > /dev/null  # warm the page cache for everyone

declare -A T R
settle; echo "== Scoria full backup"
out=$("$bin" full "$img" "$work/scoria-repo" full1); echo "$out"
T[scoria_full]=$(json "$out" seconds); R[scoria_full]=$(size_of "$work/scoria-repo")

settle; echo "== restic full backup"
restic init -q --repo "$work/restic-repo" --repository-version 2 >/dev/null
t0=$(now); restic backup -q --repo "$work/restic-repo" "$img" >/dev/null; t1=$(now)
T[restic_full]=$(secs "$t0" "$t1"); R[restic_full]=$(size_of "$work/restic-repo")

settle; echo "== zstd -1 -T2 | sha256sum (whole image, then the allocated half only)"
t0=$(now); zstd -q -1 -T2 -c "$img" | sha256sum >/dev/null; t1=$(now)
T[zstd]=$(secs "$t0" "$t1")
t0=$(now); head -c "$((q * 2 * 1024 * 1024))" "$img" | zstd -q -1 -T2 -c | sha256sum >/dev/null; t1=$(now)
T[zstd_data]=$(secs "$t0" "$t1")
# The changed-ranges incremental gets its own copy of the repository as it is now, so it
# stores its changed chunks itself instead of finding them stored by the other incremental.
cp -a "$work/scoria-repo" "$work/scoria-repo-2"

echo "== changing 1% of the volume (64 x 640 KiB, scattered)"
"$bin" track "$img" "$work/changed.txt" 64 $((640 * 1024))

settle; echo "== Scoria incremental without change tracking (all allocated ranges re-read, compared by hash)"
out=$("$bin" incr "$img" "$work/scoria-repo" incr1 full1); echo "$out"
T[scoria_incr]=$(json "$out" seconds); R[scoria_incr]=$(size_of "$work/scoria-repo")
settle; echo "== Scoria incremental with the file driver's change map (changed granules only)"
out=$("$bin" changed "$img" "$work/scoria-repo-2" incr2 full1 "$work/changed.txt"); echo "$out"
T[scoria_changed]=$(json "$out" seconds)

settle; echo "== restic incremental"
t0=$(now); restic backup -q --repo "$work/restic-repo" "$img" >/dev/null; t1=$(now)
T[restic_incr]=$(secs "$t0" "$t1"); R[restic_incr]=$(size_of "$work/restic-repo")

settle; echo "== Scoria restore of the incremental"
out=$("$bin" restore "$work/restored.img" "$work/scoria-repo" incr1); echo "$out"
T[scoria_restore]=$(json "$out" seconds)
cmp "$img" "$work/restored.img" && echo "restored image identical"
rm -f "$work/restored.img"
"$bin" restore "$work/restored.img" "$work/scoria-repo-2" incr2 >/dev/null
cmp "$img" "$work/restored.img" && echo "restored change-map incremental identical (not timed)"
rm -f "$work/restored.img"
settle; echo "== restic restore"
# Scoria's restore ends with a device flush (the volume is durable when the job ends); restic
# does not fsync what it restores, so its time includes a sync of the restored file.
t0=$(now); restic restore -q --repo "$work/restic-repo" latest --target "$work/restic-restore" >/dev/null
sync -d "$work/restic-restore$img" 2>/dev/null || sync; t1=$(now)
T[restic_restore]=$(secs "$t0" "$t1")
rm -rf "$work/restic-restore"

echo
echo "== results: ${size_gib} GiB image ($((q * 2)) MiB of data, half of it a copy), MB/s of the image"
printf "%-44s %8s %8s %12s\n" step seconds MB/s "repo MiB"
row() { printf "%-44s %8s %8s %12s\n" "$1" "$2" "$(mbs $vol_bytes "$2")" "$3"; }
mib() { awk -v b="$1" 'BEGIN{printf "%.0f", b/1048576}'; }
row "Scoria full backup" "${T[scoria_full]}" "$(mib ${R[scoria_full]})"
row "restic full backup" "${T[restic_full]}" "$(mib ${R[restic_full]})"
row "zstd -1 -T2 | sha256sum, whole image" "${T[zstd]}" "-"
row "zstd -1 -T2 | sha256sum, allocated half" "${T[zstd_data]}" "-"
row "Scoria incremental, no tracking (hash compare)" "${T[scoria_incr]}" "$(mib ${R[scoria_incr]})"
row "Scoria incremental, change map" "${T[scoria_changed]}" "-"
row "restic incremental" "${T[restic_incr]}" "$(mib ${R[restic_incr]})"
row "Scoria restore" "${T[scoria_restore]}" "-"
row "restic restore" "${T[restic_restore]}" "-"
awk -v a="${T[restic_full]}" -v b="${T[scoria_full]}" -v c="${T[restic_incr]}" -v d="${T[scoria_incr]}" \
    -v e="${T[restic_restore]}" -v f="${T[scoria_restore]}" -v z="${T[zstd]}" -v zd="${T[zstd_data]}" \
  'BEGIN{printf "speed-ups over restic: full %.2fx, incremental %.2fx, restore %.2fx\n", a/b, c/d, e/f;
         printf "Scoria full backup time vs zstd|sha256sum: %.2fx the whole-image pipe, %.2fx the allocated-half pipe\n", b/z, b/zd}'
rm -rf "$work"
