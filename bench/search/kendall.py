"""Kendall tau-b between proxy accuracy (search) and finished validation accuracy."""
import json, os, sys, glob, itertools
out = sys.argv[1]
variant = sys.argv[2] if len(sys.argv) > 2 else None
pairs = []
for d in sorted(glob.glob(os.path.join(out, 'c-*'))):
    m = os.path.join(d, 'metrics.json')
    if not os.path.exists(m): continue
    p = json.load(open(os.path.join(d, 'proxy.json'))); f = json.load(open(m))
    if variant:
        vm = os.path.join(d, 'proxy-' + variant, 'metrics.json')
        if not os.path.exists(vm): continue
        v = json.load(open(vm)); p['acc'] = v.get('val_accuracy', v.get('best_val_accuracy'))
    fin = f.get('val_accuracy', f.get('best_val_accuracy'))
    pairs.append((p['acc'], fin, p['front'], os.path.basename(d), p['macs']))
def tau_b(x, y):
    c = dcount = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        a = (x[i] > x[j]) - (x[i] < x[j]); b = (y[i] > y[j]) - (y[i] < y[j])
        if a == 0 and b == 0: continue
        if a == 0: tx += 1
        elif b == 0: ty += 1
        elif a == b: c += 1
        else: dcount += 1
    den = ((c + dcount + tx) * (c + dcount + ty)) ** 0.5
    return (c - dcount) / den if den else float('nan')
for p in sorted(pairs): print(f"{p[3]}  proxy {p[0]:.4f}  finished {p[1]:.4f}  front {p[2]}  MACs {p[4]}")
print(f"n = {len(pairs)}, Kendall tau-b = {tau_b([p[0] for p in pairs], [p[1] for p in pairs]):.3f}")
