#!/usr/bin/env python3
"""Are the LLM's candidates worse, or only worse under the tiny proxy? (issue 11)

    python3 bench/search/origin_rescore.py pick OUT N RUN... -- picks N LLM-origin and N random candidates
    python3 bench/search/origin_rescore.py table OUT        -- the side-by-side table

`pick` draws (seeded, uniformly) up to N trained candidates whose origin starts with "llm" and N of
origin "random" from the given runs (their stored search-proxy accuracy kept), into OUT/<group>-<hash>/
arch.json; bench/search/origin-rescore.sh trains each with the faithful proxy (3 epochs on 20 %,
lr 0.05 + warm-up; Kendall tau 0.63 against finished accuracy, bench/RESULTS-search.md) and `table`
compares the groups under both proxies. Origins as ProposerEvidence.origin derives them.
"""
import json, os, random, sqlite3, statistics, sys


def origin(proposer, change, parents):
    c = change or ""
    if proposer not in ("evolution", "nsga2", "evolution+llm", "nsga2+llm"):
        return proposer
    if c.startswith("llm+repair"): return "llm+repair"
    if c.startswith("random initial sample"): return "random"
    if c.startswith("llm "): return "llm-variation"
    body = c[len("classic fallback: "):] if c.startswith("classic fallback: ") else c
    if body.startswith("crossover") or parents >= 2: return "crossover"
    return "mutation" if parents == 1 else proposer


def pick(out, n, runs):
    groups = {"llm": [], "random": []}
    for run in runs:
        db = sqlite3.connect(f"file:{os.path.join(run, 'run.sqlite')}?mode=ro", uri=True)
        q = ("select c.hash, c.spec_json, c.cost_json, c.proposer, c.change, c.parents_json, e.val_accuracy from candidates c "
             "join evaluations e on e.candidate_id = c.id where c.status = 'done' and e.rung = 0 and e.val_accuracy is not null")
        for h, spec, cost, prop, change, parents, acc in db.execute(q):
            o = origin(prop, change, len(json.loads(parents or "[]")))
            g = "llm" if o.startswith("llm") else "random" if o == "random" else None
            if g:
                groups[g].append(dict(hash=h, spec=spec, macs=json.loads(cost)["macs"], acc=acc, origin=o, run=os.path.basename(run)))
    rng = random.Random(11)
    for g, xs in groups.items():
        for p in rng.sample(xs, min(n, len(xs))):
            d = os.path.join(out, f"{g}-{p['hash'][:12]}"); os.makedirs(d, exist_ok=True)
            open(os.path.join(d, "arch.json"), "w").write(p["spec"])
            json.dump({k: p[k] for k in ("hash", "macs", "acc", "origin", "run")}, open(os.path.join(d, "proxy.json"), "w"))
        print(f"{g}: {len(xs)} trained candidates, picked {min(n, len(xs))}")


def table(out):
    rows = {}
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name); m = os.path.join(d, "e3s20", "metrics.json")
        if not os.path.exists(m): continue
        p = json.load(open(os.path.join(d, "proxy.json"))); f = json.load(open(m))
        acc = f["val_accuracy"]
        rows.setdefault(name.split("-")[0], []).append((p["acc"], acc, p["macs"]))
    def ms(xs): return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}" if len(xs) > 1 else f"{xs[0]:.4f}"
    print("| origin group | n | search proxy (1 ep, 5 %) | faithful proxy (3 ep, 20 %) | MACs (mean) |")
    print("|---|---|---|---|---|")
    for g, xs in rows.items():
        print(f"| {g} | {len(xs)} | {ms([x[0] for x in xs])} | {ms([x[1] for x in xs])} | {statistics.mean(x[2] for x in xs) / 1e6:.2f} M |")


if __name__ == "__main__":
    if sys.argv[1] == "pick": pick(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else: table(sys.argv[2])
