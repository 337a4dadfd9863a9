#!/usr/bin/env python3
"""Teacher logits for `tinyforge train --teacher-logits FILE.npy` (logits distillation).

Writes one float32 row of class logits per image of the CIFAR-100 *training* set, in the
order of `train.bin` (the order TinyForge's CIFAR-100 loader reads; TinyForge maps its
train/val split back to these rows), from a ViT-B/16 fine-tuned on CIFAR-100 at 224×224, as
the paper does (their teacher: 93.2 % top-1).

For users with the weights and a GPU; CI does not run it (no weights or GPU there).
    pip install torch timm numpy
    python3 scripts/teacher_logits.py --cifar100 /data/cifar-100-binary \
        --checkpoint vit_b16_cifar100.pth --out teacher_logits.npy
    tinyforge train ARCH --dataset cifar100:/data/cifar-100-binary \
        --teacher-logits teacher_logits.npy --alpha 0.4:0.8 --temperature 10 ...

--checkpoint: a state dict for timm's `vit_base_patch16_224` with a 100-class head (e.g. the
paper authors' `vit_*.pth` files are for their students, not this; fine-tune one with timm or
take any CIFAR-100 ViT-B/16 checkpoint). Without --checkpoint, `--timm-pretrained NAME` loads a
timm model by name (needs its weights in the local cache).
"""
import argparse
import os
import sys

import numpy as np


def load_cifar100_train(root):
    path = os.path.join(root, "train.bin")
    if not os.path.exists(path):
        path = os.path.join(root, "cifar-100-binary", "train.bin")
    raw = np.fromfile(path, dtype=np.uint8)
    rec = 2 + 3 * 32 * 32
    if raw.size % rec != 0:
        sys.exit(f"{path}: {raw.size} bytes is not a multiple of the {rec}-byte CIFAR-100 record")
    raw = raw.reshape(-1, rec)
    images = raw[:, 2:].reshape(-1, 3, 32, 32)  # CHW, as stored
    fine = raw[:, 1].astype(np.int64)
    return images, fine


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cifar100", required=True, help="folder with train.bin")
    ap.add_argument("--checkpoint", help="ViT-B/16 CIFAR-100 state dict (.pth)")
    ap.add_argument("--timm-pretrained", help="timm model name to load with pretrained weights instead")
    ap.add_argument("--out", required=True, help="output .npy (float32, N × 100)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F
    import timm

    images, labels = load_cifar100_train(args.cifar100)
    if args.checkpoint:
        model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=100)
        state = torch.load(args.checkpoint, map_location="cpu")
        state = state.get("state_dict", state.get("model", state))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing:
            sys.exit(f"{args.checkpoint}: missing weights {missing[:5]}…; is it a ViT-B/16 with a 100-class head?")
    elif args.timm_pretrained:
        model = timm.create_model(args.timm_pretrained, pretrained=True, num_classes=100)
    else:
        sys.exit("give --checkpoint or --timm-pretrained")
    device = args.device if torch.cuda.is_available() or args.device == "cpu" else "cpu"
    model = model.to(device).eval()
    cfg = model.pretrained_cfg if hasattr(model, "pretrained_cfg") else {}
    mean = torch.tensor(cfg.get("mean", (0.5, 0.5, 0.5)), device=device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.get("std", (0.5, 0.5, 0.5)), device=device).view(1, 3, 1, 1)

    out = np.zeros((len(images), 100), dtype=np.float32)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), args.batch):
            x = torch.from_numpy(images[i:i + args.batch]).to(device).float() / 255.0
            x = F.interpolate(x, size=(args.resolution, args.resolution), mode="bilinear", align_corners=False)
            logits = model((x - mean) / std).float()
            out[i:i + len(x)] = logits.cpu().numpy()
            correct += (logits.argmax(1).cpu().numpy() == labels[i:i + len(x)]).sum()
            print(f"\r{i + len(x)}/{len(images)} images, train top-1 {correct / (i + len(x)):.4f}", end="", flush=True)
    print()
    np.save(args.out, out)
    print(f"wrote {args.out}: {out.shape} float32 (one row per train.bin image)")


if __name__ == "__main__":
    main()
