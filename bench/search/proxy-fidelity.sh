#!/usr/bin/env bash
# Proxy fidelity (issue 11): pick 14 trained candidates of a protocol run (every front member +
# non-front ones spread over proxy accuracy), finish each with a long schedule (full training
# split, 5 epochs, cosine, lr 0.05), re-score them with other proxies, and print Kendall tau-b
# between each proxy and the finished validation accuracy.
# Usage: bench/search/proxy-fidelity.sh RUN_DIR OUT_DIR
set -euo pipefail
TF=${TF:-.build/release/tinyforge}
RUN=$1; OUT=$2; HERE=$(cd "$(dirname "$0")" && pwd)
python3 "$HERE/pick_candidates.py" "$RUN" "$OUT" 14
train() {  # DIR OUTSUB flags...
  local d=$1 o=$2; shift 2
  local log="$d/${o/#./finish}.log"
  [ -s "$d/$o/metrics.json" ] || "$TF" train "$d/arch.json" --dataset fashion-mnist --seed 1 --out "$d/$o" "$@" > "$log" 2>&1
}
for d in "$OUT"/c-*; do
  train "$d" . --epochs 5 --lr 0.05 --batch 64
  train "$d" proxy-e2s10lr1 --epochs 2 --subset 0.1 --lr 0.1 --batch 64
  train "$d" proxy-e2s10 --epochs 2 --subset 0.1 --lr 0.05 --warmup 0.3 --batch 64
  train "$d" proxy-e3s20 --epochs 3 --subset 0.2 --lr 0.05 --warmup 0.3 --batch 64
done
python3 "$HERE/kendall.py" "$OUT"
for v in e2s10lr1 e2s10 e3s20; do echo "proxy $v:"; python3 "$HERE/kendall.py" "$OUT" $v | tail -1; done
