import TinyForgeHardware

/// What the Pareto archive trades off. Accuracy is maximised, the three costs minimised.
public enum Objective: String, CaseIterable, Sendable, Codable {
    case accuracy, macs, sram, flash

    /// Parses `accuracy,macs,sram` (also `acc`, `peak_sram`, `flash_bytes`).
    public static func parseList(_ text: String, field: String = "--objectives") throws -> [Objective] {
        var out: [Objective] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            let o: Objective?
            switch part {
            case "accuracy", "acc", "val_accuracy": o = .accuracy
            case "macs": o = .macs
            case "sram", "peak_sram", "peak_sram_bytes": o = .sram
            case "flash", "flash_bytes": o = .flash
            default: o = nil
            }
            guard let ob = o else {
                throw SearchError(field, "\"\(part)\" is not an objective; use a comma-separated subset of accuracy, macs, sram, flash")
            }
            if !out.contains(ob) { out.append(ob) }
        }
        guard out.count >= 2 else {
            throw SearchError(field, "needs at least two objectives (e.g. accuracy,macs), got \(out.map(\.rawValue))")
        }
        return out
    }
}

/// Maps a candidate to a point in the unit box where every coordinate is minimised and the
/// reference point is (1, …, 1):
///
///     accuracy → 1 − val_accuracy          (reference: accuracy 0)
///     macs     → MACs / budget.macs        (reference: the MAC budget)
///     sram     → peak SRAM / budget.sram   (reference: the SRAM budget)
///     flash    → flash / budget.flash      (reference: the flash budget)
///
/// So the hypervolume of a front is the fraction of the box [0, 1]^d (accuracy 0…1 × each cost
/// 0…its limit) that the front dominates: 0 = nothing, 1 = a perfect free network.
/// Feasible candidates (they all are: the budget is a hard constraint) lie inside the box.
public struct ObjectiveSpace: Sendable, Equatable {
    public let objectives: [Objective]
    public let budget: Budget

    public init(objectives: [Objective], budget: Budget) throws {
        guard objectives.count >= 2, Set(objectives).count == objectives.count else {
            throw SearchError("objectives", "needs at least two distinct objectives, got \(objectives.map(\.rawValue))")
        }
        if objectives.contains(.macs), budget.macs == nil {
            throw SearchError("objectives", "macs is an objective but there is no MAC budget to normalise it by; pass --macs (e.g. --macs 20M) or drop macs from --objectives")
        }
        self.objectives = objectives
        self.budget = budget
    }

    /// The default set: accuracy, MACs (when a MAC budget exists), peak SRAM, flash.
    public static func defaultObjectives(for budget: Budget) -> [Objective] {
        budget.macs == nil ? [.accuracy, .sram, .flash] : [.accuracy, .macs, .sram, .flash]
    }

    public var reference: [Double] { Array(repeating: 1, count: objectives.count) }

    /// The normalised minimisation vector, or nil when the candidate has no score (failed).
    public func point(_ c: EvaluatedCandidate) -> [Double]? {
        guard let acc = c.accuracy else { return nil }
        return point(accuracy: acc, cost: c.cost)
    }

    public func point(accuracy: Double, cost: CostSummary) -> [Double] {
        objectives.map { o in
            switch o {
            case .accuracy: return 1 - min(max(accuracy, 0), 1)
            case .macs: return Double(cost.macs) / Double(budget.macs!)
            case .sram: return Double(cost.peakSRAMBytes) / Double(budget.sramBytes)
            case .flash: return Double(cost.flashBytes) / Double(budget.flashBytes)
            }
        }
    }
}
