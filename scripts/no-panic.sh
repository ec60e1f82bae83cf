#!/usr/bin/env bash
# Checks that no function of heapcaps' own in the given archives can panic or unwind: no call
# or jump from one to a panic entry of core (bounds checks, unwrap, slice indexing, panic!) or
# to _Unwind_Resume (a landing pad, which a callee that may unwind forces on any function that
# holds a lock guard; with `panic = "unwind"`, the default for Rust programs using the rlib,
# one slice index in the host's error printer cost the Rust API 12 instructions per operation).
# The allocator's answer to bad input is NULL, an error code or an abort that names the address,
# never a panic. Exempt: the host-only simulator tools that use std (`heapcaps_sim_*`, the heap
# map writer) and other crates' functions (core, std, spin). Exits 1 and lists the offenders.
#
# Usage: scripts/no-panic.sh ARCHIVE...   (x86_64, i686 or riscv32 libheapcaps.a)
set -euo pipefail
bad=0
for a in "$@"; do
    [ -f "$a" ] || { echo "no-panic: $a: no such archive" >&2; exit 2; }
    dir=$(mktemp -d)
    abs=$(realpath "$a")
    (cd "$dir" && ar x "$abs")
    objdump=objdump
    if readelf -h "$dir"/heapcaps-*.o | grep -q RISC-V; then objdump=riscv64-unknown-elf-objdump; fi
    # Functions of the heapcaps objects (LTO puts the crate in one object; core pieces it
    # inlined or kept get their own names and are skipped by the name filter).
    hits=$("$objdump" -dr -C "$dir"/heapcaps-*.o | awk '
        /^[0-9a-f]+ <.*>:$/ { f = $0; sub(/^[0-9a-f]+ </, "", f); sub(/>:$/, "", f); next }
        /R_(X86_64|386|RISCV)_/ && /panicking|slice_index_fail|unwrap_failed|expect_failed|slice_error_fail|len_mismatch_fail|_Unwind_Resume|panic_/ {
            print f " -> " $NF
        }' | grep -E '^(<)?heapcaps::|^(multi_heap|heap_caps|heap_trace|esp_|heapcaps_|malloc|calloc|realloc|free|memalign|posix_memalign|aligned_alloc|valloc|pvalloc)[a-z_0-9]* ->' | grep -vE '^heapcaps_sim_|heapcaps::heapmap::' | sort -u || true)
    rm -rf "$dir"
    if [ -n "$hits" ]; then
        echo "no-panic: $a: heapcaps functions with a panic or unwind path:"
        echo "$hits" | sed 's/^/  /'
        bad=1
    else
        echo "no-panic: $a: none"
    fi
done
exit $bad
