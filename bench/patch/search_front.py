#!/usr/bin/env python3
"""Accuracy at equal SRAM: searches with and without --patch auto (issue 15).

    python3 bench/patch/search_front.py DIR_OFF DIR_AUTO [THRESHOLDS_KB...]

Each DIR holds compare's <proposer>-seedN runs. For every run, the best proxy validation accuracy
among trained candidates whose SRAM the chip needs (per-layer arena without patching, the patch
plan's arena with --patch auto, as stored in cost_json.peak_sram_bytes) is at most the threshold;
mean ± sd over seeds, plus how many candidates were trained and their mean MACs (halos included with --patch auto)."""
import glob, json, os, sqlite3, statistics, sys


def runs(d):
    out = []
    for r in sorted(glob.glob(os.path.join(d, "*-seed*"))):
        db = sqlite3.connect(f"file:{r}/run.sqlite?mode=ro", uri=True)
        rows = db.execute("select c.cost_json, e.val_accuracy from candidates c join evaluations e on e.candidate_id = c.id "
                          "where c.status = 'done' and e.rung = 0 and e.val_accuracy is not null").fetchall()
        pts = []
        for cost, acc in rows:
            c = json.loads(cost)
            pts.append((c["peak_sram_bytes"], acc, c["macs"]))
        out.append(pts)
    return out


def ms(xs):
    return f"{statistics.mean(xs) * 100:.2f} ± {statistics.stdev(xs) * 100:.2f}" if len(xs) > 1 else f"{xs[0] * 100:.2f}"


def main():
    off, auto = runs(sys.argv[1]), runs(sys.argv[2])
    th = [float(x) for x in sys.argv[3:]] or [4, 6, 8, 10]
    print("| SRAM ≤ | layer by layer (best proxy acc, mean ± sd over seeds) | --patch auto |")
    print("|---|---|---|")
    for t in th:
        cells = []
        for rs in (off, auto):
            best = [max([a for s, a, _ in pts if s <= t * 1024] or [0.0]) for pts in rs]
            cells.append(ms(best))
        print(f"| {t:g} KB | {cells[0]} | {cells[1]} |")
    for name, rs in (("off", off), ("auto", auto)):
        n = [len(p) for p in rs]
        mac = [statistics.mean(m for _, _, m in p) / 1e6 for p in rs]
        print(f"{name}: {len(rs)} runs, trained {n}, mean MACs per run {[round(x, 2) for x in mac]} M")


if __name__ == "__main__":
    main()
