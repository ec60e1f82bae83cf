#!/usr/bin/env bash
# RISC-V instruction counts of the chips' archive: issue 2's core traces (256 KiB region) and
# issue 7's traces (1 MiB) replayed by bench/qemu/rv_bench.c on QEMU's riscv32 `virt` machine
# with `-icount shift=0` (the retired-instruction counter then counts exactly), through
# multi_heap_*, heap_caps_* and heap_caps_*_default (what ESP-IDF's malloc calls), net of the harness. The archive is the one an ESP-IDF app on an
# rv32imc chip links (scripts/chip-archive.sh), linked with picolibc and tests/qemu/port.c.
# Instruction counts, not time: QEMU says nothing about a chip's pipeline or memory.
# About a minute.
#
# Usage: bench/qemu.sh [CONFIG]   (a scripts/chip-archive.sh configuration; default: default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/chip-archive.sh
config=${1:-default}
triple=riscv32imc-unknown-none-elf
chip_config "$config" || { echo "unknown configuration $config" >&2; exit 2; }
chip_archive "$triple"
OUT=bench/results/raw/qemu
mkdir -p "$OUT"
(cd bench && cargo build -q --release)
bin=bench/target/release/heapcaps-bench
elf=$OUT/rv_bench-$config.elf
riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -O2 -std=c11 -ffunction-sections \
    -fdata-sections --specs=picolibc.specs --crt0=semihost --oslib=semihost \
    -Iinclude -Ibench/c -Itests/qemu -Itests/unity -Dmain=heapcaps_qemu_port_main \
    -c tests/qemu/port.c -o "$OUT/port.o"
# (zicsr for the counter read; the archive and the libraries are plain rv32imc.)
riscv64-unknown-elf-gcc -march=rv32imc_zicsr -mabi=ilp32 -O2 -std=c11 -ffunction-sections \
    -fdata-sections --specs=picolibc.specs -Iinclude -Ibench/c -Itests/qemu -c bench/qemu/rv_bench.c \
    -o "$OUT/rv_bench.o"
riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 --specs=picolibc.specs --crt0=semihost \
    --oslib=semihost "$OUT/rv_bench.o" "$OUT/port.o" -Wl,--gc-sections \
    -Wl,--defsym=__flash=0x80000000,--defsym=__flash_size=0x100000,--defsym=__ram=0x80100000,--defsym=__ram_size=0x700000 \
    -Wl,-u,memcpy,-u,memmove,-u,memset -lc "$lib" -o "$elf"
run() { # TRACE MODE REGION [LAYOUT] -> "ops N fails F instret I"
    qemu-system-riscv32 -machine virt -cpu rv32,a=off,f=off,d=off -bios none -icount shift=0 \
        -kernel "$elf" -display none -monitor none -serial none \
        -semihosting-config "enable=on,target=native,arg=$1,arg=$2,arg=$3${4:+,arg=$4}" 2>&1 | grep '^ops ' ||
        { echo "rv_bench $*: no result" >&2; exit 1; }
}
net() { # TRACE REGION MODE [LAYOUT] -> instructions per op, net of the harness
    local b m
    read -r _ ops _ fb _ b <<<"$(run "$1" baseline "$2")"
    read -r _ _ _ fm _ m <<<"$(run "$1" "$3" "$2" "${4:-}")"
    [ "$fm" = 0 ] || echo "warning: $1 $3: $fm failed operations" >&2
    awk -v m="$m" -v b="$b" -v n="$ops" 'BEGIN{printf "%.1f", (m - b) / n}'
}
echo "### riscv32imc ($config configuration): instructions per operation on QEMU, net of the harness"
echo
echo "Columns 2-4: the benchmark's region is the first heap of the list; 5-6: the heaps of an"
echo "ESP32-C3 (RTC memory, retention RAM, then the region as main RAM; rv_bench.c, fill_layout),"
echo "for the 256 KiB workloads."
echo
echo "| workload | multi_heap_* | heap_caps_* | malloc (heap_caps_*_default) | heap_caps_*, ESP32-C3 heaps | malloc, ESP32-C3 heaps |"
echo "|---|---|---|---|---|---|"
for w in a b c d e f w1 w2-64 w2-512 w2-2048 w6-one w6-two w8; do
    case $w in
        a | b | c | d | e) ops=20000 region=262144 ;;
        f) ops=5000 region=262144 ;;
        w1) ops=5000 region=1048576 ;;
        *) ops=20000 region=1048576 ;;
    esac
    tr=$OUT/$w.trace
    HEAPCAPS_BENCH_REGION=$region "$bin" trace "$w" "$ops" "$tr" >/dev/null
    name=$w
    case $w in a | b | c | d | e | f) name=W-$w ;; *) name=$(tr 'a-z' 'A-Z' <<<"${w:0:1}")${w:1} ;; esac
    c3="- | -"
    # (The ESP32-C3 heaps only with the 256 KiB region: the chip's RAM is 384 KiB, which ESP-IDF's
    # boot checks.)
    [ "$region" != 262144 ] || c3="$(net "$tr" "$region" caps c3) | $(net "$tr" "$region" malloc c3)"
    echo "| $name | $(net "$tr" "$region" mh) | $(net "$tr" "$region" caps) | $(net "$tr" "$region" malloc) | $c3 |"
done
