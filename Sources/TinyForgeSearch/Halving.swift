/// Optional successive halving of the proxy training (`--halving-epochs 1,3,9 --halving-eta 3`).
///
/// Rung 0 is the ordinary proxy evaluation of every trained candidate; rung r+1 retrains a
/// promising candidate FROM SCRATCH with `epochs[r+1]` epochs (and `subsets[r+1]` of the
/// training split). Retraining instead of continuing from a checkpoint keeps every evaluation a
/// pure function of (spec, settings, seed): deterministic, resumable after `kill -9` without
/// checkpoint files, and the rung-r accuracy means the same thing for every candidate. The
/// price is the earlier rungs' epochs once more: with geometric epochs (e_r = e₀·η^r) at most
/// 1/(η−1) more epochs than continuing from checkpoints (R rungs: R / (1 + (R−1)(1−1/η))).
public struct HalvingSettings: Codable, Sendable, Equatable {
    /// Training epochs per rung, strictly increasing (rung 0 = the proxy).
    public var epochs: [Int]
    /// Keep the top ⌊n/η⌋ of each rung.
    public var eta: Int
    /// Fraction of the training split per rung; nil = `EvaluationSettings.subset` at every rung.
    public var subsets: [Double]?

    public init(epochs: [Int], eta: Int = 3, subsets: [Double]? = nil) {
        self.epochs = epochs; self.eta = eta; self.subsets = subsets
    }

    public var rungs: Int { epochs.count }

    /// The training settings of rung `rung`: the run's settings with this rung's epochs/subset.
    public func settings(base: EvaluationSettings, rung: Int) -> EvaluationSettings {
        var s = base
        s.epochs = epochs[rung]
        if let f = subsets?[rung] { s.subset = f }
        return s
    }

    /// Parses the CLI's comma-separated lists; errors name the flag.
    public static func parse(epochs: String, eta: Int?, subsets: String?) throws -> HalvingSettings {
        let e = try epochs.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw SearchError("--halving-epochs", "\"\(part)\" is not a whole number; give epochs per rung, e.g. 1,3,9")
            }
            return v
        }
        let f = try subsets.map { text in
            try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Double in
                guard let v = Double(part.trimmingCharacters(in: .whitespaces)) else {
                    throw SearchError("--halving-subsets", "\"\(part)\" is not a number; give a fraction per rung, e.g. 0.3,0.6,1")
                }
                return v
            }
        }
        let h = HalvingSettings(epochs: e, eta: eta ?? 3, subsets: f)
        try h.validate()
        return h
    }

    public func validate() throws {
        guard epochs.count >= 2 else {
            throw SearchError("--halving-epochs", "\(epochs.map(String.init).joined(separator: ",")) has \(epochs.count) rung; successive halving needs at least two (e.g. 1,3,9), or drop the flag")
        }
        guard epochs.allSatisfy({ $0 >= 1 }) else { throw SearchError("--halving-epochs", "every rung needs at least 1 epoch") }
        guard zip(epochs, epochs.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SearchError("--halving-epochs", "\(epochs.map(String.init).joined(separator: ",")) must be strictly increasing: a promotion has to buy more training")
        }
        guard eta >= 2 else { throw SearchError("--halving-eta", "\(eta) must be at least 2 (keep the top 1/η of each rung)") }
        if let f = subsets {
            guard f.count == epochs.count else {
                throw SearchError("--halving-subsets", "has \(f.count) values but --halving-epochs has \(epochs.count) rungs; give one fraction per rung")
            }
            guard f.allSatisfy({ $0 > 0 && $0 <= 1 }) else { throw SearchError("--halving-subsets", "every value must be a fraction in (0, 1]") }
        }
    }

    /// Evaluations per rung when `trials` candidates are trained and none fails:
    /// n₀ = trials, n_{r+1} = ⌊n_r / η⌋ (what the asynchronous rule converges to at the end).
    public func plannedEvaluations(trials: Int) -> [Int] {
        var n = [trials]
        while n.count < rungs { n.append(n.last! / eta) }
        return n
    }

    /// Σ n_r · epochs_r for `plannedEvaluations`.
    public func plannedEpochs(trials: Int) -> Int {
        zip(plannedEvaluations(trials: trials), epochs).map { $0 * $1 }.reduce(0, +)
    }
}

/// One stored evaluation as the promotion rule sees it.
public struct RungResult: Sendable, Equatable {
    public var candidateID: Int64
    public var rung: Int
    /// nil when the evaluation failed (crash, timeout, bad metrics); diverged runs score.
    public var accuracy: Double?

    public init(candidateID: Int64, rung: Int, accuracy: Double?) {
        self.candidateID = candidateID; self.rung = rung; self.accuracy = accuracy
    }
}

/// The promotion rule of asynchronous successive halving (ASHA, Li et al. 2020), as a pure
/// function of the stored evaluations, so a resumed run promotes exactly what an uninterrupted
/// one would:
///
/// a candidate with a scored rung-r evaluation is promoted to rung r+1 when it is among the
/// top ⌊n_r/η⌋ by accuracy of the n_r candidates with a scored rung-r evaluation (ties: the
/// smaller candidate id, i.e. the earlier proposal, wins) and it has no rung-(r+1) evaluation
/// yet. Failed evaluations are never promoted and do not count in n_r (they say nothing about
/// the architecture); a failed rung-(r+1) evaluation is final, it is not retried.
///
/// The controller applies the rule at batch boundaries (before any new proposal), so the set it
/// sees is the same whatever order the parallel workers finished in.
public enum HalvingScheduler {
    public struct Promotion: Sendable, Equatable {
        public var candidateID: Int64
        public var toRung: Int
        public init(candidateID: Int64, toRung: Int) { self.candidateID = candidateID; self.toRung = toRung }
    }

    /// Promotions due now, highest target rung first (longest jobs first packs the workers
    /// best), then by candidate id. `busy` = candidates already queued or running.
    public static func promotions(_ results: [RungResult], eta: Int, rungs: Int, busy: Set<Int64> = []) -> [Promotion] {
        var byRung = Array(repeating: [Int64: Double?](), count: rungs)
        for r in results where r.rung < rungs { byRung[r.rung][r.candidateID] = r.accuracy }
        var out: [Promotion] = []
        for rung in stride(from: rungs - 2, through: 0, by: -1) {
            let scored = byRung[rung].compactMap { id, acc in acc.map { (id: id, acc: $0) } }
            let k = scored.count / eta
            guard k > 0 else { continue }
            let top = scored.sorted { ($0.acc, -$0.id) > ($1.acc, -$1.id) }.prefix(k)
            for c in top.sorted(by: { $0.id < $1.id }) where byRung[rung + 1][c.id] == nil && !busy.contains(c.id) {
                out.append(Promotion(candidateID: c.id, toRung: rung + 1))
            }
        }
        return out
    }

    /// Stored evaluations per rung (failed ones included).
    public static func counts(_ results: [RungResult], rungs: Int) -> [Int] {
        var n = Array(repeating: 0, count: max(rungs, 1))
        for r in results where r.rung < n.count { n[r.rung] += 1 }
        return n
    }
}
