#!/usr/bin/env bash
# Coordination cost of the work queue (issue 14): one controller (`search --executor external`,
# synthetic evaluator sleeping a fixed time per evaluation) and N `tinyforge worker` processes
# (`--threads 1 --stats FILE`) against one store; coord_summary.py turns the workers' per-job
# timings, the controller's summary and the CPU samples into one table row per N.
#
#   bench/scale/coord.sh [--backend sqlite|postgres] [--workers "32 64 128"] [--sleep-ms 5000]
#                        [--rounds 6] [--heartbeat 1] [--bin .build/release/tinyforge] [--out /tmp/coord]
#
# --rounds: evaluations per worker (trials = N × rounds; --batch 2N keeps a backlog queued, so
# a worker never waits for the controller unless the controller falls behind). postgres starts
# a private server (scripts/postgres.sh start --port 55436 --dir /tmp/pg-coord; 55434 is the
# pgq slice's test server), max_connections raised to 400 for 128 workers + the controller;
# each N gets its own run (`?run=coord-N-TS`).
set -euo pipefail
cd "$(dirname "$0")/../.."
BACKEND=sqlite; WORKERS="32 64 128"; SLEEP_MS=5000; ROUNDS=6; HEARTBEAT=1
BIN=.build/release/tinyforge; OUT=/tmp/coord; PGPORT=55436; PGDIR=/tmp/pg-coord
IDLE_EXIT=60   # a worker waits this long for the first job: a loaded controller can take > 15 s for its first batch of 2N
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) BACKEND="$2"; shift 2 ;;
        --workers) WORKERS="$2"; shift 2 ;;
        --sleep-ms) SLEEP_MS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --heartbeat) HEARTBEAT="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        *) echo "coord.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
    esac
done
case "$BACKEND" in sqlite|postgres) ;; *) echo "coord.sh: --backend $BACKEND is not sqlite or postgres" >&2; exit 2 ;; esac
[ -x "$BIN" ] || { echo "coord.sh: $BIN not found; build it: swift build -c release -Xswiftc -target-cpu -Xswiftc native" >&2; exit 1; }
mkdir -p "$OUT"

PGURL=""
if [ "$BACKEND" = postgres ]; then
    PGURL="$(scripts/postgres.sh start --port "$PGPORT" --dir "$PGDIR")"
    if [ "$(psql -X -tA "$PGURL" -c 'SHOW max_connections')" -lt 400 ]; then
        psql -X -q "$PGURL" -c "ALTER SYSTEM SET max_connections = 400" >/dev/null
        scripts/postgres.sh stop --port "$PGPORT" --dir "$PGDIR" >/dev/null
        PGURL="$(scripts/postgres.sh start --port "$PGPORT" --dir "$PGDIR")"
    fi
fi

COMMON=(--space mcu28 --dataset synthetic:classes=10 --target stm32f746 --sram 64KB --flash 256KB --macs 5M
        --proposer evolution --population 16 --tournament 3 --evaluator synthetic --seed 1
        --synthetic-delay-ms "$SLEEP_MS" --executor external)

# CPU: /proc/stat busy share and the 1-min load, once a second, until the file $1.stop exists.
sample_cpu() {
    local f="$1"
    while [ ! -e "$f.stop" ]; do
        echo "$(date +%s.%N) $(head -1 /proc/stat | cut -d' ' -f2-) | $(cut -d' ' -f1 /proc/loadavg)" >>"$f"
        sleep 1
    done
}

for N in $WORKERS; do
    D="$OUT/$BACKEND-$N"; rm -rf "$D"; mkdir -p "$D/stats" "$D/logs"
    TRIALS=$((N * ROUNDS))
    if [ "$BACKEND" = postgres ]; then
        STORE="$PGURL?run=coord-$N-$(date +%s)"; WHERE=(--store "$STORE" --run "$D/run"); WOUT=(--output "$D/out")
    else
        STORE="$D/run"; WHERE=(--run "$STORE"); WOUT=()
    fi
    echo "== $BACKEND N=$N: $TRIALS trials × ${SLEEP_MS} ms, batch $((2 * N)), store $STORE"
    (
        sample_cpu "$D/cpu.txt" &
        "$BIN" search "${COMMON[@]}" --trials "$TRIALS" --batch $((2 * N)) "${WHERE[@]}" >"$D/search.log" 2>&1 &
        SEARCH=$!
        for _ in $(seq 600); do grep -q "executor external" "$D/search.log" 2>/dev/null && break; sleep 0.1; done
        grep -q "executor external" "$D/search.log" || { echo "coord.sh: the search did not start:" >&2; cat "$D/search.log" >&2; exit 1; }
        PIDS=()
        for i in $(seq "$N"); do
            TINYFORGE_WORKER_LABEL="coord:$i" "$BIN" worker --store "$STORE" --threads 1 --heartbeat "$HEARTBEAT" \
                --idle-exit "$IDLE_EXIT" --stats "$D/stats/w$i.jsonl" "${WOUT[@]}" >"$D/logs/w$i.log" 2>&1 &
            PIDS+=($!)
        done
        for p in "${PIDS[@]}"; do wait "$p" || echo "worker pid $p exited $?" >>"$D/worker-failures.txt"; done
        # Every worker has exited (run done, or idle for --idle-exit): a controller still running
        # 120 s later waits for results it will never read; stop it and say so. (10 s was too
        # short: a debug controller can spend longer on its final report after the run is done.)
        for _ in $(seq 1200); do kill -0 "$SEARCH" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$SEARCH" 2>/dev/null; then
            kill "$SEARCH"; echo "controller still waiting after every worker exited; stopped" >"$D/controller-stuck.txt"
        fi
        RC=0; wait "$SEARCH" || RC=$?
        echo "$RC" >"$D/search.rc"
        touch "$D/cpu.txt.stop"; wait
        times >"$D/times.txt"   # user/sys CPU of this subshell's children: controller + workers
    )
    python3 bench/scale/coord_summary.py --backend "$BACKEND" --workers "$N" --sleep-ms "$SLEEP_MS" --heartbeat "$HEARTBEAT" "$D" | tee "$D/summary.json"
done
python3 bench/scale/coord_summary.py --table "$OUT"/"$BACKEND"-*/summary.json
