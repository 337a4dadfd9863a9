import Foundation
import GRDB
import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Scores from a table: the k-th candidate trained at rung 0 (1-based, in the order the
/// controller sends them, i.e. proposal order with one worker) gets `table[k][rung]`; nil =
/// the evaluation fails. Checks that each rung gets its own epochs.
final class TableEvaluator: Evaluator, @unchecked Sendable {
    let table: [Int: [Double?]]
    let epochs: [Int]
    private let lock = NSLock()
    private var order: [Int64] = []

    init(table: [Int: [Double?]], epochs: [Int]) { self.table = table; self.epochs = epochs }

    var name: String { "table" }
    var isSynthetic: Bool { true }

    /// Candidate id → its 1-based position among rung-0 evaluations.
    func position(_ id: Int64) -> Int? {
        lock.withLock { order.firstIndex(of: id).map { $0 + 1 } }
    }

    func evaluate(_ job: EvaluationJob) async -> EvaluationResult {
        guard job.settings.epochs == epochs[job.rung] else { return .failed("rung \(job.rung) got \(job.settings.epochs) epochs") }
        let k = lock.withLock { () -> Int? in
            if job.rung == 0, !order.contains(job.candidateID) { order.append(job.candidateID) }
            return order.firstIndex(of: job.candidateID).map { $0 + 1 }
        }
        guard let k, let row = table[k], job.rung < row.count else { return .failed("no table entry for #\(job.candidateID)") }
        guard let acc = row[job.rung] else { return .failed("scripted failure") }
        return EvaluationResult(status: .ok, valAccuracy: acc, epochs: job.settings.epochs)
    }
}

final class HalvingTests: XCTestCase {
    typealias P = HalvingScheduler.Promotion

    func r(_ id: Int64, _ rung: Int, _ acc: Double?) -> RungResult { RungResult(candidateID: id, rung: rung, accuracy: acc) }

    func testPromotionRuleEta3HandComputed() {
        // 7 scored at rung 0 → ⌊7/3⌋ = 2: #4 (0.9) and #6 (0.8).
        let rung0 = [r(1, 0, 0.5), r(2, 0, 0.6), r(3, 0, 0.7), r(4, 0, 0.9), r(5, 0, 0.1), r(6, 0, 0.8), r(7, 0, 0.3)]
        XCTAssertEqual(HalvingScheduler.promotions(rung0, eta: 3, rungs: 3), [P(candidateID: 4, toRung: 1), P(candidateID: 6, toRung: 1)])
        // 5 → ⌊5/3⌋ = 1; 2 → nothing.
        XCTAssertEqual(HalvingScheduler.promotions(Array(rung0.prefix(5)), eta: 3, rungs: 3), [P(candidateID: 4, toRung: 1)])
        XCTAssertEqual(HalvingScheduler.promotions(Array(rung0.prefix(2)), eta: 3, rungs: 3), [])
        // #4 already has rung 1 → only #6; rung 1 has 1 result → no rung-2 promotion.
        XCTAssertEqual(HalvingScheduler.promotions(rung0 + [r(4, 1, 0.95)], eta: 3, rungs: 3), [P(candidateID: 6, toRung: 1)])
        // Already promoted but still running (busy) → not again.
        XCTAssertEqual(HalvingScheduler.promotions(rung0 + [r(4, 1, 0.95)], eta: 3, rungs: 3, busy: [6]), [])
        // Last rung: nothing beyond it.
        XCTAssertEqual(HalvingScheduler.promotions(rung0, eta: 3, rungs: 1), [])
    }

    func testPromotionRuleEta2TiesFailuresAndRungOrder() {
        // Rung 0: #1 0.5, #2 0.7, #3 0.7 (tie with #2), #4 fails, #5 0.2. Scored n₀ = 4 → k = 2:
        // #2 and #3; the failure neither counts nor is promoted.
        var rs = [r(1, 0, 0.5), r(2, 0, 0.7), r(3, 0, 0.7), r(4, 0, nil), r(5, 0, 0.2)]
        XCTAssertEqual(HalvingScheduler.promotions(rs, eta: 2, rungs: 3), [P(candidateID: 2, toRung: 1), P(candidateID: 3, toRung: 1)])
        // Tie at the cut: k = 1 of {#1 0.5, #2 0.7, #3 0.7} → the smaller id.
        XCTAssertEqual(HalvingScheduler.promotions(Array(rs.prefix(3)), eta: 2, rungs: 3), [P(candidateID: 2, toRung: 1)])
        XCTAssertEqual(HalvingScheduler.promotions([r(9, 0, 0.7), r(3, 0, 0.7)], eta: 2, rungs: 2), [P(candidateID: 3, toRung: 1)])
        // Rung 1: #2 0.8, #3 0.9 → k = 1: #3 to rung 2. Nothing more at rung 0.
        rs += [r(2, 1, 0.8), r(3, 1, 0.9)]
        XCTAssertEqual(HalvingScheduler.promotions(rs, eta: 2, rungs: 3), [P(candidateID: 3, toRung: 2)])
        // A failed rung-1 evaluation is final (not retried) and does not count at rung 1.
        rs[rs.count - 1] = r(3, 1, nil)
        XCTAssertEqual(HalvingScheduler.promotions(rs, eta: 2, rungs: 3), [])
        // More rung-0 results raise k: 8 scored → k = 4 → #6, #7 join (#2, #3 done); higher
        // target rungs come first.
        rs[rs.count - 1] = r(3, 1, 0.9)
        rs += [r(6, 0, 0.95), r(7, 0, 0.6), r(8, 0, 0.1), r(10, 0, 0.05)]
        XCTAssertEqual(HalvingScheduler.promotions(rs, eta: 2, rungs: 3),
                       [P(candidateID: 3, toRung: 2), P(candidateID: 6, toRung: 1), P(candidateID: 7, toRung: 1)])
        XCTAssertEqual(HalvingScheduler.counts(rs, rungs: 3), [9, 2, 0])
    }

    func testSettingsParsingAndErrorsNameTheFlag() throws {
        let h = try HalvingSettings.parse(epochs: "1,3,9", eta: nil, subsets: "0.25,0.5,1")
        XCTAssertEqual(h, HalvingSettings(epochs: [1, 3, 9], eta: 3, subsets: [0.25, 0.5, 1]))
        XCTAssertEqual(h.plannedEvaluations(trials: 30), [30, 10, 3])
        XCTAssertEqual(h.plannedEpochs(trials: 30), 30 + 30 + 27)
        let base = EvaluationSettings(dataset: "d", epochs: 1, subset: 0.1, seed: 4)
        XCTAssertEqual(h.settings(base: base, rung: 2), EvaluationSettings(dataset: "d", epochs: 9, subset: 1, seed: 4))
        for (e, eta, s, flag) in [("3,3", nil, nil, "--halving-epochs"), ("3,1", nil, nil, "--halving-epochs"),
                                  ("3", nil, nil, "--halving-epochs"), ("1,x", nil, nil, "--halving-epochs"),
                                  ("0,2", nil, nil, "--halving-epochs"), ("1,3", 1, nil, "--halving-eta"),
                                  ("1,3", nil, "0.5", "--halving-subsets"), ("1,3", nil, "0.5,1.5", "--halving-subsets")] as [(String, Int?, String?, String)] {
            XCTAssertThrowsError(try HalvingSettings.parse(epochs: e, eta: eta, subsets: s)) { XCTAssertTrue("\($0)".contains(flag), "\($0)") }
        }
        var c = testConfig()
        c.halving = HalvingSettings(epochs: [1, 3])
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--epochs"), "\($0)") }   // settings.epochs = 3
        c.settings.epochs = 1
        XCTAssertNoThrow(try c.validate())
        // A config written without halving decodes as off; one with halving round-trips.
        XCTAssertFalse(testConfig().jsonText().contains("halving"))
        XCTAssertEqual(try SearchConfig.decode(c.jsonText(), source: "t"), c)
    }

    /// A whole run checked evaluation by evaluation against the rule applied by hand
    /// (trials 6, batch 3, η = 2, epochs 1,4, one worker):
    /// rung 0: k1 0.50, k2 0.70, k3 0.70, k4 0.90, k5 fails, k6 0.60; rung 1: k2 0.65, k4 fails.
    /// Batch 1 (k1–k3): n₀ = 3 → top 1 = k2 (tie with k3, smaller id) → k2 at rung 1.
    /// Batch 2 (k4–k6): scored n₀ = 5 (k5 failed) → top 2 = {k4, k2} → k4 at rung 1 (fails).
    func testControllerFollowsTheRuleByHand() async throws {
        var config = testConfig(proposer: "random", trials: 6, batch: 3, workers: 1)
        config.halving = HalvingSettings(epochs: [1, 4], eta: 2)
        config.settings.epochs = 1
        let ev = TableEvaluator(table: [1: [0.5], 2: [0.7, 0.65], 3: [0.7], 4: [0.9, nil], 5: [nil], 6: [0.6]], epochs: [1, 4])
        let dir = temporaryDirectory(self)
        let (store, s) = try await runSearch(config, in: dir, evaluator: ev)
        XCTAssertEqual(s.status, "done")
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT candidate_id, rung, status FROM evaluations ORDER BY eval_index")
                .map { (ev.position($0["candidate_id"])!, $0["rung"] as Int, $0["status"] as String) }
        }
        XCTAssertEqual(rows.map { "k\($0.0)@\($0.1) \($0.2)" },
                       ["k1@0 ok", "k2@0 ok", "k3@0 ok", "k2@1 ok", "k4@0 ok", "k5@0 failed", "k6@0 ok", "k4@1 failed"])
        XCTAssertEqual(s.evaluationsPerRung, [6, 2])
        XCTAssertEqual(s.trained, 6)
        XCTAssertEqual(s.epochsSpent, 6 * 1 + 2 * 4)
        // Archive: k2 at rung 1 (its lower rung-1 score replaces 0.70), k4 keeps rung 0 (rung 1 failed).
        let report = try RunReport(store: store)
        let byPos = Dictionary(uniqueKeysWithValues: report.state.archive.evaluated.map { (ev.position($0.id)!, $0) })
        XCTAssertEqual(byPos[2]?.rung, 1); XCTAssertEqual(byPos[2]?.accuracy, 0.65)
        XCTAssertEqual(byPos[4]?.rung, 0); XCTAssertEqual(byPos[4]?.accuracy, 0.9)
        XCTAssertNil(byPos[5]?.accuracy)
        let statuses = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT id, status, reason FROM candidates WHERE status != 'rejected'")
                .map { (ev.position($0["id"])!, $0["status"] as String, $0["reason"] as String?) }
        }
        for (k, status, reason) in statuses {
            XCTAssertEqual(status, k == 5 ? "failed" : "done", "k\(k)")
            if k == 4 { XCTAssertTrue(reason?.hasPrefix("rung 1 evaluation failed") ?? false, "\(reason ?? "nil")") }
        }
        XCTAssertEqual(s.hypervolume, report.state.archive.hypervolume, accuracy: 1e-12)
        // Reports mark the rung: pareto.json per front entry, candidates.csv one row per candidate.
        try report.writeFiles(store: store)
        let csv = try String(contentsOf: dir.appendingPathComponent("candidates.csv"), encoding: .utf8).split(separator: "\n")
        let total = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates") ?? 0 }
        XCTAssertEqual(csv.count, total + 1)
        XCTAssertTrue(csv[0].hasSuffix(",rung,rungs"))
        XCTAssertEqual(csv.filter { $0.hasSuffix(",1,0:0.7000 1:0.6500") }.count, 1)
        XCTAssertEqual(csv.filter { $0.hasSuffix(",0,0:0.9000 1:failed") }.count, 1)
        guard case .object(let o) = report.paretoJSON(), case .array(let front)? = o["front"] else { return XCTFail() }
        XCTAssertTrue(front.allSatisfy { if case .object(let e) = $0 { return e["rung"] != nil }; return false })
        XCTAssertEqual(o["epochs_spent"], .number(14))
        XCTAssertTrue(report.text().contains("rung 1 (4 ep, subset 0.1): 2"), report.text())
    }

    /// A rung-r worker gets that rung's epochs and subset, in its own directory.
    func testProcessWorkerArgumentsPerRung() throws {
        var config = testConfig()
        config.halving = try HalvingSettings.parse(epochs: "1,3,9", eta: 3, subsets: "0.25,0.5,1")
        config.settings.epochs = 1
        var rng = SeededGenerator(seed: 2)
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        let cost = CostSummary(macs: 1, params: 1, peakSRAMBytes: 1, flashBytes: 1, latencyMs: 0)
        let ev = ProcessEvaluator(command: ["w"], workRoot: URL(fileURLWithPath: "/tmp/c"))
        func job(_ rung: Int) -> EvaluationJob {
            EvaluationJob(candidateID: 7, hash: spec.canonicalHash, spec: spec, cost: cost, settings: config.settings(rung: rung), rung: rung)
        }
        let a0 = ev.arguments(for: job(0), specPath: "s", metricsPath: "m").joined(separator: " ")
        let a2 = ev.arguments(for: job(2), specPath: "s", metricsPath: "m").joined(separator: " ")
        XCTAssertTrue(a0.contains("--epochs 1 --subset 0.25 --seed 1"), a0)
        XCTAssertTrue(a2.contains("--epochs 9 --subset 1.0 --seed 1"), a2)
        XCTAssertEqual(ev.workDirectory(for: job(0)).lastPathComponent, "7-\(spec.canonicalHash.prefix(12))")
        XCTAssertEqual(ev.workDirectory(for: job(2)).lastPathComponent, "7-\(spec.canonicalHash.prefix(12))-rung2")
    }

    func testArchiveRebuildsTheFrontWhenAMemberDrops() throws {
        let os = try ObjectiveSpace(objectives: [.accuracy, .sram], budget: testBudget)
        var archive = ParetoArchive(objectiveSpace: os)
        var rng = SeededGenerator(seed: 5)
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        func add(_ id: Int64, _ acc: Double?, sram: Int, rung: Int = 0) {
            let result = acc.map { EvaluationResult(status: .ok, valAccuracy: $0) } ?? .failed("x")
            archive.add(EvaluatedCandidate(id: id, hash: "h\(id)", spec: spec,
                                           cost: CostSummary(macs: 1, params: 1, peakSRAMBytes: sram, flashBytes: 1, latencyMs: 0),
                                           result: result, proposer: "t", rung: rung))
        }
        add(1, 0.8, sram: 32768)      // dominates #2
        add(2, 0.7, sram: 40000)
        XCTAssertEqual(archive.frontIDs, [1])
        add(1, 0.6, sram: 32768, rung: 1)   // #1 retrained, worse: #2 is uncovered
        XCTAssertEqual(archive.frontIDs, [1, 2])
        XCTAssertEqual(archive.evaluated.count, 2)
        add(2, nil, sram: 40000, rung: 1)   // a failed higher rung keeps the lower score
        XCTAssertEqual(archive.evaluated.first { $0.id == 2 }?.accuracy, 0.7)
        let pts = [os.point(accuracy: 0.6, cost: archive.evaluated[0].cost), os.point(accuracy: 0.7, cost: archive.evaluated[1].cost)]
        XCTAssertEqual(archive.hypervolume, Hypervolume.exact(pts, reference: [1, 1]), accuracy: 1e-12)
    }

    func candidateTable(_ store: RunStore) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT hash, status, reason FROM candidates ORDER BY id")
                .map { "\($0["hash"] as String) \($0["status"] as String) \(($0["reason"] as String?) ?? "")" }
        }
    }

    func evaluationTable(_ store: RunStore) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.hash, e.rung, e.status, e.val_accuracy, e.epochs FROM evaluations e JOIN candidates c ON c.id = e.candidate_id
                ORDER BY c.id, e.rung
                """).map { "\($0["hash"] as String) r\($0["rung"] as Int) \($0["status"] as String) \(($0["val_accuracy"] as Double?) ?? -1) \($0["epochs"] as Int)" }
        }
    }

    /// Stops mid-rung (a promotion batch half done) several times, reopens, resumes: the same
    /// evaluations table as an uninterrupted run, and no completed rung evaluation ran twice.
    func testResumeMidRungMatchesUninterruptedRun() async throws {
        var config = testConfig(proposer: "evolution", trials: 16, batch: 4, workers: 2)
        config.halving = HalvingSettings(epochs: [1, 2, 4], eta: 2)
        config.settings.epochs = 1
        let (refStore, ref) = try await runSearch(config, in: temporaryDirectory(self, "ref"))
        XCTAssertEqual(ref.status, "done")
        XCTAssertEqual(ref.trained, 16)
        XCTAssertGreaterThanOrEqual(ref.evaluationsPerRung[1], 8)
        XCTAssertGreaterThanOrEqual(ref.evaluationsPerRung[2], 4)
        // Nothing left to promote at the end.
        let refState = try refStore.loadState(objectiveSpace: try config.objectiveSpace())
        XCTAssertEqual(HalvingScheduler.promotions(refState.rungResults, eta: 2, rungs: 3), [])

        let dir = temporaryDirectory(self, "crash")
        var sawPromotedPending = false
        for stop in [5, 4, 7, 3] {
            let (store, s) = try await runSearch(config, in: dir, stopAfter: stop)
            XCTAssertEqual(s.status, "interrupted")
            let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
            if state.pending.contains(where: { $0.rung > 0 }) { sawPromotedPending = true }
        }
        XCTAssertTrue(sawPromotedPending, "no stop landed in a promotion batch; the test did not exercise rung re-runs")
        let reopened = try RunStore.open(directory: dir)
        let cfg = try reopened.config()
        XCTAssertEqual(cfg, config)
        let s = try await SearchController(store: reopened, config: cfg, proposer: cfg.makeClassicProposer()!,
                                           evaluator: cfg.makeEvaluator(runDirectory: dir)).run()
        XCTAssertEqual(s.status, "done")
        XCTAssertEqual(try evaluationTable(reopened), try evaluationTable(refStore))
        XCTAssertEqual(s.hypervolume, ref.hypervolume, accuracy: 1e-12)
        XCTAssertEqual(s.evaluationsPerRung, ref.evaluationsPerRung)
        XCTAssertEqual(s.epochsSpent, ref.epochsSpent)
        XCTAssertEqual(try candidateTable(reopened), try candidateTable(refStore))
        let indices = try reopened.read { try Int.fetchAll($0, sql: "SELECT eval_index FROM evaluations ORDER BY eval_index") }
        XCTAssertEqual(indices, Array(1...indices.count))
        let again = try await SearchController(store: reopened, config: cfg, proposer: cfg.makeClassicProposer()!,
                                               evaluator: cfg.makeEvaluator(runDirectory: dir)).run()
        XCTAssertEqual(again.evaluationsThisSession, 0)
    }
}
