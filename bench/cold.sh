#!/usr/bin/env bash
# bench/cold.sh [--quick]: catch-up read throughput from the hot tier (SQLite)
# against the cold tier (segments in a directory store), our server in one
# run. Writes MB megabytes in 256 KiB appends, waits until rotation has
# sealed them (cold case), then reads the stream from -1 three times:
#   hot          --segment-store none: every read from SQLite;
#   cold, first  the first read: segments fetched from the store, checked
#                and decoded;
#   cold, cached the best later read: from the decoded-segment cache.
# Figures, never assertions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
MB=20; SETTLE=3
[ "${1:-}" = "--quick" ] && { MB=2; SETTLE=1; }
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run() {  # name server-args... -> prints the load result line
  local name=$1; shift
  "$build/durable-streams-server" --port 0 --data-dir "$work/$name" "$@" >"$work/$name.out" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/$name.out" && break; sleep 0.1; done
  local url; url="$(sed -n 's/^listening on //p' "$work/$name.out")/v1/stream"
  "$build/bench/load" catchup "$url" $MB $SETTLE | grep '^result'
  if [ "$name" = cold ]; then
    echo "segments sealed: $(find "$work/$name/segments" -name '*.dsseg' | wc -l)"
  fi
  kill $pid; wait $pid 2>/dev/null || true
}
hot=$(run hot --segment-store none)
cold=$(run cold --segment-max-bytes 1MiB)
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
echo "cold tier catch-up, $MB MB from -1, $(nproc) cores, load generator on the same machine"
echo "| read from | MB/s | vs hot |"
echo "|---|---|---|"
h=$(get "$hot" mbps)
for row in "hot (SQLite):$h" "cold, first read (directory store):$(get "$cold" first_mbps)" \
           "cold, cached:$(get "$cold" mbps)"; do
  v=${row##*:}
  echo "| ${row%:*} | $v | $(awk -v a="$v" -v b="$h" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }') |"
done
echo "$cold" | grep '^segments sealed' || true
