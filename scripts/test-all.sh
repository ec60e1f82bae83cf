#!/usr/bin/env bash
# Runs every test of heapcaps, stage by stage, and ends with one "N passed, M failed" line.
# Stages: Rust tests on x86_64 and i686, header freshness (part of the Rust tests), C tests under
# ASan/UBSan on both widths, the ESP-IDF ABI contract, bare-metal RISC-V builds (also run on
# QEMU), clippy, Miri.
# Also: real programs under LD_PRELOAD, ThreadSanitizer on the concurrency test, bounded fuzzing
# (HEAPCAPS_FUZZ_SECS per target, default 30). HEAPCAPS_QUICK=1 skips Miri (the slowest stage).
set -u
cd "$(dirname "$0")/.."
# Disk: a CI machine may have little free space (one run failed with ENOSPC). Test builds without
# debug info and without incremental caches take a third of the space (x86_64 `cargo test
# --no-run`: 178 MB instead of 540 MB) and build faster; builds used by one stage only are removed
# after it (HEAPCAPS_KEEP_BUILDS=1 keeps them, for quicker local reruns).
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-0}
passed=0 failed=0 failures=()
disk() { echo "$(du -sm target fuzz/target 2>/dev/null | awk '{s += $1} END {print s + 0}') MB built, $(df -Pm . | awk 'NR == 2 {print $4}') MB free"; }
stage() {
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s; $(disk))"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s; $(disk))"
  fi
}
drop() { [ -n "${HEAPCAPS_KEEP_BUILDS:-}" ] || rm -rf "$@"; }
echo "=== start: $(disk)"
host=$(rustc -vV | sed -n 's/^host: //p')
contract=../shared/tools/abi-contract/check

stage "cargo fmt --check" cargo fmt --check
stage "rust tests x86_64" cargo test
stage "rust tests i686" cargo test --target i686-unknown-linux-gnu
stage "clippy" cargo clippy --all-targets -- -D warnings
if [ -x tests/c/run.sh ]; then
  stage "C tests (ASan/UBSan, x86_64 + i686)" tests/c/run.sh
  drop target/ctests target/ctest-* target/c-malloc
fi
# `cargo rustc --crate-type staticlib`: an archive of plain objects. Built together with the rlib,
# the objects also carry LLVM bitcode, which GNU nm (used by the ABI check) cannot list.
stage "staticlib with C malloc family" cargo rustc -q --release --features c-malloc --crate-type staticlib
stage "staticlib i686 with C malloc family" cargo rustc -q --release --features c-malloc --crate-type staticlib --target i686-unknown-linux-gnu
# No panic or unwind path in the allocator (the chip archives: tests/qemu/run.sh).
stage "no panic paths (host archives)" scripts/no-panic.sh target/release/libheapcaps.a \
  target/i686-unknown-linux-gnu/release/libheapcaps.a
if [ -x "$contract" ]; then
  stage "ABI contract x86_64" "$contract" --lib target/release/libheapcaps.a --include include
  stage "ABI contract i686" "$contract" --m32 --lib target/i686-unknown-linux-gnu/release/libheapcaps.a --include include
else
  echo "=== ABI contract: $contract not found (it ships in the project's shared/ folder)"
  failed=$((failed + 1)); failures+=("ABI contract missing")
fi
# Reliability (issue 6): real programs on our malloc, threads under ThreadSanitizer, fuzzing.
if [ -x tests/preload/run.sh ]; then
  stage "real programs under LD_PRELOAD (python3, sqlite3, git)" tests/preload/run.sh
fi
# Panic unwind everywhere: the test profile unwinds, and with the dev profile's panic=abort the
# rebuilt std would exist twice (duplicate lang items).
stage "concurrency under ThreadSanitizer" env RUSTFLAGS=-Zsanitizer=thread CARGO_TARGET_DIR=target/tsan \
  CARGO_PROFILE_DEV_PANIC=unwind cargo +nightly test -q -Zbuild-std --target "$host" --test concurrency
drop target/tsan
if command -v cargo-fuzz >/dev/null; then
  stage "fuzz (${HEAPCAPS_FUZZ_SECS:-30} s per target)" scripts/fuzz.sh "${HEAPCAPS_FUZZ_SECS:-30}"
  # The builds only; fuzz/target/corpus (what the runs found) stays.
  drop fuzz/target/"$host"
else
  echo "=== fuzz: cargo-fuzz not installed (cargo install cargo-fuzz --locked)"
  failed=$((failed + 1)); failures+=("fuzz: cargo-fuzz missing")
fi
stage "build riscv32imc" cargo build --release --target riscv32imc-unknown-none-elf
# Chip-only code (cfg target_os = "none") is invisible to the host clippy stage above.
stage "clippy riscv32imc (chip-only code)" cargo clippy --release --target riscv32imc-unknown-none-elf --lib -- -D warnings
# The chips' compact TLSF paths (flash before speed), built on the host so the core and model
# tests (heap checker after every step) run over them, and the caps tests over the chips' caps
# paths.
stage "rust tests i686, chips' compact TLSF paths" env RUSTFLAGS="--cfg heapcaps_compact" \
  CARGO_TARGET_DIR=target/compact cargo test --target i686-unknown-linux-gnu --test core --test model --test memory --test caps --test caps_global --test oom
# The same caps tests over the chips' size-configuration paths (COMPILER_OPTIMIZATION_SIZE: the
# shared `first_of`, `heap_caps_malloc` and `malloc` straight to the general search).
stage "rust tests i686, chips' compact paths, COMPILER_OPTIMIZATION_SIZE" env RUSTFLAGS="--cfg heapcaps_compact" \
  CARGO_TARGET_DIR=target/compact cargo test --target i686-unknown-linux-gnu --features COMPILER_OPTIMIZATION_SIZE --test caps --test caps_global --test oom
# Heap poisoning (ESP-IDF's Kconfig choice as cargo features): every Rust test (the corruption
# matrix in tests/poisoning.rs asserts per mode), the 32-bit core tests, the chips' compact paths
# with it (ESP-IDF users often turn on light poisoning on chips), clippy, the device build, and
# the C view of each mode (tests/c/run-poisoning.sh, which includes disabled).
for mode in LIGHT COMPREHENSIVE; do
  f=HEAP_POISONING_$mode
  stage "rust tests i686, chips' compact TLSF paths, $f" env RUSTFLAGS="--cfg heapcaps_compact" \
    CARGO_TARGET_DIR=target/compact cargo test --target i686-unknown-linux-gnu --features "$f" \
    --test core --test model --test memory --test caps --test poisoning
  stage "rust tests x86_64 $f" cargo test --features "$f"
  stage "rust tests i686 $f (poisoning, core, memory, dump_text)" cargo test --target i686-unknown-linux-gnu --features "$f" --test poisoning --test core --test memory --test dump_text
  stage "clippy $f" cargo clippy --all-targets --features "$f" -- -D warnings
  stage "build riscv32imc $f" cargo build --release --target riscv32imc-unknown-none-elf --features "$f"
done
drop target/compact
if [ -x tests/c/run-poisoning.sh ]; then
  stage "C poisoning tests (3 modes, x86_64 + i686)" tests/c/run-poisoning.sh
  drop target/poison-*
fi
stage "build riscv32imac" cargo build --release --target riscv32imac-unknown-none-elf
# ESP-IDF's silent assertion level (short fatal messages; tests/silent.rs checks both forms).
stage "rust tests x86_64 COMPILER_OPTIMIZATION_ASSERTIONS_SILENT" cargo test --features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT --test silent
# Flash/RAM figures of the device library; fails when a build breaks or a flash target is missed
# (exact figures: (a) <= 3.5 KB, the size configurations' (c) <= 8 KiB, single- and dual-core).
if command -v riscv64-unknown-elf-gcc >/dev/null; then
  stage "size report (riscv32, picolibc)" scripts/size-report.sh
fi
# The same chip archives executed: C tests and death scenarios on QEMU's riscv32 virt machine
# (tests/qemu/README.md). Runs after the size report, whose builds it reuses.
if command -v qemu-system-riscv32 >/dev/null; then
  stage "chip archive on QEMU (riscv32imc/imac; default, size, light and comprehensive poisoning, multicore)" tests/qemu/run.sh
else
  echo "=== chip archive on QEMU: qemu-system-riscv32 missing (apt-get install qemu-system-misc)"
  failed=$((failed + 1)); failures+=("chip archive on QEMU: qemu-system-riscv32 missing")
fi
# The benchmark (bench/: its own crate; figures, never a test) must keep building: the binary and
# the criterion benchmark, 32-bit.
stage "benchmark builds (bench/, i686)" env CARGO_TARGET_DIR="$PWD/target/bench-check" sh -c \
  'cd bench && cargo bench -q --no-run --target i686-unknown-linux-gnu'
drop target/bench-check
# The plain CMake path (cargo-built archive, demo, C tests through ctest).
if command -v cmake >/dev/null && command -v ninja >/dev/null; then
  stage "cmake + ctest" sh -c 'cmake -S . -B target/cmake -G Ninja >/dev/null && cmake --build target/cmake && ctest --test-dir target/cmake --output-on-failure'
fi
# Debugging features (tracing, hooks, task tracking). Their C tests run in the C stage (markers).
dbg=HEAP_TRACING_STANDALONE,HEAP_TRACE_HASH_MAP,HEAP_USE_HOOKS,HEAP_TASK_TRACKING,HEAP_TRACK_DELETED_TASKS
stage "rust tests x86_64, debugging features" cargo test --features "$dbg" --test trace --test task_info --test caps --test caps_global
stage "rust tests i686, debugging features" cargo test --target i686-unknown-linux-gnu --features "$dbg" --test trace --test task_info --test caps --test caps_global
stage "rust tests, no hash map, deleted tasks dropped" cargo test --features HEAP_TRACING_STANDALONE,HEAP_USE_HOOKS,HEAP_TASK_TRACKING --test trace --test task_info
stage "rust tests, trace stack depth 0" env CONFIG_HEAP_TRACING_STACK_DEPTH=0 cargo test --target-dir target/depth0 --features HEAP_TRACING_STANDALONE --test trace
drop target/depth0
stage "clippy, debugging features" cargo clippy --all-targets --features "$dbg" -- -D warnings
stage "staticlib with tracing" cargo rustc -q --release --features c-malloc,HEAP_TRACING_STANDALONE,HEAP_USE_HOOKS --crate-type staticlib --target-dir target/trace
stage "staticlib with every debugging feature, no panic paths" sh -c \
  "cargo rustc -q --release --features c-malloc,$dbg --crate-type staticlib --target-dir target/trace-all &&
   scripts/no-panic.sh target/trace-all/release/libheapcaps.a"
drop target/trace-all
if [ -x "$contract" ]; then
  stage "ABI contract with tracing" "$contract" --trace --lib target/trace/release/libheapcaps.a --include include
fi
drop target/trace
stage "build riscv32imc, debugging features" cargo build --release --target riscv32imc-unknown-none-elf --features "$dbg"
# Chip-only code under the debugging features, abort on failure, and the size configuration's
# cfg'd paths (the chip clippy stage above sees the default features only).
stage "clippy riscv32imc, debugging features, size configuration" sh -c \
  "cargo clippy --release --target riscv32imc-unknown-none-elf --lib --features $dbg,HEAP_ABORT_WHEN_ALLOCATION_FAILS -- -D warnings &&
   cargo clippy --release --target riscv32imc-unknown-none-elf --lib --features COMPILER_OPTIMIZATION_SIZE -- -D warnings"
if [ -z "${HEAPCAPS_QUICK:-}" ]; then
  stage "miri x86_64 (core tests)" cargo +nightly miri test --test core --test memory --test model
  stage "miri i686 (core tests)" cargo +nightly miri test --target i686-unknown-linux-gnu --test core --test memory
  # Private registries over leaked Vec memory (the leaks are deliberate: heaps live forever).
  stage "miri x86_64 (caps + out-of-memory tests)" env MIRIFLAGS=-Zmiri-ignore-leaks cargo +nightly miri test --test caps --test oom
  stage "miri i686 (caps + out-of-memory tests)" env MIRIFLAGS=-Zmiri-ignore-leaks cargo +nightly miri test --target i686-unknown-linux-gnu --test caps --test oom
fi

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed stage: %s\n' "${failures[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
