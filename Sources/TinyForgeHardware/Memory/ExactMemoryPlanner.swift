/// Exact branch-and-bound for small instances, so tests (and small networks) can see the true
/// optimum instead of trusting a heuristic.
///
/// Why searching over *orders* is enough: take any optimal placement S and place its buffers
/// in increasing (offset, index) order, each at the lowest offset where it fits next to the
/// already placed, time-overlapping ones. By induction every buffer lands at or below its
/// offset in S (every earlier, time-overlapping buffer ends at or below it there, and lowering
/// them keeps that true), so the result P is no larger than S. Repeating with P's order only
/// lowers offsets, so it reaches a fixed point: an optimal placement that this "lowest fit in
/// (offset, index) order" procedure reproduces exactly. Hence it suffices to enumerate orders
/// whose lowest-fit offsets come out non-decreasing in (offset, index) — a small fraction of
/// all n! orders — and the placed list is then automatically sorted by offset.
///
/// Pruning: a buffer not yet placed can only end up higher than its lowest fit among the
/// buffers placed so far (more obstacles never lower it) and not below the last offset, so
/// `arena ≥ max over unplaced b of max(lowestFit(b), lastOffset) + size(b)`; nodes whose bound
/// reaches the incumbent are cut, and the search stops as soon as it hits `lowerBound`.

extension PlanningProblem {
    /// Result of `exactSearch`: offsets (index = request order) of the best plan found that
    /// beats `incumbent`, or nil; `completed` is false when the node budget ran out.
    struct ExactResult {
        var offsets: [Int]?
        var arena: Int
        var completed: Bool
    }

    /// Searches for a plan with arena < `incumbent`. Zero-size buffers are left at offset 0.
    func exactSearch(incumbent: Int, nodeLimit: Int) -> ExactResult {
        let items = (0..<count).filter { sizes[$0] > 0 }
        var search = ExactSearch(problem: self, items: items, best: incumbent, nodeLimit: nodeLimit)
        search.run()
        var result = ExactResult(offsets: nil, arena: search.best, completed: !search.aborted)
        if let found = search.bestOffsets {
            var offsets = [Int](repeating: 0, count: count)
            for (k, i) in items.enumerated() { offsets[i] = found[k] }
            result.offsets = offsets
        }
        return result
    }
}

/// Depth-first search state. Indices here are positions in `items` (non-zero buffers).
private struct ExactSearch {
    let size: [Int], first: [Int], last: [Int]
    let lowerBound: Int
    let nodeLimit: Int
    var best: Int
    var bestOffsets: [Int]?
    var nodes = 0
    var aborted = false
    // Current partial placement.
    var offsets: [Int]
    var used: [Bool]
    var sequence: [Int]
    /// Lowest fits of the unplaced buffers, one row of n per depth (no allocation per node).
    var fits: [Int]

    init(problem: PlanningProblem, items: [Int], best: Int, nodeLimit: Int) {
        size = items.map { problem.sizes[$0] }
        first = items.map { problem.first[$0] }
        last = items.map { problem.last[$0] }
        lowerBound = problem.lowerBound
        self.nodeLimit = nodeLimit
        self.best = best
        offsets = [Int](repeating: 0, count: items.count)
        used = [Bool](repeating: false, count: items.count)
        sequence = []
        fits = [Int](repeating: 0, count: items.count * (items.count + 1))
        sequence.reserveCapacity(items.count)
    }

    mutating func run() {
        if size.isEmpty {
            if 0 < best { best = 0; bestOffsets = [] }
            return
        }
        descend(lastOffset: 0, lastIndex: -1, arena: 0)
    }

    /// Lowest offset where `b` fits below/between the placed, time-overlapping buffers
    /// (`sequence` is sorted by offset, see the file comment).
    func lowestFit(_ b: Int) -> Int {
        let s = size[b], f = first[b], l = last[b]
        var candidate = 0
        for e in sequence where first[e] <= l && f <= last[e] {
            if offsets[e] - candidate >= s { return candidate }
            candidate = max(candidate, offsets[e] + size[e])
        }
        return candidate
    }

    var finished: Bool { aborted || best <= lowerBound }

    mutating func descend(lastOffset: Int, lastIndex: Int, arena: Int) {
        if sequence.count == size.count {
            if arena < best { best = arena; bestOffsets = offsets }
            return
        }
        nodes += 1
        if nodes > nodeLimit { aborted = true; return }
        // Bound: an unplaced buffer b ends at or above max(lowestFit(b), lastOffset) + size,
        // because later placements only add obstacles (its lowest fit can only rise) and
        // canonical offsets never go below `lastOffset`.
        let n = size.count
        let row = sequence.count * n  // this depth's slice of `fits`
        var bound = arena
        for b in 0..<n where !used[b] {
            let p = lowestFit(b)
            fits[row + b] = p
            bound = max(bound, max(p, lastOffset) + size[b])
        }
        if bound >= best { return }
        for b in 0..<n where !used[b] {
            let p = fits[row + b]
            if p < lastOffset || (p == lastOffset && b < lastIndex) { continue }  // not canonical
            used[b] = true; offsets[b] = p; sequence.append(b)
            descend(lastOffset: p, lastIndex: b, arena: max(arena, p + size[b]))
            sequence.removeLast(); used[b] = false
            if finished { return }
        }
    }
}
