#!/usr/bin/env bash
# tests/package/run.sh: installs libdurablestreams into a temporary prefix and
# builds and runs a find_package consumer, an add_subdirectory consumer and a
# pkg-config consumer against it; then checks what the install holds.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)
prefix="$work/prefix"

echo "--- install into $prefix"
cmake -S "$src" -B "$work/lib" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF \
  -DDS_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$work/lib" -j"$jobs" >/dev/null
cmake --install "$work/lib" >/dev/null

echo "--- find_package consumer"
cmake -S "$src/tests/package/find-package-test" -B "$work/fp" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/fp" -j"$jobs" >/dev/null
"$work/fp/consumer"

echo "--- find_package consumer against the build tree"
cmake -S "$src/tests/package/find-package-test" -B "$work/fpb" -Ddurablestreams_DIR="$work/lib" >/dev/null
cmake --build "$work/fpb" -j"$jobs" >/dev/null
"$work/fpb/consumer"

echo "--- add_subdirectory consumer"
cmake -S "$src/tests/package/add-subdirectory-test" -B "$work/as" -DDS_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/as" -j"$jobs" >/dev/null
"$work/as/consumer"
if [ -n "$(find "$work/as" -name 'unit_tests' -o -name 'example_server' -o -name 'cmake_install.cmake' -path '*durablestreams/tests*')" ]; then
  echo "the subproject built tests or examples"; exit 1
fi

echo "--- pkg-config consumer"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig" \
  g++ -std=c++17 "$src/tests/package/consumer.cc" -o "$work/pc" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig" \
    pkg-config --cflags --libs --static durablestreams-server)
"$work/pc"

echo "--- the installed tree"
(cd "$prefix" && find . -type f | sort) | tee "$work/tree"
for want in include/durablestreams/stream_engine.h include/durablestreams/version.h \
            include/durablestreams/server/httplib_adapter.h bin/durable-streams-server \
            durablestreamsConfig.cmake durablestreamsConfigVersion.cmake durablestreamsTargets.cmake \
            durablestreams.pc durablestreams-server.pc libdurablestreams.a libdurablestreams_server.a; do
  grep -q "$want" "$work/tree" || { echo "missing from the install: $want"; exit 1; }
done
if grep -E "test|example|bench|/lib/protocol|/engine/|catch" "$work/tree"; then
  echo "the install holds files from tests, examples or internals"; exit 1
fi
echo "--- the vcpkg port's configurations: core only (no server feature)"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$src/ports/durablestreams/vcpkg.json"
for opt in DS_BUILD_TESTS=OFF DS_BUILD_EXAMPLES=OFF DS_INSTALL=ON; do
  grep -q -- "-D$opt" "$src/ports/durablestreams/portfile.cmake" || { echo "portfile lacks -D$opt"; exit 1; }
done
cmake -S "$src" -B "$work/core" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF -DDS_BUILD_EXAMPLES=OFF \
  -DDS_INSTALL=ON -DDS_BUILD_SERVER=OFF -DCMAKE_INSTALL_PREFIX="$work/core-prefix" >/dev/null
cmake --build "$work/core" -j"$jobs" >/dev/null
cmake --install "$work/core" >/dev/null
test -f "$work/core-prefix/include/durablestreams/stream_engine.h"
test ! -e "$work/core-prefix/include/durablestreams/server/httplib_adapter.h"
test ! -e "$work/core-prefix/bin/durable-streams-server"
echo "package: all consumers built and ran"
