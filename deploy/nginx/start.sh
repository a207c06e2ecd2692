#!/usr/bin/env bash
# deploy/nginx/start.sh NODES WORK_DIR [PORT]: starts nginx, unprivileged,
# with durable-streams.conf in front of NODES (one HOST:PORT, or a cluster's
# NAME=HOST:PORT,... list; see render.sh), listening on loopback PORT
# (default: a free one), its config, cache, logs and pid under WORK_DIR.
# Prints "front on http://127.0.0.1:PORT pid PID" once it answers. Stop it
# with: kill "$(cat WORK_DIR/nginx.pid)".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 NODES WORK_DIR [PORT]" >&2; exit 2; }
work=$(mkdir -p "$2" && cd "$2" && pwd)
mkdir -p "$work/cache" "$work/logs" "$work/tmp"
port=${3:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
"$here/render.sh" "$1" "127.0.0.1:$port" "$work/cache" "$work/durable-streams.conf"
# As root, nginx's workers would run as nobody, who cannot write WORK_DIR.
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat > "$work/nginx.conf" <<CONF
$user_line
worker_processes 2;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
daemon on;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  include $work/durable-streams.conf;
}
CONF
nginx -c "$work/nginx.conf" -p "$work" -e "$work/logs/error.log"
for _ in $(seq 1 50); do
  [ -s "$work/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
echo "front on http://127.0.0.1:$port pid $(cat "$work/nginx.pid")"
