#!/usr/bin/env bash
# Issue 15 (second part): the paper's models as generated C libraries under QEMU mps2-an500,
# layer by layer and with `--patch auto` — linked arena (size of the `arena` symbol) and
# outputs compared byte for byte with the Swift int8 engine (deploy-check exits 1 otherwise);
# and the same model's .tflite in the real TFLM interpreter against the Swift engine's golden
# vector (the first validation image, also deploy-check's sample 0): TFLM == Swift == QEMU.
# Usage: bench/patch/qemu_paper_models.sh [OUT_DIR] [MODELS...]   (release build, Arm toolchain, QEMU, tflite-micro)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/tinyforge-patch-qemu}; shift || true
MODELS=${*:-lmanet-elite lmanet-core qwnet-core}
TF=.build/release/tinyforge
Q="--random-init --dataset synthetic:classes=10,size=32,channels=3,n=256,test=32 --calibration-batches 2 --calibration-batch-size 8"
mkdir -p "$OUT"
printf "| model | per-layer arena (linked) | per-layer QEMU == Swift | patch plan | patched arena (linked / planned) | patched QEMU == Swift | extra MACs | TFLM == Swift |\n|---|---|---|---|---|---|---|---|\n"
for m in $MODELS; do
  d="$OUT/$m"
  $TF deploy-check $m $Q --samples 2 --work-dir "$d/per-layer" > "$d.per-layer.log" && pl_eq=yes || pl_eq=NO
  $TF deploy-check $m $Q --samples 2 --patch auto --work-dir "$d/patched" > "$d.patched.log" && pa_eq=yes || pa_eq=NO
  $TF export $m $Q --format tflite --out "$d/tflite" > "$d.export.log"
  python3 scripts/tflm_run.py --model "$d/tflite/model.tflite" --input "$d/tflite/test_input.bin" --output "$d/tflm_output.bin" > "$d.tflm.json"
  cmp -s "$d/tflite/test_output.bin" "$d/tflm_output.bin" && tflm_eq=yes || tflm_eq=NO
  pl=$(sed -n 's/.*| activation arena | \([0-9]*\) B linked.*/\1/p' "$d.per-layer.log")
  pa=$(sed -n 's/.*| activation arena | \([0-9]*\) B linked (planned \([0-9]*\)).*/\1 \/ \2/p' "$d.patched.log")
  plan=$(sed -n -e 's/.*| patch plan (--patch auto) | \([^ ]*\) tiles .*(--patch …@\([^)]*\)).*/\1@\2/p' \
               -e 's/.*| patch plan (--patch auto) | [0-9]* patch stages (--patch \([^)]*\)).*/\1/p' "$d.patched.log")
  extra=$(sed -n 's/.*per-layer arena [0-9]* B, \(+[0-9]* MACs ([0-9.]* %)\) |.*/\1/p' "$d.patched.log")
  echo "| $m | $pl | $pl_eq | $plan | $pa | $pa_eq | $extra | $tflm_eq |"
done
