#!/usr/bin/env python3
"""Pillow + numpy reference for `folder:` loading: decode every PNG/JPEG of DIR/{train,val,test}/<class>/
(or DIR/<class>/), convert to grey ("L") or RGB, resize with Image.BOX (area; identical to
TinyForge's area resize for integer reduction factors) and stack into one uint8 numpy array.

Usage: pillow_load.py DIR [--size N] [--channels 1|3] [--workers W]
Prints images, seconds and images/s. --workers > 1 uses a multiprocessing Pool of W processes.
"""
import argparse
import os
import sys
import time

import numpy as np
from PIL import Image

EXT = {".png", ".jpg", ".jpeg"}


def files(root):
    splits = [s for s in ("train", "val", "test") if os.path.isdir(os.path.join(root, s))] or [""]
    out = []
    for s in splits:
        base = os.path.join(root, s)
        classes = sorted(d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d)) and not d.startswith("."))
        for label, c in enumerate(classes):
            for dirpath, _, names in os.walk(os.path.join(base, c)):
                for n in sorted(names):
                    if os.path.splitext(n)[1].lower() in EXT and not n.startswith("."):
                        out.append((os.path.join(dirpath, n), label))
    return out


def load(args):
    path, size, channels = args
    with Image.open(path) as im:
        im = im.convert("L" if channels == 1 else "RGB")
        if size and im.size != (size, size):
            im = im.resize((size, size), Image.BOX)
        return np.asarray(im, dtype=np.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args()
    t0 = time.perf_counter()
    items = files(a.dir)
    jobs = [(f, a.size, a.channels) for f, _ in items]
    if a.workers > 1:
        from multiprocessing import Pool
        with Pool(a.workers) as pool:
            arrays = pool.map(load, jobs, chunksize=256)
    else:
        arrays = [load(j) for j in jobs]
    x = np.stack(arrays)
    y = np.array([l for _, l in items], dtype=np.int32)
    dt = time.perf_counter() - t0
    print(f"pillow {Image.__version__} numpy {np.__version__}: {len(y)} images -> {x.shape} {x.dtype}, "
          f"{dt:.3f} s, {len(y) / dt:.0f} images/s, workers {a.workers}")


if __name__ == "__main__":
    sys.exit(main())
