import TinyForgeSpec

extension CostReport {
    /// The `tinyforge profile --json` contract (docs/ARCHITECTURE.md): the DESIGN fields
    /// exactly, plus extra fields that explain them.
    public func jsonValue(warnings: [String] = []) -> JSONValue {
        let live = memory.liveBytesPerOp(opCount: plan.ops.count)
        let peakOp = memory.steps[memory.peakStep].op
        let layers: [JSONValue] = plan.ops.map { op in
            let i = plan.tensors[op.inputs[0]], o = plan.tensors[op.output]
            var l: [String: JSONValue] = [
                "index": .number(Double(op.index)), "op": .string(op.kind.rawValue),
                "in": .array(i.shape.map { .number(Double($0)) }), "out": .array(o.shape.map { .number(Double($0)) }),
                "macs": .number(Double(op.macs)), "params": .number(Double(op.params)),
                "live_bytes": .number(Double(live[op.index])), "role": .string(op.role),
                "kernel": .number(Double(op.kernel)), "stride": .number(Double(op.stride)),
                "latency_ms": .number(round4(latency.perOp[op.index])),
            ]
            if let a = op.activation { l["activation"] = .string(a.rawValue) }
            if op.index == peakOp { l["peak"] = true }
            return .object(l)
        }
        var budgetJSON: [String: JSONValue] = [
            "sram_bytes": .number(Double(budget.sramBytes)), "flash_bytes": .number(Double(budget.flashBytes)),
            "macs": budget.macs.map { .number(Double($0)) } ?? .null,
            "fits": .bool(fits), "violations": .array(violations.map { .string($0.message) }),
        ]
        budgetJSON["binding"] = bindingConstraint.map { .string($0) } ?? .null
        return [
            "name": plan.spec.name.map { .string($0) } ?? .null,
            "hash": .string(plan.spec.canonicalHash),
            "macs": .number(Double(macs)), "params": .number(Double(params)),
            "params_deployed": .number(Double(paramsDeployed)), "flash_bytes": .number(Double(flash.total)),
            "peak_sram_bytes": .number(Double(peakSRAMBytes)), "latency_ms": .number(round4(latency.milliseconds)),
            "target": .string(target.name), "budget": .object(budgetJSON), "layers": .array(layers),
            "elementwise_ops": .number(Double(elementwiseOps)),
            "peak_sram_lower_bound": .number(Double(memory.lowerBound)),
            "tflm_arena_bytes": .number(Double(tflmMemory.arenaBytes)),
            "peak_op": .number(Double(peakOp)),
            "flash": ["weights": .number(Double(flash.weightBytes)), "biases": .number(Double(flash.biasBytes)),
                      "quant_params": .number(Double(flash.quantParamBytes)),
                      "runtime_code": .number(Double(flash.runtimeCodeBytes))],
            "warnings": .array(warnings.map { .string($0) }),
        ]
    }

    /// The constraint closest to its limit (highest usage ratio), e.g. "sram 87%".
    public var bindingConstraint: String? {
        var ratios: [(String, Double)] = [("sram", Double(peakSRAMBytes) / Double(budget.sramBytes)),
                                          ("flash", Double(flash.total) / Double(budget.flashBytes))]
        if let m = budget.macs { ratios.append(("macs", Double(macs) / Double(m))) }
        guard let top = ratios.max(by: { $0.1 < $1.1 }) else { return nil }
        return "\(top.0) \(Int((top.1 * 100).rounded()))%"
    }
}

private func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
