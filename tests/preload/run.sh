#!/usr/bin/env bash
# Runs real, unmodified programs on heapcaps' malloc: builds the c-malloc shared object, runs each
# program once with the C library's malloc and once with LD_PRELOAD=libheapcaps.so on the host-only
# "host-large" layout (one 512 MiB heap), and requires the same exit status, the same stdout and the
# same stderr (minus heapcaps' boot log lines, "I (0) heap_init: ...").
# Two builds: ESP-IDF's 4-byte aligned malloc (c-malloc) and the host variant with 16-byte
# aligned blocks (host-malloc-align16, alignof(max_align_t) of glibc). HEAPCAPS_PRELOAD_VARIANTS
# picks some ("c-malloc host-malloc-align16" by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=$(python3 -c 'import sys; print(sys.executable)')

# sqlite3: a generated database, written to a file, then queried.
cat >"$work/gen.sql" <<'SQL'
create table item(id integer primary key, name text, grp integer, price real);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 30000)
insert into item select i, 'item' || (i * 7919 % 30000), i % 97, (i * 31 % 1000) / 10.0 from n;
create index item_grp on item(grp, price);
select count(*), sum(price), max(name) from item;
select grp, count(*), round(avg(price), 3) from item group by grp order by grp limit 10;
select name from item where grp = 42 order by price desc, id limit 5;
SQL
cat >"$work/query.sql" <<'SQL'
pragma integrity_check;
select count(*) from item where price > 50;
select group_concat(id) from (select id from item where name like 'item1234%' order by id);
SQL

gcc -O1 -o "$work/align" tests/preload/align.c
names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "C malloc alignment" "$work/align \$HEAPCAPS_ALIGN"
add "python3 test module" "cd $root/tests/preload && $py pyprog.py"
add "sqlite3 generate db" "rm -f $work/db.sqlite && sqlite3 $work/db.sqlite < $work/gen.sql"
add "sqlite3 query db" "sqlite3 $work/db.sqlite < $work/query.sql"
add "git log --stat" "git -C $root log --stat -n 40 --format='%H %s'"
add "git grep" "git -C $root grep -n -c MultiHeap HEAD -- src"
add "git diff" "git -C $root diff --stat HEAD~8 HEAD"
add "git fsck" "git -C $root fsck --no-dangling 2>&1 | sort"

fail=0
for variant in ${HEAPCAPS_PRELOAD_VARIANTS:-c-malloc host-malloc-align16}; do
CARGO_TARGET_DIR=target/preload/$variant cargo rustc -q --release --features "$variant" --crate-type cdylib
so=$root/target/preload/$variant/release/libheapcaps.so
# ESP-IDF's malloc guarantees 4 bytes; the host variant alignof(max_align_t).
if [ "$variant" = c-malloc ]; then export HEAPCAPS_ALIGN=4; else export HEAPCAPS_ALIGN=16; fi
echo "--- $variant: $so"
for i in "${!names[@]}"; do
  n=${names[$i]} c=${cmds[$i]}
  set +e
  r0=$(date +%s.%N)
  bash -c "$c" >"$work/ref.out" 2>"$work/ref.err"; rref=$?
  t0=$(date +%s.%N)
  HEAPCAPS_CHIP=host-large LD_PRELOAD=$so bash -c "$c" >"$work/our.out" 2>"$work/our.err.raw"; rour=$?
  t1=$(date +%s.%N)
  set -e
  grep -v '^I (0) heap_init: ' "$work/our.err.raw" >"$work/our.err" || true
  grep -v '^I (0) heap_init: ' "$work/our.out" >"$work/our.out.f" || true
  mv "$work/our.out.f" "$work/our.out"
  # unittest prints timings ("Ran 6 tests in 1.234s"): compare without them.
  sed -i 's/ in [0-9.]*s$//' "$work/ref.err" "$work/our.err"
  boots=$(grep -c '^I (0) heap_init: Initializing' "$work/our.err.raw" || true)
  if [ $rref -eq 0 ] && [ $rref -eq $rour ] && cmp -s "$work/ref.out" "$work/our.out" && cmp -s "$work/ref.err" "$work/our.err"; then
    printf 'preload %-20s ok: same output (exit %d, %d stdout lines, %d processes on heapcaps; %.1f s, glibc %.1f s)\n' \
      "$n" "$rour" "$(wc -l <"$work/our.out")" "$boots" "$(echo "$t1 - $t0" | bc)" "$(echo "$t0 - $r0" | bc)"
  else
    fail=1
    echo "preload $n: DIFFERS (exit $rref vs $rour)"
    diff "$work/ref.out" "$work/our.out" | head -20 || true
    diff "$work/ref.err" "$work/our.err" | head -20 || true
  fi
done
done
exit $fail
