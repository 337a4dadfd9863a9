#!/usr/bin/env bash
# Distillation as fine-tuning (the paper's protocol), side by side: every finished plain student
# BASE/<s>-plain-<seed>/model.safetensors is trained EPOCHS more epochs at LR twice — without a
# teacher (OUT/<s>-plain-<seed>) and with it (OUT/<s>-kd-<seed>, extra args, e.g. --kd-preset paper) —
# same seed, augmentation and epochs, so each pair differs only by the teacher. int8 accuracy of both.
# Usage: bench/distill/finetune.sh TEACHER_DIR BASE_DIR OUT_DIR EPOCHS LR "SEEDS" "STUDENTS" [extra kd args...]
# e.g.   bench/distill/finetune.sh out/teacher-w1 out/kd out/ft 2 0.02 "1 2 3" "s05 s2 s5" --kd-preset paper
# Summary table: python3 bench/distill/summarize.py OUT_DIR
set -u
TF=${TF:-.build/release/tinyforge}
DS=${DS:-fashion-mnist}
teacher=$1 base=$2 out=$3 epochs=$4 lr=$5 seeds=$6 students=$7; shift 7
mkdir -p "$out"
for s in $students; do for seed in $seeds; do for mode in ${MODES:-plain kd}; do
  d="$out/$s-$mode-$seed"
  if [ ! -f "$d/metrics.json" ]; then
    extra=(); [ "$mode" = kd ] && extra=(--teacher "$teacher" "$@")
    "$TF" train "bench/distill/student-$s.json" --dataset "$DS" --epochs "$epochs" --batch 64 --lr "$lr" --augment crop=2,flip \
      --threads "${THREADS:-1}" --seed "$seed" --init-from "$base/$s-plain-$seed/model.safetensors" "${extra[@]}" --out "$d" \
      > "$d.log" 2>&1 || { echo "FAILED $d (see $d.log)"; continue; }
  fi
  [ -f "$d/int8.json" ] || "$TF" evaluate "$d/model.safetensors" --dataset "$DS" --int8 --json > "$d/int8.json"
  echo "$d done"
done; done; done
