#!/usr/bin/env bash
# Issue 11 equal-budget protocol on Fashion-MNIST: 5 seeds x 40 trained candidates per setting, the
# same proxy for all (1 epoch on 5 % of the training split, batch 64, lr 0.1, scored on validation).
# Usage: bench/search/protocol.sh classic|llmrandom|evollm|best|evoscreen OUTDIR
# The LLM settings need a server: scripts/llm-server.sh start 8090 (PORT=8090 by default).
# Re-running resumes (compare resumes each run from its run store). Two streams (one per LLM server)
# can share a setting: SEEDS=1 FIRST_SEED=5 PORT=8091 runs only seed 5; a seed that the other stream
# holds is refused by its run lock, never run twice. Then run once more with the defaults: every
# seed resumes as done and compare prints the 5-seed table.
set -euo pipefail
TF=${TF:-.build/release/tinyforge}
OUT=${2:?usage: protocol.sh SETTING OUTDIR}
COMMON=(--space mcu28 --dataset fashion-mnist --target stm32f746 --sram 64KB --flash 256KB --macs 6M
  --trials 40 --batch 4 --epochs 1 --subset 0.05 --population 8 --tournament 3 --seeds "${SEEDS:-5}" --first-seed "${FIRST_SEED:-1}"
  --eval-arg=--batch --eval-arg=64 --eval-arg=--lr --eval-arg=0.1 --llm-timeout 600)
URL=http://127.0.0.1:${PORT:-8090}
case "$1" in
  classic)   "$TF" compare "${COMMON[@]}" --proposers random,evolution,nsga2 --out "$OUT/classic" ;;
  llmrandom) TINYFORGE_LLM_URL=$URL "$TF" compare "${COMMON[@]}" --proposers llm+random --out "$OUT/llmrandom" ;;
  evollm)    TINYFORGE_LLM_URL=$URL "$TF" compare "${COMMON[@]}" --proposers evolution+llm --out "$OUT/evollm" ;;
  best)      TINYFORGE_LLM_URL=$URL "$TF" compare "${COMMON[@]}" --proposers evolution+llm --screen 2 --out "$OUT/best" ;;
  evoscreen) "$TF" compare "${COMMON[@]}" --proposers evolution --screen 2 --out "$OUT/evoscreen" ;;   # best's control without the LLM
  *) echo "unknown setting $1 (classic, llmrandom, evollm, best, evoscreen)"; exit 2 ;;
esac
