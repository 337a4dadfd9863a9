import XCTest
import TinyForgeSpec
@testable import TinyForgeExplain

final class SurrogateTests: XCTestCase {
    /// Rows of `m` independent features uniform in {0, 1, ..., 4}.
    func data(n: Int, m: Int, seed: UInt64) -> [[Double]] {
        var g = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0..<m).map { _ in Double(g.next() % 5) } }
    }

    func testTreeSHAPMatchesBruteForceShapley() {
        let x = data(n: 120, m: 6, seed: 3)
        // Interactions on purpose: the exact game differs from any additive split.
        let y = x.map { $0[0] * $0[1] + 2 * $0[2] - ($0[3] > 2 ? 3 : 0) * $0[4] }
        let model = BoostedTrees.fit(x: x, y: y, config: .init(trees: 12, maxDepth: 4, learningRate: 0.3, minLeaf: 2, subsample: 0.7, seed: 5))
        for row in x.prefix(15) {
            let fast = TreeSHAP.values(model, x: row)
            let ref = TreeSHAP.bruteForce(model, x: row)
            for j in 0..<6 { XCTAssertEqual(fast[j], ref[j], accuracy: 1e-9, "feature \(j)") }
            // Local accuracy: Σφ = f(x) − E[f].
            XCTAssertEqual(fast.reduce(0, +), model.predict(row) - model.expectedValue, accuracy: 1e-9)
        }
    }

    func testAdditiveModelSHAPSumsToPredictionMinusMeanAndRecoversOrder() throws {
        let x = data(n: 300, m: 5, seed: 11)
        var g = SeededGenerator(seed: 12)
        // Known effects: feature 0 strongest, then 1, then 2; 3 and 4 are noise.
        let y = x.map { 3 * $0[0] + 1.5 * $0[1] + 0.5 * $0[2] + 0.05 * Double(g.nextGaussian()) }
        let table = FeatureTable(names: ["a", "b", "c", "d", "e"], groups: ["a", "b", "c", "d", "e"], rows: x)
        let cfg = SurrogateAnalysis.Config(boosting: .init(trees: 120, maxDepth: 2, learningRate: 0.15, minLeaf: 3, subsample: 1, seed: 2))
        let s = try SurrogateAnalysis.fit(target: "y", table: table, y: y, config: cfg)
        XCTAssertEqual(s.importance.prefix(3).map(\.feature), ["a", "b", "c"])
        XCTAssertGreaterThan(s.importance[2].meanAbsSHAP, 4 * s.importance[3].meanAbsSHAP)
        // With subsample 1, E[f] under cover weights is exactly the mean training prediction.
        let meanPred = x.reduce(0.0) { $0 + s.model.predict($1) } / Double(x.count)
        XCTAssertEqual(s.expectedValue, meanPred, accuracy: 1e-9)
        for (i, row) in x.enumerated().prefix(20) {
            XCTAssertEqual(s.shap[i].reduce(0, +), s.model.predict(row) - meanPred, accuracy: 1e-9)
        }
        // An additive truth: φ_a(x) ≈ 3·(x_a − E x_a).
        let meanA = x.reduce(0.0) { $0 + $1[0] } / Double(x.count)
        let ia = s.features.names.firstIndex(of: "a")!
        for (i, row) in x.enumerated().prefix(20) { XCTAssertEqual(s.shap[i][ia], 3 * (row[0] - meanA), accuracy: 0.5) }
        XCTAssertGreaterThan(s.cvR2 ?? 0, 0.95)
        // Partial dependence of the top feature rises with slope ≈ 3.
        let pd = s.partialDependence[0]
        XCTAssertEqual(pd.feature, "a")
        XCTAssertEqual((pd.values.last! - pd.values.first!) / (pd.grid.last! - pd.grid.first!), 3, accuracy: 0.4)
    }

    func testNoiseOnlyTargetGetsLowHeldOutR2() throws {
        let x = data(n: 100, m: 4, seed: 21)
        var g = SeededGenerator(seed: 22)
        let y = x.map { _ in Double(g.nextGaussian()) }
        let table = FeatureTable(names: ["a", "b", "c", "d"], groups: ["a", "b", "c", "d"], rows: x)
        let s = try SurrogateAnalysis.fit(target: "noise", table: table, y: y)
        XCTAssertLessThan(s.cvR2 ?? 1, 0.2, "held-out R² must expose a surrogate that learned nothing")
    }

    func testTooFewSamplesIsATypedError() {
        let table = FeatureTable(names: ["a"], groups: ["a"], rows: [[1], [2], [3]])
        XCTAssertThrowsError(try SurrogateAnalysis.fit(target: "val_accuracy", table: table, y: [0.1, nil, 0.3])) { e in
            XCTAssertEqual(e as? ExplainError, .tooFewSamples(target: "val_accuracy", have: 2, need: 10))
            XCTAssertTrue("\(e)".contains("val_accuracy"))
        }
    }

    func testFeatureTableFromSpecs() {
        let a = ReferenceNetworks.spec("lmanet-elite")!, b = ReferenceNetworks.spec("resnet8")!
        let t = FeatureTable.build(specs: [a, b], macs: [86_000_000, 12_000_000], params: [440_000, 78_000])
        let k = t.names.firstIndex(of: "stages[4].kernel")!
        XCTAssertEqual(t.rows[0][k], 7)
        XCTAssertEqual(t.rows[1][k], -1, "resnet8 has 3 stages: stage 4 is absent")
        XCTAssertEqual(t.label(k, -1), "absent")
        let blk = t.names.firstIndex(of: "stages[2].block")!
        XCTAssertEqual(t.label(blk, t.rows[0][blk]), "mbconv")
        XCTAssertEqual(t.rows[0][t.names.firstIndex(of: "resolution")!], 160)
    }
}
