import TinyForgeSpec
import TinyForgeHardware

/// The chosen model's facts as numbered lines, the only material an LLM may explain from (the
/// paper's explanation step, grounded). Every line quotes numbers the report already computed
/// — the chosen `CandidateExplanation`, its neighbours' explanations and the surrogates'
/// TreeSHAP values — so nothing is recomputed and nothing is estimated here.
public struct ExplanationFacts: Sendable, Equatable {
    public struct Fact: Sendable, Equatable {
        /// "F1", "F2", ...: the LLM is asked to cite these.
        public var id: String
        /// architecture, accuracy, budget, peak, shares, reference, neighbour, surrogate.
        public var topic: String
        public var text: String
    }

    public var hash: String
    public var facts: [Fact]

    /// The full-training result of the chosen model (`tinyforge finish`), when there is one.
    public struct Finished: Sendable, Equatable {
        public var valAccuracy: Double
        public var epochs: Int
        public var distilled: Bool
        public init(valAccuracy: Double, epochs: Int, distilled: Bool) {
            self.valAccuracy = valAccuracy; self.epochs = epochs; self.distilled = distilled
        }
    }

    /// "F1 [architecture] ..." one per line: the block the prompt shows.
    public var text: String { facts.map { "\($0.id) [\($0.topic)] \($0.text)" }.joined(separator: "\n") }

    /// Facts of `report.chosen`; nil when the report has no chosen model. `candidates` are the
    /// report's candidates in the same order as `report.explanations` (their specs give the
    /// architecture lines and the diffs against the `neighbours` nearest trained members).
    public static func build(report: ExplainReport, candidates: [ExplainCandidate], finished: Finished? = nil,
                             neighbours: Int = 2, attributionsPerTarget: Int = 3) -> ExplanationFacts? {
        guard let e = report.chosen, let ci = candidates.firstIndex(where: { $0.hash == e.hash }) else { return nil }
        let c = candidates[ci]
        var lines: [(String, String)] = []
        lines.append(("architecture", architecture(c.spec)))
        var acc = e.valAccuracy.map { "Proxy validation accuracy \(pct(($0)))" } ?? "Not trained by the search"
        if let f = finished {
            acc += String(format: "; after full training (%d epochs%@): %.2f%%", f.epochs, f.distilled ? ", distilled" : "", f.valAccuracy * 100)
        }
        lines.append(("accuracy", acc + "."))
        lines.append(("budget", "Budget use: " + e.usage.map(\.description).joined(separator: "; ")
                      + ". Binding constraint: \(e.binding.kind.label) at \(pct(e.binding.ratio))."))
        let p = e.peak
        let live = p.tensors.prefix(4).map { "\($0.label) \(Units.formatBytes($0.bytes))" + ($0.producerRole.map { " from \($0)" } ?? "") }
        lines.append(("peak", "Peak SRAM \(Units.formatBytes(p.liveBytes)) at step \(p.stepIndex), layer \(p.role) (\(p.kernel), output \(shapeText(p.outputShape))); live buffers: \(live.joined(separator: ", "))."))
        let shares = e.shares.sorted { $0.macsShare > $1.macsShare }.prefix(4)
            .map { "\($0.component) \(pct($0.macsShare)) of MACs, \(pct($0.paramsShare)) of parameters" }
        lines.append(("shares", "MAC and parameter shares: \(shares.joined(separator: "; ")). Total \(Units.formatCount(e.macs)) MACs, \(Units.formatCount(e.params)) parameters."))
        if let cmp = e.comparison {
            let rel = cmp.relation == .parent ? "its parent" : "the nearest archive member"
            lines.append(("reference", "Against \(rel) \(cmp.referenceHash.prefix(12)): \(changesText(cmp.changes)); measured effect: \(effectText(cmp))."))
        }
        for n in nearest(to: c, in: candidates, skipping: e.comparison?.referenceHash, count: neighbours) {
            guard report.explanations.indices.contains(n) else { continue }
            let ne = report.explanations[n]
            lines.append(("neighbour", "Neighbour \(ne.shortHash) differs by \(changesText(SpecDiff.changes(from: candidates[n].spec, to: c.spec))); the chosen model has \(neighbourEffect(e, ne))."))
        }
        for s in report.surrogates {
            // The surrogates were fitted on a table with one row per candidate, in this order.
            guard let a = s.attributions(sourceRow: ci) else { continue }
            let fmt: (Double) -> String = s.target == "val_accuracy" ? { String(format: "%+.2f pt", $0 * 100) }
                : s.target == "macs" ? { (v: Double) in signed(Int(v.rounded()), Units.formatCount) }
                : { (v: Double) in signed(Int(v.rounded()), Units.formatBytes) }
            let top = a.prefix(attributionsPerTarget).map { "\($0.feature) = \($0.value) \(fmt($0.shap))" }
            let trust = s.cvR2.map { String(format: "%d-fold R² %.2f", s.folds, $0) } ?? "R² n/a"
            lines.append(("surrogate", "Surrogate for \(s.target) (\(trust)): largest attributions for this model: \(top.joined(separator: ", "))."))
        }
        let facts = lines.enumerated().map { Fact(id: "F\($0.offset + 1)", topic: $0.element.0, text: $0.element.1) }
        return ExplanationFacts(hash: e.hash, facts: facts)
    }

    /// Stem, stages and head in the spec's own field names.
    static func architecture(_ s: ArchitectureSpec) -> String {
        var parts = ["input \(s.input.height)×\(s.input.width)×\(s.input.channels)"]
        if let st = s.stem { parts.append("stem " + SpecDiff.describe(st)) }
        for (i, st) in s.stages.enumerated() { parts.append("stages[\(i)] " + SpecDiff.describe(st)) }
        parts.append("head conv_channels \(s.head.convChannels)")
        return "Architecture: " + parts.joined(separator: "; ") + "."
    }

    static func changesText(_ c: [FieldChange]) -> String {
        c.isEmpty ? "no structural change" : c.prefix(6).map(\.description).joined(separator: ", ") + (c.count > 6 ? " (+\(c.count - 6) more)" : "")
    }

    static func effectText(_ c: Comparison) -> String {
        var eff = ["MACs \(signed(c.deltaMACs, Units.formatCount))", "peak SRAM \(signed(c.deltaPeakSRAM, Units.formatBytes))",
                   "flash \(signed(c.deltaFlash, Units.formatBytes))"]
        if let d = c.deltaAccuracy { eff.insert(String(format: "accuracy %+.2f pt", d * 100), at: 0) }
        return eff.joined(separator: ", ")
    }

    /// The chosen model's numbers minus the neighbour's (both from their explanations).
    static func neighbourEffect(_ e: CandidateExplanation, _ n: CandidateExplanation) -> String {
        var eff = ["MACs \(signed(e.macs - n.macs, Units.formatCount))", "peak SRAM \(signed(e.peakSRAMBytes - n.peakSRAMBytes, Units.formatBytes))"]
        if let a = e.valAccuracy, let b = n.valAccuracy { eff.insert(String(format: "accuracy %+.2f pt", (a - b) * 100), at: 0) }
        return eff.joined(separator: ", ")
    }

    /// Indices of the `count` trained candidates nearest to `c` (fewest changed fields), other
    /// than `c` itself and the reference already described; ties keep archive order.
    static func nearest(to c: ExplainCandidate, in all: [ExplainCandidate], skipping ref: String?, count: Int) -> [Int] {
        let idx = all.indices.filter { all[$0].hash != c.hash && all[$0].hash != ref && all[$0].status == .trained }
        let d = Dictionary(uniqueKeysWithValues: idx.map { ($0, SpecDiff.distance(all[$0].spec, c.spec)) })
        return Array(idx.sorted { d[$0]! != d[$1]! ? d[$0]! < d[$1]! : $0 < $1 }.prefix(count))
    }
}
