#!/usr/bin/env bash
# Coverage-guided fuzzing of TinyForge's input parsers with libFuzzer (see fuzz/README.md).
#
#   scripts/fuzz.sh list                  the targets (one per fuzz/<name>/main.swift)
#   scripts/fuzz.sh build                 build the instrumented libraries and every target
#   scripts/fuzz.sh [TARGET|all] [SECONDS] build, then fuzz each target for SECONDS (default 60)
#   scripts/fuzz.sh run TARGET [SECONDS]  fuzz a target built before, without building
#
# SwiftPM builds the dependencies into .build-fuzz; TinyForge's libraries are compiled
# whole-module with `-sanitize=fuzzer,address -O` (coverage counters, ASan; bounds and overflow
# checks stay on: never -Ounchecked, whose silent wrap-around is exactly what fuzzing must
# catch). Each target links its main.swift against those objects.
# Corpus: fuzz/<t>/corpus (git-ignored, grows across runs) plus the committed seeds in
# fuzz/<t>/seeds. A crash leaves its input in fuzz/<t>/crashes/ and makes the script exit 1.
# Environment: FUZZ_NICE (nice level, default 0), FUZZ_JOBS (parallel libFuzzer processes per
# target, default 1), FUZZ_RSS_MB (memory limit per process, default 2048), FUZZ_TIMEOUT
# (seconds one input may take, wall-clock, default 60), FUZZ_LEAKS (1 = LeakSanitizer on).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
BUILD="$REPO/.build-fuzz"
BIN="$BUILD/fuzzers"
NICE="${FUZZ_NICE:-0}"
JOBS="${FUZZ_JOBS:-1}"
RSS="${FUZZ_RSS_MB:-2048}"
# libFuzzer's per-input timeout is wall-clock: on a shared, loaded machine a niced fuzzer can
# wait seconds for a CPU, so 60 s (every input here runs in milliseconds when it gets one).
TIMEOUT="${FUZZ_TIMEOUT:-60}"
# Leak detection off by default: swift-foundation's FileManager.contents(atPath:) leaks 4 KB
# per empty file (found by the data target, see bench/reliability/fuzz.md), which is not a
# TinyForge bug; crashes, overflows, OOMs and timeouts still fail. FUZZ_LEAKS=1 turns it on.
LEAKS="${FUZZ_LEAKS:-0}"

die() { echo "fuzz: $*" >&2; exit 2; }
targets() { for d in fuzz/*/main.swift; do basename "$(dirname "$d")"; done; }

check_toolchain() {
    # libFuzzer ships with the Swift toolchain (lib/swift/linux/libclang_rt.fuzzer-x86_64.a);
    # fail early with the reason when it is missing or broken.
    local t; t="$(mktemp -d)"
    printf '@_cdecl("LLVMFuzzerTestOneInput") public func f(_ d: UnsafePointer<UInt8>, _ n: Int) -> Int32 { 0 }\n' > "$t/t.swift"
    if ! swiftc -sanitize=fuzzer -parse-as-library "$t/t.swift" -o "$t/t" > "$t/log" 2>&1 || ! "$t/t" -runs=1 > /dev/null 2>&1; then
        cat "$t/log" >&2; rm -rf "$t"
        die "this Swift toolchain cannot build libFuzzer targets (swiftc -sanitize=fuzzer)"
    fi
    rm -rf "$t"
}

build() {
    check_toolchain
    echo "fuzz: building dependencies into $BUILD (first time: several minutes)"
    # SwiftPM builds the dependencies (GRDB, compress-nio and swift-nio). Its two --sanitize
    # flags reach swiftc as two -sanitize= flags of which the last wins, in an order that
    # varies between runs, so TinyForge's own modules are compiled below with one combined
    # flag instead (a SwiftPM build once gave objects with ASan but no coverage counters,
    # and libFuzzer then mutates blindly).
    nice -n "$NICE" swift build --build-path "$BUILD" -c debug --sanitize fuzzer --sanitize address \
        -Xswiftc -O --target TinyForgePipeline 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -3
    local objs=() maps=() out lib="$BUILD/instrumented"
    out="$(cd "$BUILD/debug" && pwd -P)"
    # Clang module maps of the C targets the Swift modules import (NIO shims, zlib, SQLite, and
    # TinyForge's own: CTinyForgeSystem, the CImageCodecs system library): the ones SwiftPM
    # generated, and the packages' own (Sources/<T>/[include/]module.modulemap).
    while IFS= read -r m; do maps+=("-Xcc" "-fmodule-map-file=$m"); done < <(
        { find "$out" -maxdepth 2 -path '*.build/module.modulemap' ! -path '*-tool.build/*'
          find "$BUILD/checkouts" -maxdepth 6 -path '*/Sources/*/module.modulemap'
          find "$REPO/Sources" -maxdepth 3 -name module.modulemap; } | sort)
    # TinyForge's libraries, whole-module, in dependency order: coverage counters + ASan, -O.
    mkdir -p "$lib" "$BIN"
    local stale=""  # once one module is recompiled, every later one is too (they may import it)
    for m in TinyForgeSpec TinyForgeHardware TinyForgeEngine TinyForgeData TinyForgeExplain TinyForgeLLM TinyForgeDeploy \
             TinyForgeTraining TinyForgeLaunch TinyForgeSearch; do
        if [ -z "$stale" ] && [ -f "$lib/$m.o" ] && [ -z "$(find "Sources/$m" -name '*.swift' -newer "$lib/$m.o")" ]; then
            continue
        fi
        stale=1
        rm -f "$lib/$m.o"
        nice -n "$NICE" swiftc -wmo -parse-as-library -module-name "$m" -emit-module -emit-module-path "$lib/$m.swiftmodule" \
            -c -o "$lib/$m.o" -sanitize=fuzzer,address -O -I "$lib" -I "$out/Modules" "${maps[@]}" \
            $(find "Sources/$m" -name '*.swift' | sort) 2>&1 | { grep -E "error" || true; } | head -20
        [ -f "$lib/$m.o" ] || die "compiling $m failed"
    done
    # Dependency objects only (TinyForge's come from $lib): no executables (they define main),
    # no test bundles, no host-side plugin tools, no ArgumentParser (the CLI's, not needed).
    while IFS= read -r o; do objs+=("$o"); done < <(find "$out" -path '*.build/*' -name '*.o' \
        ! -path '*/TinyForge*' ! -path '*/tinyforge*' ! -path '*Tests.build/*' \
        ! -path '*-tool.build/*' ! -path '*/ArgumentParser*' ! -path '*PackageDiscoveredTests*' | sort)
    objs+=("$lib"/*.o)
    for t in $(targets); do
        rm -f "$BIN/$t"  # a stale binary must not pass for a fresh one
        nice -n "$NICE" swiftc -sanitize=fuzzer,address -O -parse-as-library -module-name "fuzz_${t//-/_}" \
            -I "$lib" -I "$out/Modules" "${maps[@]}" fuzz/common/*.swift "fuzz/$t/main.swift" "${objs[@]}" \
            -lsqlite3 -lz -lpng16 -ljpeg -o "$BIN/$t" 2>&1 | grep -v "Cannot export local symbol" || true
        [ -x "$BIN/$t" ] || die "linking target $t failed"
    done
    echo "fuzz: built $(targets | wc -l) targets in $BIN"
}

# JSON keys and literals of the seeds, as a libFuzzer dictionary (helps text formats).
dictionary() {
    local t="$1" out="$BUILD/dict-$1.txt"
    { printf '"{"\n"}"\n"["\n"]"\n":"\n","\n"true"\n"false"\n"null"\n"\\\\\\""\n'
      cat "fuzz/$t/seeds/"* 2>/dev/null | LC_ALL=C grep -aoE '"[A-Za-z0-9_+.-]{2,40}"' | sort -u | sed 's/"/\\"/g; s/^/"/; s/$/"/'
    } > "$out"
    echo "$out"
}

run_one() {
    local t="$1" secs="$2"
    [ -f "fuzz/$t/main.swift" ] || die "no target '$t' (targets: $(targets | tr '\n' ' '))"
    mkdir -p "fuzz/$t/corpus" "fuzz/$t/crashes"
    local log="$BUILD/fuzz-$t.log"
    local args=(-max_total_time="$secs" -timeout="$TIMEOUT" -rss_limit_mb="$RSS" -print_final_stats=1 -detect_leaks="$LEAKS"
                -artifact_prefix="fuzz/$t/crashes/" -dict="$(dictionary "$t")")
    [ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS")
    local rc=0
    # ASan's own LeakSanitizer pass at exit must follow the same switch as libFuzzer's.
    ASAN_OPTIONS="detect_leaks=$LEAKS${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
        nice -n "$NICE" "$BIN/$t" "${args[@]}" "fuzz/$t/corpus" "fuzz/$t/seeds" > "$log" 2>&1 || rc=$?
    local execs cov ft
    execs=$(grep -aoE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || echo "?")
    cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
    ft=$(grep -aoE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
    if [ "$rc" -ne 0 ]; then
        echo "fuzz: $t CRASHED after $execs executions (cov $cov, ft $ft); input in fuzz/$t/crashes/; log $log"
        grep -aE "ERROR: |Fatal error|fuzz property violated|SUMMARY" "$log" | head -5
        return 1
    fi
    echo "fuzz: $t ok: $execs executions in $secs s, cov $cov, ft $ft, corpus $(ls "fuzz/$t/corpus" | wc -l) files"
}

case "${1:-all}" in
    list) targets ;;
    build) build ;;
    run)  # fuzz an already built target: scripts/fuzz.sh run TARGET [SECONDS]
        [ -x "$BIN/${2:-}" ] || die "target '${2:-}' is not built; run scripts/fuzz.sh build first"
        run_one "$2" "${3:-60}" ;;
    *)
        which="${1:-all}"; secs="${2:-60}"
        [[ "$secs" =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number, got '$secs'"
        build
        failed=0
        if [ "$which" = all ]; then list=$(targets); else list="$which"; fi
        for t in $list; do run_one "$t" "$secs" || failed=$((failed + 1)); done
        [ "$failed" -eq 0 ] || { echo "fuzz: $failed target(s) crashed"; exit 1; }
        ;;
esac
