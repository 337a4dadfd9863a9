#!/usr/bin/env bash
# Every test suite: the unit tests (`swift test`), then the end-to-end suites that need a
# release build. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== unit tests (swift test)"
swift test 2>&1 | tee /tmp/tinyforge-unit.log | grep -E "error:|failed|Executed .* tests" | tail -20
grep -q "with 0 failures" <(grep "Executed" /tmp/tinyforge-unit.log | tail -1) || { echo "unit tests failed"; exit 1; }
echo "== release build"
swift build -c release -Xswiftc -target-cpu -Xswiftc haswell 2>&1 | tail -1
echo "== CLI end-to-end suite"
bash scripts/cli-e2e.sh .build/release/tinyforge
