#!/usr/bin/env bash
# LLM integration suite: installs the local LLM (SmolLM2-135M behind llama.cpp's
# OpenAI-compatible server on 127.0.0.1), then (1) a real LLM-guided search of a few trials,
# (2) evolution with the LLM as mutation operator (evolution+llm), checking each run store,
# (4) `explain --llm` through the real model, and the live client tests.
# Usage: scripts/llm-e2e.sh [path/to/tinyforge]
set -u
cd "$(dirname "$0")/.."
TF=${1:-.build/release/tinyforge}
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }

bash scripts/llm-server.sh install >/tmp/tinyforge-llm-install.log 2>&1 || { echo "llm-e2e: LLM install failed (see /tmp/tinyforge-llm-install.log)"; echo "llm-e2e: 0 passed, 1 failed"; exit 1; }

run=$(mktemp -d)/run
if bash scripts/llm-server.sh run -- "$TF" search --proposer llm --space mcu28 \
     --dataset "synthetic:classes=10,size=28" --target stm32f746 --sram 64KB --flash 256KB --macs 5M \
     --evaluator synthetic --trials 3 --batch 3 --seed 7 --run "$run" > /tmp/tinyforge-llm-search.log 2>&1; then ok
else bad "llm search exited non-zero"; tail -20 /tmp/tinyforge-llm-search.log; fi

# The store must hold the exchange(s) with latency and tokens, and every proposal accepted or
# rejected with a reason; no API key anywhere. It is a budget-targeted search: every LLM item
# carries its slot outcome (hit / miss / why unchecked), a repaired one both specs. Prints the
# acceptance, repair and slot-hit rates.
if python3 - "$run/run.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ex = db.execute("SELECT COUNT(*), MIN(latency_ms), MAX(completion_tokens) FROM exchanges WHERE proposer='llm'").fetchone()
assert ex[0] >= 1 and ex[1] is not None and ex[1] > 0, f"exchanges: {ex}"
rows = db.execute("SELECT status, reason, proposer, original_spec_json, repair_edits_json, change, slot_band_json, slot_hit, slot_note "
                  "FROM candidates WHERE proposer LIKE 'llm%'").fetchall()
dups = db.execute("SELECT slot_band_json, slot_hit, slot_note FROM duplicates WHERE proposer LIKE 'llm%'").fetchall()
assert rows, "no llm candidates"
for status, reason, proposer, orig, edits, change, band, hit, note in rows:
    assert status in ("done", "failed", "rejected", "proposed", "evaluating"), status
    if status == "rejected": assert reason, "rejection without reason"
    if proposer == "llm+repair": assert orig and edits, "repaired candidate without both specs"
    if not (change or "").startswith("llm answer unusable"): assert band or note, "LLM item without a slot outcome"
ev = db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
items = len(rows) + len(dups)
trained = sum(r[0] != "rejected" for r in rows)
repaired = sum(r[2] == "llm+repair" for r in rows)
slots = [r[6:] for r in rows if not (r[5] or "").startswith("llm answer unusable")] + list(dups)
hits = sum(h == 1 for _, h, _ in slots); misses = sum(h == 0 for _, h, _ in slots)
print(f"llm exchanges {ex[0]}, items {items} (duplicates {len(dups)}), trainable {trained} of which repaired {repaired}, "
      f"rejected {len(rows) - trained}; slots hit {hits}, missed {misses}, unchecked {len(slots) - hits - misses}; evaluations {ev}")
PY
then ok; else bad "run store check"; fi

# (3) evolution with the LLM as its variation operator: a population of 2 (random samples),
# then every child written by the model from its parents (one request per iteration) or, when
# the model's child is unusable, by the classic mutation. The store must hold the exchanges and
# account for every candidate: LLM children and fallbacks named in `change`, rejections with reasons.
run2=$(mktemp -d)/run
if bash scripts/llm-server.sh run -- "$TF" search --proposer evolution+llm --population 2 --tournament 2 --space mcu28 \
     --dataset "synthetic:classes=10,size=28" --target stm32f746 --sram 64KB --flash 256KB --macs 5M \
     --evaluator synthetic --trials 5 --batch 2 --seed 3 --run "$run2" > /tmp/tinyforge-llm-evo.log 2>&1; then ok
else bad "evolution+llm search exited non-zero"; tail -20 /tmp/tinyforge-llm-evo.log; fi

if python3 - "$run2/run.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
status, = db.execute("SELECT status FROM runs").fetchone()
assert status == "done", f"run status {status}"
ev = db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
assert ev == 5, f"evaluations {ev}"
ex = db.execute("SELECT COUNT(*), MIN(latency_ms) FROM exchanges WHERE proposer='evolution+llm'").fetchone()
assert ex[0] >= 1 and ex[1] is not None and ex[1] > 0, f"exchanges: {ex}"
iters = db.execute("SELECT next_iteration FROM runs").fetchone()[0]
rows = db.execute("SELECT status, reason, change, parents_json FROM candidates").fetchall()
dups = db.execute("SELECT change, reason FROM duplicates").fetchall()
kinds = {"random": 0, "llm": 0, "fallback": 0}
llm_done = 0
for status, reason, change, parents in rows + [("duplicate", r, c, "[x]") for c, r in dups]:
    assert status in ("done", "failed", "rejected", "duplicate"), status
    if status in ("rejected", "duplicate"): assert reason, "rejection without reason"
    change = change or ""
    if change.startswith("random initial sample"): kinds["random"] += 1
    elif change.startswith("llm "): kinds["llm"] += 1; llm_done += status == "done"
    elif change.startswith("classic fallback: "): kinds["fallback"] += 1
    else: raise AssertionError(f"candidate made by an unnamed operator: {change!r}")
    if not change.startswith("random"): assert parents != "[]", "child without parents"
assert kinds["llm"] >= 1, f"no LLM child recorded: {kinds}"
print(f"evolution+llm: {ev} evaluations, {ex[0]} exchanges in {iters} iterations; proposals {kinds}, LLM children evaluated {llm_done}")
PY
then ok; else bad "evolution+llm run store check"; fi

# (4) the explanation step through the real model, on a deterministic random search (so there
# is always a chosen model): its facts in, sentences out, every claim checked, stored with the
# chosen explanation in the run.
run3=$(mktemp -d)/run
if "$TF" search --proposer random --space mcu28 --dataset "synthetic:classes=10,size=28" --target stm32f746 \
     --sram 64KB --flash 256KB --macs 5M --evaluator synthetic --trials 12 --batch 4 --seed 5 --run "$run3" \
     > /tmp/tinyforge-llm-explain.log 2>&1 \
   && bash scripts/llm-server.sh run -- "$TF" explain "$run3" --llm >> /tmp/tinyforge-llm-explain.log 2>&1 \
   && python3 - "$run3/report.json" "$run3/run.sqlite" <<'PY'
import json, sqlite3, sys
llm = json.load(open(sys.argv[1]))["llm_explanation"]
assert llm and llm["sentences"], f"no LLM explanation in report.json: {llm}"
c = llm["counts"]
assert len(llm["checks"]) == c["true"] + c["false"] + c["unverifiable"]
row = sqlite3.connect(sys.argv[2]).execute("SELECT json FROM explanations WHERE hash = ?", (llm["hash"],)).fetchone()
assert row and json.loads(row[0])["llm_explanation"]["sentences"] == llm["sentences"], "not stored with the chosen explanation"
print(f"explain --llm: {len(llm['sentences'])} sentences, {c}")
PY
then ok; else bad "explain --llm"; tail -20 /tmp/tinyforge-llm-explain.log; fi

if bash scripts/llm-server.sh run -- swift test --filter LocalLLMIntegrationTests > /tmp/tinyforge-llm-tests.log 2>&1; then ok
else bad "LocalLLMIntegrationTests"; tail -20 /tmp/tinyforge-llm-tests.log; fi

echo "llm-e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
