#!/usr/bin/env bash
# deploy/nginx/render.sh ORIGIN LISTEN CACHE_DIR [OUT]: durable-streams.conf
# with its placeholders filled in, to OUT or stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { echo "usage: $0 ORIGIN LISTEN CACHE_DIR [OUT]" >&2; exit 2; }
out=$(sed -e "s|@ORIGIN@|$1|g" -e "s|@LISTEN@|$2|g" -e "s|@CACHE_DIR@|$3|g" \
  "$here/durable-streams.conf")
if [ $# -ge 4 ]; then echo "$out" > "$4"; else echo "$out"; fi
