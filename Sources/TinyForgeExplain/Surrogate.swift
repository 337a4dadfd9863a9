import TinyForgeSpec

/// Mean |SHAP| of one feature (or one design-choice group) over the rows it was fitted on.
public struct FeatureImportance: Sendable, Equatable {
    public var feature: String
    public var group: String
    public var meanAbsSHAP: Double
}

/// Average model output when one feature is set to each value of a grid (other features as
/// observed): the marginal effect of that design choice as the surrogate sees it.
public struct PartialDependence: Sendable, Equatable {
    public var feature: String
    public var grid: [Double]
    public var labels: [String]
    public var values: [Double]
}

/// A boosted-tree surrogate from architecture features to one measured quantity, with its
/// cross-validated accuracy (so the reader knows how far to trust the attributions), exact
/// TreeSHAP attributions and partial dependence of the most important features.
public struct SurrogateAnalysis: Sendable, Equatable {
    public var target: String
    public var samples: Int
    public var features: FeatureTable
    public var model: BoostedTrees
    /// k-fold out-of-fold R² (1 − SSE/SST of pooled held-out predictions); nil when there are
    /// too few rows for `folds` folds.
    public var cvR2: Double?
    public var cvRMSE: Double?
    public var folds: Int
    public var expectedValue: Double
    /// Per feature, largest first.
    public var importance: [FeatureImportance]
    /// Per design choice (kernel, expansion, ...; summed over stages before |·|), largest first.
    public var groupImportance: [FeatureImportance]
    public var partialDependence: [PartialDependence]
    /// SHAP values per row (rows of `features`), φ[row][feature].
    public var shap: [[Double]]
    /// For each row of `features`, its index in the table passed to `fit` (the rows with a
    /// target value), so a candidate's own attributions can be found.
    public var sourceRows: [Int]

    public struct Config: Sendable, Equatable {
        public var boosting: BoostedTrees.Config
        public var folds: Int
        /// Partial dependence is computed for this many top features.
        public var partialDependenceTop: Int
        public var minSamples: Int
        public init(boosting: BoostedTrees.Config = .init(), folds: Int = 5, partialDependenceTop: Int = 6, minSamples: Int = 10) {
            self.boosting = boosting; self.folds = folds; self.partialDependenceTop = partialDependenceTop
            self.minSamples = minSamples
        }
    }

    /// Fits on the rows whose `y` is non-nil. Columns named in `exclude` (e.g. "macs" when
    /// the target is MACs) and constant columns are dropped first.
    public static func fit(target: String, table: FeatureTable, y: [Double?], exclude: Set<String> = [],
                           config: Config = .init()) throws -> SurrogateAnalysis {
        let idx = y.indices.filter { y[$0] != nil }
        guard idx.count >= config.minSamples else {
            throw ExplainError.tooFewSamples(target: target, have: idx.count, need: config.minSamples)
        }
        if let bad = idx.first(where: { !y[$0]!.isFinite }) { throw ExplainError.nonFiniteTarget(target: target, row: bad) }
        var t = FeatureTable(names: table.names, groups: table.groups, categories: table.categories, rows: idx.map { table.rows[$0] })
        t = t.selecting(t.varyingColumns.filter { !exclude.contains(t.names[$0]) })
        let ys = idx.map { y[$0]! }
        let model = BoostedTrees.fit(x: t.rows, y: ys, config: config.boosting)
        let (r2, rmse) = crossValidate(x: t.rows, y: ys, config: config)
        let shap = t.rows.map { TreeSHAP.values(model, x: $0) }
        let m = Double(t.rows.count)
        var imp = t.names.indices.map { j in
            FeatureImportance(feature: t.names[j], group: t.groups[j], meanAbsSHAP: shap.reduce(0) { $0 + abs($1[j]) } / m)
        }
        imp.sort { $0.meanAbsSHAP > $1.meanAbsSHAP }
        var groupOrder: [String] = []
        for g in t.groups where !groupOrder.contains(g) { groupOrder.append(g) }
        var gimp = groupOrder.map { g in
            let cols = t.groups.indices.filter { t.groups[$0] == g }
            let v = shap.reduce(0.0) { acc, row in acc + abs(cols.reduce(0.0) { $0 + row[$1] }) } / m
            return FeatureImportance(feature: g, group: g, meanAbsSHAP: v)
        }
        gimp.sort { $0.meanAbsSHAP > $1.meanAbsSHAP }
        let pd = imp.prefix(config.partialDependenceTop).map { fi -> PartialDependence in
            partialDependence(model: model, table: t, feature: t.names.firstIndex(of: fi.feature)!)
        }
        return SurrogateAnalysis(target: target, samples: ys.count, features: t, model: model, cvR2: r2, cvRMSE: rmse,
                                 folds: config.folds, expectedValue: model.expectedValue, importance: imp,
                                 groupImportance: gimp, partialDependence: pd, shap: shap, sourceRows: idx)
    }

    /// The attributions of source row `row` (largest |SHAP| first), nil when that row had no
    /// target value. Their sum plus `expectedValue` is the surrogate's prediction for the row.
    public func attributions(sourceRow row: Int) -> [(feature: String, value: String, shap: Double)]? {
        guard let r = sourceRows.firstIndex(of: row) else { return nil }
        return features.names.indices
            .map { (features.names[$0], features.label($0, features.rows[r][$0]), shap[r][$0]) }
            .sorted { abs($0.2) > abs($1.2) }
    }

    /// Seeded k-fold: shuffle rows, fit on k−1 folds, predict the held-out one, pool.
    static func crossValidate(x: [[Double]], y: [Double], config: Config) -> (Double?, Double?) {
        let n = y.count, k = config.folds
        guard k >= 2, n >= 2 * k else { return (nil, nil) }
        var rng = SeededGenerator(seed: config.boosting.seed, stream: 77)
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var pred = [Double](repeating: 0, count: n)
        for f in 0..<k {
            let test = order.enumerated().filter { $0.offset % k == f }.map(\.element)
            let testSet = Set(test)
            let train = (0..<n).filter { !testSet.contains($0) }
            let m = BoostedTrees.fit(x: train.map { x[$0] }, y: train.map { y[$0] }, config: config.boosting)
            for i in test { pred[i] = m.predict(x[i]) }
        }
        let mean = y.reduce(0, +) / Double(n)
        let sse = (0..<n).reduce(0.0) { $0 + (y[$1] - pred[$1]) * (y[$1] - pred[$1]) }
        let sst = y.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) }
        return (sst > 0 ? 1 - sse / sst : nil, (sse / Double(n)).squareRoot())
    }

    /// Grid = the observed distinct values (at most 12, else evenly spaced quantiles).
    public static func partialDependence(model: BoostedTrees, table: FeatureTable, feature j: Int) -> PartialDependence {
        var grid = Array(Set(table.rows.map { $0[j] })).sorted()
        if grid.count > 12 { grid = (0..<12).map { grid[Int((Double($0) / 11 * Double(grid.count - 1)).rounded())] } }
        let values = grid.map { v in
            table.rows.reduce(0.0) { acc, r in var r = r; r[j] = v; return acc + model.predict(r) } / Double(table.rows.count)
        }
        return PartialDependence(feature: table.names[j], grid: grid, labels: grid.map { table.label(j, $0) }, values: values)
    }

    public var jsonValue: JSONValue {
        ["target": .string(target), "samples": num(samples), "folds": num(folds), "cv_r2": opt(cvR2), "cv_rmse": opt(cvRMSE),
         "expected_value": num(expectedValue), "trees": num(model.trees.count),
         "importance": .array(importance.map { ["feature": .string($0.feature), "group": .string($0.group), "mean_abs_shap": num($0.meanAbsSHAP)] }),
         "group_importance": .array(groupImportance.map { ["group": .string($0.group), "mean_abs_shap": num($0.meanAbsSHAP)] }),
         "partial_dependence": .array(partialDependence.map { p in
             ["feature": .string(p.feature), "grid": .array(p.grid.map(num)), "labels": .array(p.labels.map { .string($0) }),
              "values": .array(p.values.map(num))] })]
    }
}
