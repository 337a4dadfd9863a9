"""Pick N done candidates of a run for the proxy-fidelity check: every Pareto-front member
(accuracy max; MACs, peak SRAM, flash min) plus non-front ones evenly spread over proxy accuracy."""
import sqlite3, json, sys, os
run, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(os.path.join(run, 'run.sqlite'))
rows = db.execute("select c.hash, c.spec_json, c.cost_json, e.val_accuracy from candidates c join evaluations e on e.candidate_id=c.id where c.status='done' and e.rung=0 and e.val_accuracy is not null").fetchall()
pts = []
for h, spec, cost, acc in rows:
    c = json.loads(cost)
    pts.append(dict(hash=h, spec=spec, acc=acc, macs=c['macs'], sram=c['peak_sram_bytes'], flash=c['flash_bytes']))
def dominates(a, b):
    ge = a['acc'] >= b['acc'] and a['macs'] <= b['macs'] and a['sram'] <= b['sram'] and a['flash'] <= b['flash']
    gt = a['acc'] > b['acc'] or a['macs'] < b['macs'] or a['sram'] < b['sram'] or a['flash'] < b['flash']
    return ge and gt
for p in pts:
    p['front'] = not any(dominates(q, p) for q in pts if q is not p)
front = [p for p in pts if p['front']]
rest = sorted([p for p in pts if not p['front']], key=lambda p: p['acc'])
k = max(0, n - len(front))
picked = list(front)
if k and rest:
    idx = sorted(set(round(i * (len(rest) - 1) / max(1, k - 1)) for i in range(k)))
    picked += [rest[i] for i in idx]
print(f"{len(pts)} done, {len(front)} on the front, picked {len(picked)}")
for p in picked:
    d = os.path.join(out, 'c-' + p['hash'][:12]); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'arch.json'), 'w').write(p['spec'])
    json.dump({k: p[k] for k in ('hash', 'acc', 'macs', 'sram', 'flash', 'front')}, open(os.path.join(d, 'proxy.json'), 'w'))
