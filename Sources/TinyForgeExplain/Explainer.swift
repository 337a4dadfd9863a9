import Foundation
import TinyForgeSpec
import TinyForgeHardware

/// Builds `CandidateExplanation`s from the cost model's numbers. Every figure comes from a
/// `CostReport` (LayerPlan ops, ActivationMemory steps); nothing is estimated here.
public struct Explainer: Sendable {
    public var limits: ExplainLimits

    public init(limits: ExplainLimits) { self.limits = limits }

    public func cost(_ spec: ArchitectureSpec) -> CostReport {
        CostModel.evaluate(spec, target: limits.target, budget: limits.budget)
    }

    /// Explains `candidate`; compares it with its parent when the parent is in `archive`,
    /// otherwise with the nearest (fewest changed fields) trained archive member.
    public func explain(_ candidate: ExplainCandidate, archive: [ExplainCandidate] = []) -> CandidateExplanation {
        let report = cost(candidate.spec)
        guard let (ref, relation) = reference(for: candidate, in: archive) else {
            return explain(candidate, cost: report, reference: nil)
        }
        return explain(candidate, cost: report, reference: (ref, cost(ref.spec), relation))
    }

    /// The parent if the archive holds it, else the nearest other trained member (ties: the
    /// earlier one in `archive`).
    public func reference(for c: ExplainCandidate, in archive: [ExplainCandidate])
        -> (ExplainCandidate, Comparison.Relation)? {
        if let p = c.parentHash, let parent = archive.first(where: { $0.hash == p }) { return (parent, .parent) }
        var best: (ExplainCandidate, Int)?
        for a in archive where a.hash != c.hash && a.status == .trained {
            let d = SpecDiff.distance(a.spec, c.spec)
            if best == nil || d < best!.1 { best = (a, d) }
        }
        return best.map { ($0.0, .nearestArchive) }
    }

    /// The core: explanation from precomputed costs (the report builder reuses them).
    public func explain(_ c: ExplainCandidate, cost r: CostReport,
                        reference: (ExplainCandidate, CostReport, Comparison.Relation)?) -> CandidateExplanation {
        let usage = budgetUsage(r)
        let binding = usage.max { $0.ratio < $1.ratio }!
        let peak = peakMemory(r)
        let shares = componentShares(r.plan)
        var comparison: Comparison?
        if let (ref, rc, relation) = reference {
            comparison = Comparison(
                referenceHash: ref.hash, relation: relation, changes: SpecDiff.changes(from: ref.spec, to: c.spec),
                deltaAccuracy: c.valAccuracy.flatMap { a in ref.valAccuracy.map { a - $0 } },
                deltaMACs: r.macs - rc.macs, deltaParams: r.params - rc.params,
                deltaPeakSRAM: r.peakSRAMBytes - rc.peakSRAMBytes, deltaFlash: r.flash.total - rc.flash.total,
                deltaLatencyMs: r.latency.milliseconds - rc.latency.milliseconds)
        }
        let n = r.plan.ops.count
        let timeline = MemoryTimeline(
            roles: r.plan.ops.map(\.role), ours: r.memory.liveBytesPerOp(opCount: n), tflm: r.tflmMemory.liveBytesPerOp(opCount: n),
            peakOp: r.memory.steps[r.memory.peakStep].op, tflmPeakOp: r.tflmMemory.steps[r.tflmMemory.peakStep].op,
            arenaBytes: r.memory.arenaBytes, tflmArenaBytes: r.tflmMemory.arenaBytes)
        var e = CandidateExplanation(
            hash: c.hash, name: c.spec.name, proposer: c.proposer, status: c.status, valAccuracy: c.valAccuracy,
            macs: r.macs, params: r.params, peakSRAMBytes: r.peakSRAMBytes, flashBytes: r.flash.total,
            latencyMs: r.latency.milliseconds, usage: usage, binding: binding, peak: peak, shares: shares,
            comparison: comparison, timeline: timeline, summary: [])
        e.summary = Explainer.sentences(e)
        return e
    }

    func budgetUsage(_ r: CostReport) -> [BudgetUsage] {
        var u = [BudgetUsage(kind: .sram, value: Double(r.peakSRAMBytes), limit: Double(r.budget.sramBytes)),
                 BudgetUsage(kind: .flash, value: Double(r.flash.total), limit: Double(r.budget.flashBytes))]
        if let m = r.budget.macs { u.append(BudgetUsage(kind: .macs, value: Double(r.macs), limit: Double(m))) }
        if let l = limits.latencyMs { u.append(BudgetUsage(kind: .latency, value: r.latency.milliseconds, limit: l)) }
        return u
    }

    func peakMemory(_ r: CostReport) -> PeakMemory {
        let mem = r.memory
        let step = mem.steps[mem.peakStep]
        let op = r.plan.ops[step.op]
        let sizes = Dictionary(uniqueKeysWithValues: mem.requests.map { ($0.id, $0.size) })
        let tensors: [LiveTensor] = step.live.map { id in
            var shape: [Int]?, producer: String?
            if id < r.plan.tensors.count {
                let t = r.plan.tensors[id]
                shape = t.shape
                producer = t.producer < 0 ? "input" : r.plan.ops[t.producer].role
            }
            return LiveTensor(bufferId: id, label: mem.bufferLabels[id] ?? "buffer \(id)", bytes: sizes[id] ?? 0,
                              shape: shape, producerRole: producer)
        }.sorted { $0.bytes > $1.bytes }
        let tflmOp = r.plan.ops[r.tflmMemory.steps[r.tflmMemory.peakStep].op]
        return PeakMemory(stepIndex: mem.peakStep, opIndex: op.index, role: op.role, kernel: step.kernel,
                          outputShape: r.plan.tensors[op.output].shape, liveBytes: step.liveBytes,
                          arenaBytes: mem.arenaBytes, tensors: tensors, tflmArenaBytes: r.tflmMemory.arenaBytes,
                          tflmRole: tflmOp.role)
    }

    /// MACs and params grouped by stem / stage / head, in network order.
    public func componentShares(_ plan: LayerPlan) -> [ComponentShare] {
        var order: [String] = []
        var macs: [String: Int] = [:], params: [String: Int] = [:]
        for op in plan.ops {
            let key = op.opRole.isStem ? "stem" : op.stage.map { "stages[\($0)]" } ?? "head"
            if macs[key] == nil { order.append(key) }
            macs[key, default: 0] += op.macs
            params[key, default: 0] += op.params
        }
        let tm = max(plan.macs, 1), tp = max(plan.params, 1)
        return order.map {
            ComponentShare(component: $0, macs: macs[$0]!, params: params[$0]!,
                           macsShare: Double(macs[$0]!) / Double(tm), paramsShare: Double(params[$0]!) / Double(tp))
        }
    }

    static func sentences(_ e: CandidateExplanation) -> [String] {
        var s: [String] = []
        let b = e.binding
        if b.fits {
            s.append("Binding constraint: \(b.description); headroom \(b.format(b.limit - b.value)).")
        } else {
            let over = e.usage.filter { !$0.fits }.map { "\($0.kind.label) over by \($0.format($0.value - $0.limit))" }
            s.append("Over budget: \(over.joined(separator: ", ")) (\(b.description)).")
        }
        let p = e.peak
        let top = p.tensors.prefix(3).map { "\($0.label) (\(Units.formatBytes($0.bytes)))" }.joined(separator: ", ")
        s.append("Peak SRAM \(Units.formatBytes(p.liveBytes)) live at \(p.role) (\(p.kernel), output \(shapeText(p.outputShape))); largest live buffers: \(top). TFLM would need \(Units.formatBytes(p.tflmArenaBytes)) (peak at \(p.tflmRole)).")
        if let heavy = e.shares.max(by: { $0.macsShare < $1.macsShare }) {
            s.append("\(heavy.component) holds \(pct(heavy.macsShare)) of MACs (\(Units.formatCount(heavy.macs))).")
        }
        if let big = e.shares.max(by: { $0.paramsShare < $1.paramsShare }) {
            s.append("\(big.component) holds \(pct(big.paramsShare)) of parameters (\(Units.formatCount(big.params))).")
        }
        if let c = e.comparison {
            let what = c.changes.isEmpty ? "no structural change" : c.changes.prefix(6).map(\.description).joined(separator: ", ")
                + (c.changes.count > 6 ? " (+\(c.changes.count - 6) more)" : "")
            var eff = ["MACs \(signed(c.deltaMACs, Units.formatCount))", "peak SRAM \(signed(c.deltaPeakSRAM, Units.formatBytes))",
                       "flash \(signed(c.deltaFlash, Units.formatBytes))"]
            if let da = c.deltaAccuracy { eff.insert(String(format: "accuracy %+.2f pt", da * 100), at: 0) }
            let rel = c.relation == .parent ? "parent" : "nearest archive member"
            s.append("Against its \(rel) \(c.referenceHash.prefix(12)): \(what); effect: \(eff.joined(separator: ", ")).")
        }
        return s
    }
}

func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
func signed(_ v: Int, _ f: (Int) -> String) -> String { v < 0 ? "−" + f(-v) : "+" + f(v) }
