/// Which Pareto-front members `tinyforge finish` trains fully.
///
/// Proxy training ranks candidates cheaply but noisily, and one front is a menu of trade-offs:
/// finishing only the K most accurate members tends to pick K near-identical large networks.
/// The default therefore spreads the budget of full trainings along the front.
public enum FinishRule: String, CaseIterable, Sendable {
    /// The most accurate member first; then, repeatedly, the member farthest from everything
    /// already picked in normalised cost space (each cost objective of the run divided by its
    /// budget limit, Euclidean distance, max–min). Ties: higher score, then earlier proposal.
    case spread
    /// The K members with the highest search score. Ties: earlier proposal.
    case accuracy
    /// The K members closest to the ideal point after min–max normalising every objective over
    /// the front (0 = best value on the front): the balanced trade-offs, where giving up a little
    /// of one objective buys a lot of another. Ties: higher score, then earlier proposal.
    case knee

    public static func parse(_ text: String, field: String = "--select") throws -> FinishRule {
        guard let r = FinishRule(rawValue: text.lowercased()) else {
            throw SearchError(field, "\"\(text)\" is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return r
    }
}

public enum FinishSelection {
    /// Picks up to `k` scored members of `front` by `rule`, in pick order (deterministic).
    public static func select(_ front: [EvaluatedCandidate], k: Int, rule: FinishRule, space: ObjectiveSpace) -> [EvaluatedCandidate] {
        let byScore = front.filter { $0.accuracy != nil }.sorted { ($0.accuracy!, -$0.id) > ($1.accuracy!, -$1.id) }
        guard k > 0, !byScore.isEmpty else { return [] }
        switch rule {
        case .accuracy:
            return Array(byScore.prefix(k))
        case .knee:
            let pts = byScore.map { space.point($0)! }
            let d = pts[0].indices
            let lo = d.map { j in pts.map { $0[j] }.min()! }, hi = d.map { j in pts.map { $0[j] }.max()! }
            let dist = pts.map { p in
                d.map { j in hi[j] > lo[j] ? (p[j] - lo[j]) / (hi[j] - lo[j]) : 0 }.reduce(0) { $0 + $1 * $1 }
            }
            // Stable sort on distance keeps the score order among ties.
            let order = byScore.indices.sorted { (dist[$0], $0) < (dist[$1], $1) }
            return order.prefix(k).map { byScore[$0] }
        case .spread:
            let costs = byScore.map { costPoint($0, space) }
            var picked = [0]
            var minDist = costs.map { squaredDistance($0, costs[0]) }
            while picked.count < min(k, byScore.count) {
                // First index with the largest distance: score order breaks ties.
                var best = -1
                for i in byScore.indices where !picked.contains(i) && (best < 0 || minDist[i] > minDist[best]) { best = i }
                picked.append(best)
                for i in byScore.indices { minDist[i] = min(minDist[i], squaredDistance(costs[i], costs[best])) }
            }
            return picked.map { byScore[$0] }
        }
    }

    /// The run's cost objectives normalised by their budget limits (as in the hypervolume box).
    /// A run has ≥ 2 objectives, so there is at least one cost coordinate.
    static func costPoint(_ c: EvaluatedCandidate, _ space: ObjectiveSpace) -> [Double] {
        let costs = space.objectives.filter { $0 != .accuracy }
        let all = space.point(accuracy: c.accuracy ?? 0, cost: c.cost)
        return zip(space.objectives, all).filter { costs.contains($0.0) }.map(\.1)
    }

    static func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }
}
