#!/usr/bin/env bash
# bench/metrics.sh [--quick]: what counting metrics costs (docs/performance.md):
# append 32 conns x 32 streams (100-byte bodies, full sync) against our server
# with --metrics on and with --metrics off, in one run, the two servers taking
# turns (TURNS rounds each, alternating, each side's best round counts), and
# the ratio on/off. Figures, never assertions. While the "on" server is
# loaded a scrape of /metrics is taken every second, as Prometheus would.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then TURNS=1; SECS=1; else TURNS=5; SECS=5; fi
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load >/dev/null
load="$build/bench/load"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

start() {  # name, args... -> sets pid, base
  local name=$1; shift
  "$build/durable-streams-server" --port 0 --data-dir "$work/$name" "$@" >"$work/$name.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/$name.out" && break; sleep 0.1; done
  base="$(sed -n 's/^listening on //p' "$work/$name.out")"
}
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
round() {  # base, scrape? -> the append rate
  local scraper=""
  if [ "$2" = 1 ]; then
    (while sleep 1; do curl -s -o /dev/null "$1/metrics" || true; done) &
    scraper=$!
  fi
  local line; line=$("$load" append "$1/v1/stream" 32 32 100 $SECS | grep '^result' || true)
  [ -n "$scraper" ] && kill $scraper 2>/dev/null && wait $scraper 2>/dev/null || true
  echo "  $line" >&2
  local v; v=$(get "$line" rate); echo "${v%.*}"
}

start on --metrics on; on_pid=$pid; on_base=$base
start off --metrics off; off_pid=$pid; off_base=$base
best_on=0; best_off=0
for _ in $(seq 1 $TURNS); do
  v=$(round "$off_base" 0); [ "${v:-0}" -gt $best_off ] && best_off=$v; sleep 0.5
  v=$(round "$on_base" 1); [ "${v:-0}" -gt $best_on ] && best_on=$v; sleep 0.5
done
series=$(curl -s "$on_base/metrics" | grep -vc '^#' || true)
kill $on_pid $off_pid; wait 2>/dev/null || true

ratio=$(awk -v a="$best_on" -v b="$best_off" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')
echo "metrics: $( [ $quick = 1 ] && echo quick || echo full ) run, $(nproc) cores, load generator on the same machine"
echo "| workload | --metrics off | --metrics on | on/off |"
echo "|---|---|---|---|"
echo "| append 32 conns x 32 streams /s | $best_off | $best_on | $ratio |"
echo "| samples in a scrape after the run | | $series | |"
