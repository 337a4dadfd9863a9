#!/usr/bin/env bash
# Students without and with distillation, same epochs and seeds; int8 accuracy of the distilled ones.
# Usage: bench/distill/students.sh TEACHER_DIR OUT_DIR EPOCHS "SEEDS" "STUDENTS" [extra train args...]
# e.g.   bench/distill/students.sh out/teacher-wrn out/kd 5 "1 2 3" "s05 s2 s5" --kd-preset paper
# Prints one TSV line per run: student seed mode val_accuracy [int8_accuracy]; results in OUT_DIR/results.tsv.
set -u
TF=${TF:-.build/release/tinyforge}
teacher=$1 out=$2 epochs=$3 seeds=$4 students=$5; shift 5
DS=${DS:-fashion-mnist:/usr/share/datasets/fashion-mnist}
common=(--dataset "$DS" --epochs "$epochs" --batch 64 --lr 0.1 --augment crop=2,flip --seed)
mkdir -p "$out"
for s in $students; do
  for seed in $seeds; do
    for mode in plain kd; do
      d="$out/$s-$mode-$seed"
      if [ ! -f "$d/metrics.json" ]; then
        if [ "$mode" = kd ]; then extra=(--teacher "$teacher" "$@"); else extra=(); fi
        "$TF" train "bench/distill/student-$s.json" "${common[@]}" "$seed" "${extra[@]}" --out "$d" > "$d.log" 2>&1 || { echo "FAILED $d (see $d.log)"; continue; }
      fi
      acc=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['val_accuracy'])" "$d/metrics.json")
      int8=""
      if [ "$mode" = kd ] && [ -n "${INT8:-}" ]; then
        int8=$("$TF" evaluate "$d/model.safetensors" --dataset "$DS" --int8 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['int8_accuracy'])")
      fi
      printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$seed" "$mode" "$acc" "$int8" | tee -a "$out/results.tsv"
    done
  done
done
