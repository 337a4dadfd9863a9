"""PyTorch reference for tinyforge-engine-bench: the same two nets, same batch, same step
(forward + backward + SGD momentum 0.9, wd 5e-4 on conv/linear weights only), channels_last,
torch.set_num_threads(THREADS). FLOP convention: 6 * MACs per image (fwd 2, bwd 4).

usage: python3 bench/engine/torch_reference.py [--threads 2] [--batch 64] [--iters 10] [--net a|b|both]
"""
import argparse, time
import torch
import torch.nn as nn

NETS = {
    "a": ("A (MobileNetV2-style, ~11 M MACs)", 16,
          [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2), (6, 96, 1, 1)], 320),
    "b": ("B (wider/deeper, ~43 M MACs)", 32,
          [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 1), (6, 64, 3, 2), (6, 96, 2, 1), (6, 160, 1, 2)], 640),
}


def cba(cin, cout, k, s=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return layers


class Block(nn.Module):
    def __init__(self, cin, cout, t, s):
        super().__init__()
        e = cin * t
        layers = (cba(cin, e, 1) if t != 1 else []) + cba(e, e, 3, s, e) + cba(e, cout, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.res = s == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y


def build(stem, blocks, head):
    layers, c, h, macs = cba(3, stem, 3), stem, 32, 32 * 32 * 27 * stem
    c = stem
    for t, co, n, s in blocks:
        for i in range(n):
            st = s if i == 0 else 1
            e, oh = c * t, (h + st - 1) // st
            macs += (h * h * c * e if t != 1 else 0) + oh * oh * e * 9 + oh * oh * e * co
            layers.append(Block(c, co, t, st))
            c, h = co, oh
    layers += cba(c, head, 1)
    macs += h * h * c * head + head * 10
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(head, 10)]
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01); nn.init.zeros_(m.bias)
    return net, macs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--net", default="both")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.randn(a.batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (a.batch,))
    for key in (["a", "b"] if a.net == "both" else [a.net]):
        name, stem, blocks, head = NETS[key]
        net, macs = build(stem, blocks, head)
        net = net.to(memory_format=torch.channels_last).train()
        decay = [p for n, p in net.named_parameters() if p.dim() > 1]
        no_decay = [p for n, p in net.named_parameters() if p.dim() <= 1]
        opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                              lr=0.01, momentum=0.9)
        lossf = nn.CrossEntropyLoss(label_smoothing=0.1)

        def step():
            opt.zero_grad(set_to_none=False)
            loss = lossf(net(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        for _ in range(2):
            step()
        t0, c0 = time.perf_counter(), time.process_time()
        steps = []
        for _ in range(a.iters):
            s0 = time.perf_counter()
            loss = step()
            steps.append(time.perf_counter() - s0)
        median = sorted(steps)[a.iters // 2]
        sec, cpu = time.perf_counter() - t0, time.process_time() - c0
        ips, ipc = a.iters * a.batch / sec, a.iters * a.batch / cpu
        params = sum(p.numel() for p in net.parameters())
        print(f"pytorch   net {name}: MACs {macs / 1e6:.2f} M, params {params}, batch {a.batch}, threads {a.threads}: "
              f"{ips:.1f} images/s, {ips * macs * 6 / 1e9:.1f} GFLOP/s (loss {loss:.3f}); "
              f"per CPU-second: {ipc:.1f} images, {ipc * macs * 6 / 1e9:.1f} GFLOP")
        print(f"  median step {median * 1e3:.1f} ms = {a.batch / median:.1f} images/s")


if __name__ == "__main__":
    main()
