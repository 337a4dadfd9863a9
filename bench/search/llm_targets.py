#!/usr/bin/env python3
"""Issue 11's four targets for the LLM settings of the equal-budget protocol, from the run stores.

    python3 bench/search/llm_targets.py TINYFORGE PROTO_DIR [SETTING_DIR ...]

PROTO_DIR holds classic/ (random, evolution, nsga2 seed runs) and one directory per LLM setting
(default: llmrandom evollm best), each with <proposer>-seedN runs. Everything comes from
`tinyforge runs show RUN --json` (proposer_evidence, hypervolume), so it is what the run store says.

Definitions (LLM-origin = every origin starting with "llm": llm, llm+repair, llm-variation, ...):
  trainable after repair = (proposals - parse failures - out of space - invalid - over budget) / proposals
  duplicates             = duplicates / proposals
  mean proxy accuracy    = mean over the LLM-origin trained candidates (pooled over seeds), against
                           the pooled mean of the `random` proposer's trained candidates (classic/)
  hypervolume            = final HV mean over seeds, against the `evolution` proposer's mean
"""
import json, statistics, subprocess, sys
from pathlib import Path


def show(tf, run):
    out = subprocess.run([tf, "runs", "show", str(run), "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def runs(d, prefix=None):
    return sorted(p for p in Path(d).iterdir() if p.is_dir() and (prefix is None or p.name.startswith(prefix + "-seed")))


def pooled(evidence, keep):
    n = acc = 0.0
    tot = {k: 0 for k in ("proposals", "parse_failures", "out_of_space", "invalid", "over_budget", "duplicates", "accepted", "trained")}
    for e in evidence:
        if not keep(e["origin"]):
            continue
        for k in tot:
            tot[k] += e.get(k, 0)
        if e.get("trained") and e.get("mean_proxy_accuracy") is not None:
            n += e["trained"]; acc += e["trained"] * e["mean_proxy_accuracy"]
    tot["mean_acc"] = acc / n if n else float("nan")
    return tot


def setting(tf, d):
    ev, hvs = [], []
    for r in runs(d):
        j = show(tf, r)
        if j.get("trained", 0) < j.get("trials", 0):
            print(f"  (skipping {r.name}: {j.get('trained')}/{j.get('trials')} trained)", file=sys.stderr)
            continue
        ev += j["proposer_evidence"]; hvs.append(j["hypervolume"])
    return ev, hvs


def main():
    tf, proto = sys.argv[1], Path(sys.argv[2])
    settings = sys.argv[3:] or ["llmrandom", "evollm", "best"]
    rnd_ev = []
    for r in runs(proto / "classic", "random"):
        rnd_ev += show(tf, r)["proposer_evidence"]
    random_acc = pooled(rnd_ev, lambda o: o == "random")["mean_acc"]
    evo = [show(tf, r)["hypervolume"] for r in runs(proto / "classic", "evolution")]
    evo_mean = statistics.mean(evo)
    print(f"random proposer: pooled mean proxy acc {random_acc:.4f}; evolution final HV mean {evo_mean:.4f} over {len(evo)} seeds")
    print("| setting | seeds | LLM proposals | trainable after repair (≥ 90 %) | duplicates (≤ 10 %) | LLM mean proxy acc (≥ random) | final HV (≥ evolution) |")
    print("|---|---|---|---|---|---|---|")
    for s in settings:
        if not (proto / s).is_dir():
            continue
        ev, hvs = setting(tf, proto / s)
        t = pooled(ev, lambda o: o.startswith("llm"))
        p = max(t["proposals"], 1)
        fit = (t["proposals"] - t["parse_failures"] - t["out_of_space"] - t["invalid"] - t["over_budget"]) / p
        dup = t["duplicates"] / p
        hv = statistics.mean(hvs) if hvs else float("nan")
        sd = statistics.stdev(hvs) if len(hvs) > 1 else 0.0
        mark = lambda ok: "met" if ok else "missed"
        print(f"| {s} | {len(hvs)} | {t['proposals']} | {fit:.1%} ({mark(fit >= 0.9)}) | {dup:.1%} ({mark(dup <= 0.1)}) "
              f"| {t['mean_acc']:.4f} vs {random_acc:.4f} ({mark(t['mean_acc'] >= random_acc)}) "
              f"| {hv:.4f} ± {sd:.4f} vs {evo_mean:.4f} ({mark(hv >= evo_mean)}) |")


if __name__ == "__main__":
    main()
