#!/usr/bin/env bash
# deploy/cluster.sh up|down|status|stop-node NAME|kill-node NAME|start-node NAME|remove-node NAME
#
# A local cluster on loopback for trying and testing the multi-node layout
# (docs/operations.md, "A cluster behind nginx"):
#   - three durable-streams-server nodes, n1 n2 n3, each with its own data
#     directory and the same --nodes ring, so each owns a third of the
#     streams and refuses the others' with 421;
#   - the S3-compatible test server (tests/s3/s3-server.mjs) as the cold
#     tier all three share (bucket ds-cluster);
#   - nginx in front (deploy/nginx/), hashing each stream to its owner.
# `up` prints "cluster on http://127.0.0.1:PORT" (the front) and leaves
# everything running; `down` stops it and removes the directory.
# `remove-node NAME` takes a node out by the documented procedure
# (docs/operations.md, "Changing the nodes"): it stops NAME, exports each of
# its streams into the bucket, stops each other node in turn to adopt the
# streams it now owns and restarts it with the smaller ring, then reloads
# nginx with it.
#
# Environment:
#   DS_CLUSTER_DIR     where it all lives (default /tmp/durable-streams-cluster)
#   DS_CLUSTER_PORT    the front's port (default: a free one)
#   DS_SERVER          the server binary (default build/durable-streams-server)
#   DS_CLUSTER_ARGS    more arguments for every node (e.g. "--sync normal")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${DS_CLUSTER_DIR:-/tmp/durable-streams-cluster}
server=${DS_SERVER:-$root/build/durable-streams-server}
names=(n1 n2 n3)
if [ -f "$dir/cluster.env" ]; then
  # shellcheck disable=SC1091
  read -r -a names <<< "$(source "$dir/cluster.env"; echo "$node_names")"
fi
export DS_S3_ACCESS_KEY_ID=${DS_S3_ACCESS_KEY_ID:-AKIDDURABLESTREAMS}
export DS_S3_SECRET_ACCESS_KEY=${DS_S3_SECRET_ACCESS_KEY:-wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() {  # wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s)
  for _ in $(seq 1 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_node() {
  local name=$1
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  local port_var="port_$name"
  local port=${!port_var}
  mkdir -p "$dir/$name/data"
  # shellcheck disable=SC2086
  "$server" --host 127.0.0.1 --port "$port" --data-dir "$dir/$name/data" \
    --node "$name" --nodes "$nodes" \
    --segment-store s3://ds-cluster/ --s3-endpoint "$s3" \
    --public-url "http://127.0.0.1:$front_port/v1/stream/" \
    ${DS_CLUSTER_ARGS:-} >"$dir/$name/out" 2>"$dir/$name/err" &
  echo $! > "$dir/$name/pid"
  if ! wait_for "$dir/$name/out" '^listening on '; then
    echo "node $name did not start:" >&2
    cat "$dir/$name/err" >&2
    return 1
  fi
}

stop_node() {
  local pidfile="$dir/$1/pid"
  if alive "$pidfile"; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 100); do alive "$pidfile" || break; sleep 0.1; done
    alive "$pidfile" && kill -9 "$(cat "$pidfile")" 2>/dev/null
  fi
  rm -f "$pidfile"
}

up() {
  names=(n1 n2 n3)
  if alive "$dir/s3/pid"; then
    echo "a cluster is already running in $dir (deploy/cluster.sh down stops it)" >&2
    exit 1
  fi
  [ -x "$server" ] || { echo "no server binary at $server (build first, or set DS_SERVER)" >&2; exit 1; }
  if [ ! -d "$root/tests/s3/node_modules/s3rver" ]; then
    (cd "$root/tests/s3" && npm ci --no-audit --no-fund >/dev/null)
  fi
  rm -rf "$dir"
  mkdir -p "$dir/s3/objects"
  node "$root/tests/s3/s3-server.mjs" --dir "$dir/s3/objects" --port 0 --bucket ds-cluster \
    >"$dir/s3/out" 2>"$dir/s3/err" &
  echo $! > "$dir/s3/pid"
  wait_for "$dir/s3/out" '^listening on ' || { cat "$dir/s3/err" >&2; exit 1; }
  local list="" name
  {
    for name in "${names[@]}"; do
      local p
      p=$(free_port)
      echo "port_$name=$p"
      list+="${list:+,}$name=127.0.0.1:$p"
    done
    echo "nodes=$list"
    echo "node_names='${names[*]}'"
    echo "s3=$(sed -n 's/^listening on //p' "$dir/s3/out")"
    echo "front_port=${DS_CLUSTER_PORT:-$(free_port)}"
  } > "$dir/cluster.env"
  for name in "${names[@]}"; do start_node "$name"; done
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  "$root/deploy/nginx/start.sh" "$nodes" "$dir/nginx" "$front_port" >/dev/null
  echo "cluster on http://127.0.0.1:$front_port"
}

down() {
  [ -d "$dir" ] || return 0
  for name in "${names[@]}"; do stop_node "$name"; done
  if alive "$dir/nginx/nginx.pid"; then kill "$(cat "$dir/nginx/nginx.pid")"; fi
  if alive "$dir/s3/pid"; then kill "$(cat "$dir/s3/pid")"; fi
  sleep 0.2
  rm -rf "$dir"
}

status() {
  if [ ! -f "$dir/cluster.env" ]; then echo "no cluster in $dir"; return 1; fi
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  local state=up
  alive "$dir/nginx/nginx.pid" || state=down
  echo "front  http://127.0.0.1:$front_port  $state"
  for name in "${names[@]}"; do
    local port_var="port_$name" state=down
    alive "$dir/$name/pid" && state=up
    echo "$name     http://127.0.0.1:${!port_var}  $state"
  done
  state=up
  alive "$dir/s3/pid" || state=down
  echo "s3     $s3  $state"
}

# The segment store options of every node and of `stream export|adopt`.
store_args() {
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  echo "--segment-store s3://ds-cluster/ --s3-endpoint $s3"
}

remove_node() {
  local gone=$1 name path owner
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  [[ " ${names[*]} " == *" $gone "* ]] || { echo "no node $gone" >&2; exit 2; }
  local keep=() list=""
  for name in "${names[@]}"; do
    [ "$name" = "$gone" ] && continue
    keep+=("$name")
    list+="${list:+,}$(tr ',' '\n' <<< "$nodes" | grep "^$name=")"
  done
  stop_node "$gone"
  # 1. Out of the node that goes: every stream but its own registry.
  local moves=()
  while IFS= read -r path; do
    [ -z "$path" ] && continue
    # shellcheck disable=SC2046
    "$server" stream export "$path" --data-dir "$dir/$gone/data" --node "$gone" $(store_args) >&2
    owner=$("$server" stream owner "$path" --nodes "$list")
    moves+=("$owner $path")
  done < <(sqlite3 "$dir/$gone/data/streams.db" \
             "SELECT path FROM streams WHERE soft_deleted = 0 AND path <> '__registry__'")
  # 2. Into their new owners, each stopped while it adopts, then restarted
  #    with the new ring.
  sed -i -e "s|^nodes=.*|nodes=$list|" -e "s|^node_names=.*|node_names='${keep[*]}'|" \
    "$dir/cluster.env"
  for name in "${keep[@]}"; do
    stop_node "$name"
    for move in "${moves[@]}"; do
      [ "${move%% *}" = "$name" ] || continue
      # shellcheck disable=SC2046
      "$server" stream adopt "${move#* }" --data-dir "$dir/$name/data" --node "$name" \
        $(store_args) >&2
    done
    start_node "$name"
  done
  # 3. Last, the front: until now it sent the moved streams to the node
  #    that went (503), never to a node that did not have them yet.
  "$root/deploy/nginx/render.sh" "$list" "127.0.0.1:$front_port" "$dir/nginx/cache" \
    "$dir/nginx/durable-streams.conf"
  nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -e "$dir/nginx/logs/error.log" -s reload
  sleep 0.5
  echo "removed $gone: ${#moves[@]} streams moved; nodes $list"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  stop-node) stop_node "${2:?stop-node NAME}" ;;
  kill-node)  # as a crash: SIGKILL, nothing flushed
    if alive "$dir/${2:?kill-node NAME}/pid"; then kill -9 "$(cat "$dir/$2/pid")"; fi
    rm -f "$dir/$2/pid" ;;
  start-node) start_node "${2:?start-node NAME}" ;;
  remove-node) remove_node "${2:?remove-node NAME}" ;;
  *) echo "usage: $0 up|down|status|stop-node NAME|kill-node NAME|start-node NAME|remove-node NAME" >&2
     exit 2 ;;
esac
