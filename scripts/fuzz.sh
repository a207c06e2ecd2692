#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer targets with
# clang (ASan+UBSan) and runs each for SECONDS (default 30: the CI's short
# run; the documented long run is 600). Seeds come from tests/fuzz/corpus;
# what a run discovers is kept in build-fuzz/corpus (not committed). A crash
# leaves its input in build-fuzz/artifacts and fails the script.
# Prints one line per target: name, seconds, executions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_offset fuzz_headers fuzz_json_batch fuzz_sse fuzz_request fuzz_segment fuzz_token fuzz_subscription
  fuzz_http)

if ! command -v clang++ >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDS_SANITIZE=fuzzer -DDS_BUILD_FUZZERS=ON -DDS_BUILD_TESTS=OFF -DDS_BUILD_SERVER=OFF \
  -DDS_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  log="$build/$t.log"
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" \
       >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $t: ${seconds}s, ${runs} executions, no finding"
  else
    echo "fuzz $t: FINDING (see $log and $build/artifacts)"
    tail -30 "$log"
    status=1
  fi
done
exit $status
