#!/usr/bin/env bash
# bench/run.sh [--quick]: our server and the official Node reference server
# (in-memory and file-backed, npm pinned in bench/package.json), the same
# workloads against each in one run, one table with the ratios.
#
# A fifth server, bench/floor_server.cc, does the least any server must do for these
# workloads (no durability, no protocol checks): what it reaches is the limit
# this machine and load generator put on every server, reported beside ours.
# For the append workloads, it runs once more with --durable (floor-durable):
# the least a server must do that answers an append only once it is
# committed to SQLite at full sync.
#
# Figures, never assertions. --quick (CI) uses small sizes so the harness
# cannot rot; its figures mean little. Needs the build from scripts/deps.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load sqlite_commit floor_server >/dev/null
(cd "$here" && npm install --no-audit --no-fund >/dev/null 2>&1)  # the lock pins it; ci trips on optional native packages
load="$build/bench/load"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

if [ $quick = 1 ]; then
  TURNS=1; ROUNDS=3; SECS=1; READERS_SMALL=50; READERS_BIG=100; READERS_HUGE=200; MB=2; RTT=20; SSE_SECS=2; LP=100
  IDLE=200; PLOT=${PLOT:-}
else
  TURNS=3; ROUNDS=5; SECS=3; READERS_SMALL=1000; READERS_BIG=5000; READERS_HUGE=10000; MB=20; RTT=300; SSE_SECS=10
  LP=1000; IDLE=10000; PLOT=${PLOT-$root/docs/performance-latency.png}  # PLOT= : none
fi

start_server() {  # name -> sets pid, url
  local name=$1 out="$work/$1.out"
  case $name in
    ours) "$build/durable-streams-server" --port 0 --data-dir "$work/ours-data" >"$out" 2>&1 & ;;
    ours-normal) "$build/durable-streams-server" --port 0 --data-dir "$work/ours-normal-data" \
                   --sync normal >"$out" 2>&1 & ;;
    node-mem) (cd "$here" && exec node node-peer.mjs) >"$out" 2>&1 & ;;
    node-file) (cd "$here" && exec node node-peer.mjs "$work/node-data") >"$out" 2>&1 & ;;
    floor) "$build/bench/floor_server" >"$out" 2>&1 & ;;
    floor-durable) "$build/bench/floor_server" 2 --durable "$work/floor-durable.db" >"$out" 2>&1 & ;;
    ours-bigseg) "$build/durable-streams-server" --port 0 --data-dir "$work/ours-bigseg-data" \
                   --segment-max-messages 100000 >"$out" 2>&1 & ;;
    ours-jwt)  # project auth: the load generator's streams are in _default
      "$build/durable-streams-server" project create _default --data-dir "$work/ours-jwt-data" >/dev/null
      TOKEN[ours-jwt]=$("$build/durable-streams-server" token _default --scope write --ttl 24h \
                          --data-dir "$work/ours-jwt-data")
      "$build/durable-streams-server" --port 0 --data-dir "$work/ours-jwt-data" --auth jwt \
        >"$out" 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 1 100); do grep -qs '^listening on ' "$out" && break; sleep 0.1; done
  url="$(sed -n 's/^listening on //p' "$out")/v1/stream"
}

proc_stat() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status"; }

declare -A R PID URL BEST TOKEN
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# One run of WORKLOAD against server NAME: `r NAME WORKLOAD ARGS...`.
r() {
  local name=$1 w=$2 line
  shift 2
  line=$(LOAD_TOKEN="${TOKEN[$name]:-}" "$load" "$w" "${URL[$name]}" "$@" | grep '^result' || true)
  echo "  $name: $line" >&2
  echo "$line"
}
# Every workload on a shared, noisy machine whose speed drifts during a run:
# TURNS rounds (3; 1 in --quick), every server in turn in each round (so the
# drift falls on all of them alike), and each server's best round counts: the
# highest KEY, or with KEY written -KEY the lowest (latencies). Interference from the rest of the
# machine only ever slows a round down, so the best round is the closest to
# what the server itself costs; the floor is measured the same way.
# `interleaved RKEY KEY "SERVERS" WORKLOAD ARGS...` leaves it in BEST[server,RKEY].
# ROUND_HOOK, if set, names a command run at the start of each round.
interleaved() {
  local rkey=$1 key=${2#-} lower=0 list=$3 w=$4 s one v
  [ "${2:0:1}" = - ] && lower=1
  shift 4
  for s in $list; do BEST[$s,$rkey]=""; done
  for _ in $(seq 1 $TURNS); do
    [ -n "${ROUND_HOOK:-}" ] && $ROUND_HOOK
    for s in $list; do
      one=$(r "$s" "$w" "$@")
      v=$(get "$one" "$key")
      if [ -n "$v" ] && awk -v a="$v" -v b="$(get "${BEST[$s,$rkey]}" "$key")" -v lower=$lower \
           'BEGIN { exit !(b == "" || (lower ? a < b + 0 : a > b + 0)) }'; then
        BEST[$s,$rkey]=$one
      fi
      sleep "${GAP:-0.5}"  # let the last server's background work (rotation, checkpoints) settle
    done
  done
}

# Idle cost first, each on a fresh server: RSS and threads added by IDLE idle
# SSE readers, and by IDLE waiting long-polls. Measured as the growth from
# the first IDLE/2 readers to all IDLE, so that memory the server freed while
# starting (and reuses for the first readers) does not hide the cost.
idle_cost() {
  local name=$1 mode modes="sse long-poll" half=$((IDLE / 2))
  [ "$name" = floor ] && modes=""  # it keeps nothing per reader worth measuring
  for mode in $modes; do
    start_server "$name"
    sleep 1
    local rss1 rss2 threads h1 h2
    "$load" hold "$url" $half 12 $mode > "$work/hold1.out" &
    h1=$!
    for _ in $(seq 1 300); do grep -q '^ready' "$work/hold1.out" 2>/dev/null && break; sleep 0.1; done
    sleep 2
    rss1=$(proc_stat $pid VmRSS)
    "$load" hold "$url" $half 6 $mode > "$work/hold2.out" &
    h2=$!
    for _ in $(seq 1 300); do grep -q '^ready' "$work/hold2.out" 2>/dev/null && break; sleep 0.1; done
    sleep 2
    rss2=$(proc_stat $pid VmRSS); threads=$(proc_stat $pid Threads)
    R[$name,idle-$mode]="$(( (rss2 - rss1) * 1024 / half )) B/reader, $threads threads"
    R[$name,idlekb-$mode]=$(( (rss2 - rss1) * 1024 / half ))
    wait $h1 $h2 || true
    kill $pid; wait $pid 2>/dev/null || true
    rm -rf "$work/ours-data" "$work/ours-normal-data" "$work/node-data"
  done
}

# Every workload runs against every server before the next workload starts;
# the servers run side by side, idle while another is measured.
run_all() {
  local s n line json_servers=$servers append_servers=$servers
  for s in $servers; do idle_cost "$s"; done
  sleep 3  # let the kernel finish closing the idle readers' connections
  for s in $servers; do start_server "$s"; PID[$s]=$pid; URL[$s]=$url; done
  # What the default segment size (1000 messages: a segment every 10 JSON
  # appends of 100) costs the JSON workload: ours again, with segments of up
  # to 100,000 messages (the 4 MiB threshold then seals them).
  # And ours with --auth jwt, every request with a token: what verifying
  # tokens costs, on append 32 and SSE 1000 (the issue's target: within 3%).
  local auth_servers=""
  if [[ " $servers " == *" ours "* ]]; then
    start_server ours-bigseg; PID[ours-bigseg]=$pid; URL[ours-bigseg]=$url
    json_servers="$servers ours-bigseg"
    start_server ours-jwt; PID[ours-jwt]=$pid; URL[ours-jwt]=$url
    append_servers="$append_servers ours-jwt"
    auth_servers=" ours-jwt"
  fi
  if [[ " $servers " == *" floor "* ]]; then
    start_server floor-durable; PID[floor-durable]=$pid; URL[floor-durable]=$url
    append_servers="$servers floor-durable"
    json_servers="$json_servers floor-durable"
  fi
  interleaved append32 rate "$append_servers" append 32 32 100 $SECS
  # The bounds of one append at a time include a bare commit: measured again
  # at the start of each of its rounds (bare_commits), the highest counts.
  ROUND_HOOK=bare_commits interleaved append1 rate "$servers" append 1 1 100 $SECS
  interleaved json msgs "$json_servers" json 8 100 $SECS
  for s in $append_servers; do
    R[$s,append32]=$(get "${BEST[$s,append32]:-}" rate); R[$s,append32cpu]=$(get "${BEST[$s,append32]:-}" cpu)
    R[$s,append1]=$(get "${BEST[$s,append1]:-}" rate)
    R[$s,json]=$(get "${BEST[$s,json]:-}" msgs)
  done
  if [ -n "${PID[floor-durable]:-}" ]; then
    kill ${PID[floor-durable]}; wait ${PID[floor-durable]} 2>/dev/null || true
    unset 'PID[floor-durable]'
    rm -f "$work"/floor-durable.db*
  fi
  [ -n "${URL[ours-bigseg]:-}" ] && R[ours,jsonbigseg]=$(get "${BEST[ours-bigseg,json]}" msgs)
  # The long-poll round trip's limit at full sync includes a commit that
  # finds the disk idle: measured in each of its rounds, the lowest counts.
  ROUND_HOOK=idle_commit interleaved rtt -overhead "$servers" rtt $RTT
  for s in $servers; do R[$s,rtt]=$(get "${BEST[$s,rtt]}" p50); R[$s,rttover]=$(get "${BEST[$s,rtt]}" overhead); done
  interleaved catchup mbps "$servers" catchup $MB 0 $ROUNDS
  for s in $servers; do R[$s,catchup]=$(get "${BEST[$s,catchup]}" mbps); R[$s,catchupfirst]=$(get "${BEST[$s,catchup]}" first_mbps); done
  interleaved lpfan -all_ms "$servers" lpfan $LP
  for s in $servers; do
    R[$s,lpfan]=$(get "${BEST[$s,lpfan]}" all_ms); R[$s,lpfanok]="$(get "${BEST[$s,lpfan]}" with_data)/$(get "${BEST[$s,lpfan]}" readers)"
  done
  for n in $READERS_SMALL $READERS_BIG $READERS_HUGE; do
    local sse_servers=$servers
    [ "$n" = "$READERS_SMALL" ] && sse_servers="$servers$auth_servers"
    GAP=1 interleaved sse$n -p99 "$sse_servers" ssefan $n 20 $SSE_SECS  # GAP: the readers' sockets close
    for s in $sse_servers; do
      line=${BEST[$s,sse$n]}
      R[$s,sse$n]="p99 $(get "$line" p99) ms, $(get "$line" writer_rate)/s (its append p99 $(get "$line" writer_p99) ms), $(get "$line" complete)/$(get "$line" readers) complete, $(get "$line" bad) bad, load generator $(get "$line" cpu) cores"
      R[$s,sse${n}p99]=$(get "$line" p99)
    done
  done
  for s in "${!PID[@]}"; do
    R[$s,rss]="$(proc_stat ${PID[$s]} VmRSS) kB"
    kill ${PID[$s]}; wait ${PID[$s]} 2>/dev/null || true
  done
}

# Back-to-back commits of a bare SQLite loop at full sync and at
# synchronous=NORMAL (what --sync normal waits for: no fsync), 3 s each. The
# disk's speed drifts during a run (run 29's first measurement was 6362/s,
# ours then beat the bound it gave), so this runs again at the start of each
# round of the one-connection appends; the highest rate counts.
bare_commits() {
  local v
  "$build/bench/sqlite_commit" "$work" 3 full > "$work/commit.out"
  v=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$work/commit.out")
  [ -n "$v" ] && [ "$v" -gt "${commit_rate:-0}" ] && commit_rate=$v
  "$build/bench/sqlite_commit" "$work" 3 normal > "$work/commit-normal.out"
  v=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$work/commit-normal.out")
  [ -n "$v" ] && [ "$v" -gt "${normal_commit_rate:-0}" ] && normal_commit_rate=$v
  return 0
}
bare_commits
# A commit that finds the disk idle (3 ms since the last), as the append of a
# long-poll round trip does: its median latency.
# Measured again at the start of each round of the long-poll round trip
# (idle_commit); the lowest counts.
idle_commit() {
  local ms
  "$build/bench/sqlite_commit" "$work" ${IDLE_COMMIT_SECS:-3} full 3 > "$work/commit-idle.out"
  ms=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' "$work/commit-idle.out")
  if [ -n "$ms" ] && awk -v a="$ms" -v b="${idle_commit_ms:-}" 'BEGIN { exit !(b == "" || a < b + 0) }'; then
    idle_commit_ms=$ms
  fi
}
idle_commit
servers="${SERVERS:-ours ours-normal node-mem node-file floor}"  # SERVERS=... to run some
run_all

ratio() { awk -v a="$1" -v b="$2" -v inv="${3:-0}" 'BEGIN { if (a == "" || b == "" || a+0 == 0 || b+0 == 0) { print "-"; exit } r = inv ? b/a : a/b; printf "%.2fx", r }'; }
row() {  # label key [inverse: lower is better]
  printf "| %-34s | %-12s | %-12s | %-12s | %-12s | %-12s | %-8s | %-8s | %-8s | %-8s |\n" "$1" "${R[ours,$2]:-}" \
    "${R[ours-normal,$2]:-}" "${R[node-mem,$2]:-}" "${R[node-file,$2]:-}" "${R[floor,$2]:-}" \
    "$(ratio "${R[ours,$2]:-}" "${R[node-mem,$2]:-}" "${3:-0}")" \
    "$(ratio "${R[ours,$2]:-}" "${R[node-file,$2]:-}" "${3:-0}")" \
    "$(ratio "${R[ours-normal,$2]:-}" "${R[node-mem,$2]:-}" "${3:-0}")" \
    "$(ratio "${R[ours,$2]:-}" "${R[floor,$2]:-}" "${3:-0}")"
}
echo
echo "bench: $( [ $quick = 1 ] && echo quick || echo full ) run, $(nproc) cores, load generator on the same machine"
echo "ours = --sync full (default; fsync per commit), ours-normal = --sync normal (survives kill -9, not power loss)"
echo "bare SQLite commit bound (WAL, synchronous=FULL, one row a commit; the best of the start and each one-connection round): $commit_rate commits/s"
# One append at a time waits for an HTTP round trip and a commit: the floor's
# time per append (1 / its rate) plus the bare commit time bound it.
http_bound=$(awk -v c="$commit_rate" -v f="${R[floor,append1]:-0}" 'BEGIN { if (c > 0 && f > 0) printf "%.0f", 1 / (1 / c + 1 / f) }')
echo "one append at a time over HTTP, bound by the floor's round trip (1/${R[floor,append1]:-?} s) plus one commit (1/$commit_rate s): ${http_bound:-?} /s; ours at full sync: ${R[ours,append1]:-?} /s ($(ratio "${R[ours,append1]:-}" "$http_bound"))"
normal_bound=$(awk -v c="${normal_commit_rate:-0}" -v f="${R[floor,append1]:-0}" 'BEGIN { if (c > 0 && f > 0) printf "%.0f", 1 / (1 / c + 1 / f) }')
echo "the same at --sync normal (bare commit at synchronous=NORMAL: ${normal_commit_rate:-?} commits/s): ${normal_bound:-?} /s; ours-normal: ${R[ours-normal,append1]:-?} /s ($(ratio "${R[ours-normal,append1]:-}" "$normal_bound")); 1.5x Node in-memory: $(awk -v n="${R[node-mem,append1]:-0}" 'BEGIN { printf "%.0f", 1.5 * n }') /s"
echo "one commit after 3 ms idle (bare SQLite, full sync), p50: ${idle_commit_ms:-?} ms; ours' long-poll overhead at full sync less that: $(awk -v a="${R[ours,rttover]:-0}" -v b="${idle_commit_ms:-0}" 'BEGIN { printf "%.3f", a - b }') ms (Node in-memory: ${R[node-mem,rttover]:-?} ms)"
# Appends at full sync from many connections: the durable floor (floor_server.cc
# --durable) commits them to SQLite in group commits and answers each after
# its commit, and does nothing else; what it reaches bounds every server that
# keeps them at full sync in SQLite.
echo "durable floor (bench/floor_server.cc --durable: JSON parsed, each append committed to SQLite at synchronous=FULL in group commits before its answer, nothing else): append 32 conns ${R[floor-durable,append32]:-?} /s, ours at full sync ${R[ours,append32]:-?} ($(ratio "${R[ours,append32]:-}" "${R[floor-durable,append32]:-}")), 1.5x Node in-memory $(awk -v n="${R[node-mem,append32]:-0}" 'BEGIN { printf "%.0f", 1.5 * n }'); JSON ${R[floor-durable,json]:-?} msgs/s, ours at full sync ${R[ours,json]:-?} ($(ratio "${R[ours,json]:-}" "${R[floor-durable,json]:-}")), 2x Node in-memory $(awk -v n="${R[node-mem,json]:-0}" 'BEGIN { printf "%.0f", 2 * n }')"
[ -n "${R[ours-jwt,append32]:-}" ] && echo "--auth jwt (a token verified on every request; ratios to ours at --auth none, higher is better): append 32 conns ${R[ours-jwt,append32]} /s ($(ratio "${R[ours-jwt,append32]}" "${R[ours,append32]:-}")); SSE $READERS_SMALL readers p99 ${R[ours-jwt,sse${READERS_SMALL}p99]:-?} ms ($(ratio "${R[ours-jwt,sse${READERS_SMALL}p99]:-}" "${R[ours,sse${READERS_SMALL}p99]:-}" 1))"
[ -n "${R[ours,jsonbigseg]:-}" ] && echo "JSON at full sync with --segment-max-messages 100000 (default 1000): ${R[ours,jsonbigseg]} msgs/s ($(ratio "${R[ours,jsonbigseg]}" "${R[node-mem,json]:-}") Node in-memory)"
echo "floor = bench/floor_server.cc: no durability, no protocol work; the machine's limit for each workload"
echo "every workload: $TURNS rounds, every server in turn in each round, each server's best round counts (appends and JSON: rounds of $SECS s; catch-up: each round the best of $ROUNDS reads; latencies: the lowest); the idle commit: the lowest of the long-poll rounds; the bare commits: the highest of the start and the one-connection rounds"
echo "each workload runs against every server before the next"
echo "ratios: higher is better for us (latencies are inverted)"
echo
printf "| %-34s | %-12s | %-12s | %-12s | %-12s | %-12s | %-8s | %-8s | %-8s | %-8s |\n" workload ours ours-normal node-mem node-file floor "full/mem" "full/file" "norm/mem" "full/floor"
printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n" "------------------------------------" "--------------" "--------------" "--------------" "--------------" "--------------" "----------" "----------" "----------" "----------"
row "append 32 conns x 32 streams /s" append32
row "append 1 conn /s" append1
row "JSON append, 100/array, msgs/s" json
row "long-poll round trip p50 ms" rtt 1
row "  overhead over a ping ms" rttover 1
row "catch-up MB/s (best of ${TURNS}x$ROUNDS)" catchup
row "  its first round, MB/s" catchupfirst
row "$LP long-polls, one append: ms" lpfan 1
row "SSE $READERS_SMALL readers p99 ms" sse${READERS_SMALL}p99 1
row "SSE $READERS_BIG readers p99 ms" sse${READERS_BIG}p99 1
row "SSE $READERS_HUGE readers p99 ms" sse${READERS_HUGE}p99 1
row "idle SSE reader, bytes RSS" idlekb-sse 1
row "idle long-poll, bytes RSS" idlekb-long-poll 1
echo
for s in $servers; do
  echo "$s: SSE $READERS_SMALL: ${R[$s,sse$READERS_SMALL]}; SSE $READERS_BIG: ${R[$s,sse$READERS_BIG]}; SSE $READERS_HUGE: ${R[$s,sse$READERS_HUGE]}; $IDLE idle SSE: ${R[$s,idle-sse]:-}; $IDLE idle long-polls: ${R[$s,idle-long-poll]:-}; $LP long-polls answered with the data: ${R[$s,lpfanok]:-}; RSS at end ${R[$s,rss]}; load generator CPU on append 32: ${R[$s,append32cpu]} cores"
done

# Delivery latency (p99) against the number of SSE readers, as a PNG.
if [ -n "$PLOT" ]; then
  if ! command -v gnuplot >/dev/null; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 || true
  fi
  if command -v gnuplot >/dev/null; then
    for s in $servers; do
      for n in $READERS_SMALL $READERS_BIG $READERS_HUGE; do
        echo "$n ${R[$s,sse${n}p99]:-NaN}"
      done > "$work/plot-$s.dat"
    done
    gnuplot <<GP
set terminal png size 900,540
set output "$PLOT"
set title "SSE delivery latency, writer at 20 msgs/s ($(nproc) cores, load generator on the same machine)"
set xlabel "SSE readers of one stream"
set ylabel "p99 delivery latency, ms"
set logscale y
set key left top
set grid
plot "$work/plot-ours.dat" with linespoints title "ours (--sync full)", \
     "$work/plot-ours-normal.dat" with linespoints title "ours (--sync normal)", \
     "$work/plot-node-mem.dat" with linespoints title "Node reference, in-memory", \
     "$work/plot-node-file.dat" with linespoints title "Node reference, file-backed", \
     "$work/plot-floor.dat" with linespoints dashtype 2 title "floor (no durability, no protocol work)"
GP
    echo "plot: $PLOT"
  fi
fi
