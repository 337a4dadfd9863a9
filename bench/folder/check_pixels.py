#!/usr/bin/env python3
"""Compares the tensors TinyForge decoded from a folder written by scripts/fashion-folder.sh with
the IDX files they came from: file train/<class>/NNNNN.png|jpg is IDX image NNNNN. PNG files must
match exactly; JPEG (quality 95) files differ by the codec's rounding.

Usage: check_pixels.py CACHE.tfimg [IDX_DIR]   (CACHE from `tinyforge dataset-info --dataset folder:DIR,cache=C`)
"""
import gzip
import json
import os
import struct
import sys

import numpy as np


def idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    n, h, w = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, h, w)


def main():
    cache = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    raw = open(cache, "rb").read()
    assert raw[:8] == b"TFIMGv1\n", "not a TinyForge image cache"
    n = struct.unpack("<Q", raw[8:16])[0]
    header = json.loads(raw[16:16 + n])
    folder = header["source"]
    h, w, c = header["height"], header["width"], header["channels"]
    offset = 16 + n
    for split in header["splits"]:
        count = split["count"]
        labels = np.frombuffer(raw, np.int32, count, offset)
        pixels = np.frombuffer(raw, np.uint8, count * h * w * c, offset + 4 * count).reshape(count, h, w)
        offset += 4 * count + count * h * w * c
        ref = idx(os.path.join(root, ("train" if split["name"] == "train" else "t10k") + "-images-idx3-ubyte.gz"))
        files = []
        for cls in header["classes"]:
            d = os.path.join(folder, split["name"], cls)
            files += sorted(os.path.join(split["name"], cls, f) for f in os.listdir(d) if not f.startswith("."))
        assert len(files) == count, (len(files), count)
        png = [i for i, f in enumerate(files) if f.endswith(".png")]
        jpg = [i for i, f in enumerate(files) if f.endswith(".jpg")]
        index = np.array([int(os.path.basename(f)[:5]) for f in files])
        diff = np.abs(pixels.astype(int) - ref[index].astype(int))
        print(f"{split['name']}: {count} images; PNG {len(png)}: max |diff| {diff[png].max()}, "
              f"JPEG {len(jpg)}: max |diff| {diff[jpg].max()}, mean |diff| {diff[jpg].mean():.3f}")


if __name__ == "__main__":
    main()
