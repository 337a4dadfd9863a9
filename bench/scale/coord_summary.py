#!/usr/bin/env python3
"""Summarises one coord.sh run directory (workers' --stats JSON lines, search.log, cpu.txt,
times.txt) as JSON; with --table, prints the markdown table of several summaries and the
extrapolation to 1,000 workers x 10-minute evaluations.

Definitions (per job, from `tinyforge worker --stats`):
  claim    = run-status read + stale-lease sweep + claim statement of the step that got the job
  complete = the completion statement; heartbeat = one lease refresh (mean per job)
  gap      = per worker, the time between two claims that is not evaluation: claimed_at(next)
             - claimed_at - evaluate_s = complete + the next claim + the wait for work + the
             result pick-up; it is what the queue costs a worker per evaluation. Heartbeats run
             beside the evaluation (QueueWorker.evaluate) and are not in it:
             gap_parts = complete + next claim + wait, without heartbeats, is printed next to
             it to show that (they agree within the 0.1 s pick-up tick)
  extrapolation: gap fitted as a * N^b over the summaries given, evaluated at 1,000 workers,
  as a share of a 10-minute evaluation
  idle share = 1 - sum(evaluator time) / sum(worker lifetime), start-up and tail included;
  idle_share_window = the same between the first claim and the last completion (the table's)
"""
import argparse, glob, json, math, os, re, sys


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def cpu(path):
    """Busy share of all cores and the 1-min load range over the samples."""
    rows = []
    for line in open(path):
        head, load = line.rsplit("|", 1)
        f = head.split()
        vals = [int(v) for v in f[1:]]
        idle = vals[3] + vals[4]
        rows.append((sum(vals[:8]), idle, float(load)))
    if len(rows) < 2:
        return None
    total, idle = rows[-1][0] - rows[0][0], rows[-1][1] - rows[0][1]
    return {"busy_share": 1 - idle / total if total else float("nan"),
            "load_max": max(r[2] for r in rows), "load_start": rows[0][2]}


def children_cpu(path):
    """User+system seconds of the benchmark's children (bash `times`, second line)."""
    lines = open(path).read().split("\n")
    secs = 0.0
    for t in lines[1].split():
        m = re.match(r"(\d+)m([\d.]+)s", t)
        secs += int(m.group(1)) * 60 + float(m.group(2))
    return secs


def controller(path):
    text = open(path).read()
    out = {}
    m = re.search(r"controller overhead ([\d.]+) ms per trial \(propose ([\d.]+) s, validate ([\d.]+) s, "
                  r"store ([\d.]+) s, archive\+HV ([\d.]+) s; wall ([\d.]+) s\)", text)
    if m:
        per_trial, p, v, s, a, wall = map(float, m.groups())
        out.update(ms_per_trial=per_trial, work_s=p + v + s + a, wall_s=wall)
    m = re.search(r"queue controller: (\d+) loop steps, (\d+) of them enqueued new candidates, ([\d.]+) ms of work per step", text)
    if m:
        out.update(loop_steps=int(m.group(1)), proposal_steps=int(m.group(2)), ms_per_step=float(m.group(3)))
    m = re.search(r"trained (\d+) candidates", text)
    if m:
        out["trained"] = int(m.group(1))
    elif re.findall(r"trial (\d+)/\d+ .* elapsed (\d+)s", text):   # no final summary: the controller was stopped
        n, secs = re.findall(r"trial (\d+)/\d+ .* elapsed (\d+)s", text)[-1]
        out.update(recorded=int(n), elapsed_s=int(secs), stopped=True)
    return out


def summarise(d, backend, workers, sleep_ms, heartbeat):
    jobs, exits = [], []
    for f in glob.glob(os.path.join(d, "stats", "*.jsonl")):
        for line in open(f):
            r = json.loads(line)
            (jobs if r["type"] == "job" else exits).append(r)
    if not jobs:
        sys.exit(f"coord_summary: no job lines under {d}/stats; did the workers start? (see {d}/logs)")
    claim = [j["status_s"] + j["reclaim_s"] + j["claim_call_s"] for j in jobs]
    hb = [j["heartbeat_s"] / j["heartbeats"] for j in jobs if j["heartbeats"]]
    t = sorted(j["claimed_at"] for j in jobs)
    gaps, parts, queue = [], [], []
    for f in glob.glob(os.path.join(d, "stats", "*.jsonl")):
        mine = sorted((r for r in map(json.loads, open(f)) if r["type"] == "job"), key=lambda r: r["claimed_at"])
        for a, b in zip(mine, mine[1:]):
            gaps.append(b["claimed_at"] - a["claimed_at"] - a["evaluate_s"])
            queue.append(a["complete_s"] + b["status_s"] + b["reclaim_s"] + b["claim_call_s"])
            parts.append(queue[-1] + b["wait_s"])
    ctl = controller(os.path.join(d, "search.log"))
    s = {
        "backend": backend, "workers": workers, "sleep_ms": sleep_ms, "heartbeat_s": heartbeat,
        "jobs": len(jobs), "refused": sum(not j["accepted"] for j in jobs), "worker_exits": len(exits),
        "claims_per_s": (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else float("nan"),
        "claim_p50_ms": pct(claim, 50) * 1e3, "claim_p99_ms": pct(claim, 99) * 1e3,
        "claim_call_p50_ms": pct([j["claim_call_s"] for j in jobs], 50) * 1e3,
        "claim_call_p99_ms": pct([j["claim_call_s"] for j in jobs], 99) * 1e3,
        "complete_p50_ms": pct([j["complete_s"] for j in jobs], 50) * 1e3,
        "complete_p99_ms": pct([j["complete_s"] for j in jobs], 99) * 1e3,
        "heartbeat_p50_ms": pct(hb, 50) * 1e3, "heartbeat_p99_ms": pct(hb, 99) * 1e3,
        "pickup_p50_ms": pct([j["pickup_s"] for j in jobs], 50) * 1e3,
        "wait_mean_ms": sum(j["wait_s"] for j in jobs) / len(jobs) * 1e3,
        "claim_complete_mean_ms": (sum(claim) + sum(j["complete_s"] for j in jobs)) / len(jobs) * 1e3,
        "heartbeat_mean_ms": (sum(hb) / len(hb) * 1e3) if hb else float("nan"),
        "idle_share": 1 - sum(e["evaluate_s"] for e in exits) / sum(e["lifetime_s"] for e in exits) if exits else float("nan"),
        "controller": ctl,
        "gap_mean_ms": sum(gaps) / len(gaps) * 1e3 if gaps else float("nan"),
        "gap_parts_mean_ms": sum(parts) / len(parts) * 1e3 if parts else float("nan"),
        "gap_p99_ms": pct(gaps, 99) * 1e3,
        "queue_mean_ms": sum(queue) / len(queue) * 1e3 if queue else float("nan"),
    }
    # Idle share between the first claim and the last completion (start-up and tail excluded).
    end = max(j["claimed_at"] + j["evaluate_s"] + j["pickup_s"] + j["complete_s"] for j in jobs)
    s["idle_share_window"] = 1 - sum(j["evaluate_s"] for j in jobs) / (workers * (end - t[0])) if workers else float("nan")
    if "work_s" in ctl and ctl.get("trained"):
        s["controller_capacity_per_s"] = ctl["trained"] / ctl["work_s"] if ctl["work_s"] else float("inf")
        s["controller_achieved_per_s"] = ctl["trained"] / ctl["wall_s"]
    elif ctl.get("stopped"):
        s["controller_achieved_per_s"] = ctl["recorded"] / ctl["elapsed_s"]
    s["controller_stuck"] = os.path.exists(os.path.join(d, "controller-stuck.txt"))
    if os.path.exists(os.path.join(d, "cpu.txt")):
        s["cpu"] = cpu(os.path.join(d, "cpu.txt"))
    if os.path.exists(os.path.join(d, "times.txt")):
        s["our_cpu_s"] = children_cpu(os.path.join(d, "times.txt"))
    return s


def fit_power(ns, ys):
    """Least-squares y = a * n^b in log-log; returns (a, b)."""
    lx, ly = [math.log(n) for n in ns], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((x - mx) ** 2 for x in lx)
    b = sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sxx if sxx else 0.0
    return math.exp(my - b * mx), b


def table(paths, target_workers=1000, eval_s=600.0):
    ss = sorted((json.load(open(p)) for p in paths), key=lambda s: (s["backend"], s["workers"]))
    print("| backend | workers | jobs | claims/s | claim p50 / p99 (ms) | complete p50 / p99 (ms) | heartbeat p50 / p99 (ms) "
          "| controller: trials/s achieved (capacity), ms/step | idle share (window) | CPU busy, max load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in ss:
        c, ctl = s.get("cpu") or {}, s["controller"]
        print(f"| {s['backend']} | {s['workers']} | {s['jobs']} | {s['claims_per_s']:.1f} "
              f"| {s['claim_p50_ms']:.1f} / {s['claim_p99_ms']:.1f} | {s['complete_p50_ms']:.1f} / {s['complete_p99_ms']:.1f} "
              f"| {s['heartbeat_p50_ms']:.1f} / {s['heartbeat_p99_ms']:.1f} "
              f"| {s.get('controller_achieved_per_s', float('nan')):.1f} ({s.get('controller_capacity_per_s', float('nan')):.0f}), "
              f"{ctl.get('ms_per_step', float('nan')):.2f} "
              f"{' (stopped: a result was never read)' if s.get('controller_stuck') else ''} "
              f"| {s['idle_share_window'] * 100:.1f} % | {c.get('busy_share', float('nan')) * 100:.0f} %, {c.get('load_max', float('nan')):.1f} |")
    print("\n| backend | workers | sleep | heartbeat | offered claims/s | gap mean (p99) ms | gap parts w/o heartbeats, mean ms | of which queue round trips (complete + claim), mean ms |")
    print("|---|---|---|---|---|---|---|---|")
    for s in ss:
        print(f"| {s['backend']} | {s['workers']} | {s['sleep_ms'] / 1e3:.0f} s | {s['heartbeat_s']:.0f} s "
              f"| {s['workers'] / (s['sleep_ms'] / 1e3):.1f} | {s.get('gap_mean_ms', float('nan')):.0f} ({s.get('gap_p99_ms', float('nan')):.0f}) "
              f"| {s.get('gap_parts_mean_ms', float('nan')):.0f} | {s.get('queue_mean_ms', float('nan')):.0f} |")
    for backend in sorted({s["backend"] for s in ss}):
        b = [s for s in ss if s["backend"] == backend and s.get("gap_mean_ms", float("nan")) == s.get("gap_mean_ms")]
        if len(b) < 2:
            continue
        ns = [s["workers"] for s in b]
        a, e = fit_power(ns, [s["gap_mean_ms"] for s in b])
        g = a * target_workers ** e
        qa, qe = fit_power(ns, [s["queue_mean_ms"] for s in b])
        q = qa * target_workers ** qe
        print(f"\n{backend}: extrapolation (gap = {a:.2f} ms × N^{e:.2f} fitted to N = {', '.join(map(str, ns))}; "
              f"an extrapolation, not a measurement): {g:.0f} ms per evaluation at N = {target_workers} "
              f"= {g / 1e3 / eval_s * 100:.3f} % of a {eval_s:.0f} s evaluation (target < 1 %); "
              f"the queue round trips alone (∝ N^{qe:.2f}): {q:.0f} ms = {q / 1e3 / eval_s * 100:.3f} %")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--table", action="store_true", help="the arguments are summary.json files: print the table")
    ap.add_argument("--backend", default="sqlite")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--sleep-ms", type=int, default=0)
    ap.add_argument("--heartbeat", type=float, default=10)
    a = ap.parse_args()
    if a.table:
        table(a.dirs)
    else:
        print(json.dumps(summarise(a.dirs[0], a.backend, a.workers, a.sleep_ms, a.heartbeat), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
