#!/usr/bin/env bash
# LLM integration suite: installs the local LLM (SmolLM2-135M behind llama.cpp's
# OpenAI-compatible server on 127.0.0.1), then (1) the live client tests and (2) a real
# LLM-guided search of a few trials through it, checking the run store afterwards.
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
# rejected with a reason; no API key anywhere.
if python3 - "$run/run.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ex = db.execute("SELECT COUNT(*), MIN(latency_ms), MAX(completion_tokens) FROM exchanges WHERE proposer='llm'").fetchone()
assert ex[0] >= 1 and ex[1] is not None and ex[1] > 0, f"exchanges: {ex}"
rows = db.execute("SELECT status, reason FROM candidates WHERE proposer='llm'").fetchall()
assert rows, "no llm candidates"
for status, reason in rows:
    assert status in ("done", "failed", "rejected", "proposed", "evaluating"), status
    if status == "rejected": assert reason, "rejection without reason"
ev = db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
print(f"llm exchanges {ex[0]}, candidates {len(rows)}, evaluations {ev}")
PY
then ok; else bad "run store check"; fi

if bash scripts/llm-server.sh run -- swift test --filter LocalLLMIntegrationTests > /tmp/tinyforge-llm-tests.log 2>&1; then ok
else bad "LocalLLMIntegrationTests"; tail -20 /tmp/tinyforge-llm-tests.log; fi

echo "llm-e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
