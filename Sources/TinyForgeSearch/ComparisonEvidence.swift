import Foundation
import TinyForgeSpec

/// `compare`'s per-proposer evidence: for every proposer setting, each origin's numbers as
/// mean ± sample sd over the seeds. A seed where an origin made nothing counts as 0 for the
/// counts; the mean proxy accuracy averages only the seeds where the origin trained something
/// (`n` says how many).
extension Comparison {
    /// Per-seed values of one origin's field; nil entries are seeds without a value.
    struct OriginStats {
        var origin: String
        var seeds: Int
        var proposals: (mean: Double, sd: Double)
        var accepted: (mean: Double, sd: Double)
        var trained: (mean: Double, sd: Double)
        var meanAccuracy: (mean: Double, sd: Double)
        var accuracySeeds: Int
        var front: (mean: Double, sd: Double)
        var contribution: (mean: Double, sd: Double)
    }

    /// Origins seen in any seed of `proposer`, by name.
    func originStats(_ proposer: String) -> [OriginStats] {
        let runs = curves.filter { $0.proposer == proposer }
        let origins = Set(runs.flatMap { $0.evidence.map(\.origin) }).sorted()
        return origins.map { o in
            let rows = runs.map { r in r.evidence.first { $0.origin == o } }
            func counts(_ f: (ProposerEvidence) -> Double) -> (mean: Double, sd: Double) {
                Self.meanSD(rows.map { $0.map(f) ?? 0 })
            }
            let accs = rows.compactMap { $0?.meanProxyAccuracy }
            return OriginStats(origin: o, seeds: runs.count, proposals: counts { Double($0.proposals) },
                               accepted: counts { Double($0.accepted) }, trained: counts { Double($0.trained) },
                               meanAccuracy: Self.meanSD(accs), accuracySeeds: accs.count,
                               front: counts { Double($0.frontMembers) }, contribution: counts { $0.hypervolumeContribution })
        }
    }

    func evidenceTable() -> [String] {
        guard curves.contains(where: { !$0.evidence.isEmpty }) else { return [] }
        func ms(_ x: (mean: Double, sd: Double), _ f: String) -> String { String(format: f, x.mean) + " ± " + String(format: f, x.sd) }
        var l = ["", "per proposer and origin (mean ± sd over seeds; acc = mean rung-0 " + (evaluator == "synthetic" ? "synthetic score" : "val accuracy")
                 + " of its trained candidates, over the n seeds where it trained any; HV contrib = front HV − HV without its members):"]
        // Columns as wide as their longest entry (+2), so `mutation+repair` or `evolution+llm`
        // never runs into the next column.
        let pw = max(15, (proposers.map(\.count).max() ?? 0) + 2)
        let ow = max(14, (proposers.flatMap { originStats($0).map(\.origin.count) }.max() ?? 0) + 2)
        l.append(pad("proposer", pw) + pad("origin", ow) + pad("proposals", 15) + pad("accepted", 15) + pad("trained", 15)
                 + pad("acc (n)", 22) + pad("front", 13) + "HV contrib")
        for p in proposers {
            for o in originStats(p) {
                l.append(pad(p, pw) + pad(o.origin, ow) + pad(ms(o.proposals, "%.1f"), 15) + pad(ms(o.accepted, "%.1f"), 15)
                         + pad(ms(o.trained, "%.1f"), 15)
                         + pad((o.accuracySeeds == 0 ? "-" : ms(o.meanAccuracy, "%.4f")) + " (\(o.accuracySeeds))", 22)
                         + pad(ms(o.front, "%.1f"), 13) + ms(o.contribution, "%.4f"))
            }
        }
        return l
    }

    func evidenceJSON(_ proposer: String) -> JSONValue {
        func ms(_ x: (mean: Double, sd: Double)) -> JSONValue { ["mean": .number(x.mean), "sd": .number(x.sd)] }
        return .array(originStats(proposer).map { o in
            ["origin": .string(o.origin), "seeds": .number(Double(o.seeds)), "proposals": ms(o.proposals),
             "accepted": ms(o.accepted), "trained": ms(o.trained), "mean_proxy_accuracy": ms(o.meanAccuracy),
             "mean_proxy_accuracy_seeds": .number(Double(o.accuracySeeds)), "front_members": ms(o.front),
             "hypervolume_contribution": ms(o.contribution)]
        })
    }
}
