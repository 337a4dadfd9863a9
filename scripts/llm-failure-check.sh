#!/usr/bin/env bash
# Scripted check of issue 12 part 4: an `llm` search against a server that cannot be used
# prints each failed request's cause on one line, stores it, and stops naming it (not the
# budget), within seconds. Cases: refused (no server), hang (with --llm-timeout 3), HTTP 401,
# HTTP 500, garbage body, a reply without JSON. Usage: scripts/llm-failure-check.sh [TINYFORGE]
set -euo pipefail
cd "$(dirname "$0")/.."
TF="${1:-.build/release/tinyforge}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
pass=0; fail=0
check() {  # NAME URL EXPECTED-LINE-PREFIX EXPECTED-STOP
    local name="$1" url="$2" line="$3" stop="$4" t0 t1
    t0=$(date +%s)
    TINYFORGE_LLM_URL="$url" "$TF" search --proposer llm --space mcu28 --dataset synthetic:classes=10 --evaluator synthetic \
        --trials 4 --run "$work/$name" --sram 320KB --flash 1MB --target stm32f746 --llm-timeout 3 > "$work/$name.log" 2>&1 || true
    t1=$(date +%s)
    local stored
    stored=$(python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(db.execute(\"SELECT COUNT(*) FROM candidates WHERE rejection_kind='llm'\").fetchone()[0])" "$work/$name/run.sqlite")
    if grep -q "^iteration 0: $line" "$work/$name.log" && grep -q "^run stalled: stopping: $stop" "$work/$name.log" \
       && ! grep -qE "rejected \(.*[0-9] decode" "$work/$name.log" && [ "$stored" -ge 3 ]; then
        echo "llm-failure-check: $name ok ($((t1 - t0)) s, $stored rows of kind llm): $(grep -m1 "^iteration 0: LLM" "$work/$name.log" | cut -c1-160)"
        pass=$((pass + 1))
    else
        echo "llm-failure-check: $name FAILED"; tail -5 "$work/$name.log"; fail=$((fail + 1))
    fi
}
server() {  # MODE → starts the fake server, prints its URL
    local port=$((20000 + RANDOM % 20000))
    python3 scripts/fake-llm-server.py "$1" "$port" > /dev/null 2>&1 &
    echo $! >> "$work/pids"
    for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    echo "http://127.0.0.1:$port"
}
trap 'for p in $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
check refused "http://127.0.0.1:1" "LLM request failed: connection refused" "the LLM request failed in 3 iterations"
check hang "$(server hang)" "LLM request failed: timeout after 3 s" "the LLM request failed in 3 iterations"
check http401 "$(server 401)" "LLM request failed: HTTP 401 .*Incorrect API key provided" "the LLM request failed in 3 iterations"
check http500 "$(server 500)" "LLM request failed: HTTP 500 .*llama_decode returned -3 KV cache full" "the LLM request failed in 3 iterations"
check garbage "$(server garbage)" "LLM request failed: unparsable reply" "the LLM request failed in 3 iterations"
check nojson "$(server nojson)" "LLM reply unusable: reply no_json" "20 iterations in a row .*every LLM round failed, the budget is not the cause"
echo "llm-failure-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
