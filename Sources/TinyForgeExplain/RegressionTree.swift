import TinyForgeSpec

/// A CART regression tree (squared error), stored as flat arrays so TreeSHAP can walk it by
/// index. Every node keeps its training mean (`value`) and how many training rows reached it
/// (`cover`): TreeSHAP's expectations weight the children by cover.
public struct RegressionTree: Sendable, Equatable {
    /// Split feature per node; -1 = leaf.
    public var feature: [Int] = []
    /// Rows with x[feature] <= threshold go left.
    public var threshold: [Double] = []
    public var left: [Int] = []
    public var right: [Int] = []
    public var value: [Double] = []
    public var cover: [Double] = []

    public var nodeCount: Int { feature.count }

    public func isLeaf(_ n: Int) -> Bool { feature[n] < 0 }

    public func predict(_ x: [Double]) -> Double {
        var n = 0
        while feature[n] >= 0 { n = x[feature[n]] <= threshold[n] ? left[n] : right[n] }
        return value[n]
    }

    /// Cover-weighted mean of the leaves: E[f(X)] over the training rows the tree saw.
    public var expectedValue: Double {
        var s = 0.0
        for n in 0..<nodeCount where isLeaf(n) { s += value[n] * cover[n] }
        return s / cover[0]
    }

    /// Scales every node value (boosting stores leaves already multiplied by the learning rate).
    mutating func scale(by k: Double) { for i in value.indices { value[i] *= k } }

    /// Fits on `rows` of `x` (x[row][feature]) to `y`. Splits need `minLeaf` rows each side
    /// and a strict decrease of squared error; thresholds are midpoints between adjacent
    /// distinct values of the feature.
    public static func fit(x: [[Double]], y: [Double], rows: [Int], maxDepth: Int, minLeaf: Int) -> RegressionTree {
        fit(binned: BinnedFeatures(x), y: y, rows: rows, maxDepth: maxDepth, minLeaf: minLeaf)
    }

    /// Split search on pre-binned columns: per node one pass over its rows per feature
    /// (sums and counts per distinct value), no sorting. Same partitions as sorting would find.
    static func fit(binned b: BinnedFeatures, y: [Double], rows: [Int], maxDepth: Int, minLeaf: Int) -> RegressionTree {
        var t = RegressionTree()
        var sum = [Double](), cnt = [Int]()
        func grow(_ rows: [Int], depth: Int) -> Int {
            let id = t.feature.count
            var total = 0.0
            for r in rows { total += y[r] }
            t.feature.append(-1); t.threshold.append(0); t.left.append(-1); t.right.append(-1)
            t.value.append(total / Double(max(rows.count, 1))); t.cover.append(Double(rows.count))
            guard depth < maxDepth, rows.count >= 2 * minLeaf else { return id }
            var best: (gain: Double, f: Int, bin: Int) = (1e-12, -1, 0)
            let n = Double(rows.count)
            for f in 0..<b.values.count {
                let nb = b.values[f].count
                sum.removeAll(keepingCapacity: true); sum.append(contentsOf: repeatElement(0, count: nb))
                cnt.removeAll(keepingCapacity: true); cnt.append(contentsOf: repeatElement(0, count: nb))
                let col = b.bins[f]
                for r in rows { sum[col[r]] += y[r]; cnt[col[r]] += 1 }
                var sumL = 0.0, nl = 0
                for k in 0..<(nb - 1) {
                    sumL += sum[k]; nl += cnt[k]
                    guard nl >= minLeaf, rows.count - nl >= minLeaf else { continue }
                    if nl == rows.count { break }
                    let nr = n - Double(nl), sumR = total - sumL
                    let gain = sumL * sumL / Double(nl) + sumR * sumR / nr - total * total / n
                    if gain > best.gain { best = (gain, f, k) }
                }
            }
            guard best.f >= 0 else { return id }
            // Threshold between this bin's value and the next value present in the node.
            let col = b.bins[best.f]
            var nextBin = Int.max
            for r in rows where col[r] > best.bin { nextBin = min(nextBin, col[r]) }
            let thr = (b.values[best.f][best.bin] + b.values[best.f][nextBin]) / 2
            var l: [Int] = [], r: [Int] = []
            for i in rows { if col[i] <= best.bin { l.append(i) } else { r.append(i) } }
            t.feature[id] = best.f; t.threshold[id] = thr
            let li = grow(l, depth: depth + 1)
            let ri = grow(r, depth: depth + 1)
            t.left[id] = li; t.right[id] = ri
            return id
        }
        _ = grow(rows, depth: 0)
        return t
    }
}

/// Columns as indices into their sorted distinct values (NAS features have few values).
struct BinnedFeatures {
    /// values[feature] = sorted distinct values.
    var values: [[Double]]
    /// bins[feature][row] = index into values[feature].
    var bins: [[Int]]

    init(_ x: [[Double]]) {
        let m = x.first?.count ?? 0
        values = []; bins = []
        for f in 0..<m {
            let v = Array(Set(x.map { $0[f] })).sorted()
            let index = Dictionary(uniqueKeysWithValues: v.enumerated().map { ($1, $0) })
            values.append(v)
            bins.append(x.map { index[$0[f]]! })
        }
    }
}

/// Gradient-boosted regression trees (squared loss): start from the mean, fit each tree to
/// the residuals on a seeded row subsample, add it scaled by the learning rate.
public struct BoostedTrees: Sendable, Equatable {
    public struct Config: Sendable, Equatable {
        public var trees: Int
        public var maxDepth: Int
        public var learningRate: Double
        public var minLeaf: Int
        /// Fraction of rows each tree sees (1 = all; then `expectedValue` is exactly the mean
        /// training prediction).
        public var subsample: Double
        public var seed: UInt64

        public init(trees: Int = 150, maxDepth: Int = 3, learningRate: Double = 0.1, minLeaf: Int = 3,
                    subsample: Double = 0.8, seed: UInt64 = 1) {
            self.trees = trees; self.maxDepth = maxDepth; self.learningRate = learningRate
            self.minLeaf = minLeaf; self.subsample = subsample; self.seed = seed
        }
    }

    public var base: Double
    public var trees: [RegressionTree]
    public var featureCount: Int

    public func predict(_ x: [Double]) -> Double { trees.reduce(base) { $0 + $1.predict(x) } }

    /// E[f(X)] under the trees' own cover weights: what SHAP values are measured from.
    public var expectedValue: Double { trees.reduce(base) { $0 + $1.expectedValue } }

    public static func fit(x: [[Double]], y: [Double], config c: Config) -> BoostedTrees {
        var rng = SeededGenerator(seed: c.seed)
        let n = y.count
        let base = y.reduce(0, +) / Double(max(n, 1))
        var pred = [Double](repeating: base, count: n)
        var trees: [RegressionTree] = []
        let binned = BinnedFeatures(x)
        let take = max(min(n, 2 * c.minLeaf), Int((Double(n) * c.subsample).rounded()))
        for _ in 0..<c.trees {
            let resid = (0..<n).map { y[$0] - pred[$0] }
            var rows = Array(0..<n)
            if take < n {
                for i in 0..<take { rows.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
                rows = Array(rows[0..<take]).sorted()
            }
            var t = RegressionTree.fit(binned: binned, y: resid, rows: rows, maxDepth: c.maxDepth, minLeaf: c.minLeaf)
            t.scale(by: c.learningRate)
            for i in 0..<n { pred[i] += t.predict(x[i]) }
            trees.append(t)
        }
        return BoostedTrees(base: base, trees: trees, featureCount: x.first?.count ?? 0)
    }
}
