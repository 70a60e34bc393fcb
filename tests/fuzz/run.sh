#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 30) over its
# seed corpus. New inputs go to a scratch copy (build-fuzz/corpus/<name>), never to the
# committed seeds; crashes land in build-fuzz/artifacts/. Exits non-zero if any fuzzer fails.
#   tests/fuzz/run.sh            # all fuzzers
#   FUZZ_SECONDS=60 tests/fuzz/run.sh pdu_fuzz
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-30}
JOBS=${FUZZ_BUILD_JOBS:-2}

cmake -S tests/fuzz -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  >/dev/null
cmake --build "$BUILD" -j"$JOBS"

fuzzers=("$@")
if [ ${#fuzzers[@]} -eq 0 ]; then fuzzers=(pdu_fuzz login_fuzz http_fuzz); fi

status=0
mkdir -p "$BUILD/artifacts"
for f in "${fuzzers[@]}"; do
  name=${f%_fuzz}
  scratch="$BUILD/corpus/$name"
  mkdir -p "$scratch"
  echo "== $f: ${SECONDS_EACH}s"
  if ! "$BUILD/$f" -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$BUILD/artifacts/$name-" -rss_limit_mb=2048 \
      "$scratch" "tests/fuzz/corpus/$name" 2>"$BUILD/$f.log"; then
    echo "!! $f failed; see $BUILD/$f.log and $BUILD/artifacts/"
    tail -40 "$BUILD/$f.log"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" \
    "$BUILD/$f.log" || true
  tail -1 "$BUILD/$f.log" | grep -E "Done [0-9]+ runs" || true
done
exit $status
