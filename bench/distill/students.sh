#!/usr/bin/env bash
# Students without and with distillation, same epochs and seeds; int8 accuracy of the distilled ones.
# Usage: bench/distill/students.sh TEACHER_DIR OUT_DIR EPOCHS "SEEDS" "STUDENTS" [extra train args...]
# e.g.   bench/distill/students.sh out/teacher-wrn out/kd 5 "1 2 3" "s05 s2 s5" --kd-preset paper
# MODES="kd" runs only the distilled ones; INT8=1 adds the int8 accuracy of the distilled models; THREADS (default 1).
# Summary table: python3 bench/distill/summarize.py OUT_DIR
set -u
TF=${TF:-.build/release/tinyforge}
teacher=$1 out=$2 epochs=$3 seeds=$4 students=$5; shift 5
DS=${DS:-fashion-mnist}
common=(--dataset "$DS" --epochs "$epochs" --batch 64 --lr 0.1 --augment crop=2,flip --threads "${THREADS:-1}" --seed)
mkdir -p "$out"
for s in $students; do
  for seed in $seeds; do
    for mode in ${MODES:-plain kd}; do
      d="$out/$s-$mode-$seed"
      if [ ! -f "$d/metrics.json" ]; then
        if [ "$mode" = kd ]; then extra=(--teacher "$teacher" "$@"); else extra=(); fi
        "$TF" train "bench/distill/student-$s.json" "${common[@]}" "$seed" "${extra[@]}" --out "$d" > "$d.log" 2>&1 || { echo "FAILED $d (see $d.log)"; continue; }
      fi
      if [ "$mode" = kd ] && [ -n "${INT8:-}" ] && [ ! -f "$d/int8.json" ]; then
        "$TF" evaluate "$d/model.safetensors" --dataset "$DS" --int8 --json > "$d/int8.json"
      fi
      echo "$d done"
    done
  done
done
