#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, GEOSSL_FUZZ=ON, ASan +
# UBSan) and runs each in turn.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60; 0 only replays the regression inputs and
# the seed corpus); TARGETs are names without the fuzz_ prefix (default: all
# of tests/fuzz/fuzz_*.c).  For each target it first runs every input of
# tests/fuzz/regressions/<target>/ (and the reproducers kept in
# ../shared/repro, skipped with a note when absent), then fuzzes from the
# seeds tests/fuzz/make_corpus.sh writes into BUILD/fuzz-seeds/<target>/
# (needs a built geossl, GEOSSL=path or build/geossl, tiffcp and python3)
# for SECONDS.  New inputs go to
# BUILD/fuzz-corpus/<target>/ (kept between runs, never into the tree);
# findings to BUILD/fuzz-findings/<target>/, logs to BUILD/fuzz-logs/.
# tests/fuzz/dict/<target>.dict, when present, is the target's dictionary.
# Prints executions and coverage per target; exits 1 on any finding.
#
# Environment: CC (default clang-14, else clang), FUZZ_BUILD_DIR (default
# build-fuzz), FUZZ_BUILD_JOBS (default: all cores), FUZZ_TIMEOUT (seconds
# one input may take, default 10), FUZZ_NICE (a nice level to run at, e.g.
# 19 on a shared machine), GEOSSL_SHARED_REPRO (default ../shared/repro).
# Extra libFuzzer flags: FUZZ_FLAGS="-rss_limit_mb=4096 ...".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_PER_TARGET=${1:-60}
[ $# -gt 0 ] && shift
if ! [[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]]; then
    echo "usage: tools/fuzz.sh [SECONDS] [TARGET...]  (SECONDS per target; 0: replay regressions and corpus only)" >&2
    exit 2
fi
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
TIMEOUT=${FUZZ_TIMEOUT:-10}
SHARED_REPRO=${GEOSSL_SHARED_REPRO:-$ROOT/../shared/repro}
NICE=()
[ -n "${FUZZ_NICE:-}" ] && NICE=(nice -n "$FUZZ_NICE")

CC=${CC:-}
if [ -z "$CC" ]; then
    for c in clang-14 clang; do command -v "$c" >/dev/null && { CC=$c; break; }; done
fi
if [ -z "$CC" ] || ! command -v "$CC" >/dev/null; then
    echo "fuzz: no clang found (apt-get install clang-14 libclang-rt-14-dev libomp-14-dev)" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for f in tests/fuzz/fuzz_*.c; do
        t=${f#tests/fuzz/fuzz_}
        TARGETS+=("${t%.c}")
    done
fi
for t in "${TARGETS[@]}"; do
    [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (tests/fuzz/fuzz_$t.c)" >&2; exit 2; }
done

# The files that crashed or fooled the readers (../shared/repro/README.md),
# replayed by their target: read from there, never copied into the tree.
shared_inputs() {
    case $1 in
    tiff) echo tiff-ycbcr-subsampled-256.tif tiff-ycbcr-subsampled-overflow.tif tiff-fuzzer-overflow.tif ;;
    jpeg) echo jpeg-60783x256-header.jpg jpeg-65500x65500-header.jpg ;;
    checkpoint) echo checkpoint-hdf5-overflow.h5 checkpoint-huge-string.h5 ;;
    esac
}

echo "== fuzz: building ${TARGETS[*]} in $BUILD with $CC"
CC=$CC "${NICE[@]}" cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEOSSL_FUZZ=ON \
    -DGEOSSL_BUILD_TESTS=OFF >/dev/null
BUILD_TARGETS=(--target seed_writer)
for t in "${TARGETS[@]}"; do BUILD_TARGETS+=(--target "fuzz_$t"); done
"${NICE[@]}" cmake --build "$BUILD" -j "${FUZZ_BUILD_JOBS:-$(nproc)}" "${BUILD_TARGETS[@]}"

# Seed corpora: small valid files written by geossl and seed_writer
# (tests/fuzz/make_corpus.sh), generated here, not committed; remade when
# the script or the writer changes.
SEEDS=$BUILD/fuzz-seeds
if [ ! -d "$SEEDS" ] || [ tests/fuzz/make_corpus.sh -nt "$SEEDS" ] || [ "$BUILD/tests/fuzz/seed_writer" -nt "$SEEDS" ]; then
    echo "== fuzz: writing the seed corpora into $SEEDS"
    CORPUS_DIR=$SEEDS SEED_WRITER=$BUILD/tests/fuzz/seed_writer GEOSSL=${GEOSSL:-build/geossl} \
        bash tests/fuzz/make_corpus.sh
fi

mkdir -p "$BUILD/fuzz-logs"
declare -A RESULT EXECS COV FT
failed=0
for t in "${TARGETS[@]}"; do
    bin="$BUILD/tests/fuzz/fuzz_$t"
    log="$BUILD/fuzz-logs/$t.log"
    findings="$BUILD/fuzz-findings/$t"
    work="$BUILD/fuzz-corpus/$t"
    mkdir -p "$findings" "$work"
    : >"$log"
    RESULT[$t]=ok
    EXECS[$t]=-
    COV[$t]=-
    FT[$t]=-

    # 1. Every regression input and seed, once each.
    inputs=()
    for d in "tests/fuzz/regressions/$t" "$SEEDS/$t"; do
        [ -d "$d" ] && while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$d" -type f -print0 | sort -z)
    done
    for name in $(shared_inputs "$t"); do
        if [ -f "$SHARED_REPRO/$name" ]; then
            inputs+=("$SHARED_REPRO/$name")
        else
            echo "fuzz: $t: SKIP $name (not in $SHARED_REPRO; set GEOSSL_SHARED_REPRO)"
        fi
    done
    echo "== fuzz_$t: replaying ${#inputs[@]} inputs (regressions and seeds)"
    if ((${#inputs[@]})) && ! "${NICE[@]}" "$bin" -timeout="$TIMEOUT" -artifact_prefix="$findings/" \
        "${inputs[@]}" >>"$log" 2>&1; then
        RESULT[$t]="FAILED on a regression input"
        failed=1
        tail -n 60 "$log"
        continue
    fi
    ((SECONDS_PER_TARGET > 0)) || continue

    # 2. Fuzzing: new inputs into $work; the committed seeds and regressions read only.
    dict=()
    [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
    seeds=("$work" "$SEEDS/$t")
    [ -d "tests/fuzz/regressions/$t" ] && seeds+=("tests/fuzz/regressions/$t")
    echo "== fuzz_$t: fuzzing for $SECONDS_PER_TARGET s"
    # shellcheck disable=SC2086
    if "${NICE[@]}" "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -print_final_stats=1 \
        -artifact_prefix="$findings/" "${dict[@]}" ${FUZZ_FLAGS:-} "${seeds[@]}" >>"$log" 2>&1; then
        :
    else
        RESULT[$t]="FINDING (see $findings/ and $log)"
        failed=1
        grep -E -A40 "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|invariant broken" "$log" | head -n 80 || true
        ls "$findings"
    fi
    EXECS[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1 || true)
    COV[$t]=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    FT[$t]=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
done

echo
echo "== fuzz summary ($SECONDS_PER_TARGET s per target)"
printf '%-22s %12s %8s %8s  %s\n' target executions cov ft result
for t in "${TARGETS[@]}"; do
    printf '%-22s %12s %8s %8s  %s\n' "fuzz_$t" "${EXECS[$t]:--}" "${COV[$t]:--}" "${FT[$t]:--}" "${RESULT[$t]}"
done
if ((failed)); then
    echo "fuzz: findings above; make each a regression input: tests/fuzz/regressions/<target>/<name>" >&2
    exit 1
fi
