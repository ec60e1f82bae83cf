#!/bin/sh
# Builds heapcaps (with the C malloc entry points), compiles the ESP-IDF-style demo program in
# examples/demo/ against include/ and libheapcaps.a, and runs it.
# Usage: ./demo.sh [esp32|esp32s2|esp32s3|esp32c2|esp32c3|esp32c5|esp32c6|esp32c61|esp32h2|esp32-psram|esp32s3-psram]   (default esp32)
set -eu
cd "$(dirname "$0")"
chip="${1:-esp32}"
case "$chip" in
    esp32|esp32s2|esp32s3|esp32c2|esp32c3|esp32c5|esp32c6|esp32c61|esp32h2|esp32-psram|esp32s3-psram) ;;
    *) echo "usage: $0 [esp32|esp32s2|esp32s3|esp32c2|esp32c3|esp32c5|esp32c6|esp32c61|esp32h2|esp32-psram|esp32s3-psram]" >&2; exit 2 ;;
esac
# Same target dir as tests/c/run.sh uses for the c-malloc library, so the two share the build.
cargo rustc --quiet --release --features c-malloc --crate-type staticlib --target-dir target/c-malloc
mkdir -p target/demo
${CC:-gcc} -std=c11 -O1 -Wall -Wextra -D_GNU_SOURCE -Iinclude examples/demo/demo.c \
    target/c-malloc/release/libheapcaps.a -lpthread -ldl -lm -o target/demo/demo
# The demo also draws the heaps as an SVG picture (heapcaps_sim_write_heap_map).
HEAPCAPS_HEAP_MAP=target/demo/heap-map.svg exec target/demo/demo "$chip"
