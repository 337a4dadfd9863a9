/// Hypervolume of a set of points (all coordinates minimised) with respect to a reference
/// point: the volume of the union of boxes [p, reference]. Points not strictly better than the
/// reference in every coordinate contribute nothing.
public enum Hypervolume {
    /// Exact, by slicing (HSO): sort by the last coordinate, and sum over the slabs between
    /// consecutive values the (d−1)-dimensional hypervolume of the points below the slab.
    /// 3-D is a sweep over z keeping the 2-D staircase sorted (O(n²)), 2-D a sort and sweep, so
    /// 4-D costs O(n³): measured (release, shared 2-core box) 0.16 / 1.2 / 4.2 / 27 ms for 4-D
    /// fronts of 50 / 150 / 300 / 500 points (plain slicing down to 2-D took 0.9 / 27 / 431 / 1744 ms).
    public static func exact(_ points: [[Double]], reference: [Double]) -> Double {
        let d = reference.count
        let inside = points.filter { p in p.count == d && zip(p, reference).allSatisfy { $0 < $1 } }
        return slice(inside, reference, d)
    }

    static func slice(_ pts: [[Double]], _ ref: [Double], _ d: Int) -> Double {
        if pts.isEmpty { return 0 }
        if d == 1 { return ref[0] - pts.map { $0[0] }.min()! }
        if d == 2 { return sweep2D(pts, ref) }
        if d == 3 { return sweep3D(pts, ref) }
        let sorted = pts.sorted { $0[d - 1] < $1[d - 1] }
        var volume = 0.0
        var below: [[Double]] = []
        for (i, p) in sorted.enumerated() {
            below.append(Array(p.prefix(d - 1)))
            let top = i + 1 < sorted.count ? sorted[i + 1][d - 1] : ref[d - 1]
            let depth = top - p[d - 1]
            if depth > 0 { volume += depth * slice(below, ref, d - 1) }
        }
        return volume
    }

    /// 2-D: in order of x, every point lower than all before it adds the strip [x, ref_x] × [y, best y].
    static func sweep2D(_ pts: [[Double]], _ ref: [Double]) -> Double {
        let sorted = pts.sorted { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }
        var best = ref[1], area = 0.0
        for p in sorted where p[1] < best {
            area += (ref[0] - p[0]) * (best - p[1])
            best = p[1]
        }
        return area
    }

    /// 3-D: in order of z, insert (x, y) into the 2-D non-dominated staircase (x ascending,
    /// y descending) and add staircase area × slab depth.
    static func sweep3D(_ pts: [[Double]], _ ref: [Double]) -> Double {
        let sorted = pts.sorted { $0[2] < $1[2] }
        var xs: [Double] = [], ys: [Double] = []   // the staircase
        xs.reserveCapacity(sorted.count); ys.reserveCapacity(sorted.count)
        var volume = 0.0, area = 0.0
        for (i, p) in sorted.enumerated() {
            let x = p[0], y = p[1]
            // First staircase index with xs > x; the point before it has the lowest y among xs ≤ x.
            var lo = 0, hi = xs.count
            while lo < hi { let m = (lo + hi) / 2; if xs[m] <= x { lo = m + 1 } else { hi = m } }
            let dominated = lo > 0 && ys[lo - 1] <= y
            if !dominated {
                var start = lo
                if start > 0 && xs[start - 1] == x { start -= 1 }   // same x, higher y: dominated by p
                var end = start
                while end < xs.count && ys[end] >= y { end += 1 }
                xs.replaceSubrange(start..<end, with: [x]); ys.replaceSubrange(start..<end, with: [y])
                area = 0
                for k in xs.indices { area += ((k + 1 < xs.count ? xs[k + 1] : ref[0]) - xs[k]) * (ref[1] - ys[k]) }
            }
            let top = i + 1 < sorted.count ? sorted[i + 1][2] : ref[2]
            volume += area * (top - p[2])
        }
        return volume
    }

    /// Reference twin: inclusion–exclusion over all non-empty subsets (the intersection of boxes
    /// [p, ref] is [max p, ref]). Exponential; for tests with ≤ 16 points only.
    public static func inclusionExclusion(_ points: [[Double]], reference: [Double]) -> Double {
        let n = points.count
        precondition(n <= 16, "inclusion–exclusion is exponential; use at most 16 points")
        var total = 0.0
        for mask in 1..<(1 << n) {
            var corner = Array(repeating: -Double.infinity, count: reference.count)
            var size = 0
            for i in 0..<n where mask & (1 << i) != 0 {
                size += 1
                for k in corner.indices { corner[k] = max(corner[k], points[i][k]) }
            }
            var vol = 1.0
            for k in corner.indices { vol *= max(0, reference[k] - corner[k]) }
            total += size % 2 == 1 ? vol : -vol
        }
        return total
    }

    /// Monte-Carlo estimate over the box [lower, reference] with `samples` uniform draws.
    public static func monteCarlo<G: RandomNumberGenerator>(_ points: [[Double]], reference: [Double], lower: [Double],
                                                            samples: Int, using rng: inout G) -> Double {
        var hits = 0
        var x = lower
        for _ in 0..<samples {
            for k in x.indices { x[k] = Double.random(in: lower[k]..<reference[k], using: &rng) }
            if points.contains(where: { p in zip(p, x).allSatisfy { $0 <= $1 } }) { hits += 1 }
        }
        var box = 1.0
        for k in lower.indices { box *= reference[k] - lower[k] }
        return box * Double(hits) / Double(samples)
    }
}
