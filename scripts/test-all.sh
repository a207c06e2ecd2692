#!/usr/bin/env bash
# scripts/test-all.sh: every test, as CI runs it.
#   1. installs the Debian and npm packages the build and tests need;
#   2. builds (RelWithDebInfo) and runs ctest: unit, integration, the
#      official conformance suite (three runs in a row, once more over the
#      httplib transport, once through --auth jwt with a token, then once over
#      the cold tier in a directory and in an S3-compatible server), the cold
#      tier's end-to-end S3 test (100,000 messages, faults, SigV4 checked by
#      an independent signer), the package consumers (install, find_package,
#      add_subdirectory, pkg-config) and the crash torture in its short modes
#      (24 kill -9 cycles, then 12 with rotation all the time);
#   3. builds with ASan+UBSan and runs unit and integration tests;
#   4. builds with TSan and runs unit and integration tests;
#   5. builds the libFuzzer targets with clang and runs each for 30 s;
#   6. runs the benchmark harnesses (bench/run.sh, bench/cold.sh) in their
#      quick modes (figures, no targets).
# Ends with the line "N passed, M failed" (test programs across all builds).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
passed=0
failed=0

"$root/scripts/deps.sh" || { echo "installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
(cd "$root/tests/conformance" && npm ci --no-audit --no-fund >/dev/null &&
  cd "$root/tests/s3" && npm ci --no-audit --no-fund >/dev/null) ||
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
  "unit|integration|conformance|cold|package|reliability" \
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

echo "=== benchmark harness (quick mode: it must run, its figures mean little)"
if bench_out=$("$root/bench/run.sh" --quick 2>/dev/null) && echo "$bench_out" | grep -q "^| append 1 conn"; then
  echo "$bench_out" | tail -16
  passed=$((passed + 1))
else
  echo "$bench_out" | tail -20
  echo "the benchmark harness failed"
  failed=$((failed + 1))
fi

echo "=== cold tier bench (quick mode)"
if cold_out=$("$root/bench/cold.sh" --quick 2>/dev/null) && echo "$cold_out" | grep -q "^| cold, cached"; then
  echo "$cold_out"
  passed=$((passed + 1))
else
  echo "$cold_out" | tail -20
  echo "the cold tier bench failed"
  failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
