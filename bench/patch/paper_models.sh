#!/usr/bin/env bash
# Patch plans of the paper's three models (160×160, 100 classes) at several MAC overhead limits:
# one markdown row per (model, limit) from `tinyforge profile --patch auto --json`.
# Usage: bench/patch/paper_models.sh [path/to/tinyforge]   (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-.build/release/tinyforge}
echo "| model | limit | MACs | per-layer arena (B) | auto plan | split tensor(s) | patched arena (B) | stage / rest peak live (B) | extra MACs | overhead |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for m in LMaNet-Elite LMaNet-Core QwNet-Core; do
  for o in 0.05 0.1 0.2 0.3 0.5; do
    "$bin" profile "examples/paper/$m.json" --patch auto --patch-max-overhead "$o" --json | python3 -c '
import json, sys
r = json.load(sys.stdin); p = r["patch"]; q = p["plan"]
name, limit = sys.argv[1], sys.argv[2]
if q is None:
    print(f"| {name} | {limit} | {r['"'"'macs'"'"']} | {p['"'"'per_layer_arena_bytes'"'"']} | off ({p['"'"'reason'"'"']}) | | {p['"'"'arena_bytes'"'"']} | | 0 | 0 |")
else:
    t = " + ".join("×".join(map(str, s["split_tensor"])) for s in q["stages"])
    print(f"| {name} | {limit} | {r['"'"'macs'"'"']} | {p['"'"'per_layer_arena_bytes'"'"']} | {q['"'"'setting'"'"']} | {t} | **{q['"'"'arena_bytes'"'"']}** | {q['"'"'stage_peak_live_bytes'"'"']} / {q['"'"'rest_peak_live_bytes'"'"']} | {q['"'"'extra_macs'"'"']} | {q['"'"'mac_overhead'"'"']*100:.2f} % |")
' "$m" "$o"
  done
done
