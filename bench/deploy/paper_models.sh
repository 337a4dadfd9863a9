#!/usr/bin/env bash
# Issue 5 item (a): the paper's three released models at 160×160, 100 classes, seeded random
# weights (BN statistics estimated on synthetic images) — memory does not depend on the weights.
# For each model: our planner's peak_sram_bytes (tinyforge profile), the .tflite run in the real
# TFLM interpreter (arena from its RecordingMicroAllocator, output compared byte for byte with
# the Swift int8 engine's test vector), and the generated C library linked for a Cortex-M7 and
# run under QEMU (arena symbol size, outputs compared with the Swift int8 engine).
# Usage: bench/deploy/paper_models.sh [OUT_DIR]   (needs a release build, tflite-micro, the Arm toolchain, QEMU)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/tinyforge-paper-models}
TF=.build/release/tinyforge
DATA="synthetic:classes=10,size=32,channels=3,n=256,test=32"
Q="--random-init --dataset $DATA --calibration-batches 2 --calibration-batch-size 8"
mkdir -p "$OUT"
printf "| model | MACs | our planner peak_sram_bytes | our C arena (linked) | TFLM arena total (head + tail) | ours / TFLM total | ours / TFLM head | TFLM == Swift | QEMU == Swift |\n|---|---|---|---|---|---|---|---|---|\n"
for m in lmanet-elite lmanet-core qwnet-core; do
  d="$OUT/$m"
  peak=$($TF profile $m --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["peak_sram_bytes"], j["macs"])')
  $TF export $m $Q --format tflite --out "$d/tflite" > "$d.export.log"
  python3 scripts/tflm_run.py --model "$d/tflite/model.tflite" --input "$d/tflite/test_input.bin" --output "$d/tflm_output.bin" > "$d.tflm.json"
  if cmp -s "$d/tflite/test_output.bin" "$d/tflm_output.bin"; then tflm_eq=yes; else tflm_eq=NO; fi
  $TF deploy-check $m $Q --samples 1 --work-dir "$d/qemu" > "$d.qemu.log" && qemu_eq=yes || qemu_eq=NO
  linked=$(sed -n 's/.*| activation arena | \([0-9]*\) B linked.*/\1/p' "$d.qemu.log")
  python3 - "$m" $peak "$linked" "$d.tflm.json" "$tflm_eq" "$qemu_eq" <<'PY'
import json, sys
m, peak, macs, linked, tflm, teq, qeq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.load(open(sys.argv[5])), sys.argv[6], sys.argv[7]
a = tflm["arena"]
print(f"| {m} | {macs/1e6:.1f} M | {peak} | {linked} | {a['total']} ({a['head']} + {a['tail']}) | {linked/a['total']:.3f} | {linked/a['head']:.3f} | {teq} | {qeq} |")
PY
done
