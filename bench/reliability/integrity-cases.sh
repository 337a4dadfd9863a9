#!/usr/bin/env bash
# Runs each failure of issue 12 (parts 2-3) with one tinyforge binary and prints, per case, the
# command, the exit code and the first line of output that matters. Used for the before → after
# tables of bench/reliability/integrity.md:
#   bash bench/reliability/integrity-cases.sh path/to/tinyforge [workdir]
# Needs a trained checkpoint; makes one (1 epoch on generated data) in the work directory.
set -u
TF=$1
W=${2:-$(mktemp -d)}
mkdir -p "$W"
FDS="synthetic:classes=4,size=28,channels=1,n=160,test=32"
"$TF" train examples/fmnist-small.json --dataset "$FDS" --epochs 1 --batch 16 --out "$W/ckpt" > /dev/null 2>&1 || echo "(could not train the checkpoint)"
python3 - "$W" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
st = {"block": "fused_mbconv", "repeats": 64, "out_channels": 8192, "expansion": 16, "kernel": 11, "stride": 1}
json.dump({"input": {"height": 2048, "channels": 64}, "num_classes": 10, "stages": [st] * 32}, open(f"{d}/huge.json", "w"))
base = {"input": {"height": 32}, "stages": [{"block": "conv", "out_channels": 8}]}
open(f"{d}/dup.json", "w").write('{"input": {"height": 32}, "num_classes": 10, "num_classes": "ten", "stages": [{"block": "conv", "out_channels": 8}]}')
for name, num in [("e400", "1e400"), ("lead0", "010"), ("dot", "10.")]:
    open(f"{d}/{name}.json", "w").write('{"input": {"height": 32}, "num_classes": %s, "stages": [{"block": "conv", "out_channels": 8}]}' % num)
def idx(name, magic, dims, payload):
    open(f"{d}/{name}", "wb").write(bytes([0, 0, 8, magic]) + b"".join(struct.pack(">I", x) for x in dims) + payload)
idx("img200", 3, [40, 28, 28], bytes(i % 256 for i in range(40 * 28 * 28)))
labels = bytearray(i % 10 for i in range(40)); labels[17] = 200
idx("lab200", 1, [40], bytes(labels))
src = f"{d}/ckpt/model.safetensors"
if os.path.exists(src):
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
    h2 = json.loads(json.dumps(h)); h2["__metadata__"].pop("data_crc32c", None)
    write("nan.safetensors", h2, nan)
PY
run() { # label, command...
  local label=$1; shift
  local out; out=$("$@" 2>&1 < /dev/null); local rc=$?
  local line; line=$(printf '%s\n' "$out" | grep -m1 -E "error|Error|MACs|accuracy|wrote|num_classes|training|Fatal" || printf '%s\n' "$out" | head -1)
  printf '### %s\n`%s` → exit %d\n```\n%s\n```\n' "$label" "${*/#$TF/tinyforge}" "$rc" "${line:0:400}"
}
run "evaluate: checkpoint whose spec says 2048 px" "$TF" evaluate "$W/big.safetensors" --dataset "$FDS"
run "export: checkpoint whose spec says 2048 px" "$TF" export "$W/big.safetensors" --dataset "$FDS" --out "$W/x1"
run "train --resolution 2048" "$TF" train examples/fmnist-small.json --resolution 2048 --dataset "$FDS" --out "$W/t1"
run "--dataset synthetic:n=100000000" "$TF" train examples/fmnist-small.json --dataset synthetic:n=100000000 --out "$W/t2"
run "MAC total beyond Int64" "$TF" profile "$W/huge.json"
run "IDX label 200 with a 10-class network" "$TF" train examples/fmnist-small.json --dataset "idx:$W/img200,$W/lab200" --epochs 1 --batch 8 --out "$W/t3"
run "duplicate JSON key" "$TF" profile "$W/dup.json"
run "number 1e400" "$TF" profile "$W/e400.json"
run "number 010" "$TF" profile "$W/lead0.json"
run "number 10." "$TF" profile "$W/dot.json"
run "bit flip in checkpoint data" "$TF" evaluate "$W/flip.safetensors" --dataset "$FDS"
run "NaN weight (checkpoint without checksum)" "$TF" evaluate "$W/nan.safetensors" --dataset "$FDS"
run "bad flag: train --epochs 0" "$TF" train examples/fmnist-small.json --epochs 0
run "bad flag: search --trials 0" "$TF" search --space mcu28 --dataset "$FDS" --evaluator synthetic --trials 0 --run "$W/s1"
run "unknown option: train --epochz 3" "$TF" train examples/fmnist-small.json --epochz 3
run "unknown option: search --trialz 3" "$TF" search --space mcu28 --trialz 3
