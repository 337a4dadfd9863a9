import TinyForgeSpec

/// Everything the search and the user need to know about a network's cost on a target,
/// computed from its `LayerPlan` alone (no training, no weights). See docs/ARCHITECTURE.md
/// "Cost model" for how each figure is computed and what it was checked against.
public struct CostReport: Sendable {
    public var plan: LayerPlan
    public var target: Target
    public var budget: Budget
    /// Conv + fully-connected multiply-accumulates (the usual convention; element-wise ops
    /// are in `elementwiseOps`).
    public var macs: Int
    /// Element-wise operations (adds, SE scaling, pooling sums, activations) for reference.
    public var elementwiseOps: Int
    public var params: Int
    public var paramsDeployed: Int
    public var flash: FlashBreakdown
    /// Our runtime's plan (what `peak_sram_bytes` reports) and a stock TFLM plan beside it.
    public var memory: ActivationMemory
    public var tflmMemory: ActivationMemory
    public var latency: LatencyEstimate
    public var violations: [BudgetViolation]
    /// The patch decision when `budget.patch` asked for one (nil: layer by layer).
    public var patch: PatchDecision? = nil

    /// The arena the network runs in: the patch plan's when one was chosen, else per-layer.
    public var peakSRAMBytes: Int { patch?.arenaBytes ?? memory.arenaBytes }
    /// MACs executed, the patch plan's recomputed halos included.
    public var executedMACs: Int { macs + (patch?.plan?.extraMACs ?? 0) }
    public var fits: Bool { violations.isEmpty }
}

/// Flash of an int8 deployment: weights, biases and per-channel requantisation data.
public struct FlashBreakdown: Sendable {
    /// int8 weights, one byte each.
    public var weightBytes: Int
    /// int32 biases (BN folding gives every conv one), four bytes each.
    public var biasBytes: Int
    /// Per output channel of every conv / fully-connected op: int32 multiplier + int32 shift.
    public var quantParamBytes: Int
    /// Code of the runtime's kernels. Not yet measured: `tinyforge deploy-check` reports the
    /// real text size from arm-none-eabi-size; until then it is 0 and says so.
    public var runtimeCodeBytes: Int
    public var total: Int { weightBytes + biasBytes + quantParamBytes + runtimeCodeBytes }
}

public struct BudgetViolation: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case sram, flash, macs }
    public var kind: Kind
    public var value: Int
    public var limit: Int
    public var message: String
    public var description: String { message }
}

public enum CostModel {
    public static func evaluate(_ spec: ArchitectureSpec, target: Target, budget: Budget? = nil) -> CostReport {
        evaluate(LayerPlan(spec: spec), target: target, budget: budget)
    }

    public static func evaluate(_ plan: LayerPlan, target: Target, budget: Budget? = nil) -> CostReport {
        let budget = budget ?? Budget(target: target)
        var weights = 0, biases = 0, quant = 0, elementwise = 0
        for op in plan.ops {
            Checked.accumulate(&weights, op.weightCount, "the weight byte total")
            Checked.accumulate(&biases, op.deployedBiasCount * 4, "the bias byte total")
            if op.weightCount > 0 { Checked.accumulate(&quant, op.outChannels * 8, "the quantisation byte total") }
            let out = plan.tensors[op.output]
            switch op.kind {
            case .add, .mul: Checked.accumulate(&elementwise, out.elements, "the element-wise op total")
            case .globalAvgPool: Checked.accumulate(&elementwise, plan.tensors[op.inputs[0]].elements, "the element-wise op total")
            default: break
            }
            if op.activation != nil { Checked.accumulate(&elementwise, out.elements, "the element-wise op total") }
        }
        let flash = FlashBreakdown(weightBytes: weights, biasBytes: biases, quantParamBytes: quant, runtimeCodeBytes: 0)
        let schedule = KernelSchedule(plan: plan)
        let memory = ActivationMemory(schedule: schedule.tinyforgeC)
        let tflm = ActivationMemory(schedule: schedule.stockTFLM)
        let latency = LatencyModel.estimate(plan, target: target)
        var report = CostReport(plan: plan, target: target, budget: budget, macs: plan.macs, elementwiseOps: elementwise,
                                params: plan.params, paramsDeployed: plan.paramsDeployed, flash: flash, memory: memory,
                                tflmMemory: tflm, latency: latency, violations: [])
        if budget.patch != .off {
            // A fixed split the network does not have leaves it layer by layer (the search uses auto).
            report.patch = try? PatchPlanner.decide(schedule, setting: budget.patch, maxOverhead: budget.patchMaxOverhead)
        }
        report.violations = checkBudget(report)
        return report
    }

    static func checkBudget(_ r: CostReport) -> [BudgetViolation] {
        var v: [BudgetViolation] = []
        if let p = r.patch?.plan, r.peakSRAMBytes > r.budget.sramBytes {
            v.append(BudgetViolation(kind: .sram, value: r.peakSRAMBytes, limit: r.budget.sramBytes, message:
                "peak SRAM \(Units.formatBytes(r.peakSRAMBytes)) > \(Units.formatBytes(r.budget.sramBytes)) with the patch plan \(p.setting) (per-layer \(Units.formatBytes(r.memory.arenaBytes)))"))
        } else if r.peakSRAMBytes > r.budget.sramBytes {
            let step = r.memory.steps[r.memory.peakStep]
            let op = r.plan.ops[step.op]
            let out = r.plan.tensors[op.output]
            let live = step.live.compactMap { r.memory.bufferLabels[$0] }.joined(separator: ", ")
            v.append(BudgetViolation(kind: .sram, value: r.peakSRAMBytes, limit: r.budget.sramBytes, message:
                "peak SRAM \(Units.formatBytes(r.peakSRAMBytes)) > \(Units.formatBytes(r.budget.sramBytes)) at \(op.role) (\(op.kind.rawValue), output \(out.height)×\(out.width)×\(out.channels)); live there: \(live)"))
        }
        if r.flash.total > r.budget.flashBytes {
            v.append(BudgetViolation(kind: .flash, value: r.flash.total, limit: r.budget.flashBytes, message:
                "flash \(Units.formatBytes(r.flash.total)) > \(Units.formatBytes(r.budget.flashBytes)) (int8 weights \(Units.formatBytes(r.flash.weightBytes)))"))
        }
        if let m = r.budget.macs, r.executedMACs > m {
            let worst = r.plan.ops.max { $0.macs < $1.macs }!
            let halos = r.executedMACs > r.macs ? ", \(Units.formatCount(r.executedMACs - r.macs)) recomputed by the patch plan" : ""
            v.append(BudgetViolation(kind: .macs, value: r.executedMACs, limit: m, message:
                "MACs \(Units.formatCount(r.executedMACs)) > \(Units.formatCount(m)) (largest: \(worst.role) with \(Units.formatCount(worst.macs))\(halos))"))
        }
        return v
    }
}
