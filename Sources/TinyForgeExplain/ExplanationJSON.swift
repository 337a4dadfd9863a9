import TinyForgeSpec

/// JSON forms of the explanation values (the report's JSON twin is built from these).
func num(_ x: Int) -> JSONValue { .number(Double(x)) }
func num(_ x: Double) -> JSONValue { x.isFinite ? .number((x * 1e6).rounded() / 1e6) : .null }
func opt(_ x: Double?) -> JSONValue { x.map(num) ?? .null }
func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

extension BudgetUsage {
    public var jsonValue: JSONValue {
        ["kind": .string(kind.rawValue), "value": num(value), "limit": num(limit), "ratio": num(ratio),
         "fits": .bool(fits), "text": .string(description)]
    }
}

extension PeakMemory {
    public var jsonValue: JSONValue {
        ["step": num(stepIndex), "op": num(opIndex), "role": .string(role), "kernel": .string(kernel),
         "output_shape": .array(outputShape.map(num)), "live_bytes": num(liveBytes), "arena_bytes": num(arenaBytes),
         "tflm_arena_bytes": num(tflmArenaBytes), "tflm_peak_role": .string(tflmRole),
         "live": .array(tensors.map { t in
             ["buffer": num(t.bufferId), "label": .string(t.label), "bytes": num(t.bytes),
              "shape": t.shape.map { .array($0.map(num)) } ?? .null, "producer": str(t.producerRole)]
         })]
    }
}

extension ComponentShare {
    public var jsonValue: JSONValue {
        ["component": .string(component), "macs": num(macs), "params": num(params),
         "macs_share": num(macsShare), "params_share": num(paramsShare)]
    }
}

extension Comparison {
    public var jsonValue: JSONValue {
        ["reference": .string(referenceHash), "relation": .string(relation.rawValue),
         "changes": .array(changes.map(\.jsonValue)), "delta_accuracy": opt(deltaAccuracy),
         "delta_macs": num(deltaMACs), "delta_params": num(deltaParams), "delta_peak_sram_bytes": num(deltaPeakSRAM),
         "delta_flash_bytes": num(deltaFlash), "delta_latency_ms": num(deltaLatencyMs)]
    }
}

extension MemoryTimeline {
    public var jsonValue: JSONValue {
        ["roles": .array(roles.map { .string($0) }), "ours_live_bytes": .array(ours.map(num)),
         "tflm_live_bytes": .array(tflm.map(num)), "peak_op": num(peakOp), "tflm_peak_op": num(tflmPeakOp),
         "arena_bytes": num(arenaBytes), "tflm_arena_bytes": num(tflmArenaBytes)]
    }
}

extension CandidateExplanation {
    public var jsonValue: JSONValue {
        ["hash": .string(hash), "name": str(name), "proposer": .string(proposer), "status": .string(status.rawValue),
         "val_accuracy": opt(valAccuracy), "macs": num(macs), "params": num(params),
         "peak_sram_bytes": num(peakSRAMBytes), "flash_bytes": num(flashBytes), "latency_ms": num(latencyMs),
         "fits": .bool(fits), "usage": .array(usage.map(\.jsonValue)), "binding": binding.jsonValue,
         "peak": peak.jsonValue, "shares": .array(shares.map(\.jsonValue)),
         "comparison": comparison?.jsonValue ?? .null, "memory_timeline": timeline.jsonValue,
         "summary": .array(summary.map { .string($0) })]
    }
}
