#!/usr/bin/env bash
# Cluster end-to-end suite (issue 14, heavier than queue-e2e.sh): `search --executor slurm` on a
# real Slurm (the one-node cluster of scripts/slurm.sh, started here when it is not up) with the
# synthetic evaluator. Checks, from the run store: evaluations completed / lost (0) / duplicated
# (0), and the faults that need no PostgreSQL: kill -9 of a worker mid-job, scancel of one array
# task mid-run, kill -9 of the controller then --resume (the old array is CANCELLED by the
# resume, which submits a fresh one), SIGINT / SIGTERM of the controller (array cancelled), a
# worker of a wrong version or dataset refused with a clear message, an array that can never
# start (PartitionConfig) failing the search; then the PostgreSQL run store (cases 8-11: Slurm
# tasks writing into PostgreSQL, kill -9 of a worker, of the controller then --resume URL, the
# database stopped for 30 s mid-run). One line per check, then
# `cluster-e2e: N passed, M failed`; exit status 1 on any failure. A few minutes of wall time.
# Usage: scripts/cluster-e2e.sh [path/to/tinyforge]   (a debug build is enough: synthetic evaluator)
set -u
TF=$(realpath "${1:-.build/debug/tinyforge}")
cd "$(dirname "$0")/.."
pass=0; fail=0
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
bash scripts/slurm.sh status > /dev/null 2>&1 || bash scripts/slurm.sh start || { echo "cluster-e2e: 0 passed, 1 failed (no Slurm cluster)"; exit 1; }
COMMON=(--space mcu28 --dataset synthetic:classes=10 --target stm32f746 --sram 64KB --flash 256KB --macs 5M
        --proposer evolution --population 6 --tournament 3 --evaluator synthetic --executor slurm)

ok() { pass=$((pass+1)); echo "ok: $1"; }
bad() { fail=$((fail+1)); echo "FAIL: $1"; }
q() { [ -f "$1/run.sqlite" ] && sqlite3 "$1/run.sqlite" "$2" 2>/dev/null; }
# completed = evaluation rows; lost = accepted candidates without one; duplicated = extra rows per candidate.
tally() {
  local d=$1 want=$2 done lost dup
  done=$(q "$d" "SELECT COUNT(*) FROM evaluations")
  lost=$(q "$d" "SELECT COUNT(*) FROM candidates WHERE status IN ('proposed','evaluating')")
  dup=$(q "$d" "SELECT COALESCE(SUM(n-1),0) FROM (SELECT COUNT(*) n FROM evaluations GROUP BY candidate_id, rung)")
  echo "   evaluations completed $done / lost $lost / duplicated $dup (want $want / 0 / 0)"
  [ "$done" -eq "$want" ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ]
}
jobs_of() { python3 -c "import json,sys; print(' '.join(j['job_id'] for j in json.load(open(sys.argv[1]))))" "$1/slurm/jobs.json" 2>/dev/null; }
# Tasks of job $1 still pending or running (after a few seconds for Slurm to reap them).
alive() { local n; for _ in $(seq 1 50); do n=$(squeue -h -j "$1" -t PD,R,CG 2>/dev/null | wc -l); [ "$n" -eq 0 ] && break; sleep 0.2; done; echo "$n"; }
wait_for() { for _ in $(seq 1 "$1"); do eval "$2" && return 0; sleep 0.1; done; return 1; }

# CLUSTER_E2E_CASES=pg runs only the PostgreSQL cases (8-11).
if [ "${CLUSTER_E2E_CASES:-all}" != pg ]; then
# 1. Two array tasks, every candidate once, every worker recorded with its slurm:JOB_TASK label.
R1=$tmp/r1
out=$("$TF" search "${COMMON[@]}" --trials 12 --batch 4 --workers 2 --synthetic-delay-ms 200 --run "$R1" 2>&1); code=$?
job=$(jobs_of "$R1")
if [ $code -eq 0 ] && tally "$R1" 12; then ok "slurm x2: 12 evaluations (job $job)"; else bad "slurm x2 (exit $code)"; echo "$out" | tail -5; fi
labels=$(q "$R1" "SELECT group_concat(label) FROM (SELECT label FROM workers ORDER BY label)")
[ "$labels" = "slurm:${job}_0,slurm:${job}_1" ] && ok "workers recorded ($labels, host $(q "$R1" "SELECT DISTINCT host FROM workers"))" || bad "worker labels: '$labels'"
[ "$(alive "$job")" -eq 0 ] && ok "array $job ended with the search ($(cat "$R1"/slurm/${job}_0.out | tail -1))" || bad "array $job still has tasks"

# 2. kill -9 of a worker mid-job: its lease expires (grace 3 s), the other task evaluates the job once.
R2=$tmp/r2
"$TF" search "${COMMON[@]}" --trials 8 --batch 2 --workers 2 --synthetic-delay-ms 1500 --lease-grace 3 --run "$R2" > "$tmp/r2.log" 2>&1 &
ctl=$!
victim=""
wait_for 300 'victim=$(q "$R2" "SELECT w.pid FROM jobs j JOIN workers w ON w.id = j.lease_owner WHERE j.status = '"'claimed'"' LIMIT 1"); [ -n "$victim" ]'
[ -n "$victim" ] && kill -9 "$victim" && echo "   killed worker pid $victim mid-job"
wait $ctl; code=$?
reclaimed=$(q "$R2" "SELECT COUNT(*) FROM events WHERE message LIKE '%stopped heartbeating%'")
if [ -n "$victim" ] && [ $code -eq 0 ] && tally "$R2" 8 && [ "${reclaimed:-0}" -ge 1 ]; then ok "kill -9 worker: job reclaimed, evaluated once"
else bad "kill -9 worker (exit $code, victim '$victim', reclaimed $reclaimed)"; tail -5 "$tmp/r2.log"; fi

# 3. scancel of one array task mid-run: its worker gives its job back (SIGTERM), the other finishes the search.
R3=$tmp/r3
"$TF" search "${COMMON[@]}" --trials 8 --batch 2 --workers 2 --synthetic-delay-ms 1500 --lease-grace 3 --run "$R3" > "$tmp/r3.log" 2>&1 &
ctl=$!
label=""
wait_for 300 'label=$(q "$R3" "SELECT w.label FROM jobs j JOIN workers w ON w.id = j.lease_owner WHERE j.status = '"'claimed'"' LIMIT 1"); [ -n "$label" ]'
task=${label#slurm:}
[ -n "$task" ] && scancel "$task" && echo "   scancel $task (holding a job)"
wait $ctl; code=$?
if [ -n "$task" ] && [ $code -eq 0 ] && tally "$R3" 8; then ok "scancel of task $task: its job done by the other task, search completed"
else bad "scancel one task (exit $code, task '$task')"; tail -5 "$tmp/r3.log"; fi

# 4. kill -9 of the controller: the array keeps working; --resume cancels it, submits a fresh one,
#    records what finished meanwhile (nothing repeated, nothing lost).
R4=$tmp/r4
"$TF" search "${COMMON[@]}" --trials 10 --batch 3 --workers 2 --synthetic-delay-ms 400 --run "$R4" > "$tmp/r4.log" 2>&1 &
ctl=$!
wait_for 300 '[ "$(q "$R4" "SELECT COUNT(*) FROM evaluations")" -ge 4 ] 2>/dev/null'
kill -9 $ctl; wait $ctl 2>/dev/null
old=$(jobs_of "$R4"); at_kill=$(q "$R4" "SELECT COUNT(*) FROM evaluations")
sleep 2   # the old array keeps evaluating the jobs in flight while the controller is down
down=$(q "$R4" "SELECT COUNT(*) FROM jobs j WHERE status = 'done' AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.candidate_id = j.candidate_id)")
"$TF" search --resume "$R4" --slurm-array 2 > "$tmp/r4b.log" 2>&1; code=$?
new=$(jobs_of "$R4" | awk '{print $NF}')
if [ $code -eq 0 ] && tally "$R4" 10 && [ "$new" != "$old" ] && grep -q "cancelled this run's earlier Slurm job(s) $old" "$tmp/r4b.log" \
   && [ "$(alive "$old")" -eq 0 ]; then
  ok "controller kill -9 at $at_kill evaluations ($down job(s) done while it was down); --resume cancelled array $old, ran fresh array $new"
else bad "controller kill -9 + resume (exit $code, old '$old', new '$new')"; tail -5 "$tmp/r4b.log"; fi

# 5. SIGINT and SIGTERM of the controller cancel the array (exit 128+signal, the line says so);
#    a --resume then finishes the run on a fresh array, nothing lost or repeated.
for sig in INT TERM; do
  R5=$tmp/r5-$sig
  "$TF" search "${COMMON[@]}" --trials 6 --batch 2 --workers 2 --synthetic-delay-ms 2500 --run "$R5" > "$tmp/r5-$sig.log" 2>&1 &
  ctl=$!
  wait_for 300 '[ "$(q "$R5" "SELECT COUNT(*) FROM jobs WHERE status = '"'claimed'"'")" -ge 1 ] 2>/dev/null'
  job=$(jobs_of "$R5")
  kill -$sig $ctl; wait $ctl; code=$?
  want=$([ $sig = INT ] && echo 130 || echo 143)
  left=$(alive "$job")
  "$TF" search --resume "$R5" > "$tmp/r5b-$sig.log" 2>&1; rcode=$?
  if [ "$code" -eq "$want" ] && grep -q "interrupted by SIG$sig: cancelled Slurm job $job" "$tmp/r5-$sig.log" && [ "$left" -eq 0 ] \
     && [ $rcode -eq 0 ] && tally "$R5" 6; then
    ok "SIG$sig of the controller: exit $code, array $job cancelled; --resume completed the run"
  else bad "SIG$sig (exit $code, want $want; job '$job' tasks left $left; resume exit $rcode)"; tail -3 "$tmp/r5-$sig.log" "$tmp/r5b-$sig.log"; fi
done

# 6. Workers of another version / for another dataset are refused: the run's identity is edited
#    while the array waits (--begin=now+4), so the real workers meet a mismatch; the tasks exit
#    with the refusal, and the controller fails naming it.
for kind in version dataset; do
  R6=$tmp/r6-$kind
  "$TF" search "${COMMON[@]}" --trials 4 --batch 2 --workers 2 --slurm-arg=--begin=now+4 --run "$R6" > "$tmp/r6-$kind.log" 2>&1 &
  ctl=$!
  wait_for 300 '[ "$(q "$R6" "SELECT COUNT(*) FROM run_identity")" = 1 ]'
  if [ $kind = version ]; then q "$R6" "UPDATE run_identity SET binary_version = '0.13.0'"; want="0.13.0"
  else q "$R6" "UPDATE run_identity SET dataset_fingerprint = '1 files, 9 bytes, sha256 00'"; want="9 bytes"; fi
  wait $ctl; code=$?
  line=$(grep -m1 "every task of Slurm job" "$tmp/r6-$kind.log")
  echo "   evaluations completed $(q "$R6" "SELECT COUNT(*) FROM evaluations") (want 0), run status $(q "$R6" "SELECT status FROM runs")"
  if [ $code -ne 0 ] && [[ "$line" == *"$want"* ]] && [ "$(q "$R6" "SELECT COUNT(*) FROM evaluations")" = 0 ]; then
    ok "worker of another $kind refused: ${line:0:220}"
  else bad "$kind mismatch (exit $code): $(tail -2 "$tmp/r6-$kind.log")"; fi
done

# 7. An array that can never start (4096 CPUs per task on a 2-CPU node: sbatch accepts it, the
#    tasks wait with PartitionConfig) fails the search at once instead of waiting forever.
R7=$tmp/r7
start=$(date +%s)
"$TF" search "${COMMON[@]}" --trials 4 --batch 2 --workers 2 --slurm-cpus-per-task 4096 --run "$R7" > "$tmp/r7.log" 2>&1; code=$?
took=$(( $(date +%s) - start )); job=$(jobs_of "$R7")
line=$(grep -m1 "can never start" "$tmp/r7.log")
if [ $code -ne 0 ] && [[ "$line" == *PartitionConfig* ]] && [ $took -lt 60 ] && [ "$(alive "$job")" -eq 0 ]; then
  ok "array that can never start: failed after ${took} s, job $job cancelled: ${line:0:120}"
else bad "never-starting array (exit $code after ${took} s): $(tail -2 "$tmp/r7.log")"; fi

fi   # cases 1-7

# 8-11. The same queue on a PostgreSQL run store (TINYFORGE_TEST_PG_URL, started by scripts/test-all.sh
#    with scripts/postgres.sh): Slurm array tasks write into PostgreSQL; counts come from the store.
PG=${TINYFORGE_TEST_PG_URL:-}
if [ -z "$PG" ]; then
  echo "SKIPPED: the PostgreSQL cases (8-11) need TINYFORGE_TEST_PG_URL (scripts/postgres.sh start prints it)"
else
  PGPORT=$(echo "$PG" | sed -E 's|.*:([0-9]+)/.*|\1|')
  PGCTL=(--port "$PGPORT" ${TINYFORGE_TEST_PG_DIR:+--dir "$TINYFORGE_TEST_PG_DIR"})   # the server's scripts/postgres.sh arguments
  pq() { psql "$PG" -XAtq -c "$1" 2>/dev/null; }
  rid() { echo "(SELECT id FROM runs WHERE name = '$1')"; }
  tally_pg() {
    local r; r=$(rid "$1"); local done lost dup
    done=$(pq "SELECT COUNT(*) FROM evaluations WHERE run_id = $r")
    lost=$(pq "SELECT COUNT(*) FROM candidates WHERE run_id = $r AND status IN ('proposed','evaluating')")
    dup=$(pq "SELECT COALESCE(SUM(n-1),0) FROM (SELECT COUNT(*) n FROM evaluations WHERE run_id = $r GROUP BY candidate_id, rung) x")
    echo "   evaluations completed $done / lost $lost / duplicated $dup (want $2 / 0 / 0)"
    [ "${done:-x}" = "$2" ] && [ "$lost" = 0 ] && [ "$dup" = 0 ]
  }
  sfx=$(date +%s)-$$
  # 8. Two array tasks on PostgreSQL (also the wall-time baseline of case 11: same search).
  N8=e2e-pg-$sfx; D8=$tmp/p8; start=$(date +%s)
  "$TF" search "${COMMON[@]}" --trials 12 --batch 4 --workers 2 --synthetic-delay-ms 300 --store "$PG?run=$N8" --run "$D8" > "$tmp/p8.log" 2>&1; code=$?
  base=$(( $(date +%s) - start ))
  labels=$(pq "SELECT string_agg(label, ',' ORDER BY label) FROM workers WHERE run_id = $(rid "$N8")")
  if [ $code -eq 0 ] && tally_pg "$N8" 12 && [[ "$labels" == slurm:*,slurm:* ]]; then ok "postgres + slurm x2: 12 evaluations in ${base} s, workers $labels"
  else bad "postgres + slurm x2 (exit $code, labels '$labels')"; tail -5 "$tmp/p8.log"; fi
  # 9. kill -9 of a worker mid-job (grace 3 s): reclaimed, evaluated once.
  N9=e2e-pg9-$sfx
  "$TF" search "${COMMON[@]}" --trials 8 --batch 2 --workers 2 --synthetic-delay-ms 1500 --lease-grace 3 --store "$PG?run=$N9" --run "$tmp/p9" > "$tmp/p9.log" 2>&1 &
  ctl=$!; victim=""
  wait_for 300 'victim=$(pq "SELECT w.pid FROM jobs j JOIN workers w ON w.id = j.lease_owner WHERE j.run_id = $(rid "$N9") AND j.status = '"'claimed'"' LIMIT 1"); [ -n "$victim" ]'
  [ -n "$victim" ] && kill -9 "$victim" && echo "   killed worker pid $victim mid-job"
  wait $ctl; code=$?
  reclaimed=$(pq "SELECT COUNT(*) FROM events WHERE run_id = $(rid "$N9") AND message LIKE '%stopped heartbeating%'")
  if [ -n "$victim" ] && [ $code -eq 0 ] && tally_pg "$N9" 8 && [ "${reclaimed:-0}" -ge 1 ]; then ok "postgres: kill -9 worker: job reclaimed, evaluated once"
  else bad "postgres: kill -9 worker (exit $code, victim '$victim', reclaimed '$reclaimed')"; tail -5 "$tmp/p9.log"; fi
  # 10. kill -9 of the controller, then --resume URL (the run lock dies with its session).
  N10=e2e-pg10-$sfx
  "$TF" search "${COMMON[@]}" --trials 10 --batch 3 --workers 2 --synthetic-delay-ms 400 --store "$PG?run=$N10" --run "$tmp/p10" > "$tmp/p10.log" 2>&1 &
  ctl=$!
  wait_for 300 '[ "$(pq "SELECT COUNT(*) FROM evaluations WHERE run_id = $(rid "$N10")")" -ge 4 ] 2>/dev/null'
  kill -9 $ctl; wait $ctl 2>/dev/null; at_kill=$(pq "SELECT COUNT(*) FROM evaluations WHERE run_id = $(rid "$N10")")
  old=$(jobs_of "$tmp/p10"); sleep 2   # the old array keeps evaluating while the controller is down
  # --run with --resume URL: the same local directory, whose slurm/jobs.json names the array to cancel.
  "$TF" search --resume "$PG?run=$N10" --run "$tmp/p10" --slurm-array 2 > "$tmp/p10b.log" 2>&1; code=$?
  new=$(jobs_of "$tmp/p10" | awk '{print $NF}')
  if [ $code -eq 0 ] && tally_pg "$N10" 10 && [ "$new" != "$old" ] && grep -q "cancelled this run's earlier Slurm job(s) $old" "$tmp/p10b.log" \
     && [ "$(alive "$old")" -eq 0 ]; then ok "postgres: controller kill -9 at $at_kill evaluations; --resume URL cancelled array $old, ran fresh array $new"
  else bad "postgres: controller kill -9 + resume (exit $code, old '$old', new '$new')"; tail -5 "$tmp/p10b.log"; fi
  # 11. PostgreSQL stopped for 30 s mid-run (pg_ctl stop -m fast, sleep 30, start): controller and
  #     workers reconnect with the store's backoff (≈ 1 min); with a 10 s grace the leases of the
  #     jobs in flight expire during the outage, are reclaimed and redone, the late results refused.
  N11=e2e-pg11-$sfx; start=$(date +%s)
  "$TF" search "${COMMON[@]}" --trials 12 --batch 4 --workers 2 --synthetic-delay-ms 300 --lease-grace 10 --store "$PG?run=$N11" --run "$tmp/p11" > "$tmp/p11.log" 2>&1 &
  ctl=$!
  wait_for 600 '[ "$(pq "SELECT COUNT(*) FROM evaluations WHERE run_id = $(rid "$N11")")" -ge 4 ] 2>/dev/null'
  at_stop=$(pq "SELECT COUNT(*) FROM evaluations WHERE run_id = $(rid "$N11")")
  bash scripts/postgres.sh stop "${PGCTL[@]}" > /dev/null; echo "   PostgreSQL stopped at $at_stop evaluations"
  sleep 30
  bash scripts/postgres.sh start "${PGCTL[@]}" > /dev/null
  wait $ctl; code=$?
  took=$(( $(date +%s) - start )); lost_conn=$(grep -c "connection lost" "$tmp/p11.log")
  back=$(pq "SELECT COUNT(*) FROM events WHERE run_id = $(rid "$N11") AND message LIKE '%stopped heartbeating%'")
  refused=$(pq "SELECT COUNT(*) FROM events WHERE run_id = $(rid "$N11") AND message LIKE '%refused%'")
  if [ $code -eq 0 ] && tally_pg "$N11" 12; then
    ok "postgres down 30 s mid-run (--lease-grace 10): completed in ${took} s (baseline ${base} s: cost $((took - base)) s); controller reconnect notices $lost_conn, leases reclaimed $back, late results refused $refused"
  else bad "postgres down 30 s (exit $code)"; tail -8 "$tmp/p11.log"; fi
fi

echo "cluster-e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
