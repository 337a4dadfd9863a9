#!/usr/bin/env bash
# Reliability proof for issue 12 (one process per run, atomic files, workers die with their parent).
#
#   scripts/reliability-kill.sh [KILLS=20] [PAIRS=5]
#
# With the release binary and real `evaluate-candidate` workers on a small synthetic dataset:
#  1. KILLS times: start/resume a search, kill -9 it at a random moment (0.5–4 s), and check
#     that none of its workers is alive 2 s later;
#  2. PAIRS times: start two `search --resume` of the same run at the same moment; exactly one may
#     write (the other must be refused by the run lock); kill both after 3 s;
#  3. resume every run to completion and count, per run: evaluations completed, lost (trials
#     not evaluated), duplicated (a (candidate, rung) evaluated twice, or a spec stored twice),
#     wrongly failed (a failed evaluation: the dataset and workers cannot fail legitimately).
# Bounded: every step has a timeout; the whole script stops by itself. Needs python3 (sqlite3 module).
# UNARMED=1 runs the workers as a foreign command without the parent-death signal
# (`env -u TINYFORGE_PARENT_PID tinyforge evaluate-candidate`): the old behaviour, where workers
# outlive the kill; leftovers are then not killed by this script but must be reaped by the
# resumed run (counted from its event log).
set -uo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-20}
PAIRS=${2:-5}
BIN=${TINYFORGE_BIN:-.build/release/tinyforge}
OUT=${OUT:-$(mktemp -d /tmp/tf-reliability.XXXXXX)}
TRIALS=${TRIALS:-60}
DATA="synthetic:classes=4,size=28,channels=1,n=256,test=32"
[ -x "$BIN" ] || { echo "error: $BIN missing; build it: swift build -c release -Xswiftc -target-cpu -Xswiftc native" >&2; exit 2; }
mkdir -p "$OUT"
RANDOM=${SEED:-12}

UNARMED=${UNARMED:-0}
search_args() { # ARGS = a new run in $1
  ARGS=(search --space mcu28 --dataset "$DATA" --target stm32f746 --sram 320KB --flash 1MB --proposer random
        --trials "$TRIALS" --batch 4 --workers 2 --epochs 1 --evaluator process --timeout 600 --seed 7 --run "$1")
  if [ "$UNARMED" = 1 ]; then ARGS+=(--worker-command "env -u TINYFORGE_PARENT_PID $(realpath "$BIN") evaluate-candidate"); fi
}

alive() { # pid → 0 when the process exists and is not a zombie
  local s; s=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | awk '{print $1}') || return 1
  [ -n "$s" ] && [ "$s" != Z ]
}

run_done() { python3 - "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}/run.sqlite?mode=ro", uri=True)
print(db.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
EOF
}

kills=0 orphans=0 workers_seen=0 runs=()
current=""
new_run() { current="$OUT/run$(( ${#runs[@]} + 1 ))"; runs+=("$current"); }
new_run
for i in $(seq 1 "$KILLS"); do
  if [ -f "$current/run.sqlite" ] && [ "$(run_done "$current" 2>/dev/null)" = done ]; then new_run; fi
 if [ -f "$current/run.sqlite" ]; then ARGS=(search --resume "$current"); else search_args "$current"; fi
  "$BIN" "${ARGS[@]}" >"$OUT/kill$i.log" 2>&1 &
  spid=$!
  delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + 3.5 * r / 32767 }')
  sleep "$delay"
  if ! kill -0 "$spid" 2>/dev/null; then wait "$spid"; echo "kill $i: search ended before the kill (status $?)"; continue; fi
  workers=$(ps -o pid= --ppid "$spid" | tr -d ' ')
  kill -9 "$spid"; wait "$spid" 2>/dev/null
  kills=$((kills + 1))
  sleep 2
  left=0
  for w in $workers; do workers_seen=$((workers_seen + 1)); if alive "$w"; then left=$((left + 1)); [ "$UNARMED" = 1 ] || kill -9 "$w"; fi; done
  orphans=$((orphans + left))
  echo "kill $i after ${delay}s: $(echo $workers | wc -w) worker(s) running, $left alive 2 s later ($(basename "$current"))"
done

# Concurrent resumes: a fresh run interrupted early, then PAIRS pairs of simultaneous resumes.
new_run
search_args "$current"
"$BIN" "${ARGS[@]}" >"$OUT/pair0.log" 2>&1 & spid=$!; sleep 2; kill -9 "$spid"; wait "$spid" 2>/dev/null
both_wrote=0 refused=0
for p in $(seq 1 "$PAIRS"); do
  "$BIN" search --resume "$current" >"$OUT/pair$p-a.log" 2>&1 & a=$!
  "$BIN" search --resume "$current" >"$OUT/pair$p-b.log" 2>&1 & b=$!
  sleep 3
  kill -9 "$a" "$b" 2>/dev/null; wait "$a" 2>/dev/null; wait "$b" 2>/dev/null
  r=$(grep -l "the run is locked by pid" "$OUT/pair$p-a.log" "$OUT/pair$p-b.log" | wc -l)
  refused=$((refused + r))
  [ "$r" -eq 0 ] && both_wrote=$((both_wrote + 1))
  echo "pair $p: $r of 2 refused by the run lock ($(grep -h -o 'error: .\{0,60\}' "$OUT/pair$p-a.log" "$OUT/pair$p-b.log" | head -1))"
done

# Finish every run and check it.
total_eval=0 total_lost=0 total_dup=0 total_failed=0 reaped=0
for r in "${runs[@]}"; do
  [ -f "$r/run.sqlite" ] || continue
  timeout 1800 "$BIN" search --resume "$r" >"$r.final.log" 2>&1 || echo "resume of $r ended with status $? (see $r.final.log)"
  reaped=$((reaped + $(python3 -c "import sqlite3,sys; print(sqlite3.connect(f'file:{sys.argv[1]}/run.sqlite?mode=ro', uri=True).execute(\"SELECT COUNT(*) FROM events WHERE message LIKE 'killed worker process%'\").fetchone()[0])" "$r")))
  read -r ev lost dup failed <<< "$(python3 - "$r" "$TRIALS" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}/run.sqlite?mode=ro", uri=True)
q = lambda s: db.execute(s).fetchone()[0]
trials = int(sys.argv[2])
evaluated = q("SELECT COUNT(DISTINCT candidate_id) FROM evaluations WHERE rung = 0")
dup = q("SELECT COUNT(*) FROM (SELECT candidate_id, rung FROM evaluations GROUP BY 1, 2 HAVING COUNT(*) > 1)") \
    + q("SELECT COUNT(*) FROM (SELECT hash FROM candidates GROUP BY hash HAVING COUNT(*) > 1)")
failed = q("SELECT COUNT(*) FROM evaluations WHERE status NOT IN ('ok')")
print(evaluated, max(0, trials - evaluated), dup, failed)
for row in db.execute("SELECT candidate_id, reason FROM evaluations WHERE status != 'ok' LIMIT 5"):
    print("failed:", row, file=sys.stderr)
EOF
)"
  echo "$(basename "$r"): status $(run_done "$r"), $ev evaluated, lost $lost, duplicated $dup, failed $failed"
  total_eval=$((total_eval + ev)); total_lost=$((total_lost + lost)); total_dup=$((total_dup + dup)); total_failed=$((total_failed + failed))
done
left_now=$(pgrep -f "evaluate-candidate --spec $OUT" | wc -l)
echo
echo "SUMMARY unarmed=$UNARMED kills=$kills workers_at_kill=$workers_seen workers_alive_2s_after=$orphans pairs=$PAIRS refused=$refused pairs_both_writing=$both_wrote" \
  "runs=${#runs[@]} evaluations=$total_eval lost=$total_lost duplicated=$total_dup wrongly_failed=$total_failed reaped_by_resume=$reaped workers_alive_at_end=$left_now (logs in $OUT)"
[ "$left_now" -eq 0 ] && { [ "$orphans" -eq 0 ] || [ "$UNARMED" = 1 ]; } && [ "$both_wrote" -eq 0 ] && [ "$total_lost" -eq 0 ] && [ "$total_dup" -eq 0 ] && [ "$total_failed" -eq 0 ]
