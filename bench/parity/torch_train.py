"""PyTorch twin of `tinyforge train` for accuracy parity.

Builds the SAME network as TinyForge from our architecture JSON (semantics re-implemented from
docs/ARCHITECTURE.md, Sources/TinyForgeSpec/ArchitectureSpec.swift `expandedLayers()` and
Sources/TinyForgeHardware/Lowering.swift), trains it with the recipe of `tinyforge train`
(Sources/TinyForgeTraining: SGD Nesterov 0.9, weight decay only on conv/linear weights, cosine LR
evaluated per step, label smoothing, batches with drop_last, the training split's per-channel
mean/std on pixels/255, no augmentation by default) on Fashion-MNIST read from the IDX files with
numpy, and reports test accuracy and training images/s.

usage:
  python3 bench/parity/torch_train.py examples/fmnist-small.json --epochs 3 --batch 128 --lr 0.1 \
      [--threads 2] [--seed 1] [--tinyforge .build/release/tinyforge]

With --tinyforge the script runs `tinyforge profile ARCH --json` and fails unless its `params`
equals the PyTorch parameter count. The validation split (10 %, stratified, seeded) is carved out
as TinyForge does, but with numpy's RNG, so it is not the same subset; only test accuracy is compared.
"""
import argparse, gzip, json, math, os, subprocess, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------- architecture

ACTS = {
    "relu": lambda: nn.ReLU(), "relu6": lambda: nn.ReLU6(), "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "leakyrelu": lambda: nn.LeakyReLU(0.01), "swish": lambda: nn.SiLU(), "silu": lambda: nn.SiLU(),
    "hswish": lambda: nn.Hardswish(), "hardswish": lambda: nn.Hardswish(), "sigmoid": lambda: nn.Sigmoid(),
}
BLOCKS = {"conv": "conv", "dsconv": "dsconv", "depthwise": "dsconv", "mbconv": "mbconv", "fused_mbconv": "fused_mbconv",
          "fused-mbconv": "fused_mbconv", "fusedmbconv": "fused_mbconv", "basic": "basic"}


def act(name):
    if name not in ACTS:
        sys.exit(f"activation {name!r} is not one of {sorted(ACTS)}")
    return ACTS[name]()


def conv_bn(cin, cout, k, stride, bias, bn=True, activation=None, groups=1):
    """k×k conv with 'same' padding k//2 (out = ceil(in/stride) for odd k), optional BN and act."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=bias)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))  # eps 1e-5, momentum 0.1 as the engine
    if activation is not None:
        layers.append(act(activation))
    return nn.Sequential(*layers)


class SE(nn.Module):
    """GAP → 1×1 conv (bias) → ReLU → 1×1 conv (bias) → sigmoid → scale."""

    def __init__(self, c, r):
        super().__init__()
        self.reduce = nn.Conv2d(c, r, 1, bias=True)
        self.expand = nn.Conv2d(r, c, 1, bias=True)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.expand(F.relu(self.reduce(s))))


class Layer(nn.Module):
    """One expanded layer of a stage (LayerConfig), lowered as Lowering.swift lowers it."""

    def __init__(self, block, cin, cout, mid, k, stride, se, activation, shortcut, shortcut_bn, post_act, bias):
        super().__init__()
        final_act = activation if (post_act and shortcut == "none") else None
        body = []
        if block == "conv":
            body.append(conv_bn(cin, cout, k, stride, bias, activation=activation))
        elif block == "basic":
            body += [conv_bn(cin, cout, k, stride, bias, activation=activation),
                     conv_bn(cout, cout, k, 1, bias, activation=final_act)]
        elif block == "dsconv":
            body.append(conv_bn(cin, cin, k, stride, bias, activation=activation, groups=cin))
            if se:
                body.append(SE(cin, se))
            body.append(conv_bn(cin, cout, 1, 1, bias, activation=final_act))
        elif block == "mbconv":
            body += [conv_bn(cin, mid, 1, 1, bias, activation=activation),
                     conv_bn(mid, mid, k, stride, bias, activation=activation, groups=mid)]
            if se:
                body.append(SE(mid, se))
            body.append(conv_bn(mid, cout, 1, 1, bias, activation=final_act))
        elif block == "fused_mbconv":
            body.append(conv_bn(cin, mid, k, stride, bias, activation=activation))
            if se:
                body.append(SE(mid, se))
            body.append(conv_bn(mid, cout, 1, 1, bias, activation=final_act))
        self.body = nn.Sequential(*body)
        self.shortcut = shortcut
        if shortcut == "projection":
            self.proj = conv_bn(cin, cout, 1, stride, bias, bn=shortcut_bn)
        self.add_act = act(activation) if (shortcut != "none" and post_act) else None

    def forward(self, x):
        y = self.body(x)
        if self.shortcut == "none":
            return y
        y = y + (x if self.shortcut == "identity" else self.proj(x))
        return self.add_act(y) if self.add_act is not None else y


def expanded_layers(spec):
    """ArchitectureSpec.expandedLayers(): stride and channel change on a stage's first layer only."""
    layers, cin = [], (spec.get("stem") or {}).get("out_channels", spec["input"]["channels"])
    for st in spec["stages"]:
        block = BLOCKS[st["block"]]
        out, k, activation = st["out_channels"], st.get("kernel", 3), st.get("activation", "relu6")
        expansion = st.get("expansion", 1)
        skip = {"identity": "none"}.get(st.get("skip", "none"), st.get("skip", "none"))
        post = st.get("post_activation", block == "basic")
        for li in range(st.get("repeats", 1)):
            stride = st.get("stride", 1) if li == 0 else 1
            mid = cin * expansion if block in ("mbconv", "fused_mbconv") else (cin if block == "dsconv" else out)
            se_width = cin if block == "dsconv" else mid
            r = st.get("se_ratio", 0)
            se = max(1, int(se_width * r)) if (r > 0 and block not in ("conv", "basic")) else 0
            if skip == "none":
                sc = "none"
            elif skip == "residual":
                sc = "none" if stride != 1 else ("identity" if cin == out else "projection")
            elif skip == "residual_same":
                sc = "identity" if (stride == 1 and cin == out) else "none"
            elif skip == "residual_full":
                sc = "identity" if (stride == 1 and cin == out) else "projection"
            else:
                sys.exit(f"skip {skip!r} is not one of none, residual, residual_same, residual_full")
            layers.append(dict(block=block, cin=cin, cout=out, mid=mid, k=k, stride=stride, se=se, activation=activation,
                               shortcut=sc, shortcut_bn=st.get("shortcut_bn", True), post_act=post))
            cin = out
    return layers, cin


class Net(nn.Module):
    def __init__(self, spec, classes):
        super().__init__()
        bias = spec.get("conv_bias", False)
        feats, c = [], spec["input"]["channels"]
        stem = spec.get("stem")
        if stem:
            feats.append(conv_bn(c, stem["out_channels"], stem.get("kernel", 3), stem.get("stride", 2), bias,
                                 activation=stem.get("activation", "relu6")))
        layers, c = expanded_layers(spec)
        for l in layers:
            feats.append(Layer(l["block"], l["cin"], l["cout"], l["mid"], l["k"], l["stride"], l["se"], l["activation"],
                               l["shortcut"], l["shortcut_bn"], l["post_act"], bias))
        head = spec.get("head", {})
        if head.get("conv_channels", 0) > 0:
            feats.append(conv_bn(c, head["conv_channels"], 1, 1, bias, activation=head.get("activation", "relu6")))
            c = head["conv_channels"]
        self.features = nn.Sequential(*feats)
        self.dropout = nn.Dropout(head.get("dropout", 0.2))
        self.classifier = nn.Linear(c, classes)
        for m in self.modules():  # the engine's init: Kaiming-normal fan_out, zero biases, BN 1/0
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.classifier.weight, 0, 0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(self.dropout(x))

# ----------------------------------------------------------------------------- data


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist(d):
    def f(name):
        for ext in ("", ".gz"):
            if os.path.exists(os.path.join(d, name + ext)):
                return os.path.join(d, name + ext)
        sys.exit(f"{d}: {name}[.gz] not found; pass --data DIR holding the four Fashion-MNIST IDX files")
    return (read_idx(f("train-images-idx3-ubyte")), read_idx(f("train-labels-idx1-ubyte")),
            read_idx(f("t10k-images-idx3-ubyte")), read_idx(f("t10k-labels-idx1-ubyte")))


def stratified_split(labels, fraction, seed):
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        val.extend(idx[:int(round(len(idx) * fraction))])
    mask = np.zeros(len(labels), bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)

# ----------------------------------------------------------------------------- training


def evaluate(net, x, y, batch=500):
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = net(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x), loss / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tinyforge", help="path of the tinyforge binary: check params against `profile --json`")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    spec = json.load(open(a.arch))
    if "stages" not in spec:
        sys.exit(f"{a.arch}: only TinyForge's own architecture JSON (with \"stages\") is supported here")

    xtr, ytr, xte, yte = load_fmnist(a.data)
    classes = int(ytr.max()) + 1
    if spec.get("num_classes", 100) != classes:
        print(f"note: setting num_classes {spec.get('num_classes', 100)} → {classes}")
    inp = spec["input"]
    if (inp["height"], inp["width"], inp["channels"]) != (28, 28, 1):
        sys.exit(f"{a.arch}: input must be 28×28×1 for Fashion-MNIST in this script (found {inp})")
    net = Net(spec, classes).to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in net.parameters())
    print(f"pytorch net {spec.get('name', a.arch)}: {params} params")
    if a.tinyforge:
        out = subprocess.run([a.tinyforge, "profile", a.arch, "--json"], capture_output=True, text=True)
        prof = json.loads(out.stdout)
        # profile counts the spec's num_classes; adjust the classifier to the dataset's classes.
        expected = prof["params"] + (classes - spec.get("num_classes", 100)) * (net.classifier.in_features + 1)
        print(f"tinyforge profile params {prof['params']} (for {classes} classes: {expected})")
        if expected != params:
            sys.exit(f"parameter mismatch: pytorch {params} vs tinyforge {expected}")

    tr, va = stratified_split(ytr, a.val_fraction, 42)
    mean, std = (xtr[tr] / 255.0).mean(), (xtr[tr] / 255.0).std()  # population std, as Normalization
    prep = lambda x: torch.from_numpy(((x / 255.0 - mean) / std).astype(np.float32)).unsqueeze(1) \
        .contiguous(memory_format=torch.channels_last)
    x_train, y_train = prep(xtr[tr]), torch.from_numpy(ytr[tr].astype(np.int64))
    x_val, y_val = prep(xtr[va]), torch.from_numpy(ytr[va].astype(np.int64))
    x_test, y_test = prep(xte), torch.from_numpy(yte.astype(np.int64))

    decay = [p for p in net.parameters() if p.dim() > 1]      # conv / linear weights
    no_decay = [p for p in net.parameters() if p.dim() <= 1]  # BN γ/β and biases
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    lossf = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    steps = len(x_train) // a.batch  # drop_last
    g = torch.Generator().manual_seed(a.seed)
    train_seconds, seen = 0.0, 0
    for e in range(a.epochs):
        net.train()
        perm = torch.randperm(len(x_train), generator=g)
        t0 = time.perf_counter()
        loss_sum, correct = 0.0, 0
        for s in range(steps):
            idx = perm[s * a.batch:(s + 1) * a.batch]
            lr = a.lr * 0.5 * (1 + math.cos(math.pi * min(max((e + s / steps) / a.epochs, 0), 1)))
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad(set_to_none=False)
            out = net(x_train[idx])
            loss = lossf(out, y_train[idx])
            loss.backward()
            opt.step()
            loss_sum += loss.item() * a.batch
            correct += (out.argmax(1) == y_train[idx]).sum().item()
        sec = time.perf_counter() - t0
        train_seconds += sec
        seen += steps * a.batch
        va_acc, va_loss = evaluate(net, x_val, y_val)
        print(f"epoch {e + 1}/{a.epochs}  loss {loss_sum / (steps * a.batch):.4f}  train acc {100 * correct / (steps * a.batch):.2f}%"
              f"  val acc {100 * va_acc:.2f}%  {steps * a.batch / sec:.0f} img/s  lr {lr:.4g}", flush=True)
    te_acc, te_loss = evaluate(net, x_test, y_test)
    print(f"test split: accuracy {100 * te_acc:.2f}% (loss {te_loss:.4f}) on {len(x_test)} images; "
          f"training {seen / max(train_seconds, 1e-9):.1f} images/s over {train_seconds:.1f} s, threads {a.threads}")


if __name__ == "__main__":
    main()
