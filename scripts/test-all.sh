#!/usr/bin/env bash
# Every test suite: the unit tests (`swift test`, which includes the TFLM interop, QEMU and
# headless-Chromium report checks — each skips, loudly, when its tool is missing), then the
# end-to-end suites on a release build: the CLI contract, the work queue, the Slurm executor on a
# one-node cluster (started here, stopped on exit), the LLM-guided search through the
# real local LLM, and the whole demo pipeline in its quick form; last, each libFuzzer target
# briefly (scripts/fuzz.sh). This is the README's test command and what CI runs. It first
# installs what those suites need (scripts/install-deps.sh: checks, installs only what is missing),
# so nothing is skipped on a fresh machine; TINYFORGE_SKIP_INSTALL=1 only checks and lists.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== dependencies (scripts/install-deps.sh)"
if [ "${TINYFORGE_SKIP_INSTALL:-0}" = 1 ]; then
  bash scripts/install-deps.sh --check || echo "(TINYFORGE_SKIP_INSTALL=1: the suites that need these skip, loudly)"
else
  bash scripts/install-deps.sh
fi
# PostgreSQL (scripts/postgres.sh, port 55432) runs from here to the end: the unit tests' PostgreSQL
# cases, cli-e2e's store checks and cluster-e2e's PostgreSQL cases read TINYFORGE_TEST_PG_URL.
# One EXIT trap stops both servers (PostgreSQL, and Slurm once started).
echo "== PostgreSQL (scripts/postgres.sh start --port 55432)"
SLURM_STARTED=0
trap '[ "$SLURM_STARTED" = 1 ] && bash scripts/slurm.sh stop; bash scripts/postgres.sh stop --port 55432' EXIT
TINYFORGE_TEST_PG_URL=$(bash scripts/postgres.sh start --port 55432 | tail -1)
export TINYFORGE_TEST_PG_URL
echo "TINYFORGE_TEST_PG_URL=$TINYFORGE_TEST_PG_URL"
# The one-node Slurm cluster (scripts/slurm.sh) also runs from here on: the unit tests' real-Slurm
# cases (TINYFORGE_TEST_SLURM=1) and cluster-e2e use it.
echo "== Slurm (scripts/slurm.sh start)"
bash scripts/slurm.sh install
SLURM_STARTED=1
bash scripts/slurm.sh start
export TINYFORGE_TEST_SLURM=1
echo "== unit tests (swift test)"
swift test 2>&1 | tee /tmp/tinyforge-unit.log | grep -E "error:|failed|skipped|Executed .* tests" | tail -40
grep "Executed" /tmp/tinyforge-unit.log | tail -1 | grep -Eq "(with|and) 0 failures" || { echo "unit tests failed"; exit 1; }
echo "== release build"
swift build -c release -Xswiftc -target-cpu -Xswiftc native 2>&1 | tail -1
TF=.build/release/tinyforge
echo "== CLI end-to-end suite"
bash scripts/cli-e2e.sh "$TF"
echo "== work-queue end-to-end suite (search --executor workers|external, tinyforge worker)"
bash scripts/queue-e2e.sh "$TF"
echo "== cluster end-to-end suite (search --executor slurm on the one-node Slurm of scripts/slurm.sh)"
bash scripts/cluster-e2e.sh "$TF"
echo "== LLM failures (refused, hang, HTTP 401/500, garbage, no JSON): one line each, run stops naming the cause"
bash scripts/llm-failure-check.sh "$TF"
echo "== LLM end-to-end suite (local SmolLM2 via llama.cpp)"
bash scripts/llm-e2e.sh "$TF"
echo "== demo end-to-end (quick)"
demo=$(mktemp -d)
if "$TF" demo --quick --out "$demo" > /tmp/tinyforge-demo.log 2>&1 && [ -s "$demo/report.html" ] \
   && [ -s "$demo/export-tflite/model.tflite" ] && [ -s "$demo/export-c/model.c" ]; then
  tail -4 /tmp/tinyforge-demo.log
  echo "demo-e2e: 1 passed, 0 failed"
else
  tail -40 /tmp/tinyforge-demo.log
  echo "demo-e2e: 0 passed, 1 failed"; exit 1
fi
echo "== fuzzing (libFuzzer + ASan, 15 s per target; fails on any crash)"
bash scripts/fuzz.sh all 15
