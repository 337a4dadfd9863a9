#!/usr/bin/env bash
# Re-score N LLM-origin and N random candidates of finished protocol runs with the faithful proxy
# (3 epochs on 20 %, lr 0.05 + 0.3 warm-up, seed 1) and compare the groups (issue 11).
# Usage: bench/search/origin-rescore.sh OUT N RUN...
set -euo pipefail
TF=${TF:-.build/release/tinyforge}
OUT=$1; N=$2; shift 2; HERE=$(cd "$(dirname "$0")" && pwd)
python3 "$HERE/origin_rescore.py" pick "$OUT" "$N" "$@"
for d in "$OUT"/*-*/; do
  [ -s "$d/e3s20/metrics.json" ] || "$TF" train "$d/arch.json" --dataset fashion-mnist --seed 1 --epochs 3 --subset 0.2 \
    --lr 0.05 --warmup 0.3 --batch 64 --threads 1 --out "$d/e3s20" > "$d/e3s20.log" 2>&1
done
python3 "$HERE/origin_rescore.py" table "$OUT"
