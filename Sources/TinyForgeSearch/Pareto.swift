/// Non-dominated sorting and crowding distance (Deb et al., NSGA-II, 2002) over points where
/// every coordinate is minimised.
public enum Pareto {
    /// `a` dominates `b`: no worse in every coordinate, strictly better in one.
    @inline(__always)
    public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        var better = false
        for i in a.indices {
            if a[i] > b[i] { return false }
            if a[i] < b[i] { better = true }
        }
        return better
    }

    /// Fronts of indices into `points`: front 0 is non-dominated, front 1 is non-dominated once
    /// front 0 is removed, and so on. O(M·N²): each pair compared once.
    public static func nonDominatedSort(_ points: [[Double]]) -> [[Int]] {
        let n = points.count
        var dominatedBy = [Int](repeating: 0, count: n)      // how many points dominate i
        var dominates = [[Int]](repeating: [], count: n)     // the points i dominates
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                if Pareto.dominates(points[i], points[j]) {
                    dominates[i].append(j); dominatedBy[j] += 1
                } else if Pareto.dominates(points[j], points[i]) {
                    dominates[j].append(i); dominatedBy[i] += 1
                }
            }
        }
        var fronts: [[Int]] = []
        var current = (0..<n).filter { dominatedBy[$0] == 0 }
        while !current.isEmpty {
            fronts.append(current)
            var next: [Int] = []
            for i in current {
                for j in dominates[i] {
                    dominatedBy[j] -= 1
                    if dominatedBy[j] == 0 { next.append(j) }
                }
            }
            current = next.sorted()
        }
        return fronts
    }

    /// Reference twin of front 0: the points no other point dominates (O(N²), obviously right).
    public static func nonDominatedNaive(_ points: [[Double]]) -> [Int] {
        points.indices.filter { i in !points.indices.contains { j in j != i && dominates(points[j], points[i]) } }
    }

    /// Crowding distance of each member of `front` (same order): per objective, the normalised
    /// gap between its two neighbours; boundary points get +∞ so they are always kept.
    public static func crowdingDistance(_ points: [[Double]], front: [Int]) -> [Double] {
        let n = front.count
        guard n > 2 else { return Array(repeating: .infinity, count: n) }
        var dist = [Double](repeating: 0, count: n)
        for m in points[front[0]].indices {
            let order = (0..<n).sorted { points[front[$0]][m] < points[front[$1]][m] }
            let lo = points[front[order[0]]][m], hi = points[front[order[n - 1]]][m]
            dist[order[0]] = .infinity; dist[order[n - 1]] = .infinity
            guard hi > lo else { continue }
            for k in 1..<(n - 1) {
                dist[order[k]] += (points[front[order[k + 1]]][m] - points[front[order[k - 1]]][m]) / (hi - lo)
            }
        }
        return dist
    }

    /// NSGA-II environmental selection: `count` indices filled front by front, the last front
    /// cut by descending crowding distance. Returns (index, rank, crowding) triples.
    public static func select(_ points: [[Double]], count: Int) -> [(index: Int, rank: Int, crowding: Double)] {
        var out: [(Int, Int, Double)] = []
        for (rank, front) in nonDominatedSort(points).enumerated() {
            let cd = crowdingDistance(points, front: front)
            let ranked = front.indices.sorted { cd[$0] != cd[$1] ? cd[$0] > cd[$1] : front[$0] < front[$1] }
            for k in ranked {
                if out.count == count { return out }
                out.append((front[k], rank, cd[k]))
            }
        }
        return out
    }
}
