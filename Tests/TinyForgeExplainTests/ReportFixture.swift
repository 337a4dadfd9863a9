import Foundation
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeExplain

/// A synthetic but realistic search on the mcu32 space: random, evolution and an "LLM" that
/// mutates and explains (some claims true, some false). Accuracy is a known function of the
/// architecture plus noise, so the report has real structure to show.
enum ReportFixture {
    static let limits = ExplainLimits(target: .stm32f746, budget: Budget(sramBytes: 96 * 1024, flashBytes: 512 * 1024, macs: 12_000_000),
                                      latencyMs: 150)

    static func accuracy(_ s: ArchitectureSpec, macs: Int, noise: Double) -> Double {
        var a = 0.50 + 0.07 * log10(Double(macs) / 1e5)
        if s.stages.last?.kernel == 5 { a += 0.015 }
        a += 0.01 * Double(s.stages.filter { $0.seRatio > 0 }.count)
        if s.stages.contains(where: { $0.activation == .hswish }) { a += 0.01 }
        return min(0.92, max(0.3, a + noise))
    }

    static func candidates(count: Int = 48, seed: UInt64 = 7) -> [ExplainCandidate] {
        var g = SeededGenerator(seed: seed)
        let space = SearchSpace.mcu32
        let explainer = Explainer(limits: limits)
        var out: [ExplainCandidate] = []
        for i in 0..<count {
            let proposer = ["random", "evolution", "llm:qwen2.5-3b"][i % 3]
            var spec = try! space.sample(numClasses: 10, using: &g)
            var parent: String?
            var rationale: String?
            if proposer != "random", let best = out.filter({ $0.valAccuracy != nil }).max(by: { $0.valAccuracy! < $1.valAccuracy! }),
               let m = space.mutate(best.spec, using: &g) {
                spec = m.spec; parent = best.hash
                if proposer.hasPrefix("llm") {
                    let last = spec.stages.count
                    let k = spec.stages[last - 1].kernel
                    let wrongK = k == 3 ? 5 : 3
                    rationale = "Changed \(m.change) to trade accuracy for memory. The last stage uses \(i % 2 == 0 ? k : wrongK)x\(i % 2 == 0 ? k : wrongK) kernels; "
                        + "stage 1 \(spec.stages[0].seRatio > 0 ? "keeps" : "adds") squeeze-and-excitation. We use \(spec.stages[0].activation.rawValue) in the early layers "
                        + "and the network has \(spec.stages.count) stages, which reduces MACs."
                }
            }
            let r = explainer.cost(spec)
            let fits = r.fits
            var gauss = g
            let acc = fits ? accuracy(spec, macs: r.macs, noise: 0.01 * Double(gauss.nextGaussian())) : nil
            g = gauss
            out.append(ExplainCandidate(spec: spec, proposer: proposer, rationale: rationale, parentHash: parent,
                                        valAccuracy: acc, status: fits ? .trained : .rejected, evaluationIndex: i))
        }
        // Duplicates (same canonical hash) are dropped as the search would.
        var seen = Set<String>()
        return out.filter { seen.insert($0.hash).inserted }
    }

    /// 2-D hypervolume (max accuracy, min MACs) against (0.3, MAC budget), per proposer.
    static func hypervolume(_ cs: [ExplainCandidate], macs: [String: Int]) -> [HypervolumeSeries] {
        let ref = (0.3, Double(limits.budget.macs!))
        var series: [String: [HypervolumeSeries.Point]] = [:]
        var fronts: [String: [(Double, Double)]] = [:]
        for c in cs {
            guard let a = c.valAccuracy, let m = macs[c.hash] else { continue }
            var f = fronts[c.proposer, default: []]
            f.append((a, Double(m)))
            f = f.filter { p in !f.contains { q in q.0 >= p.0 && q.1 <= p.1 && (q.0 > p.0 || q.1 < p.1) } }.sorted { $0.1 < $1.1 }
            fronts[c.proposer] = f
            var hv = 0.0, prevAcc = ref.0
            for p in f where p.1 < ref.1 && p.0 > prevAcc {
                hv += (p.0 - prevAcc) * (ref.1 - p.1) / ref.1
                prevAcc = p.0
            }
            series[c.proposer, default: []].append(.init(evaluation: c.evaluationIndex ?? 0, hypervolume: hv))
        }
        return series.keys.sorted().map { HypervolumeSeries(label: $0, points: series[$0]!) }
    }

    static func report() -> ExplainReport {
        let cs = candidates()
        let explainer = Explainer(limits: limits)
        let macs = Dictionary(uniqueKeysWithValues: cs.map { ($0.hash, explainer.cost($0.spec).macs) })
        // A 12×12 saliency blob over a grey gradient, as Grad-CAM would give.
        let w = 12, h = 12
        let sal = (0..<(w * h)).map { i -> Float in
            let x = Float(i % w) - 7, y = Float(i / w) - 5
            return exp(-(x * x + y * y) / 10)
        }
        let grey = (0..<(w * h)).map { UInt8(60 + ($0 % w) * 12) }
        let png = try! Heatmap.png(values: sal, width: w, height: h, overlay: grey, scale: 8)
        let cfg = SurrogateAnalysis.Config(boosting: .init(trees: 60, maxDepth: 3, learningRate: 0.15, minLeaf: 3, subsample: 0.8, seed: 3))
        return ExplainReport.build(title: "TinyForge search report (synthetic fixture)", candidates: cs, limits: limits,
                                   hypervolume: hypervolume(cs, macs: macs),
                                   images: [ReportImage(title: "Grad-CAM", caption: "synthetic saliency over a grey test image", png: png)],
                                   notes: ["Synthetic accuracies from a known formula (log MACs, last-stage kernel, SE, hswish) plus noise."],
                                   surrogate: cfg)
    }
}
