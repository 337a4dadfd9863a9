#!/usr/bin/env bash
# End-to-end checks of the work queue (issue 14): `search --executor workers|external` and
# `tinyforge worker` with the synthetic evaluator, kill -9 of a worker mid-job, SIGTERM, the
# version / dataset refusal. Prints completed / lost / duplicated evaluations per case.
# Usage: scripts/queue-e2e.sh [path/to/tinyforge]   (a debug build is enough: synthetic evaluator)
set -u
TF=$(realpath "${1:-.build/debug/tinyforge}")
pass=0; fail=0
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
COMMON=(--space mcu28 --dataset synthetic:classes=10 --target stm32f746 --sram 64KB --flash 256KB --macs 5M
        --proposer evolution --population 6 --tournament 3 --evaluator synthetic)

ok() { pass=$((pass+1)); echo "ok: $1"; }
bad() { fail=$((fail+1)); echo "FAIL: $1"; }
# Never let sqlite3 create run.sqlite before the controller does (it would then refuse the directory).
q() { [ -f "$1/run.sqlite" ] && sqlite3 "$1/run.sqlite" "$2" 2>/dev/null; }
# completed = evaluation rows; lost = accepted candidates without one; duplicated = extra rows per candidate.
tally() {
  local d=$1 want=$2
  local done lost dup
  done=$(q "$d" "SELECT COUNT(*) FROM evaluations")
  lost=$(q "$d" "SELECT COUNT(*) FROM candidates WHERE status IN ('proposed','evaluating')")
  dup=$(q "$d" "SELECT COALESCE(SUM(n-1),0) FROM (SELECT COUNT(*) n FROM evaluations GROUP BY candidate_id, rung)")
  echo "   evaluations completed $done / lost $lost / duplicated $dup (want $want / 0 / 0)"
  [ "$done" -eq "$want" ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ]
}

# 1. --executor workers --workers 2: two local worker processes, every candidate once.
R1=$tmp/r1
out=$("$TF" search "${COMMON[@]}" --trials 12 --batch 4 --executor workers --workers 2 --synthetic-delay-ms 200 --run "$R1" 2>&1); code=$?
if [ $code -eq 0 ] && tally "$R1" 12; then ok "workers x2: 12 evaluations"; else bad "workers x2 (exit $code)"; echo "$out" | tail -5; fi
labels=$(q "$R1" "SELECT group_concat(label) FROM (SELECT label FROM workers ORDER BY label)")
per=$(q "$R1" "SELECT group_concat(evaluations) FROM workers ORDER BY id")
[ "$labels" = "local:1,local:2" ] && ok "workers recorded with labels ($labels; evaluations per worker $per)" || bad "worker labels: $labels"

# 2. kill -9 of a worker mid-job: its lease expires (grace 3 s), another worker evaluates the job once.
R2=$tmp/r2
"$TF" search "${COMMON[@]}" --trials 8 --batch 2 --executor workers --workers 2 --synthetic-delay-ms 1500 --lease-grace 3 \
  --run "$R2" > "$tmp/r2.log" 2>&1 &
ctl=$!
victim=""
for _ in $(seq 1 200); do
  victim=$(q "$R2" "SELECT w.pid FROM jobs j JOIN workers w ON w.id = j.lease_owner WHERE j.status = 'claimed' LIMIT 1" 2>/dev/null)
  [ -n "$victim" ] && break; sleep 0.1
done
if [ -n "$victim" ]; then kill -9 "$victim"; echo "   killed worker pid $victim mid-job"; fi
wait $ctl; code=$?
reclaimed=$(q "$R2" "SELECT COUNT(*) FROM events WHERE message LIKE '%stopped heartbeating%'")
attempts=$(q "$R2" "SELECT COUNT(*) FROM jobs WHERE attempts = 1")
if [ -n "$victim" ] && [ $code -eq 0 ] && tally "$R2" 8 && [ "$reclaimed" -ge 1 ] && [ "$attempts" -ge 1 ]; then
  ok "kill -9 worker: job reclaimed ($reclaimed event(s)), evaluated once"
else bad "kill -9 worker (exit $code, victim '$victim', reclaimed $reclaimed)"; tail -5 "$tmp/r2.log"; fi

# 3. --executor external: the controller prints the worker command and waits; workers started by hand.
R3=$tmp/r3
"$TF" search "${COMMON[@]}" --trials 6 --batch 3 --executor external --run "$R3" > "$tmp/r3.log" 2>&1 &
ctl=$!
for _ in $(seq 1 100); do grep -q "start workers with" "$tmp/r3.log" && break; sleep 0.1; done
grep -q "tinyforge worker --store\|worker --store $R3" "$tmp/r3.log" && ok "external prints the worker command" || bad "external: no worker command"; head -3 "$tmp/r3.log"
for _ in $(seq 1 100); do [ "$(q "$R3" "SELECT COUNT(*) FROM run_identity" 2>/dev/null)" = "1" ] && break; sleep 0.1; done
# A worker of another version is refused with both versions named (the stored version is edited to simulate it).
cp -r "$R3" "$tmp/r3-old"; sqlite3 "$tmp/r3-old/run.sqlite" "UPDATE run_identity SET binary_version = '0.13.0'"
out=$("$TF" worker --store "$tmp/r3-old" --idle-exit 1 2>&1); code=$?
[ $code -eq 2 ] && [[ "$out" == *"0.13.0"* ]] && [[ "$out" == *"same version"* ]] && ok "version mismatch refused: ${out:0:160}" || bad "version mismatch (exit $code): $out"
cp -r "$R3" "$tmp/r3-data"; sqlite3 "$tmp/r3-data/run.sqlite" "UPDATE run_identity SET dataset_fingerprint = '1 files, 9 bytes, sha256 00'"
out=$("$TF" worker --store "$tmp/r3-data" --idle-exit 1 2>&1); code=$?
[ $code -eq 2 ] && [[ "$out" == *"9 bytes"* ]] && [[ "$out" == *"generated: synthetic"* ]] && ok "dataset mismatch refused" || bad "dataset mismatch (exit $code): $out"
"$TF" worker --store "$R3" --heartbeat 2 > "$tmp/w3a.log" 2>&1 &
"$TF" worker --store "$R3" --heartbeat 2 --max-jobs 2 > "$tmp/w3b.log" 2>&1 &
wait $ctl; code=$?
sleep 1
if [ $code -eq 0 ] && tally "$R3" 6; then ok "external with 2 hand-started workers"; else bad "external (exit $code)"; tail -3 "$tmp/r3.log"; fi
echo "   $(tail -1 "$tmp/w3a.log")"; echo "   $(tail -1 "$tmp/w3b.log")"
grep -q "exiting: the run is done\|exiting: done 2 job" "$tmp/w3a.log" "$tmp/w3b.log" && ok "workers exit with one line saying why" || bad "worker exit lines"

# 4. SIGTERM: the worker gives its job back (queued, no lost lease) and exits 0.
R4=$tmp/r4
"$TF" search "${COMMON[@]}" --trials 2 --batch 1 --executor external --synthetic-delay-ms 4000 --run "$R4" > "$tmp/r4.log" 2>&1 &
ctl=$!
for _ in $(seq 1 100); do [ "$(q "$R4" "SELECT COUNT(*) FROM jobs" 2>/dev/null)" = "1" ] && break; sleep 0.1; done
"$TF" worker --store "$R4" --heartbeat 1 > "$tmp/w4.log" 2>&1 &
w=$!
for _ in $(seq 1 100); do [ "$(q "$R4" "SELECT COUNT(*) FROM jobs WHERE status = 'claimed'")" = "1" ] && break; sleep 0.1; done
kill -TERM $w; wait $w; wcode=$?
st=$(q "$R4" "SELECT status || ' attempts ' || attempts FROM jobs")
[ $wcode -eq 0 ] && [ "$st" = "queued attempts 0" ] && grep -q "given back" "$tmp/w4.log" && ok "SIGTERM gives the job back ($st)" || bad "SIGTERM (exit $wcode, job $st)"
"$TF" worker --store "$R4" --heartbeat 1 > "$tmp/w4b.log" 2>&1 &
wait $ctl; code=$?
[ $code -eq 0 ] && tally "$R4" 2 && ok "SIGTERM'd job evaluated by the next worker" || bad "after SIGTERM (exit $code)"

# 5. kill -9 of the controller: an external worker finishes the jobs in flight while it is
# down; --resume records them (none repeated, none lost) and proposes the rest.
R5=$tmp/r5
"$TF" search "${COMMON[@]}" --trials 10 --batch 3 --executor external --synthetic-delay-ms 400 --run "$R5" > "$tmp/r5.log" 2>&1 &
ctl=$!
for _ in $(seq 1 100); do [ "$(q "$R5" "SELECT COUNT(*) FROM run_identity")" = "1" ] && break; sleep 0.1; done
"$TF" worker --store "$R5" --heartbeat 1 > "$tmp/w5.log" 2>&1 &
w=$!
for _ in $(seq 1 200); do [ "$(q "$R5" "SELECT COUNT(*) FROM evaluations")" -ge 4 ] 2>/dev/null && break; sleep 0.05; done
kill -9 $ctl; wait $ctl 2>/dev/null
at_kill=$(q "$R5" "SELECT COUNT(*) FROM evaluations")
sleep 2   # the worker keeps evaluating the jobs in flight
down=$(q "$R5" "SELECT COUNT(*) FROM jobs j WHERE status = 'done' AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.candidate_id = j.candidate_id)")
"$TF" search --resume "$R5" > "$tmp/r5b.log" 2>&1; code=$?
wait $w
if [ $code -eq 0 ] && [ "$down" -ge 1 ] && tally "$R5" 10; then
  ok "controller kill -9 at $at_kill evaluations, $down job(s) done while it was down, resumed"
else bad "controller kill -9 + resume (exit $code, done while down $down)"; tail -3 "$tmp/r5b.log"; fi

echo "queue e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
