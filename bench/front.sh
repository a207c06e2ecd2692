#!/usr/bin/env bash
# bench/front.sh [--quick]: nginx in front (deploy/nginx/durable-streams.conf)
# against our server alone, in one run; figures, never assertions
# (docs/performance.md):
#   - catch-up of one 20 MB stream by 100 concurrent readers, straight at the
#     server and through nginx: seconds until every reader has it, the
#     readers' total MB/s, and the GETs that reached the server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then MB=2; READERS=20; else MB=20; READERS=100; fi
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load >/dev/null
load="$build/bench/load"
work=$(mktemp -d)
trap '[ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")"; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$build/durable-streams-server" --port 0 --data-dir "$work/data" >"$work/server.out" 2>&1 &
for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/server.out" && break; sleep 0.1; done
origin="$(sed -n 's/^listening on //p' "$work/server.out")"
front=$("$root/tests/nginx/front.sh" "$origin" "$work/nginx" | sed -n 's/^front on \([^ ]*\) .*/\1/p')
gets() {
  curl -s "$origin/metrics" | sed -n 's/^durable_streams_http_requests_total{method="GET",outcome="2xx"} //p'
}
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
run() {  # read base -> "line|origin GETs"
  local before after line
  before=$(gets)
  line=$("$load" catchupfan "$origin/v1/stream" "$1/v1/stream" $MB $READERS | grep '^result')
  after=$(gets)
  echo "  $line" >&2
  echo "$line|$((after - before - 1))"
}
direct=$(run "$origin")
through=$(run "$front")
row() {  # label result
  local line=${2%|*} reads=${2#*|}
  echo "| $1 | $(get "$line" seconds) | $(get "$line" mbps) | $(get "$line" complete)/$(get "$line" readers) | $reads |"
}
echo "front: $( [ $quick = 1 ] && echo quick || echo full ) run, $(nproc) cores, nginx $(nginx -v 2>&1 | sed 's/.*\///'), load generator on the same machine"
echo "| $MB MB stream, $READERS concurrent readers catching up | seconds | MB/s (all readers) | complete | GETs at the server |"
echo "|---|---|---|---|---|"
row "straight at the server" "$direct"
row "through nginx, cache on" "$through"
