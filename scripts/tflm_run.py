#!/usr/bin/env python3
"""Run a .tflite model with the real TensorFlow Lite Micro interpreter (and LiteRT).

Used by TinyForge's TFLMInteropTests to check that the Swift int8 kernels are bit-exact with
TFLM, and to measure the tensor-arena size TFLM actually needs. Reference tool only: nothing
in TinyForge needs Python at run time.

  tflm_run.py --check
      print the package versions as JSON; exit 3 if tflite-micro is not installed.
  tflm_run.py --model m.tflite --input in.bin --output out.bin [--litert-output lr.bin]
              [--litert-ref-output ref.bin] [--arena-size BYTES]
      in.bin  = raw int8 values of every model input, concatenated in input order (NHWC);
      out.bin = raw int8 values of every TFLM output, concatenated in output order.
      Prints one JSON object: versions, arena bytes used (total/head/tail, from TFLM's
      RecordingMicroAllocator), output shapes, and LiteRT status.
  tflm_run.py --arena-only m1.tflite [m2.tflite ...]
      load and invoke each model once on a zero input (one process for many models) and
      print {"versions": ..., "arenas": [{"model": path, "total"/"head"/"tail": bytes}
      or {"model": path, "error": text}, ...]}.
Exit codes: 0 ok, 2 bad arguments/files, 3 packages missing, 4 interpreter error.
"""
import argparse
import json
import os
import re
import sys
import tempfile


def versions():
    out = {}
    try:
        from tflite_micro.python.tflite_micro import _version as v
        out["tflite_micro"] = v.__version__
    except Exception as e:  # noqa: BLE001 - report any import failure
        out["tflite_micro_error"] = repr(e)
    try:
        import importlib.metadata as md
        out["ai_edge_litert"] = md.version("ai-edge-litert")
    except Exception as e:  # noqa: BLE001
        out["ai_edge_litert_error"] = repr(e)
    return out


def capture_fd2(fn):
    """Run fn() with the C-level stderr (fd 2) redirected to a temp file; return its text."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            fn()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode("utf-8", "replace")


def parse_arena(text):
    arena = {}
    for key in ("total", "head", "tail"):
        m = re.search(r"Arena allocation %s (\d+) bytes" % key, text)
        if m:
            arena[key] = int(m.group(1))
    return arena


def split_inputs(raw, details, np):
    arrays, offset = [], 0
    for d in details:
        n = int(np.prod(d["shape"]))
        if offset + n > len(raw):
            raise ValueError("input file holds %d bytes, inputs need more (shape %s)" % (len(raw), list(d["shape"])))
        arrays.append(np.frombuffer(raw[offset:offset + n], dtype=np.int8).reshape(d["shape"]))
        offset += n
    if offset != len(raw):
        raise ValueError("input file holds %d bytes, inputs need %d" % (len(raw), offset))
    return arrays


def run_tflm(model_bytes, raw, arena_size, np):
    from tflite_micro.python.tflite_micro import runtime
    interp = runtime.Interpreter.from_bytes(model_bytes, arena_size=arena_size)
    n_in = count_io(model_bytes)[0]
    details = [interp.get_input_details(i) for i in range(n_in)]
    for i, a in enumerate(split_inputs(raw, details, np)):
        interp.set_input(a, i)
    interp.invoke()
    n_out = count_io(model_bytes)[1]
    outs = [np.asarray(interp.get_output(i)) for i in range(n_out)]
    arena = parse_arena(capture_fd2(interp.print_allocations))
    return outs, arena


def arena_only(paths, np):
    """Arena of each model after one invoke on zeros (head = non-persistent activations)."""
    from tflite_micro.python.tflite_micro import runtime
    out = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                model_bytes = f.read()
            interp = runtime.Interpreter.from_bytes(model_bytes, arena_size=max(10 * len(model_bytes), 4 << 20))
            for i in range(count_io(model_bytes)[0]):
                d = interp.get_input_details(i)
                interp.set_input(np.zeros(d["shape"], dtype=np.int8), i)
            interp.invoke()
            entry = parse_arena(capture_fd2(interp.print_allocations))
            entry["model"] = path
        except Exception as e:  # noqa: BLE001 - report per model, keep going
            entry = {"model": path, "error": repr(e)}
        out.append(entry)
    return out


def run_litert(model_bytes, raw, np, reference):
    from ai_edge_litert import interpreter as lr
    kind = lr.OpResolverType.BUILTIN_REF if reference else lr.OpResolverType.AUTO
    interp = lr.Interpreter(model_content=model_bytes, experimental_op_resolver_type=kind)
    interp.allocate_tensors()
    details = interp.get_input_details()
    for d, a in zip(details, split_inputs(raw, details, np)):
        interp.set_tensor(d["index"], a)
    interp.invoke()
    return [np.asarray(interp.get_tensor(d["index"])) for d in interp.get_output_details()]


def count_io(model_bytes):
    """Number of subgraph-0 inputs and outputs, read from the flatbuffer with the
    `flatbuffers` runtime (installed with tflite-micro)."""
    import flatbuffers.table as fbt
    from flatbuffers import encode, number_types as N

    def table_at(buf, pos):
        return fbt.Table(buf, pos)

    buf = bytearray(model_bytes)
    root = encode.Get(N.UOffsetTFlags.packer_type, buf, 0)
    model = table_at(buf, root)
    o = model.Offset(8)  # field 2: subgraphs
    sg_vec = model.Vector(o)
    sg = table_at(buf, model.Indirect(sg_vec))
    ins = sg.VectorLen(sg.Offset(6)) if sg.Offset(6) else 0    # field 1: inputs
    outs = sg.VectorLen(sg.Offset(8)) if sg.Offset(8) else 0   # field 2: outputs
    return ins, outs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--model")
    ap.add_argument("--input")
    ap.add_argument("--output")
    ap.add_argument("--litert-output")
    ap.add_argument("--litert-ref-output")
    ap.add_argument("--arena-size", type=int, default=0, help="TFLM arena bytes (default: 10x model, >= 4 MiB)")
    ap.add_argument("--arena-only", nargs="+", metavar="MODEL", help="print the TFLM arena of each model")
    args = ap.parse_args()

    info = {"versions": versions()}
    if "tflite_micro" not in info["versions"]:
        print(json.dumps(info))
        return 3
    if args.check:
        print(json.dumps(info))
        return 0
    if args.arena_only:
        import numpy as np
        info["arenas"] = arena_only(args.arena_only, np)
        print(json.dumps(info))
        return 0
    if not (args.model and args.input and args.output):
        print("tflm_run.py: --model, --input and --output are required (or use --check)", file=sys.stderr)
        return 2
    import numpy as np
    try:
        with open(args.model, "rb") as f:
            model_bytes = f.read()
        with open(args.input, "rb") as f:
            raw = f.read()
    except OSError as e:
        print("tflm_run.py: %s" % e, file=sys.stderr)
        return 2
    arena_size = args.arena_size or max(10 * len(model_bytes), 4 << 20)
    try:
        outs, arena = run_tflm(model_bytes, raw, arena_size, np)
    except Exception as e:  # noqa: BLE001 - surface TFLM's error text to the caller
        info["error"] = "TFLM: %r" % (e,)
        print(json.dumps(info))
        return 4
    with open(args.output, "wb") as f:
        for o in outs:
            f.write(o.astype(np.int8).tobytes())
    info["arena"] = arena
    info["output_shapes"] = [list(map(int, o.shape)) for o in outs]
    for flag, path, ref in (("litert", args.litert_output, False), ("litert_ref", args.litert_ref_output, True)):
        if not path:
            continue
        try:
            lr_outs = run_litert(model_bytes, raw, np, ref)
            with open(path, "wb") as f:
                for o in lr_outs:
                    f.write(o.astype(np.int8).tobytes())
            info[flag] = "ok"
        except Exception as e:  # noqa: BLE001
            info[flag] = "error: %r" % (e,)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
