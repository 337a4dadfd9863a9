import TinyForgeSpec
import TinyForgeHardware

/// Hypervolume after each evaluation for one proposer / run (computed by the search).
public struct HypervolumeSeries: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var evaluation: Int
        public var hypervolume: Double
        public init(evaluation: Int, hypervolume: Double) { self.evaluation = evaluation; self.hypervolume = hypervolume }
    }
    public var label: String
    public var points: [Point]
    public init(label: String, points: [Point]) { self.label = label; self.points = points }
}

/// A PNG (e.g. `Heatmap.png`) shown in the report, embedded as base64.
public struct ReportImage: Sendable, Equatable {
    public var title: String
    public var caption: String
    public var png: [UInt8]
    public init(title: String, caption: String, png: [UInt8]) { self.title = title; self.caption = caption; self.png = png }
}

/// One candidate as a point of the search (Pareto plots, tables).
public struct CandidatePoint: Sendable, Equatable {
    public var hash: String
    public var proposer: String
    public var status: ExplainCandidate.Status
    public var valAccuracy: Double?
    public var macs: Int
    public var peakSRAMBytes: Int
    public var flashBytes: Int
    public var fits: Bool
    /// Non-dominated among trained, fitting candidates: (max accuracy, min MACs) and
    /// (max accuracy, min peak SRAM).
    public var onFrontMACs: Bool
    public var onFrontSRAM: Bool
}

/// A rationale and its fact-check.
public struct RationaleReport: Sendable, Equatable {
    public var hash: String
    public var proposer: String
    public var rationale: String
    public var checks: [ClaimCheck]
}

/// Everything the HTML report and its JSON twin show. Build it with `build`, or assemble
/// the parts yourself.
public struct ExplainReport: Sendable, Equatable {
    public var title: String
    public var notes: [String]
    public var limits: ExplainLimits
    public var points: [CandidatePoint]
    public var hypervolume: [HypervolumeSeries]
    public var chosen: CandidateExplanation?
    public var explanations: [CandidateExplanation]
    public var rationales: [RationaleReport]
    public var surrogates: [SurrogateAnalysis]
    /// Why a surrogate target was skipped (too few samples, ...).
    public var surrogateSkipped: [String]
    public var images: [ReportImage]
    /// Per-origin evidence of the search ("Who found the front"), computed by the search and
    /// passed in; empty = section left out.
    public var proposerEvidence: [ProposerEvidenceRow] = []
    /// The LLM's fact-checked explanation of `chosen` (`tinyforge explain --llm`); nil = the
    /// deterministic explanation stands alone.
    public var narrative: NarrativeExplanation? = nil

    /// Costs every candidate once, explains each against its parent (or nearest trained
    /// archive member), checks every rationale, finds the Pareto fronts and fits surrogates
    /// for val accuracy, peak SRAM and MACs. `chosenHash` nil = the most accurate fitting
    /// trained candidate.
    public static func build(title: String, candidates: [ExplainCandidate], limits: ExplainLimits,
                             hypervolume: [HypervolumeSeries] = [], chosenHash: String? = nil,
                             images: [ReportImage] = [], notes: [String] = [],
                             surrogate: SurrogateAnalysis.Config = .init()) -> ExplainReport {
        let explainer = Explainer(limits: limits)
        var costs: [String: CostReport] = [:]
        for c in candidates where costs[c.hash] == nil { costs[c.hash] = explainer.cost(c.spec) }
        let explanations: [CandidateExplanation] = candidates.map { c in
            let ref = explainer.reference(for: c, in: candidates).map { ($0.0, costs[$0.0.hash]!, $0.1) }
            return explainer.explain(c, cost: costs[c.hash]!, reference: ref)
        }
        var points = zip(candidates, explanations).map { c, e in
            CandidatePoint(hash: c.hash, proposer: c.proposer, status: c.status, valAccuracy: c.valAccuracy, macs: e.macs,
                           peakSRAMBytes: e.peakSRAMBytes, flashBytes: e.flashBytes, fits: e.fits, onFrontMACs: false, onFrontSRAM: false)
        }
        let eligible = points.indices.filter { points[$0].valAccuracy != nil && points[$0].fits }
        for i in eligible {
            let a = points[i].valAccuracy!
            func dominated(_ cost: (CandidatePoint) -> Int) -> Bool {
                eligible.contains { j in
                    let b = points[j].valAccuracy!, cj = cost(points[j]), ci = cost(points[i])
                    return j != i && b >= a && cj <= ci && (b > a || cj < ci)
                }
            }
            points[i].onFrontMACs = !dominated { $0.macs }
            points[i].onFrontSRAM = !dominated { $0.peakSRAMBytes }
        }
        let chosenIndex = chosenHash.flatMap { h in candidates.firstIndex { $0.hash == h } }
            ?? eligible.max { points[$0].valAccuracy! < points[$1].valAccuracy! }
        let rationales: [RationaleReport] = candidates.indices.compactMap { i in
            guard let r = candidates[i].rationale, !r.isEmpty else { return nil }
            let checks = RationaleChecker(spec: candidates[i].spec, explanation: explanations[i]).check(r)
            return RationaleReport(hash: candidates[i].hash, proposer: candidates[i].proposer, rationale: r, checks: checks)
        }
        // Surrogates: features from every candidate; each target uses the rows that have it.
        let table = FeatureTable.build(specs: candidates.map(\.spec), macs: explanations.map(\.macs), params: explanations.map(\.params))
        var surrogates: [SurrogateAnalysis] = [], skipped: [String] = []
        let targets: [(String, [Double?], Set<String>)] = [
            ("val_accuracy", candidates.map { $0.status == .trained ? $0.valAccuracy : nil }, []),
            ("peak_sram_bytes", explanations.map { Double($0.peakSRAMBytes) }, []),
            ("macs", explanations.map { Double($0.macs) }, ["macs", "params"]),
        ]
        for (name, y, exclude) in targets {
            do { surrogates.append(try SurrogateAnalysis.fit(target: name, table: table, y: y, exclude: exclude, config: surrogate)) }
            catch { skipped.append("\(error)") }
        }
        return ExplainReport(title: title, notes: notes, limits: limits, points: points, hypervolume: hypervolume,
                             chosen: chosenIndex.map { explanations[$0] }, explanations: explanations,
                             rationales: rationales, surrogates: surrogates, surrogateSkipped: skipped, images: images)
    }

    /// The JSON twin of the HTML report: the same numbers, for tools.
    public var jsonValue: JSONValue {
        let b = limits.budget
        return [
            "title": .string(title), "notes": .array(notes.map { .string($0) }),
            "target": .string(limits.target.name),
            "budget": ["sram_bytes": num(b.sramBytes), "flash_bytes": num(b.flashBytes),
                       "macs": b.macs.map(num) ?? .null, "latency_ms": opt(limits.latencyMs)],
            "candidates": .array(points.map { p in
                ["hash": .string(p.hash), "proposer": .string(p.proposer), "status": .string(p.status.rawValue),
                 "val_accuracy": opt(p.valAccuracy), "macs": num(p.macs), "peak_sram_bytes": num(p.peakSRAMBytes),
                 "flash_bytes": num(p.flashBytes), "fits": .bool(p.fits),
                 "pareto_macs": .bool(p.onFrontMACs), "pareto_sram": .bool(p.onFrontSRAM)] }),
            "hypervolume": .array(hypervolume.map { s in
                ["label": .string(s.label), "points": .array(s.points.map { [num($0.evaluation), num($0.hypervolume)] })] }),
            "chosen": chosen?.jsonValue ?? .null,
            "explanations": .array(explanations.map(\.jsonValue)),
            "rationale_checks": .array(rationales.map { r in
                ["hash": .string(r.hash), "proposer": .string(r.proposer), "rationale": .string(r.rationale),
                 "checks": .array(r.checks.map(\.jsonValue)),
                 "counts": ["true": num(r.checks.filter { $0.verdict == .true }.count),
                            "false": num(r.checks.filter { $0.verdict == .false }.count),
                            "unverifiable": num(r.checks.filter { $0.verdict == .unverifiable }.count)]] }),
            "surrogates": .array(surrogates.map(\.jsonValue)),
            "llm_explanation": narrative?.jsonValue ?? .null,
            "surrogates_skipped": .array(surrogateSkipped.map { .string($0) }),
            "who_found_the_front": .array(proposerEvidence.map(\.jsonValue)),
            "images": .array(images.map { ["title": .string($0.title), "caption": .string($0.caption), "png_bytes": num($0.png.count)] }),
        ]
    }
}
