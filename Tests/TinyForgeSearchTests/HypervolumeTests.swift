import TinyForgeHardware
import TinyForgeSearch
import TinyForgeSpec
import XCTest

final class HypervolumeTests: XCTestCase {
    func testHandComputed2D() {
        // Union of [0.2,1]×[0.6,1] (0.32) and [0.5,1]×[0.3,1] (0.35) minus overlap [0.5,1]×[0.6,1] (0.2).
        XCTAssertEqual(Hypervolume.exact([[0.2, 0.6], [0.5, 0.3]], reference: [1, 1]), 0.47, accuracy: 1e-12)
        // A dominated point and a point outside the reference change nothing.
        XCTAssertEqual(Hypervolume.exact([[0.2, 0.6], [0.5, 0.3], [0.6, 0.7], [1.2, 0.0]], reference: [1, 1]), 0.47, accuracy: 1e-12)
        XCTAssertEqual(Hypervolume.exact([], reference: [1, 1]), 0)
    }

    func testHandComputed3DAnd4D() {
        XCTAssertEqual(Hypervolume.exact([[0.5, 0.5, 0.5]], reference: [1, 1, 1]), 0.125, accuracy: 1e-12)
        // [0,1]²×[0.5,1] (0.5) ∪ [0.5,1]²×[0,1] (0.25), overlap [0.5,1]³ (0.125) → 0.625.
        XCTAssertEqual(Hypervolume.exact([[0, 0, 0.5], [0.5, 0.5, 0]], reference: [1, 1, 1]), 0.625, accuracy: 1e-12)
        XCTAssertEqual(Hypervolume.exact([[0.5, 0.5, 0.5, 0.5]], reference: [1, 1, 1, 1]), 0.0625, accuracy: 1e-12)
        // Two 4-D boxes: 0.5·1·1·1 + 1·1·1·0.5 − 0.5·1·1·0.5 = 0.75.
        XCTAssertEqual(Hypervolume.exact([[0.5, 0, 0, 0], [0, 0, 0, 0.5]], reference: [1, 1, 1, 1]), 0.75, accuracy: 1e-12)
    }

    func testMatchesInclusionExclusionTwin() {
        var rng = SeededGenerator(seed: 11)
        for d in 2...4 {
            for n in [1, 3, 7, 11] {
                let pts = (0..<n).map { _ in (0..<d).map { _ in Double.random(in: 0..<1.1, using: &rng) } }
                let ref = [Double](repeating: 1, count: d)
                let inside = pts.filter { $0.allSatisfy { $0 < 1 } }
                XCTAssertEqual(Hypervolume.exact(pts, reference: ref),
                               Hypervolume.inclusionExclusion(inside, reference: ref), accuracy: 1e-12, "d=\(d) n=\(n)")
            }
        }
    }

    /// Grid points: equal coordinates exercise the staircase's tie branches.
    func testTiesMatchInclusionExclusion() {
        var rng = SeededGenerator(seed: 17)
        for d in 2...4 {
            for _ in 0..<30 {
                let pts = (0..<9).map { _ in (0..<d).map { _ in Double(Int.random(in: 0..<4, using: &rng)) * 0.25 } }
                let ref = [Double](repeating: 1, count: d)
                XCTAssertEqual(Hypervolume.exact(pts, reference: ref), Hypervolume.inclusionExclusion(pts, reference: ref),
                               accuracy: 1e-12, "d=\(d) \(pts)")
            }
        }
    }

    func testMatchesMonteCarloOnAFront() {
        var rng = SeededGenerator(seed: 5)
        for d in [2, 3, 4] {
            let pts = (0..<40).map { _ in (0..<d).map { _ in Double.random(in: 0..<1, using: &rng) } }
            let front = Pareto.nonDominatedNaive(pts).map { pts[$0] }
            let exact = Hypervolume.exact(front, reference: Array(repeating: 1, count: d))
            let n = 100_000
            let mc = Hypervolume.monteCarlo(front, reference: Array(repeating: 1, count: d), lower: Array(repeating: 0, count: d),
                                            samples: n, using: &rng)
            let sigma = (exact * (1 - exact) / Double(n)).squareRoot()
            XCTAssertLessThan(abs(mc - exact), 5 * sigma + 1e-9, "d=\(d): exact \(exact) vs Monte-Carlo \(mc)")
            XCTAssertGreaterThan(exact, 0.2)
        }
    }

    func testArchiveHypervolumeMatchesRecomputation() throws {
        let os = try ObjectiveSpace(objectives: [.accuracy, .macs, .sram], budget: testBudget)
        var archive = ParetoArchive(objectiveSpace: os)
        var rng = SeededGenerator(seed: 3)
        var points: [[Double]] = []
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        for i in 0..<60 {
            let acc = Double.random(in: 0..<1, using: &rng)
            let cost = CostSummary(macs: Int.random(in: 1...5_000_000, using: &rng), params: 1,
                                   peakSRAMBytes: Int.random(in: 1...65536, using: &rng), flashBytes: 1, latencyMs: 0)
            let status: EvaluationResult.Status = i % 9 == 4 ? .failed(reason: "x") : .ok
            archive.add(EvaluatedCandidate(id: Int64(i + 1), hash: "h\(i)", spec: spec, cost: cost,
                                           result: EvaluationResult(status: status, valAccuracy: acc), proposer: "t"))
            if status == .ok { points.append(os.point(accuracy: acc, cost: cost)) }
            XCTAssertEqual(archive.hypervolume, Hypervolume.exact(points, reference: [1, 1, 1]), accuracy: 1e-12)
            XCTAssertEqual(archive.frontIDs.count, Pareto.nonDominatedNaive(points).count)
        }
        XCTAssertEqual(archive.evaluated.count, 60)
        // Normalisation: accuracy 0.75, MACs half the budget, SRAM a quarter.
        XCTAssertEqual(os.point(accuracy: 0.75, cost: CostSummary(macs: 2_500_000, params: 0, peakSRAMBytes: 16384, flashBytes: 0, latencyMs: 0)),
                       [0.25, 0.5, 0.25])
    }

    func testMacsObjectiveNeedsABudget() {
        XCTAssertThrowsError(try ObjectiveSpace(objectives: [.accuracy, .macs], budget: Budget(sramBytes: 1, flashBytes: 1))) { e in
            XCTAssertTrue("\(e)".contains("--macs"))
        }
        XCTAssertThrowsError(try Objective.parseList("accuracy,latency"))
    }
}

final class ParetoTests: XCTestCase {
    func testSortAgainstNaiveTwinAndDefinition() {
        var rng = SeededGenerator(seed: 2)
        for d in 2...4 {
            let pts = (0..<80).map { _ in (0..<d).map { _ in Double(Int.random(in: 0..<6, using: &rng)) } }
            let fronts = Pareto.nonDominatedSort(pts)
            XCTAssertEqual(fronts.flatMap { $0 }.sorted(), Array(pts.indices))
            XCTAssertEqual(fronts[0].sorted(), Pareto.nonDominatedNaive(pts))
            for (k, f) in fronts.enumerated() {
                for i in f {
                    XCTAssertFalse(f.contains { Pareto.dominates(pts[$0], pts[i]) })
                    if k > 0 { XCTAssertTrue(fronts[k - 1].contains { Pareto.dominates(pts[$0], pts[i]) }) }
                }
            }
        }
    }

    func testCrowdingDistance() {
        let pts: [[Double]] = [[0, 4], [1, 2], [2, 1.5], [4, 0]]
        let cd = Pareto.crowdingDistance(pts, front: [0, 1, 2, 3])
        XCTAssertEqual(cd[0], .infinity); XCTAssertEqual(cd[3], .infinity)
        let expected1: Double = 2.0 / 4.0 + 2.5 / 4.0 // x: neighbours 0 and 2; y: neighbours 4 and 1.5
        let expected2: Double = 3.0 / 4.0 + 2.0 / 4.0 // x: neighbours 1 and 4; y: neighbours 2 and 0
        XCTAssertEqual(cd[1], expected1, accuracy: 1e-12)
        XCTAssertEqual(cd[2], expected2, accuracy: 1e-12)
        let sel = Pareto.select(pts + [[5, 5]], count: 3)
        XCTAssertEqual(sel.map(\.index).sorted(), [0, 2, 3]) // boundaries, then the most isolated
    }
}
