#!/usr/bin/env python3
"""Writes a small data set in the CIFAR-100 binary format (train.bin, test.bin: per record
1 coarse-label byte, 1 fine-label byte, 3072 pixel bytes, channel-planar R, G, B of 32x32).

CIFAR-100 itself is not available offline; this exercises the real loader and the paper's
search space (160x160 after resizing) end to end. Each fine class c gets its own colour and
stripe frequency plus noise, so a network can learn something in one epoch.
usage: scripts/make-cifar100-like.py OUT_DIR [--train 500] [--test 100] [--seed 0]
"""
import argparse, os, random

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--train", type=int, default=500)
ap.add_argument("--test", type=int, default=100)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
rng = random.Random(a.seed)
os.makedirs(a.out, exist_ok=True)

def record(fine):
    r, g, b = (fine * 37) % 256, (fine * 91) % 256, (fine * 53) % 256
    freq = 1 + fine % 7
    planes = []
    for base in (r, g, b):
        px = bytearray(1024)
        for y in range(32):
            for x in range(32):
                stripe = 60 if ((x * freq) // 8 + (y if fine % 2 else 0)) % 2 else -60
                v = base + stripe + rng.randint(-40, 40)
                px[y * 32 + x] = max(0, min(255, v))
        planes.append(bytes(px))
    return bytes([fine // 5, fine]) + b"".join(planes)

for name, n in (("train.bin", a.train), ("test.bin", a.test)):
    with open(os.path.join(a.out, name), "wb") as f:
        for i in range(n):
            f.write(record(i % 100))
print(f"wrote {a.train} train and {a.test} test records to {a.out}")
