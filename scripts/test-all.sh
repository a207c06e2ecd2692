#!/usr/bin/env bash
# scripts/test-all.sh: every test, as CI runs it.
#   1. installs the Debian and npm packages the build and tests need;
#   2. builds (RelWithDebInfo) and runs ctest: unit, integration, the
#      official conformance suite with its subscription tests (three runs in
#      a row, three more over the httplib transport, once through --auth jwt
#      with a token and without the subscription tests, then once over
#      the cold tier in a directory and in an S3-compatible server), the cold
#      tier's end-to-end S3 test (100,000 messages, faults, SigV4 checked by
#      an independent signer), the package consumers (install, find_package,
#      add_subdirectory, pkg-config), the crash torture in its short modes
#      (24 kill -9 cycles, then 12 with rotation all the time) and the
#      estuary torture (exactly-once fan-out, 6 kill -9 cycles), and the
#      admin page in headless Chromium (tests/browser), and nginx in front
#      (deploy/nginx: the suite through its cache, 1,000 reads collapsing);
#   3. builds with ASan+UBSan and runs unit and integration tests;
#   4. builds with TSan and runs unit and integration tests;
#   5. builds the libFuzzer targets with clang and runs each for 30 s;
#   6. runs the benchmark harnesses (bench/run.sh, bench/cold.sh,
#      bench/subscriptions.sh, bench/estuary.sh, bench/metrics.sh,
#      bench/front.sh, bench/cluster.sh) in their quick modes
#      (figures, no targets).
# Ends with the line "N passed, M failed" (test programs across all builds).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
passed=0
failed=0

"$root/scripts/deps.sh" || { echo "installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
(cd "$root/tests/conformance" && npm ci --no-audit --no-fund >/dev/null &&
  cd "$root/tests/s3" && npm ci --no-audit --no-fund >/dev/null &&
  cd "$root/tests/browser" && npm ci --no-audit --no-fund >/dev/null) ||
  { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }

# run_ctest BUILD_DIR CMAKE_ARGS LABEL_REGEX [ENV...]
run_ctest() {
  local dir=$1 args=$2 labels=$3
  shift 3
  echo "=== $dir ($args)"
  if ! cmake -S "$root" -B "$dir" $args >/dev/null || ! cmake --build "$dir" -j"$jobs" >/dev/null; then
    echo "build failed in $dir"
    cmake --build "$dir" -j1 2>&1 | tail -30
    failed=$((failed + 1))
    return
  fi
  local out
  out=$(cd "$dir" && env "$@" ctest --output-on-failure -L "$labels" 2>&1)
  echo "$out" | tail -40
  # The figures (ctest keeps a passing test's output in its log only).
  grep -hE "^(conformance run|crash torture: [0-9]|package: |sigv4: |segments: |cold tier S3 test: |S3 test server: )" \
    "$dir/Testing/Temporary/LastTest.log" \
    2>/dev/null || true
  local p f
  p=$(echo "$out" | grep -cE "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed")
  f=$(echo "$out" | grep -cE "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(Failed|Timeout|Exception|Not Run)")
  passed=$((passed + p))
  failed=$((failed + f))
}

run_ctest "$root/build" "-DCMAKE_BUILD_TYPE=RelWithDebInfo" \
  "unit|integration|conformance|cold|package|reliability|browser|nginx" \
  DS_CONFORMANCE_RUNS=3
run_ctest "$root/build-asan" "-DCMAKE_BUILD_TYPE=Debug -DDS_SANITIZE=address" "unit|integration" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest "$root/build-tsan" "-DCMAKE_BUILD_TYPE=Debug -DDS_SANITIZE=thread" "unit|integration" \
  TSAN_OPTIONS="halt_on_error=1:suppressions=$root/tests/tsan.supp"

echo "=== fuzzing (short run)"
fuzz_out=$("$root/scripts/fuzz.sh" 30 2>&1)
echo "$fuzz_out" | tail -40
passed=$((passed + $(echo "$fuzz_out" | grep -c "no finding")))
failed=$((failed + $(echo "$fuzz_out" | grep -c "FINDING")))
echo "$fuzz_out" | grep -q "^fuzz " || failed=$((failed + 1))

# A benchmark harness in its quick mode: it must run and print its last
# row; its figures mean little. `bench_quick NAME SCRIPT LAST-ROW LINES`.
bench_quick() {
  echo "=== $1 (quick mode: it must run, its figures mean little)"
  local out
  if out=$("$root/bench/$2" --quick 2>/dev/null) && echo "$out" | grep -q "^| $3"; then
    echo "$out" | tail -"$4"
    passed=$((passed + 1))
  else
    echo "$out" | tail -20
    echo "the $1 failed"
    failed=$((failed + 1))
  fi
}
bench_quick "benchmark harness" run.sh "append 1 conn" 16
bench_quick "cold tier bench" cold.sh "cold, cached" 20
bench_quick "subscriptions bench" subscriptions.sh "append -> all 1,000" 20
bench_quick "estuary bench" estuary.sh "300 session streams" 10
bench_quick "metrics bench" metrics.sh "append 32 conns" 6
bench_quick "front bench" front.sh "through nginx" 6
bench_quick "cluster bench" cluster.sh "three nodes" 8

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
