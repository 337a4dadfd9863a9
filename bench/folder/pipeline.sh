#!/usr/bin/env bash
# The same small search + finish + export + deploy-check on one dataset source (run it once on
# the IDX files, once on the folder written by scripts/fashion-folder.sh) — bench/RESULTS-folder.md.
# Usage: bench/folder/pipeline.sh DATASET OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
DATASET=${1:?dataset source}
OUT=${2:?output directory}
BIN=${TINYFORGE:-.build/release/tinyforge}
rm -rf "$OUT"
"$BIN" search --space mcu28 --dataset "$DATASET" --target stm32f746 --sram 320KB --flash 1MB --macs 20M \
  --proposer evolution --population 3 --tournament 2 --trials 4 --batch 2 --workers 1 --epochs 1 --subset 0.2 --seed 7 \
  --run "$OUT/run" --finish-top 1 --finish-epochs 2
CKPT=$(ls "$OUT"/run/finished/*/model.safetensors | head -1)
"$BIN" evaluate "$CKPT" --dataset "$DATASET" --json
"$BIN" export "$CKPT" --dataset "$DATASET" --format tflite --out "$OUT/tflite"
"$BIN" export "$CKPT" --dataset "$DATASET" --format c --out "$OUT/c"
"$BIN" deploy-check "$CKPT" --dataset "$DATASET" --samples 4 --work-dir "$OUT/deploy"
