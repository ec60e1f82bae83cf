#!/usr/bin/env bash
# Builds libheapcaps.a and runs every tests/c/test_*.c against it, on x86_64 and i686.
#
#   tests/c/run.sh [FILTER...]     FILTER is passed to every test binary (test name or "[tag]")
#   CTEST_ONLY='test_heap_trace*.c' tests/c/run.sh   only the files matching that glob
#   CTEST_PROFILE=debug tests/c/run.sh   link a debug build of the library instead (Rust debug
#                                        assertions: overflow and misaligned-pointer checks)
#
# Per test file and architecture: gcc (C11, -Wall -Wextra -Werror, ASan + UBSan) with the Unity-style
# harness in tests/unity, linked against the matching staticlib. A file containing the line
#   // heapcaps-test: c-malloc
# is linked against a library built with `--features c-malloc` (heapcaps provides malloc/free) and
# runs without ASan, whose interceptors would own malloc otherwise (UBSan stays on).
# A marker line may also name cargo features and extra compiler flags (comma-separated, no spaces):
#   // heapcaps-test: features=HEAP_TRACING_STANDALONE,HEAP_USE_HOOKS cflags=-DCONFIG_HEAP_USE_HOOKS
# Such a file is linked against a library built with those features (in target/ctest-FEATURES).
# Every file is also compiled once as C++ (syntax only) to keep the headers C++-safe.
# Exit status is non-zero when anything fails to build or any test fails.
set -u -o pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -Iinclude -Itests/unity)
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
UBSAN=(-fsanitize=undefined -fno-sanitize-recover=undefined)
LIBS=(-lpthread -ldl -lm)
HARNESS=(tests/unity/unity.c tests/unity/unity_runner.c)

mapfile -t TESTS < <(ls tests/c/${CTEST_ONLY:-test_*.c} 2>/dev/null | sort)
if [ "${#TESTS[@]}" -eq 0 ]; then
    echo "no tests/c/test_*.c found" >&2
    exit 1
fi

needs_c_malloc() { grep -Eq '^[[:space:]]*//[[:space:]]*heapcaps-test:.*\bc-malloc\b' "$1"; }
marker() { grep -E '^[[:space:]]*//[[:space:]]*heapcaps-test:' "$1" | head -1; }
features_of() { marker "$1" | grep -oE '\bfeatures=[^[:space:]]+' | cut -d= -f2; }
cflags_of() { marker "$1" | grep -oE '\bcflags=[^[:space:]]+' | cut -d= -f2- | tr ',' ' '; }

any_c_malloc=0
for t in "${TESTS[@]}"; do
    if needs_c_malloc "$t"; then any_c_malloc=1; fi
done

fail=0
summary=()

PROFILE="${CTEST_PROFILE:-release}"
case "$PROFILE" in
    release) PFLAG=(--release) ;;
    debug) PFLAG=() ;;
    *) echo "CTEST_PROFILE must be release or debug" >&2; exit 1 ;;
esac

echo "== building libheapcaps.a ($PROFILE)"
cargo rustc "${PFLAG[@]}" --quiet --crate-type staticlib || exit 1
cargo rustc "${PFLAG[@]}" --quiet --crate-type staticlib --target i686-unknown-linux-gnu || exit 1
if [ "$any_c_malloc" = 1 ]; then
    # A separate target dir keeps the plain and the c-malloc libraries apart.
    cargo rustc "${PFLAG[@]}" --quiet --crate-type staticlib --features c-malloc --target-dir target/c-malloc || exit 1
    cargo rustc "${PFLAG[@]}" --quiet --crate-type staticlib --features c-malloc --target-dir target/c-malloc \
        --target i686-unknown-linux-gnu || exit 1
fi

OUT="$ROOT/target/ctests/$PROFILE"
mkdir -p "$OUT"

dir_for() { # c_malloc [features]
    local dir=target
    [ "$1" = 1 ] && dir=target/c-malloc
    if [ -n "${2:-}" ]; then
        dir="target/ctest-$(tr ',' '-' <<<"$2")"
        [ "$1" = 1 ] && dir="$dir-c-malloc"
    fi
    echo "$dir"
}

lib_for() { # arch c_malloc [features]
    local dir
    dir="$(dir_for "$2" "${3:-}")"
    if [ "$1" = x86_64 ]; then
        echo "$dir/$PROFILE/libheapcaps.a"
    else
        echo "$dir/i686-unknown-linux-gnu/$PROFILE/libheapcaps.a"
    fi
}

echo "== C++ syntax check (g++ -x c++)"
for f in "${HARNESS[@]}" "${TESTS[@]}"; do
    xf=()
    case "$f" in tests/c/*) read -r -a xf <<<"$(cflags_of "$f")" ;; esac
    if ! g++ -x c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror "${xf[@]}" -Iinclude -Itests/unity "$f"; then
        echo "C++ syntax check failed: $f"
        fail=1
    fi
done

for arch in x86_64 i686; do
    archflags=()
    [ "$arch" = i686 ] && archflags=(-m32)
    for t in "${TESTS[@]}"; do
        name="$(basename "$t" .c)"
        cm=0
        san=("${SAN[@]}")
        if needs_c_malloc "$t"; then cm=1; san=("${UBSAN[@]}"); fi
        feats="$(features_of "$t")"
        lib="$(lib_for "$arch" "$cm" "$feats")"
        extra=()
        read -r -a extra <<<"$(cflags_of "$t")"
        if [ -n "$feats" ]; then
            all="$feats"
            [ "$cm" = 1 ] && all="$all,c-malloc"
            tgt=()
            [ "$arch" = i686 ] && tgt=(--target i686-unknown-linux-gnu)
            if ! cargo rustc "${PFLAG[@]}" --quiet --crate-type staticlib --features "$all" \
                --target-dir "$(dir_for "$cm" "$feats")" "${tgt[@]}"; then
                summary+=("$arch $name: LIBRARY BUILD FAILED ($all)")
                fail=1
                continue
            fi
        fi
        exe="$OUT/$arch/$name"
        mkdir -p "$OUT/$arch"
        echo "== $arch: $name ($( [ $cm = 1 ] && echo 'c-malloc lib, UBSan only' || echo 'ASan+UBSan'))${feats:+ features $feats}"
        if ! gcc "${CFLAGS[@]}" "${extra[@]}" "${archflags[@]}" "${san[@]}" -o "$exe" "${HARNESS[@]}" "$t" "$lib" "${LIBS[@]}"; then
            echo "BUILD FAILED: $arch $name"
            summary+=("$arch $name: BUILD FAILED")
            fail=1
            continue
        fi
        log="$OUT/$arch/$name.log"
        # detect_leaks=0: the tests' heaps are static buffers; LSan has nothing to find there and
        # it does not work under ptrace-restricted sandboxes.
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1" \
            "$exe" "$@" 2>&1 | tee "$log"
        rc=$?
        # A binary that runs itself once per simulated chip prints one Unity summary per chip;
        # add them up.
        line="$(grep -E '^[0-9]+ Tests [0-9]+ Failures [0-9]+ Ignored' "$log" |
            awk '{t+=$1; f+=$3; i+=$5; n++} END {if (n) printf "%d Tests %d Failures %d Ignored%s", t, f, i, (n > 1 ? " (" n " runs, one per chip)" : "")}')"
        if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
            fail=1
            summary+=("$arch $name: FAIL (exit $rc) ${line}")
        else
            summary+=("$arch $name: ${line}")
        fi
    done
done

echo
echo "== summary"
for s in "${summary[@]}"; do echo "$s"; done
if [ "$fail" -ne 0 ]; then
    echo "FAIL"
    exit 1
fi
echo "OK"
