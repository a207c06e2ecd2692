#!/usr/bin/env bash
# scripts/check-layers.sh: each layer of lib/ includes only its own headers,
# and those of the layers below it, public ones (include/durablestreams/)
# counted by the layer that implements them (docs/hacking.md):
#   util -> (nothing);  protocol, storage -> util;  engine -> protocol, storage, util;
#   auth -> engine, protocol, storage, util;  subscriptions -> auth and below.
# The link checks (ds_check_* in CMakeLists.txt) catch backward references to
# symbols; this catches the inline ones a header brings. Prints each
# violation; exits 1 if there is one.
set -uo pipefail
cd "$(dirname "$0")/../lib" || exit 2
bad=0
# The layer of each public header (include/durablestreams/).
public_layer() {
  case $1 in
    status.h | clock.h | version.h | metrics.h | node_ring.h) echo util ;;
    request.h | commands.h | outcomes.h | error_code.h | estuary.h) echo protocol ;;
    storage.h | segment_store.h | memory_storage.h | stream_transfer.h) echo storage ;;
    jwt.h | projects.h | project_auth.h | project_config_api.h) echo auth ;;
    subscriptions.h) echo subscriptions ;;
    *) echo engine ;;  # stream_engine.h, options.h, auth.h, live_stream.h, ...
  esac
}
check() {  # check LAYER ALLOWED-LAYER...
  local layer=$1
  shift
  local allowed="$layer $*"
  while IFS= read -r hit; do
    local path=${hit#*#include \"}
    path=${path%\"*}
    local dir=${path%%/*}
    [ "$dir" = durablestreams ] && dir=$(public_layer "${path#durablestreams/}")
    if [[ " $allowed " != *" $dir "* ]]; then
      echo "layering: $hit"
      bad=1
    fi
  done < <(grep -Hn '^#include "' "$layer"/*)
}
check util
check protocol util
check storage util
check engine protocol storage util
check auth engine protocol storage util
check subscriptions auth engine protocol storage util
[ "$bad" -eq 0 ] && echo "layering: every include points down"
exit "$bad"
