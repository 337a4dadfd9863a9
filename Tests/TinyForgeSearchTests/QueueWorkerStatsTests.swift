import Foundation
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// `tinyforge worker --stats FILE`: one timing line per job and a closing totals line, with
/// the queue round trips, the wait for work and the evaluation told apart.
final class QueueWorkerStatsTests: XCTestCase {
    func lines(_ file: URL) throws -> [[String: Any]] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testEveryJobGetsATimingLineAndTheTotalsAddUp() async throws {
        let dir = temporaryDirectory(self)
        var config = testConfig(proposer: "evolution", trials: 6, batch: 2)
        config.executor = "external"; config.leaseGraceSeconds = 5
        let store = try RunStore.create(directory: dir, config: config)
        let controller = SearchController(store: store, config: config, proposer: config.makeClassicProposer()!, evaluator: SyntheticEvaluator())
        controller.queuePollSeconds = 0.02
        controller.identity = RunIdentity(version: "v", datasetFingerprint: "f")
        let run = Task { try await controller.run() }

        var o = QueueWorkerOptions()
        o.pollSeconds = 0.02; o.maxPollSeconds = 0.2; o.heartbeatSeconds = 0.03; o.leaseGraceSeconds = 5
        let worker = QueueWorker(queue: try SQLiteWorkQueue.open(runDirectory: dir), evaluator: SyntheticEvaluator(delayMilliseconds: 100),
                                 info: WorkerInfo(host: "test", pid: 1, version: "v", label: nil), options: o)
        let file = dir.appendingPathComponent("stats.jsonl")
        worker.stats = try QueueWorkerStats(file: file)
        let exit = try await worker.run()
        let summary = try await run.value
        XCTAssertEqual(exit.completed, 6)
        // 6 trials, at most 2 in flight: at least 3 steps enqueued, and every step is counted.
        XCTAssertGreaterThanOrEqual(summary.proposalSteps, 3)
        XCTAssertLessThanOrEqual(summary.proposalSteps, 6)
        XCTAssertGreaterThan(summary.loopSteps, summary.proposalSteps)

        let all = try lines(file)
        XCTAssertEqual(all.map { $0["type"] as? String }, Array(repeating: "job", count: 6) + ["exit"])
        let jobs = try all.dropLast().map { try JSONDecoder().decode(QueueJobTiming.self, from: JSONSerialization.data(withJSONObject: $0)) }
        XCTAssertEqual(Set(jobs.map(\.job)).count, 6, "one line per job")
        for j in jobs {
            XCTAssertEqual(j.worker, exit.workerID)
            XCTAssertTrue(j.accepted)
            XCTAssertGreaterThanOrEqual(j.evaluateSeconds, 0.1, "the evaluator slept 100 ms")
            XCTAssertLessThan(j.evaluateSeconds, 2)
            XCTAssertGreaterThanOrEqual(j.pickupSeconds, 0)
            XCTAssertGreaterThan(j.claimCallSeconds, 0); XCTAssertGreaterThan(j.statusSeconds, 0); XCTAssertGreaterThan(j.completeSeconds, 0)
            XCTAssertGreaterThanOrEqual(j.heartbeats, 1, "a 30 ms heartbeat beats during a 100 ms evaluation")
            XCTAssertGreaterThanOrEqual(j.heartbeatSeconds, j.heartbeatMaxSeconds)
            XCTAssertEqual(j.coordinationSeconds, j.claimSeconds + j.heartbeatSeconds + j.completeSeconds, accuracy: 1e-12)
            XCTAssertGreaterThanOrEqual(j.waitSeconds, 0)
        }
        let totals = try JSONDecoder().decode(QueueWorkerTotals.self, from: JSONSerialization.data(withJSONObject: all.last!))
        XCTAssertEqual(totals.jobs, 6)
        XCTAssertEqual(totals.reason, "the run is done")
        XCTAssertEqual(totals.evaluateSeconds, jobs.map(\.evaluateSeconds).reduce(0, +), accuracy: 1e-9)
        XCTAssertEqual(totals.coordinationSeconds, jobs.map(\.coordinationSeconds).reduce(0, +), accuracy: 1e-9)
        // Heartbeats overlap the evaluation; claims and completions do not.
        XCTAssertGreaterThan(totals.lifetimeSeconds, totals.evaluateSeconds + jobs.map { $0.claimSeconds + $0.completeSeconds }.reduce(0, +))
    }

    func testAFileThatCannotBeCreatedNamesTheOption() {
        XCTAssertThrowsError(try QueueWorkerStats(file: URL(fileURLWithPath: "/nonexistent-dir/x/stats.jsonl"))) { e in
            XCTAssertEqual((e as? SearchError)?.field, "--stats")
        }
    }
}
