#!/usr/bin/env bash
# Installs, builds and runs the whole test suite: a Release build with warnings as errors,
# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, and a short run of
# each fuzz target. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${WELD_FUZZ_SECONDS:-30}

bash scripts/install-deps.sh

echo "== release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWELD_WERROR=ON -DWELD_BUILD_BENCH=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
# Line tables (-g1) are all a sanitizer report needs for file:line, and build in two thirds
# of the time of full debug information. A unity build, which changes what is checked in
# nothing, saves the parsing of the same headers file after file (CLI11's above all).
cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DWELD_SANITIZE="address;undefined" -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build build-san -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-san --output-on-failure -j "$jobs"

echo "== fuzz targets, ${fuzz_seconds}s each"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=ON \
  -DWELD_BUILD_FUZZ=ON -DWELD_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target weld_fuzz_targets
for target in build-fuzz/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  corpus="build-fuzz/corpus/$(basename "$target")"
  mkdir -p "$corpus"
  seeds="fuzz/corpus/$(basename "$target" | sed 's/^fuzz_//')"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  dict="fuzz/$(basename "$target" | sed 's/^fuzz_//').dict"
  dict_option=()
  [ -f "$dict" ] && dict_option=(-dict="$dict")
  "$target" -max_total_time="$fuzz_seconds" "${dict_option[@]}" "$corpus" 2>&1 | tail -n 2
done
echo "all checks passed"
