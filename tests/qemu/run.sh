#!/usr/bin/env bash
# Runs the real bare-metal riscv32 archive (the one an ESP-IDF app on a RISC-V chip links) on
# QEMU's `virt` machine: C tests with the Unity-style harness, plus one QEMU run per death
# scenario. See tests/qemu/README.md.
#
# For riscv32imc-unknown-none-elf and riscv32imac-unknown-none-elf, each in the two
# configurations scripts/size-report.sh measures (default: `--release`; size: `--profile
# release-size --features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT`), built the same way and in
# the same target dir (target/size), linked with Debian's riscv64-unknown-elf-gcc + picolibc
# (semihosting crt0 and I/O), the test port tests/qemu/port.c, and run with
# qemu-system-riscv32 -machine virt -bios none (RAM at 0x80000000). The imc build runs on a CPU
# without the A extension, so an atomic instruction in it would trap.
#
#   tests/qemu/run.sh [FILTER...]   FILTER goes to every Unity run (test name or "[tag]")
# QEMU_CONFIGS (default: "default size light comprehensive multicore", scripts/chip-archive.sh) and
# QEMU_TRIPLES="..." narrow the runs.
# Exit status is non-zero if anything fails to build, any test fails, or a death scenario does
# not abort with a message naming its address.
set -u -o pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
. scripts/chip-archive.sh

QEMU=qemu-system-riscv32
CC=riscv64-unknown-elf-gcc
for tool in "$QEMU" "$CC"; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool missing (apt-get install qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)" >&2
        exit 1
    fi
done

TESTS=(tests/c/test_multi_heap.c tests/qemu/test_heap_chip.c)
HARNESS=(tests/unity/unity.c tests/qemu/port.c)
# Must match QEMU_EXIT_ABORT in tests/qemu/qemu_port.h.
EXIT_ABORT=134
# Flash image and RAM inside QEMU virt's DRAM (picolibc.ld places .text in "flash", data in
# "ram"; under QEMU both are RAM the ELF loader fills).
MEMMAP=-Wl,--defsym=__flash=0x80000000,--defsym=__flash_size=0x100000,--defsym=__ram=0x80100000,--defsym=__ram_size=0x700000
CFLAGS=(-Os -g -std=c11 -Wall -Wextra -Werror -ffunction-sections -fdata-sections
        --specs=picolibc.specs --crt0=semihost --oslib=semihost
        -Iinclude -Itests/unity -Itests/qemu)

mapfile -t SCENARIOS < <(grep -ohE '^QEMU_DEATH_SCENARIO\([a-z0-9_]+\)' tests/qemu/test_*.c |
    sed 's/.*(\(.*\))/\1/')

fail=0
summary=()
OUT=target/qemu

# run ELF NAME [ARGS...]: one QEMU boot; output to stdout; returns the program's exit status.
run() {
    local elf=$1 cpu=$2
    shift 2
    local sh="enable=on,target=native"
    for a in "$@"; do sh="$sh,arg=$a"; done
    timeout 60 "$QEMU" -machine virt -cpu "$cpu" -bios none -kernel "$elf" -display none \
        -monitor none -serial none -semihosting-config "$sh" 2>&1
}

for config in ${QEMU_CONFIGS:-default size light comprehensive multicore}; do
  chip_config "$config" || { echo "unknown configuration $config" >&2; exit 1; }
  for triple in ${QEMU_TRIPLES:-riscv32imc-unknown-none-elf riscv32imac-unknown-none-elf}; do
    tag="$triple $config"
    echo "== $tag (profile $profile${features[1]:+, ${features[1]}})"
    if ! chip_archive "$triple"; then
        summary+=("$tag: LIBRARY BUILD FAILED"); fail=1; continue
    fi
    # No panic or unwind path in heapcaps' own functions of this archive.
    if ! scripts/no-panic.sh "$lib"; then
        summary+=("$tag: PANIC PATHS (scripts/no-panic.sh)"); fail=1
    fi
    march=${triple%%-*}; march=rv32${march#riscv32}
    cpu=rv32,f=off,d=off
    [ "$march" = rv32imc ] && cpu=rv32,a=off,f=off,d=off
    dir="$OUT/$triple-$config"
    mkdir -p "$dir"
    # The harness's main() is port.c's (it reads the semihosting arguments), so the runner's
    # own main is renamed out of the way.
    if ! "$CC" -march="$march" -mabi=ilp32 "${CFLAGS[@]}" -Dmain=heapcaps_unity_runner_main \
        -c tests/unity/unity_runner.c -o "$dir/unity_runner.o"; then
        summary+=("$tag: HARNESS BUILD FAILED"); fail=1; continue
    fi
    pmode=0
    case $config in light) pmode=1 ;; comprehensive) pmode=2 ;; esac
    tests=("${TESTS[@]}")
    # tests/c/test_multi_heap.c asserts the sizes of an unpoisoned heap; with poisoning the chip
    # tests and the death scenarios run.
    [ $pmode -gt 0 ] && tests=(tests/qemu/test_heap_chip.c)
    for t in "${tests[@]}"; do
        name=$(basename "$t" .c)
        elf="$dir/$name.elf"
        # -lc before the archive, memcpy & co. undefined up front: the C library's copies are
        # linked, not compiler_builtins' inside the archive (as scripts/size-report.sh does).
        if ! "$CC" -march="$march" -mabi=ilp32 "${CFLAGS[@]}" -DPOISON_MODE=$pmode "${HARNESS[@]}" "$t" \
            "$dir/unity_runner.o" -Wl,--gc-sections "$MEMMAP" -Wl,-Map="$elf.map" \
            -Wl,-u,memcpy,-u,memmove,-u,memset -lc "$lib" -o "$elf"; then
            summary+=("$tag $name: BUILD FAILED"); fail=1; continue
        fi
        log="$elf.log"
        run "$elf" "$cpu" "$name" "$@" | tee "$log"
        rc=${PIPESTATUS[0]}
        line="$(grep -E '^[0-9]+ Tests [0-9]+ Failures [0-9]+ Ignored' "$log" | tail -1)"
        if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
            summary+=("$tag $name: FAIL (exit $rc) $line"); fail=1
        else
            summary+=("$tag $name: $line")
        fi
    done
    # Death scenarios: each must end in the heap's abort, after a message naming its address.
    elf="$dir/test_heap_chip.elf"
    [ -f "$elf" ] || continue
    dead=0 bad=()
    for s in "${SCENARIOS[@]}"; do
        log="$dir/death-$s.log"
        run "$elf" "$cpu" test_heap_chip "--scenario=$s" >"$log"
        rc=$?
        target="$(sed -n 's/^heapcaps-target=\(0x[0-9a-f]*\)$/\1/p' "$log" | head -1)"
        after="$(sed -n '/^heapcaps-target=/,$p' "$log" | tail -n +2)"
        why=""
        if [ "$rc" -ne "$EXIT_ABORT" ]; then why="exit $rc, not $EXIT_ABORT (abort)"
        elif [ -z "$target" ]; then why="no heapcaps-target line"
        elif ! grep -q "CORRUPT HEAP" <<<"$after"; then why="no CORRUPT HEAP message"
        elif ! grep -qi "$target" <<<"$after"; then why="the message does not name $target"
        fi
        if [ -n "$why" ]; then
            bad+=("$s ($why)"); fail=1
            echo "-- death scenario $s FAILED: $why; output:"; cat "$log"
        else
            dead=$((dead + 1))
            echo "-- death scenario $s: aborted naming $target: $(grep -m1 'CORRUPT HEAP' <<<"$after")"
        fi
    done
    if [ ${#bad[@]} -eq 0 ]; then
        summary+=("$tag death scenarios: $dead of ${#SCENARIOS[@]} aborted naming the address")
    else
        summary+=("$tag death scenarios: FAIL: ${bad[*]}")
    fi
  done
done

echo
echo "== summary (QEMU virt, real riscv32 archive)"
for s in "${summary[@]}"; do echo "$s"; done
if [ "$fail" -ne 0 ] || [ ${#SCENARIOS[@]} -eq 0 ]; then
    echo "FAIL"
    exit 1
fi
echo "OK"
