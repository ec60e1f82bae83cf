#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a bounded time: scripts/fuzz.sh [seconds per run] (default 60).
# multi_heap runs once per heap poisoning mode that the library's Cargo.toml defines; then every
# target once more over the chips' compact code paths (`--cfg heapcaps_compact`, what the
# riscv32 archive runs; one rebuild, so these come last). Each run starts
# from the committed seeds (fuzz/corpus/<target>) plus what earlier runs found (fuzz/target/corpus).
# Prints executions per run and the total; exits non-zero on the first crash (the input is saved in
# fuzz/artifacts/<target>/; fuzz/README.md says how to replay it).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz --locked"; exit 1; }
modes=(default)
for m in HEAP_POISONING_LIGHT HEAP_POISONING_COMPREHENSIVE; do
  grep -q "^$m *=" ../Cargo.toml && modes+=("$m")
done
runs=()
for t in tlsf multi_heap caps; do
  if [ "$t" = multi_heap ]; then
    for m in "${modes[@]}"; do runs+=("$t:$m"); done
  else
    runs+=("$t:default")
  fi
done
for t in tlsf multi_heap caps; do runs+=("$t:compact"); done
total=0
for r in "${runs[@]}"; do
  t=${r%%:*} m=${r#*:}
  feat=() flags=${RUSTFLAGS:-}
  case $m in
    default) ;;
    compact) flags="$flags --cfg heapcaps_compact" ;;
    *) feat=(--features "poisoning,heapcaps/$m") ;;
  esac
  work=target/corpus/$t
  mkdir -p "$work"
  log=$(mktemp)
  echo "--- fuzz $t ($m), ${secs} s"
  if ! RUSTFLAGS="$flags" cargo +nightly fuzz run "${feat[@]}" "$t" "$work" "corpus/$t" -- \
      -max_total_time="$secs" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log"; rm -f "$log"
    echo "fuzz $t ($m): CRASH (see fuzz/artifacts/$t/)"; exit 1
  fi
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rm -f "$log"
  echo "fuzz $t ($m): ${n:-0} executions, no failure"
  total=$((total + ${n:-0}))
done
echo "fuzz total: $total executions over ${#runs[@]} runs"
