/// Every evaluated candidate of a run, its Pareto front and the front's hypervolume, updated
/// after every evaluation. Objectives and normalisation: see `ObjectiveSpace`.
public struct ParetoArchive: Sendable {
    public let objectiveSpace: ObjectiveSpace
    /// All evaluated candidates, failed ones included, in proposal order (by id).
    public private(set) var evaluated: [EvaluatedCandidate] = []
    /// Ids of the non-dominated scored candidates, ascending.
    public private(set) var frontIDs: [Int64] = []
    /// Hypervolume of the front in the normalised unit box (reference point 1, …, 1).
    public private(set) var hypervolume: Double = 0
    private var frontPoints: [Int64: [Double]] = [:]

    public init(objectiveSpace: ObjectiveSpace) { self.objectiveSpace = objectiveSpace }

    public var front: [EvaluatedCandidate] {
        let ids = Set(frontIDs)
        return evaluated.filter { ids.contains($0.id) }
    }

    /// Evaluated candidates with a score (ok or diverged), in proposal order.
    public var scored: [EvaluatedCandidate] { evaluated.filter { $0.accuracy != nil } }

    public var best: EvaluatedCandidate? {
        scored.max { ($0.accuracy!, -$0.id) < ($1.accuracy!, -$1.id) }
    }

    /// Adds one evaluation; updates front and hypervolume (the front changes only when the new
    /// point is not dominated, so the common case costs one pass over the front).
    ///
    /// Successive halving: a higher-rung result of a candidate already here REPLACES its entry
    /// (each candidate counts once, with its highest scored rung), unless it failed, in which case
    /// the lower rung's score stands. Replacing a front member rebuilds the front from every
    /// scored candidate, since a lower new score can uncover points the old one dominated.
    public mutating func add(_ c: EvaluatedCandidate) {
        if let i = evaluated.firstIndex(where: { $0.id == c.id }) {
            guard c.rung >= evaluated[i].rung, c.accuracy != nil || evaluated[i].accuracy == nil else { return }
            evaluated[i] = c
            if frontPoints[c.id] != nil { return rebuildFront() }
        } else {
            let at = evaluated.firstIndex { $0.id > c.id } ?? evaluated.endIndex
            evaluated.insert(c, at: at)
        }
        guard let p = objectiveSpace.point(c) else { return }
        if frontPoints.values.contains(where: { Pareto.dominates($0, p) }) { return }
        for (id, q) in frontPoints where Pareto.dominates(p, q) { frontPoints[id] = nil }
        frontPoints[c.id] = p
        frontIDs = frontPoints.keys.sorted()
        hypervolume = Hypervolume.exact(frontIDs.map { frontPoints[$0]! }, reference: objectiveSpace.reference)
    }

    /// The front as the non-dominated set of all scored candidates (equal to what incremental
    /// `add`s give, since dominance is transitive).
    private mutating func rebuildFront() {
        let pts = evaluated.compactMap { c in objectiveSpace.point(c).map { (c.id, $0) } }
        frontPoints = [:]
        for (id, p) in pts where !pts.contains(where: { Pareto.dominates($0.1, p) }) { frontPoints[id] = p }
        frontIDs = frontPoints.keys.sorted()
        hypervolume = Hypervolume.exact(frontIDs.map { frontPoints[$0]! }, reference: objectiveSpace.reference)
    }

    public func point(_ c: EvaluatedCandidate) -> [Double]? { objectiveSpace.point(c) }

    /// Non-dominated rank (0 = front) and crowding distance of each given candidate, computed
    /// among the given ones only (e.g. an evolution population). Unscored ones get rank Int.max.
    public func rankAndCrowding(_ cs: [EvaluatedCandidate]) -> [(rank: Int, crowding: Double)] {
        var out = Array(repeating: (rank: Int.max, crowding: 0.0), count: cs.count)
        let idx = cs.indices.filter { cs[$0].accuracy != nil }
        let pts = idx.map { objectiveSpace.point(cs[$0])! }
        for (r, front) in Pareto.nonDominatedSort(pts).enumerated() {
            let cd = Pareto.crowdingDistance(pts, front: front)
            for (k, i) in front.enumerated() { out[idx[i]] = (r, cd[k]) }
        }
        return out
    }
}
