#!/usr/bin/env python3
"""Mean ± sd of the distillation gain per student from students.sh's results.tsv (paired by seed)."""
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    s, seed, mode, acc, int8 = (line.rstrip("\n").split("\t") + [""])[:5]
    rows[(s, seed, mode)] = (float(acc), float(int8) if int8 else None)
for s in sorted({k[0] for k in rows}):
    seeds = sorted({k[1] for k in rows if k[0] == s and (s, k[1], "plain") in rows and (s, k[1], "kd") in rows})
    if not seeds:
        continue
    plain = [rows[(s, x, "plain")][0] * 100 for x in seeds]
    kd = [rows[(s, x, "kd")][0] * 100 for x in seeds]
    gain = [b - a for a, b in zip(plain, kd)]
    int8 = [rows[(s, x, "kd")][1] * 100 for x in seeds if rows[(s, x, "kd")][1] is not None]
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else float("nan")
    print(f"| {s} | {len(seeds)} | {statistics.mean(plain):.2f} ± {sd(plain):.2f} | {statistics.mean(kd):.2f} ± {sd(kd):.2f} | "
          f"{statistics.mean(gain):+.2f} ± {sd(gain):.2f} | " + (f"{statistics.mean(int8):.2f}" if int8 else "–") + " |")
