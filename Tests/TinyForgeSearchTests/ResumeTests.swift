import Foundation
import GRDB
import TinyForgeSearch
import TinyForgeSpec
import XCTest

final class ResumeTests: XCTestCase {
    func candidateTable(_ store: RunStore) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT hash, status FROM candidates ORDER BY id").map { "\($0["hash"] as String) \($0["status"] as String)" }
        }
    }

    /// Crash in the middle of a batch (some candidates left `evaluating`), reopen, resume: the
    /// run ends exactly like an uninterrupted one, and nothing completed ran twice.
    func testResumeAfterSimulatedCrashMatchesUninterruptedRun() async throws {
        for proposer in ["evolution", "nsga2"] {
            let config = testConfig(proposer: proposer, trials: 30, batch: 4, workers: 2)
            let (refStore, ref) = try await runSearch(config, in: temporaryDirectory(self, "ref-\(proposer)"))
            XCTAssertEqual(ref.status, "done")

            let dir = temporaryDirectory(self, "crash-\(proposer)")
            for stop in [5, 9, 3] {   // three crashes at different points
                let (store, s) = try await runSearch(config, in: dir, stopAfter: stop)
                XCTAssertEqual(s.status, "interrupted")
                let evaluating = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates WHERE status = 'evaluating'") ?? 0 }
                XCTAssertGreaterThan(evaluating, 0, "the simulated crash should leave a candidate mid-evaluation")
            }
            // Reopen from disk (a fresh RunStore, as after a process restart) and resume.
            let reopened = try RunStore.open(directory: dir)
            let cfg = try reopened.config()
            XCTAssertEqual(cfg, config)
            let c = SearchController(store: reopened, config: cfg, proposer: cfg.makeClassicProposer()!,
                                     evaluator: cfg.makeEvaluator(runDirectory: dir))
            let s = try await c.run()
            XCTAssertEqual(s.status, "done")
            XCTAssertGreaterThan(s.reEvaluated, 0)
            XCTAssertEqual(try reopened.evaluationCount(), 30)
            let rows = try evaluationRows(reopened)
            XCTAssertEqual(rows.count, 30)
            XCTAssertTrue(rows.allSatisfy { $0.count == 1 }, "a completed evaluation was repeated")
            XCTAssertEqual(try candidateTable(reopened), try candidateTable(refStore), "\(proposer): resumed run differs from the uninterrupted one")
            XCTAssertEqual(s.hypervolume, ref.hypervolume, accuracy: 1e-12)
            let retried = try reopened.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates WHERE attempts > 1") ?? 0 }
            XCTAssertGreaterThan(retried, 0)
            // Resuming a finished run does nothing.
            let again = try await SearchController(store: reopened, config: cfg, proposer: cfg.makeClassicProposer()!,
                                                   evaluator: cfg.makeEvaluator(runDirectory: dir)).run()
            XCTAssertEqual(again.evaluationsThisSession, 0)
            XCTAssertEqual(try reopened.evaluationCount(), 30)
        }
    }

    /// A crash after the proposals were stored but before any evaluation started.
    func testResumeWithProposedButUnstartedCandidates() async throws {
        let config = testConfig(proposer: "random", trials: 8, batch: 4)
        let dir = temporaryDirectory(self)
        let store = try RunStore.create(directory: dir, config: config)
        var validator = testValidator()
        var ctx = try testContext(iteration: 0)
        let proposals = try await RandomProposer().propose(count: 4, context: &ctx)
        var outcomes: [ProposalOutcome] = []
        for p in proposals {
            switch validator.validate(p, iteration: 0) {
            case .success(let a): outcomes.append(.accepted(a))
            case .failure(let r): outcomes.append(.rejected(p, r))
            }
        }
        let ids = try store.recordIteration(0, outcomes: outcomes)
        XCTAssertEqual(ids.count, 4)
        try store.markEvaluating([ids[0]])
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        XCTAssertEqual(state.pending.map(\.id), ids)
        XCTAssertEqual(state.pending.map(\.wasInterrupted), [true, false, false, false])
        XCTAssertEqual(state.nextIteration, 1)
        store.lock?.release() // the "crashed" process is gone: the kernel drops its lock
        let (_, s) = try await runSearch(config, in: dir)
        XCTAssertEqual(s.evaluations, 8)
        XCTAssertEqual(s.reEvaluated, 4)
        XCTAssertEqual(try evaluationRows(store).map(\.id).prefix(4).map { $0 }, ids)
    }

    func testCreateRefusesAnExistingRun() throws {
        let dir = temporaryDirectory(self)
        _ = try RunStore.create(directory: dir, config: testConfig())
        XCTAssertThrowsError(try RunStore.create(directory: dir, config: testConfig())) { e in
            XCTAssertTrue("\(e)".contains("--resume"), "\(e)")
        }
        XCTAssertThrowsError(try RunStore.open(directory: dir.appendingPathComponent("nope"))) { e in
            XCTAssertTrue("\(e)".contains("no run"), "\(e)")
        }
    }

    func testReportFiles() async throws {
        let dir = temporaryDirectory(self)
        let (store, s) = try await runSearch(testConfig(proposer: "nsga2", trials: 20), in: dir)
        let report = try RunReport(store: store)
        try report.writeFiles(store: store)
        let pareto = try JSONValue.parse(Data(contentsOf: dir.appendingPathComponent("pareto.json")))
        guard case .object(let o) = pareto, case .array(let front)? = o["front"], case .number(let hv)? = o["hypervolume"] else { return XCTFail() }
        XCTAssertEqual(front.count, s.front.count)
        XCTAssertEqual(hv, s.hypervolume, accuracy: 1e-12)
        XCTAssertEqual(o["score"], .string("synthetic score (not an accuracy)"))
        let csv = try String(contentsOf: dir.appendingPathComponent("candidates.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        let total = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates") ?? 0 }
        XCTAssertEqual(lines.count, total + 1)
        XCTAssertTrue(report.text().contains("not accuracies"))
        XCTAssertEqual(try store.hypervolumeHistory().count, 20)
        XCTAssertEqual(try store.hypervolumeHistory().last?.hypervolume ?? -1, s.hypervolume, accuracy: 1e-12)
    }
}
