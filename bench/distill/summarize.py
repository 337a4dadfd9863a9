#!/usr/bin/env python3
"""Mean ± sd of the distillation gain per student, paired by seed, from the run directories
students.sh writes (OUT/<student>-<mode>-<seed>/metrics.json, int8.json). Usage: summarize.py OUT [KD_MODE]"""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1]
kd_mode = sys.argv[2] if len(sys.argv) > 2 else "kd"
runs = {}
for m in glob.glob(os.path.join(out, "*-*-*", "metrics.json")):
    student, mode, seed = os.path.basename(os.path.dirname(m)).rsplit("-", 2)
    acc = json.load(open(m)).get("val_accuracy")
    i8 = os.path.join(os.path.dirname(m), "int8.json")
    int8 = json.load(open(i8))["int8_accuracy"] if os.path.exists(i8) else None
    if acc is not None:
        runs[(student, mode, seed)] = (acc * 100, int8 * 100 if int8 is not None else None)


def sd(v):
    return f"{statistics.stdev(v):.2f}" if len(v) > 1 else "–"


print(f"| student | seeds | without KD | with KD ({kd_mode}) | gain (points) | int8 with KD |")
print("|---|---|---|---|---|---|")
pairs = []
for s in sorted({k[0] for k in runs}):
    seeds = sorted(x for (st, mo, x) in runs if st == s and mo == "plain" and (s, kd_mode, x) in runs)
    if not seeds:
        continue
    plain = [runs[(s, "plain", x)][0] for x in seeds]
    kd = [runs[(s, kd_mode, x)][0] for x in seeds]
    gain = [b - a for a, b in zip(plain, kd)]
    pairs += gain
    int8 = [runs[(s, kd_mode, x)][1] for x in seeds if runs[(s, kd_mode, x)][1] is not None]
    print(f"| {s} | {','.join(seeds)} | {statistics.mean(plain):.2f} ± {sd(plain)} | {statistics.mean(kd):.2f} ± {sd(kd)} | "
          f"{statistics.mean(gain):+.2f} ± {sd(gain)} (per seed {', '.join(f'{g:+.2f}' for g in gain)}) | "
          + (f"{statistics.mean(int8):.2f}" if int8 else "–") + " |")
if len(pairs) > 1:
    print(f"\nall {len(pairs)} pairs: mean gain {statistics.mean(pairs):+.2f} ± {statistics.stdev(pairs):.2f} points "
          f"(standard error {statistics.stdev(pairs) / len(pairs) ** 0.5:.2f})")
