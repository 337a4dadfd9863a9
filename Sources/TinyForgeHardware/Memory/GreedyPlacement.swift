/// The greedy placement kernel shared by TFLM's planner and our variants, and the buffer
/// orderings it is run with. Hot path: `MemoryPlanner.plan` runs it ~11 times per call and
/// the search calls `plan` on every proposal, so it works on raw buffers, allocates nothing
/// per buffer, and abandons a pass as soon as it cannot beat the best arena found so far.

extension PlanningProblem {
    /// Buffer indices in the order TFLM's `GreedyMemoryPlanner` places them.
    ///
    /// TFLM copies online buffers into its sort array from the tail (request 0 ends up last),
    /// then runs a stable bubble sort by size, descending. Net effect: size descending, and
    /// among equal sizes the *later* request first.
    func tflmOrder() -> [Int] {
        (0..<count).sorted { a, b in
            sizes[a] != sizes[b] ? sizes[a] > sizes[b] : a > b
        }
    }

    /// Buffer indices in `ordering`; remaining ties go to the earlier request.
    func order(_ ordering: BufferOrdering) -> [Int] {
        let life = (0..<count).map { last[$0] - first[$0] + 1 }
        func keys(_ i: Int) -> (Int, Int, Int) {
            switch ordering {
            case .sizeDescending: return (-sizes[i], -life[i], first[i])
            case .lifetimeDescending: return (-life[i], -sizes[i], first[i])
            case .areaDescending: return (-sizes[i] * life[i], -sizes[i], first[i])
            case .firstUse: return (first[i], -sizes[i], -life[i])
            case .pressureDescending: return (-pressure[i], -sizes[i], -life[i])
            }
        }
        let k = (0..<count).map(keys)
        return (0..<count).sorted { a, b in
            k[a] != k[b] ? k[a] < k[b] : a < b
        }
    }

    /// Places the buffers of `order` one by one; returns the arena size, or nil as soon as
    /// the arena reaches `abandonAt` (the pass can no longer beat the incumbent).
    ///
    /// Placed buffers are kept in a list sorted by offset (equal offsets: earlier placed
    /// first, as in TFLM). For the next buffer, the list is walked keeping only buffers whose
    /// lifetime overlaps; `candidate` is the end of the highest such buffer seen so far and
    /// `next.offset - candidate` is the free gap below `next`.
    /// - firstFit: the first gap that fits wins (TFLM), else the top of the overlapping ones.
    /// - bestFit: the smallest gap that fits wins (lowest offset on ties), else the top.
    /// Zero-size buffers go to offset 0 and are not listed: they never conflict (TFLM gives
    /// them offset 0 as well, and they never change its gap walk).
    ///
    /// - Parameters:
    ///   - offsets: is (count), written for every buffer of `order`.
    ///   - placed: is (count), scratch for the offset-sorted list.
    func greedyPlace(order: [Int], fit: GapFit, abandonAt: Int,
                     offsets: inout [Int], placed: inout [Int]) -> Int? {
        sizes.withUnsafeBufferPointer { size in
        first.withUnsafeBufferPointer { start in
        last.withUnsafeBufferPointer { end in
        offsets.withUnsafeMutableBufferPointer { off in
        placed.withUnsafeMutableBufferPointer { list in
            var listed = 0
            var arena = 0
            for b in order {
                let s = size[b], f = start[b], l = end[b]
                if s == 0 { off[b] = 0; continue }
                var candidate = 0
                var position = -1
                var bestGap = Int.max
                var k = 0
                while k < listed {
                    let e = list[k]
                    k += 1
                    if start[e] > l || f > end[e] { continue }  // not alive together
                    let o = off[e]
                    let gap = o - candidate
                    if gap >= s {
                        if fit == .firstFit { position = candidate; break }
                        if gap < bestGap {
                            bestGap = gap; position = candidate
                            if gap == s { break }  // exact fit: nothing lower can be tighter
                        }
                    }
                    let top = o + size[e]
                    if top > candidate { candidate = top }
                }
                if position < 0 { position = candidate }
                off[b] = position
                let top = position + s
                if top > arena {
                    arena = top
                    if arena >= abandonAt { return nil }
                }
                Self.insertByOffset(b, at: position, into: list, count: &listed, offsets: off)
            }
            return arena
        }}}}}
    }

    /// Places the buffers of `order` under a fixed ceiling: every buffer must fit inside
    /// `[0, ceiling)`. Returns the arena used (≤ ceiling), or nil when some buffer finds no
    /// room — then the ceiling was too low *for this order*; a higher one may still fail or
    /// succeed (not monotone), so callers probe a few ceilings.
    ///
    /// Gaps are the free intervals between time-overlapping placed buffers, the topmost one
    /// reaching the ceiling. The smallest gap that fits wins (lowest on ties); inside it the
    /// buffer goes flush to the ceiling if the gap touches the ceiling, else flush to the
    /// gap's bottom. Knowing the ceiling is what lets buffers pack from both ends: in a chain
    /// x0 → x1 → x2 … in first-use order, x0 goes to the top, x1 to the bottom, x2 to the
    /// top again, so any ceiling ≥ the largest adjacent pair succeeds. Lowest-offset placement
    /// (first or best fit) cannot do that and can lose badly on chains.
    func ceilingPlace(order: [Int], ceiling: Int,
                      offsets: inout [Int], placed: inout [Int]) -> Int? {
        sizes.withUnsafeBufferPointer { size in
        first.withUnsafeBufferPointer { start in
        last.withUnsafeBufferPointer { end in
        offsets.withUnsafeMutableBufferPointer { off in
        placed.withUnsafeMutableBufferPointer { list in
            var listed = 0
            var arena = 0
            for b in order {
                let s = size[b], f = start[b], l = end[b]
                if s == 0 { off[b] = 0; continue }
                if s > ceiling { return nil }
                var candidate = 0
                var position = -1
                var bestGap = Int.max
                var k = 0
                while k < listed {
                    let e = list[k]
                    k += 1
                    if start[e] > l || f > end[e] { continue }
                    let o = off[e]
                    let gap = o - candidate
                    if gap >= s && gap < bestGap { bestGap = gap; position = candidate }
                    let top = o + size[e]
                    if top > candidate { candidate = top }
                }
                let topGap = ceiling - candidate
                if topGap >= s && topGap < bestGap { position = ceiling - s }
                if position < 0 { return nil }
                off[b] = position
                arena = max(arena, position + s)
                Self.insertByOffset(b, at: position, into: list, count: &listed, offsets: off)
            }
            return arena
        }}}}}
    }

    /// Adds buffer `b` (placed at `position`) to the offset-sorted `list` of `count` buffers,
    /// after every listed buffer with offset ≤ position (upper bound), so equal offsets keep
    /// their placement order — both placement walks depend on that order.
    @inline(__always)
    static func insertByOffset(_ b: Int, at position: Int, into list: UnsafeMutableBufferPointer<Int>, count: inout Int,
                               offsets off: UnsafeMutableBufferPointer<Int>) {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if off[list[mid]] <= position { lo = mid + 1 } else { hi = mid }
        }
        var j = count
        while j > lo { list[j] = list[j - 1]; j -= 1 }
        list[lo] = b
        count += 1
    }
}
