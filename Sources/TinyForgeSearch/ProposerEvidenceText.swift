import Foundation
import TinyForgeExplain
import TinyForgeSpec

/// `runs show`'s "who found the front" table and the `proposer_evidence` entry of
/// `pareto.json`.
extension ProposerEvidence {
    /// Budget constraints in a fixed column order.
    static let constraints = ["sram", "flash", "macs"]

    /// One row per origin. `score` names the proxy (val accuracy, or the synthetic score).
    public static func table(_ rows: [ProposerEvidence], score: String) -> [String] {
        var l = ["Who found the front (per origin; \(score) of rung-0 proxy training; HV contrib = front HV − HV without its members):"]
        l.append("  " + pad("origin", 14) + lpad("prop", 5) + lpad("parse", 6) + lpad("space", 6) + lpad("inval", 6) + lpad("dup", 5)
                 + lpad("budget s/f/m", 14) + lpad("surpl", 6) + lpad("scrn", 5) + lpad("acc", 5) + lpad("train", 6)
                 + lpad("mean", 8) + lpad("median", 8) + lpad("front", 6) + lpad("HV contrib", 11))
        for e in rows {
            let other = e.rejectedByKind.keys.filter { !Rejection.Kind.allCases.map(\.rawValue).contains($0) }.sorted()
            let budget = "\(e.overBudget) " + constraints.map { String(e.overBudgetBy[$0] ?? 0) }.joined(separator: "/")
            l.append("  " + pad(e.origin, 14) + lpad(String(e.proposals), 5) + lpad(String(e.parseFailures), 6)
                     + lpad(String(e.outOfSpace), 6) + lpad(String(e.invalid), 6) + lpad(String(e.duplicates), 5)
                     + lpad(budget, 14) + lpad(String(e.surplus), 6) + lpad(String(e.screenedOut), 5)
                     + lpad(String(e.accepted), 5) + lpad(String(e.trained), 6)
                     + lpad(e.meanProxyAccuracy.map { String(format: "%.4f", $0) } ?? "-", 8)
                     + lpad(e.medianProxyAccuracy.map { String(format: "%.4f", $0) } ?? "-", 8)
                     + lpad(String(e.frontMembers), 6) + lpad(String(format: "%.4f", e.hypervolumeContribution), 11)
                     + (other.isEmpty ? "" : "  (" + other.map { "\($0) \(e.rejectedByKind[$0]!)" }.joined(separator: ", ") + ")")
                     + (e.failedTraining > 0 ? "  (\(e.failedTraining) failed training)" : ""))
        }
        return l
    }

    public var jsonValue: JSONValue {
        func opt(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        return [
            "origin": .string(origin), "proposals": .number(Double(proposals)),
            "parse_failures": .number(Double(parseFailures)), "out_of_space": .number(Double(outOfSpace)),
            "invalid": .number(Double(invalid)), "duplicates": .number(Double(duplicates)),
            "over_budget": .number(Double(overBudget)),
            "over_budget_by": .object(overBudgetBy.mapValues { .number(Double($0)) }),
            "surplus": .number(Double(surplus)), "screened_out": .number(Double(screenedOut)),
            "rejected_by_kind": .object(rejectedByKind.mapValues { .number(Double($0)) }),
            "accepted": .number(Double(accepted)), "trained": .number(Double(trained)),
            "failed_training": .number(Double(failedTraining)),
            "mean_proxy_accuracy": opt(meanProxyAccuracy), "median_proxy_accuracy": opt(medianProxyAccuracy),
            "front_members": .number(Double(frontMembers)), "hypervolume_contribution": .number(hypervolumeContribution),
        ]
    }
}

extension ProposerEvidence {
    /// The row the explain report shows in "Who found the front".
    public var reportRow: ProposerEvidenceRow {
        ProposerEvidenceRow(origin: origin, proposals: proposals, parseFailures: parseFailures, outOfSpace: outOfSpace, invalid: invalid,
                            duplicates: duplicates, overBudget: overBudget, overBudgetBy: overBudgetBy, surplus: surplus,
                            screenedOut: screenedOut, accepted: accepted, trained: trained, meanProxyAccuracy: meanProxyAccuracy,
                            medianProxyAccuracy: medianProxyAccuracy, frontMembers: frontMembers,
                            hypervolumeContribution: hypervolumeContribution)
    }
}
