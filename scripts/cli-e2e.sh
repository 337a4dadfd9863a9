#!/usr/bin/env bash
# End-to-end checks of the `tinyforge` CLI: exit codes, error messages, the profile --json
# contract. Usage: scripts/cli-e2e.sh [path/to/tinyforge]
set -u
TF=${1:-.build/release/tinyforge}
pass=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # name, expected exit code, expected substring of stdout+stderr, command...
  local name=$1 code=$2 want=$3; shift 3
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -eq "$code" ] && [[ "$out" == *"$want"* ]]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL: $name (exit $got, want $code; want text: $want)"; echo "$out" | head -5; fi
}

check "profile built-in" 0 "verdict         FITS" "$TF" profile lmanet-elite --sram 320KB --macs 100M
check "profile paper file" 0 "MACs            82 M (81963264)" "$TF" profile examples/paper/LMaNet-Elite.json
check "over budget exits 1" 1 "DOES NOT FIT" "$TF" profile mobilenetv2 --target stm32f746 --macs 100M
check "space size" 0 "1.54e+21 as the paper counts" "$TF" space paper
check "unknown target" 2 "--target: \"esp32\" is not a known target" "$TF" profile resnet8 --target esp32
check "bad unit" 2 "--sram: \"lots\" is not a size" "$TF" profile resnet8 --sram lots
check "missing file" 2 "no such file or built-in network" "$TF" profile "$tmp/none.json"
echo '{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "kernal": 3}]}' > "$tmp/typo.json"
check "unknown key" 2 "stages[0].kernal: unknown key; did you mean \"kernel\"?" "$TF" profile "$tmp/typo.json"
echo '{"input": {"height": 32}, "num_classes": 10, "stages": [' > "$tmp/broken.json"
check "malformed json" 2 "is not valid JSON" "$TF" profile "$tmp/broken.json"
check "outside space" 0 "outside space paper: input.height: 32 is not one of 160" "$TF" profile resnet8 --space paper
check "bad resolution" 2 "--resolution: 0 is out of range" "$TF" profile lmanet-elite --resolution 0

# int8 export and the device check (issue 5): seeded random weights on synthetic data, so no
# dataset download and no training are needed.
SYN="synthetic:classes=4,size=28,channels=1,n=128,test=32"
check "export bad format" 2 '--format: "onnx" is not one of tflite, c' "$TF" export examples/fmnist-small.json --format onnx
check "export missing checkpoint" 2 "cannot be read (missing or not a file)" "$TF" export "$tmp/none.safetensors" --dataset "$SYN"
check "export bad percentile" 2 "--percentile must be in (50, 100]" "$TF" export examples/fmnist-small.json --random-init --dataset "$SYN" --percentile 20
check "export tflite" 0 "wrote model.tflite, labels.txt, test_input.bin, test_output.bin, manifest.json, README.md" \
  "$TF" export examples/fmnist-small.json --random-init --dataset "$SYN" --calibration-batches 1 --format tflite --out "$tmp/tfl"
check "export c" 0 "wrote kernels.c, kernels.h, model.c" \
  "$TF" export examples/fmnist-small.json --random-init --dataset "$SYN" --calibration-batches 1 --format c --out "$tmp/c"
check "deploy-check without toolchain" 2 "apt-get install -y gcc-arm-none-eabi" \
  env PATH=/nonexistent "$TF" deploy-check examples/fmnist-small.json --random-init --dataset "$SYN" --calibration-batches 1
if command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > /dev/null; then
  check "deploy-check qemu" 0 "outputs identical to the Swift int8 engine: yes" \
    "$TF" deploy-check examples/fmnist-small.json --random-init --dataset "$SYN" --calibration-batches 1 --samples 2
fi

# Image folders, class names and predict (issue 16): a generated dataset written as PNG/JPEG.
check "export-images" 0 "wrote 128 train + 32 test images" "$TF" export-images --dataset "$SYN" --out "$tmp/imgs" --jpeg-every 3
FOLDER="folder:$tmp/imgs,cache=$tmp/imgcache"
check "folder dataset-info" 0 "128 train + 32 test" "$TF" dataset-info --dataset "$FOLDER"
check "folder cached" 0 "from the cache" "$TF" dataset-info --dataset "$FOLDER"
check "folder train" 0 "done in" "$TF" train examples/fmnist-small.json --dataset "$FOLDER" --epochs 1 --batch 32 --out "$tmp/ftrain"
first=$(ls "$tmp/imgs/test/"*/* | head -1)
check "predict checkpoint" 0 "$first:" "$TF" predict "$tmp/ftrain/model.safetensors" "$first" --top 2
check "folder export tflite" 0 "labels.txt" "$TF" export "$tmp/ftrain/model.safetensors" --dataset "$FOLDER" --calibration-batches 1 --out "$tmp/ftfl"
check "predict tflite json" 0 '"engine": "int8 interpreter' "$TF" predict "$tmp/ftfl/model.tflite" "$first" --json
echo "not an image" > "$tmp/notes.png"
check "predict bad image" 2 "not a PNG or JPEG file" "$TF" predict "$tmp/ftrain/model.safetensors" "$tmp/notes.png"
check "folder missing" 2 "file not found" "$TF" dataset-info --dataset "folder:$tmp/nothere"
mkdir -p "$tmp/imgs/train/empty-class"
check "folder empty class" 2 "empty-class: class folder has no .png/.jpg/.jpeg images" "$TF" dataset-info --dataset "$FOLDER"
rmdir "$tmp/imgs/train/empty-class"

# The paper's space and budget end to end (issue 4): a real search (process workers, real
# training at 160x160 after resizing) on generated data in the CIFAR-100 binary format.
python3 scripts/make-cifar100-like.py "$tmp/c100" --train 300 --test 50 > /dev/null
check "search paper space" 0 "done 2, failed 0" \
  "$TF" search --proposer random --space paper --dataset "cifar100:$tmp/c100" --target stm32h743 --sram 320KB \
  --flash 1MB --macs 100M --trials 2 --batch 2 --epochs 1 --run "$tmp/paper-run"
check "paper run front" 0 "Pareto front" "$TF" runs show "$tmp/paper-run"
# The finish step: a tiny synthetic-evaluator search, then its top-2 front members trained for one
# epoch on generated data, distilled from a checkpoint `tinyforge train` made a moment before.
FDS="synthetic:classes=4,size=28,channels=1,n=160,test=32"
check "finish: search" 0 "Pareto front" "$TF" search --space mcu28 --dataset "$FDS" --evaluator synthetic --proposer random \
  --trials 10 --batch 4 --sram 64KB --flash 256KB --macs 3M --run "$tmp/frun"
check "finish: teacher" 0 "done in" "$TF" train examples/fmnist-small.json --dataset "$FDS" --epochs 1 --batch 16 --out "$tmp/fteacher"
check "finish: top 2 distilled" 0 "finished.json" "$TF" finish "$tmp/frun" --top 2 --epochs 1 --batch 16 \
  --teacher "$tmp/fteacher/model.safetensors" --alpha 0.5:0.8
check "finish: resume skips" 0 "already finished with these settings" "$TF" finish "$tmp/frun" --top 2 --epochs 1 --batch 16 \
  --teacher "$tmp/fteacher/model.safetensors" --alpha 0.5:0.8
# Teachers: `tinyforge teacher` caches its logits; train/finish read the cache; another split is refused.
check "teacher: trains and caches" 0 "logits cached in" "$TF" teacher --dataset "$FDS" --preset large-cnn --width 0.25 --epochs 1 \
  --batch 16 --ensemble 2 --out "$tmp/tteacher"
check "teacher: train reads the cache" 0 "teacher logits: from the cache" "$TF" train examples/fmnist-small.json --dataset "$FDS" \
  --epochs 1 --batch 16 --teacher "$tmp/tteacher" --kd-preset paper --out "$tmp/tkd"
check "teacher: tuned preset" 0 "teacher logits: from the cache" "$TF" train examples/fmnist-small.json --dataset "$FDS" \
  --epochs 1 --batch 16 --teacher "$tmp/tteacher" --kd-preset tuned --out "$tmp/tkdt"
check "teacher: preset and alpha" 2 "--kd-preset tuned sets alpha and temperature" "$TF" train examples/fmnist-small.json --dataset "$FDS" \
  --epochs 1 --teacher "$tmp/tteacher" --kd-preset tuned --alpha 0.3 --out "$tmp/tkdt2"
check "teacher: fine-tune from the student" 0 "fine-tuning from" "$TF" train examples/fmnist-small.json --dataset "$FDS" \
  --epochs 1 --batch 16 --teacher "$tmp/tteacher" --init-from "$tmp/tkd/model.safetensors" --out "$tmp/tkd2"
check "teacher: other split refused" 2 "the teacher was trained on" "$TF" train examples/fmnist-small.json --dataset "$FDS" \
  --split-seed 7 --epochs 1 --batch 16 --teacher "$tmp/tteacher" --out "$tmp/tkd3"
check "teacher: preset with alpha refused" 2 "--kd-preset paper sets alpha" "$TF" train examples/fmnist-small.json --dataset "$FDS" \
  --epochs 1 --teacher "$tmp/tteacher" --kd-preset paper --alpha 0.5 --out "$tmp/tkd4"
check "finish: runs show lists them" 0 "Finished models (2" "$TF" runs show "$tmp/frun"
if python3 - "$tmp/frun" > "$tmp/fmodels.txt" <<'PY'
import json, os, sys
run = sys.argv[1]
models = json.load(open(os.path.join(run, "finished.json")))["models"]
assert len(models) == 2, len(models)
for m in models:
    assert m["status"] == "done" and m["distilled"] is True and m["epochs"] == 1, m
    assert 0 <= m["finished_val_accuracy"] <= 1 and "proxy_synthetic_score" in m, m
    d = os.path.join(run, "finished", m["hash"][:12])
    for f in ["model.safetensors", "metrics.json", "architecture.json"]:
        assert os.path.isfile(os.path.join(d, f)), (d, f)
    print(os.path.join(d, "model.safetensors"))
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: finish: finished.json contract"; fi
while read -r model; do
  check "finish: evaluate loads $(basename "$(dirname "$model")")" 0 "val split: accuracy" "$TF" evaluate "$model" --dataset "$FDS"
done < "$tmp/fmodels.txt"
check "finish: unknown run" 2 "holds no run" "$TF" finish "$tmp/none" --top 1 --epochs 1
check "finish: top 0" 2 "--top: 0 must be at least 1" "$TF" finish "$tmp/frun" --top 0 --epochs 1
python3 -c "import numpy, sys; numpy.save(sys.argv[1], numpy.zeros((5, 4), numpy.float32))" "$tmp/bad-logits.npy"
check "finish: teacher logits shape" 2 "--teacher-logits $tmp/bad-logits.npy: must be float32 of shape (160, 4)" \
  "$TF" finish "$tmp/frun" --top 1 --epochs 1 --teacher-logits "$tmp/bad-logits.npy"
check "search --finish-top" 0 "finished.json" "$TF" search --space mcu28 --dataset "$FDS" --evaluator synthetic --proposer random \
  --trials 6 --batch 3 --sram 64KB --flash 256KB --macs 3M --run "$tmp/frun2" --finish-top 1 --finish-epochs 1 --finish-arg=--batch=16
check "search --finish-arg typo" 2 "--finish-arg" "$TF" search --space mcu28 --dataset "$FDS" --evaluator synthetic \
  --trials 6 --run "$tmp/frun3" --finish-top 1 --finish-arg=--lrr=1

# The JSON contract (docs/ARCHITECTURE.md): required keys and exact counts.
if "$TF" profile lmanet-elite --json --sram 320KB --macs 100M > "$tmp/p.json" && python3 - "$tmp/p.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ["macs", "params", "params_deployed", "flash_bytes", "peak_sram_bytes", "latency_ms", "target", "budget", "layers"]:
    assert k in r, k
assert r["macs"] == 81963264 and r["params"] == 497997, (r["macs"], r["params"])
b = r["budget"]
assert b["sram_bytes"] == 327680 and b["macs"] == 100000000 and b["fits"] is True and b["violations"] == []
for l in r["layers"]:
    for k in ["index", "op", "in", "out", "macs", "params", "live_bytes"]:
        assert k in l, k
assert sum(l["macs"] for l in r["layers"]) == r["macs"]
assert sum(l["params"] for l in r["layers"]) == r["params"]
assert max(l["live_bytes"] for l in r["layers"]) <= r["peak_sram_bytes"]
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: profile --json contract"; fi

# Successive halving (synthetic evaluator, milliseconds): 12 trained, η = 3 → rungs 12/4/1 at
# least; the rung is marked in pareto.json and candidates.csv; flags are validated.
HV=(search --space mcu28 --dataset synthetic:classes=10 --target stm32f746 --sram 64KB --flash 256KB --macs 5M
    --proposer random --trials 12 --batch 4 --evaluator synthetic --seed 1)
check "search halving" 0 "trained 12 candidates in" "$TF" "${HV[@]}" --halving-epochs 1,3,9 --halving-eta 3 --run "$tmp/halving"
check "runs show halving" 0 "successive halving η=3" "$TF" runs show "$tmp/halving"
check "halving not increasing" 2 "--halving-epochs: 3,1 must be strictly increasing" "$TF" "${HV[@]}" --halving-epochs 3,1 --run "$tmp/hv-bad"
check "halving eta alone" 2 "--halving-eta: only applies with --halving-epochs" "$TF" "${HV[@]}" --halving-eta 2 --run "$tmp/hv-bad2"
if python3 - "$tmp/halving" <<'PY'
import csv, json, sys
d = sys.argv[1]
p = json.load(open(d + "/pareto.json"))
n = p["evaluations_per_rung"]
assert p["trained"] == 12 and n[0] == 12 and n[1] >= 4 and n[2] >= 1, n
assert p["epochs_spent"] == n[0] * 1 + n[1] * 3 + n[2] * 9, p["epochs_spent"]
assert all("rung" in c for c in p["front"]) and any(c["rung"] == 2 for c in p["front"])
rows = list(csv.DictReader(open(d + "/candidates.csv")))
assert len({r["id"] for r in rows}) == len(rows)   # one row per candidate
assert sum(1 for r in rows if r["rung"] == "2") >= 1
PY
then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: halving pareto.json / candidates.csv"; fi

# Hardening (issue 12, parts 2-3): usage errors exit 2 from every command; strict JSON; sizes
# and memory checked before allocating; checkpoint integrity; labels outside the classes.
check "train bad flag exits 2" 2 "--epochs must be ≥ 1" "$TF" train examples/fmnist-small.json --epochs 0
check "train bad label smoothing" 2 "--label-smoothing must be in [0, 1)" "$TF" train examples/fmnist-small.json --label-smoothing 1
check "teacher bad label smoothing" 2 "--label-smoothing must be in [0, 1)" "$TF" teacher --dataset "$FDS" --label-smoothing=-0.1 --out "$tmp/tls"
check "train unknown option exits 2" 2 "Unknown option '--epochz'" "$TF" train examples/fmnist-small.json --epochz 3
check "evaluate bad split exits 2" 2 '--split: "tset" is not one of val, test' "$TF" evaluate "$tmp/fteacher/model.safetensors" --dataset "$FDS" --split tset
echo '{"input": {"height": 32}, "num_classes": 10, "num_classes": "ten", "stages": [{"block": "conv", "out_channels": 8}]}' > "$tmp/dup.json"
check "json duplicate key" 2 "dup.json: num_classes: duplicate key" "$TF" profile "$tmp/dup.json"
echo '{"input": {"height": 32}, "num_classes": 1e400, "stages": [{"block": "conv", "out_channels": 8}]}' > "$tmp/e400.json"
check "json 1e400" 2 "num_classes: number 1e400 is out of range" "$TF" profile "$tmp/e400.json"
echo '{"input": {"height": 032}, "num_classes": 10, "stages": [{"block": "conv", "out_channels": 8}]}' > "$tmp/lead0.json"
check "json leading zero" 2 "input.height: number 032 has a leading zero" "$TF" profile "$tmp/lead0.json"
echo '{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "conv", "out_channels": 8, "se_ratio": 1.}]}' > "$tmp/dot.json"
check "json 1." 2 "stages[0].se_ratio: number 1. needs digits after the decimal point" "$TF" profile "$tmp/dot.json"
python3 - "$tmp/huge.json" <<'PY'
import json, sys
st = {"block": "fused_mbconv", "repeats": 64, "out_channels": 8192, "expansion": 16, "kernel": 11, "stride": 1}
json.dump({"input": {"height": 2048, "channels": 64}, "num_classes": 10, "stages": [st] * 32}, open(sys.argv[1], "w"))
PY
check "MAC total beyond Int64" 2 "stages[0] (layer 1): the network is too large to cost" "$TF" profile "$tmp/huge.json"
check "train --resolution 2048" 2 "needs an estimated" "$TF" train examples/fmnist-small.json --resolution 2048 --dataset "$FDS" --out "$tmp/r2048"
check "synthetic n=1e8" 2 "needs 147 GB in memory" "$TF" train examples/fmnist-small.json --dataset synthetic:n=100000000 --out "$tmp/n1e8"
check "--max-memory" 2 "more than the 64.0 MB (--max-memory)" "$TF" train examples/fmnist-small.json --dataset "$FDS" --max-memory 64MB --out "$tmp/maxmem"
python3 - "$tmp" <<'PY'
import os, struct, sys
d = sys.argv[1]
def idx(name, magic, dims, payload):
    open(os.path.join(d, name), "wb").write(bytes([0, 0, 8, magic]) + b"".join(struct.pack(">I", x) for x in dims) + payload)
idx("img200", 3, [40, 28, 28], bytes(range(256)) * (40 * 28 * 28 // 256) + bytes(40 * 28 * 28 % 256))
labels = bytearray(i % 10 for i in range(40)); labels[17] = 200
idx("lab200", 1, [40], bytes(labels))
PY
check "IDX label 200" 2 "lab200: label 200 at index 17 is outside 0..<10" "$TF" train examples/fmnist-small.json --dataset "idx:$tmp/img200,$tmp/lab200" --out "$tmp/l200"
# A checkpoint whose spec says 2048 px, one with a flipped bit, one without checksum (older
# versions) and one with a NaN weight (and no checksum, so the value check is what catches it).
if python3 - "$tmp/fteacher/model.safetensors" "$tmp" <<'PY'
import json, struct, sys
src, d = sys.argv[1], sys.argv[2]
b = open(src, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = bytearray(b[8 + n:])
def write(name, header, payload):
    t = json.dumps(header, separators=(",", ":")).encode()
    open(f"{d}/{name}", "wb").write(struct.pack("<Q", len(t)) + t + bytes(payload))
spec = json.loads(h["__metadata__"]["spec"]); spec["input"]["height"] = spec["input"]["width"] = 2048
big = json.loads(json.dumps(h)); big["__metadata__"]["spec"] = json.dumps(spec)
write("big.safetensors", big, data)
flip = bytearray(data); flip[len(flip) // 2] ^= 0x04
write("flip.safetensors", h, flip)
name = sorted(k for k in h if k != "__metadata__")[0]
nan = bytearray(data); off = h[name]["data_offsets"][0]; nan[off:off + 4] = struct.pack("<f", float("nan"))
old = json.loads(json.dumps(h)); del old["__metadata__"]["data_crc32c"]
write("nan.safetensors", old, nan)
write("old.safetensors", old, data)
PY
then
  check "evaluate 2048 px checkpoint" 2 "needs an estimated" "$TF" evaluate "$tmp/big.safetensors" --dataset "$FDS"
  check "export 2048 px checkpoint" 2 "needs an estimated" "$TF" export "$tmp/big.safetensors" --dataset "$FDS" --out "$tmp/bigx"
  check "checkpoint bit flip" 2 "tensor data is corrupt: CRC-32C" "$TF" evaluate "$tmp/flip.safetensors" --dataset "$FDS"
  check "NaN weight, no checksum" 2 "holds nan at element 0" "$TF" export "$tmp/nan.safetensors" --dataset "$FDS" --out "$tmp/nanx"
  check "old checkpoint loads with a warning" 0 "warning: $tmp/old.safetensors: has no data_crc32c checksum" "$TF" evaluate "$tmp/old.safetensors" --dataset "$FDS"
else fail=$((fail+1)); echo "FAIL: could not make the damaged checkpoints"; fi

# The PostgreSQL run store (issue 14): a synthetic search kept in PostgreSQL, shown, refused twice.
if [ -n "${TINYFORGE_TEST_PG_URL:-}" ]; then
  PGRUN="$TINYFORGE_TEST_PG_URL?run=cli-e2e-$$-$RANDOM"
  check "pg: search --store" 0 "Pareto front" "$TF" search --space mcu28 --dataset "$FDS" --evaluator synthetic --proposer random \
    --trials 8 --batch 4 --sram 64KB --flash 256KB --macs 3M --store "$PGRUN" --run "$tmp/pgout"
  check "pg: runs show --store" 0 "evaluations 8/8" "$TF" runs show --store "$PGRUN" "$tmp/pgout"
  check "pg: name taken" 2 "already exists; continue it with --resume" "$TF" search --space mcu28 --dataset "$FDS" \
    --evaluator synthetic --trials 8 --sram 64KB --flash 256KB --store "$PGRUN"
  check "pg: password in URL" 2 "the URL contains a password" "$TF" runs show --store "postgres://u:pw@127.0.0.1:1/db?run=x"
  check "pg: unknown run" 2 "no run named \`nope-$$\`" "$TF" runs show --store "$TINYFORGE_TEST_PG_URL?run=nope-$$"
  check "pg: worker, local-executor run" 2 "is a run of the local executor" "$TF" worker --store "$TINYFORGE_TEST_PG_URL" \
    --run "${PGRUN##*run=}" --output "$tmp/pgw"
  check "pg: worker, unknown run exits cleanly" 0 "worker: exiting: " "$TF" worker --store "$TINYFORGE_TEST_PG_URL?run=nope-$$"
  check "pg: worker --run twice" 2 "differs from ?run=" "$TF" worker --store "$PGRUN" --run other
  check "worker --run with a run directory" 2 "applies to a PostgreSQL --store URL" "$TF" worker --store "$tmp/pgout" --run x
else
  echo "cli-e2e: PostgreSQL checks SKIPPED (TINYFORGE_TEST_PG_URL unset; scripts/postgres.sh start prints one)"
fi

echo "cli-e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
