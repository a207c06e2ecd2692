#!/usr/bin/env bash
# deploy/nginx/render.sh NODES LISTEN CACHE_DIR [OUT]: durable-streams.conf
# with its placeholders filled in, to OUT or stdout. NODES is one origin,
# HOST:PORT, or a cluster's list as the servers' --nodes takes it,
# NAME=HOST:PORT,NAME=HOST:PORT,... (the same string on every node).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { echo "usage: $0 NODES LISTEN CACHE_DIR [OUT]" >&2; exit 2; }
servers="" locations=""
IFS=, read -r -a nodes <<< "$1"
for node in "${nodes[@]}"; do
  if [[ $node == *=* ]]; then name=${node%%=*} addr=${node#*=}; else name=origin addr=$node; fi
  [[ $name =~ ^[A-Za-z0-9_-]{1,32}$ ]] || { echo "bad node name: $name" >&2; exit 2; }
  addr_re='^[][A-Za-z0-9.:_-]+$'
  [[ $addr =~ $addr_re ]] || { echo "bad node address: $addr" >&2; exit 2; }
  servers+="    server $addr max_fails=0;\n"
  locations+="    location /_node/$name/ {\n        allow 127.0.0.1;\n        allow ::1;\n"
  locations+="        deny all;\n        proxy_pass http://$addr/;\n        proxy_buffering off;\n    }\n"
done
out=$(sed -e "s|^@SERVERS@$|${servers%\\n}|" -e "s|^@NODE_LOCATIONS@$|${locations%\\n}|" \
  -e "s|@LISTEN@|$2|g" -e "s|@CACHE_DIR@|$3|g" "$here/durable-streams.conf")
if [ $# -ge 4 ]; then echo "$out" > "$4"; else echo "$out"; fi
