import TinyForgeExplain
import TinyForgeHardware
import TinyForgeSpec

/// Surrogate screening (`--screen F`): the controller asks the proposer for F× the free slots,
/// this predicts the proxy accuracy of every valid proposal with a boosted-tree surrogate fitted
/// on the archive (the same `FeatureTable` and `BoostedTrees` as the explain report), and only
/// the best K are trained. The rest are recorded as rejections of kind `screened` with their
/// prediction, so the store (and `ProposerEvidence`) keeps them.
///
/// A pure function of the archive and the proposals (seeded trees, stable tie-break), so a
/// resumed run screens exactly as an uninterrupted one; the outcome is stored in the
/// iteration's transaction like every other rejection.
public enum SurrogateScreen {
    /// Scored candidates the archive needs before screening starts. A tree fitted on fewer
    /// rows ranks mostly noise, and discarding proposals on noise only spends proposals, so
    /// until then candidates are trained unscreened (and the proposer is asked for K only).
    public static let minimumTrained = 8
    /// Allowed `--screen` factors: 1 would screen nothing; beyond 20 the proposer's batch
    /// (and an LLM's reply) grows past what a prompt sensibly asks for.
    public static let factorRange = 2...20
    /// The ranking used when a run does not name one (see bench/RESULTS-search.md: ranking by
    /// predicted accuracy raised the trained candidates' mean score but lowered hypervolume).
    public static let defaultCriterion = Criterion.hypervolume
    /// Small and fully deterministic (no row subsampling): tens of rows, one fit per iteration.
    public static let boosting = BoostedTrees.Config(trees: 100, maxDepth: 3, learningRate: 0.1, minLeaf: 2, subsample: 1, seed: 1)

    /// The proposals to ask for when `need` slots are free: F× when the archive is large
    /// enough, else `need` (unscreened).
    public static func ask(need: Int, factor: Int?, archive: ParetoArchive) -> Int {
        guard let f = factor, f > 1, archive.scored.count >= minimumTrained else { return need }
        return need * f
    }

    /// Predicted proxy accuracy of each spec (with its cost), from trees fitted on the
    /// archive's scored candidates; nil below `minimumTrained`.
    public static func predict(_ items: [(spec: ArchitectureSpec, cost: CostSummary)], archive: ParetoArchive) -> [Double]? {
        let train = archive.scored
        guard train.count >= minimumTrained, !items.isEmpty else { return nil }
        let specs = train.map(\.spec) + items.map(\.spec)
        let costs = train.map(\.cost) + items.map(\.cost)
        // One table for both, so a stage a proposal has and no trained network had still gets
        // its column (coded absent, -1, in the training rows).
        let table = FeatureTable.build(specs: specs, macs: costs.map(\.macs), params: costs.map(\.params))
        let model = BoostedTrees.fit(x: Array(table.rows.prefix(train.count)), y: train.map { $0.accuracy! }, config: boosting)
        return table.rows.suffix(items.count).map { model.predict($0) }
    }

    /// What "best" means when screening. The surrogate predicts proxy accuracy either way.
    public enum Criterion: String, Codable, Sendable, CaseIterable {
        /// The K highest predicted proxy accuracies.
        case accuracy
        /// Greedy predicted hypervolume gain: each pick is the proposal whose point (predicted
        /// accuracy, exact costs) adds most to the hypervolume of the front plus the picks so
        /// far; ties (e.g. all predicted dominated) by predicted accuracy. Keeps the cheap end
        /// of the front in play, which ranking by accuracy alone gives away.
        case hypervolume
    }

    /// Indices of every prediction, best first under `criterion`; ties go to the earlier
    /// proposal. `points` are the proposals' normalised objective points (hypervolume only).
    public static func order(predictions: [Double], criterion: Criterion, points: [[Double]] = [], front: [[Double]] = [],
                             reference: [Double] = []) -> [Int] {
        let byAccuracy = predictions.indices.sorted { (predictions[$0], -$0) > (predictions[$1], -$1) }
        guard criterion == .hypervolume else { return byAccuracy }
        var taken = front, left = byAccuracy, out: [Int] = []
        while !left.isEmpty {
            let base = Hypervolume.exact(taken, reference: reference)
            // `left` is in accuracy order, so the first maximum wins ties by accuracy.
            var best = 0, bestGain = -1.0
            for (k, i) in left.enumerated() {
                let gain = Hypervolume.exact(taken + [points[i]], reference: reference) - base
                if gain > bestGain + 1e-15 { best = k; bestGain = gain }
            }
            out.append(left[best]); taken.append(points[left[best]]); left.remove(at: best)
        }
        return out
    }

    /// Keeps the `keep` accepted outcomes that rank best under `criterion` and turns the other
    /// accepted ones into `screened` rejections naming their prediction and rank. Unchanged
    /// when the archive is too small or no more than `keep` were accepted.
    public static func screen(_ outcomes: [ProposalOutcome], keep: Int, archive: ParetoArchive, iteration: Int,
                              criterion: Criterion = .accuracy) -> [ProposalOutcome] {
        let acceptedAt = outcomes.indices.compactMap { i -> (Int, AcceptedCandidate)? in
            if case .accepted(let a) = outcomes[i] { return (i, a) }
            return nil
        }
        guard acceptedAt.count > keep,
              let predictions = predict(acceptedAt.map { ($0.1.spec, CostSummary($0.1.cost)) }, archive: archive) else { return outcomes }
        let os = archive.objectiveSpace
        let points = zip(acceptedAt, predictions).map { os.point(accuracy: $1, cost: CostSummary($0.1.cost)) }
        let ranked = order(predictions: predictions, criterion: criterion, points: points,
                           front: archive.front.compactMap { os.point($0) }, reference: os.reference)
        let rank = Dictionary(uniqueKeysWithValues: ranked.enumerated().map { ($0.element, $0.offset + 1) })
        var out = outcomes
        for (k, (i, a)) in acceptedAt.enumerated() where rank[k]! > keep {
            let reason = "screened out by the surrogate: predicted proxy accuracy " + String(format: "%.4f", predictions[k])
                + ", rank \(rank[k]!) of \(acceptedAt.count) valid proposals by predicted \(criterion.rawValue); the best \(keep) were trained "
                + "(boosted trees fitted on \(archive.scored.count) trained candidates)"
            out[i] = .rejected(a.proposal, Rejection(kind: .screened, reason: reason, hash: a.hash, proposer: a.proposal.proposer,
                                                     iteration: iteration, spec: a.spec, cost: CostSummary(a.cost)))
        }
        return out
    }
}
