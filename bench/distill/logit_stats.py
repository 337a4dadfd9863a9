#!/usr/bin/env python3
"""How much a teacher's cached logits can teach: their spread and the softness of the targets.
Usage: logit_stats.py TEACHER_DIR_OR_NPY [...]
Per teacher (the first logits-*.npy in the directory, or the .npy given; N x C float32 rows):
  spread   = mean over images of the standard deviation of that image's C logits
  H(T)     = mean entropy in nats of softmax(z / T), T = 1, 4, 10 (uniform over C classes = ln C)
  p_max(T) = mean largest probability of softmax(z / T)
"""
import glob
import os
import sys

import numpy as np


def stats(path):
    z = np.load(path).astype(np.float64)
    z = z.reshape(-1, z.shape[-1])  # K views x N x C -> (K*N) x C
    row = {"rows": z.shape[0], "classes": z.shape[1], "spread": float(z.std(axis=1).mean())}
    for t in (1, 4, 10):
        s = z / t
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        row[f"H({t})"] = float(-(p * np.log(np.clip(p, 1e-30, None))).sum(axis=1).mean())
        row[f"p_max({t})"] = float(p.max(axis=1).mean())
    return row


for arg in sys.argv[1:]:
    path = arg if arg.endswith(".npy") else sorted(glob.glob(os.path.join(arg, "logits-*.npy")))[0]
    r = stats(path)
    print(f"{arg}: {r['rows']} rows x {r['classes']} classes, spread {r['spread']:.2f}, "
          + ", ".join(f"H({t}) {r[f'H({t})']:.3f} p_max({t}) {r[f'p_max({t})']:.3f}" for t in (1, 4, 10))
          + f"  (uniform H = ln {r['classes']} = {np.log(r['classes']):.3f})")
