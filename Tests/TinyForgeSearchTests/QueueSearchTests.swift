import Foundation
import GRDB
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// The controller's in-flight loop (`--executor external|workers`) with in-process
/// `QueueWorker`s: every accepted candidate evaluated exactly once, resume after a controller
/// stop, worker stop conditions.
final class QueueSearchTests: XCTestCase {
    func queueConfig(trials: Int = 12, batch: Int = 3) -> SearchConfig {
        var c = testConfig(proposer: "evolution", trials: trials, batch: batch)
        c.executor = "external"
        c.leaseGraceSeconds = 5
        return c
    }

    func startWorker(_ dir: URL, evaluator: Evaluator, options: QueueWorkerOptions = QueueWorkerOptions(),
                     stop: StopFlag = StopFlag()) throws -> Task<QueueWorkerExit, Error> {
        let q = try SQLiteWorkQueue.open(runDirectory: dir)
        var o = options
        o.pollSeconds = 0.02; o.maxPollSeconds = 0.2; o.heartbeatSeconds = 0.5; o.leaseGraceSeconds = 5
        let w = QueueWorker(queue: q, evaluator: evaluator, info: WorkerInfo(host: "test", pid: 1, version: "v", label: nil), options: o, stop: stop)
        return Task { try await w.run() }
    }

    func controller(_ store: RunStore, _ config: SearchConfig) -> SearchController {
        let c = SearchController(store: store, config: config, proposer: config.makeClassicProposer()!,
                                 evaluator: SyntheticEvaluator())
        c.queuePollSeconds = 0.02
        c.identity = RunIdentity(version: "v", datasetFingerprint: "f")
        return c
    }

    func jobStats(_ store: RunStore) throws -> (jobs: Int, done: Int, maxAttempts: Int) {
        try store.read { db in
            let r = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, SUM(status = 'done') AS d, MAX(attempts) AS a FROM jobs")!
            return (r["n"], r["d"] ?? 0, r["a"] ?? 0)
        }
    }

    func testTwoWorkersEvaluateEveryCandidateOnce() async throws {
        let dir = temporaryDirectory(self)
        let config = queueConfig()
        let store = try RunStore.create(directory: dir, config: config)
        let run = Task { try await controller(store, config).run() }
        let workers = try (0..<2).map { _ in try startWorker(dir, evaluator: SyntheticEvaluator(delayMilliseconds: 20)) }
        let summary = try await run.value
        XCTAssertEqual(summary.status, "done")
        XCTAssertEqual(summary.evaluations, 12)
        let exits = try await [workers[0].value, workers[1].value]
        XCTAssertEqual(exits.map(\.reason), ["the run is done", "the run is done"])
        XCTAssertEqual(exits.map(\.completed).reduce(0, +), 12, "\(exits)")
        let rows = try evaluationRows(store)
        XCTAssertEqual(rows.count, 12)
        XCTAssertTrue(rows.allSatisfy { $0.count == 1 })
        let stats = try jobStats(store)
        XCTAssertEqual(stats.jobs, 12); XCTAssertEqual(stats.done, 12)
        // The stored scores are the synthetic evaluator's: the queue carried spec, cost and settings intact.
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        for c in state.archive.evaluated {
            XCTAssertEqual(c.accuracy!, SyntheticEvaluator.score(spec: c.spec, cost: c.cost, hash: c.hash, epochs: 3), accuracy: 1e-12)
        }
        XCTAssertEqual(try SQLiteWorkQueue(store: store).identity(), RunIdentity(version: "v", datasetFingerprint: "f"))
    }

    /// A fake `evaluate-candidate` command run by a queue worker through the process evaluator.
    func testWorkerRunsTheProcessEvaluatorWithAFakeCommand() async throws {
        let dir = temporaryDirectory(self)
        let config = queueConfig(trials: 4, batch: 2)
        let store = try RunStore.create(directory: dir, config: config)
        let run = Task { try await controller(store, config).run() }
        let fake = ProcessEvaluator(command: try FakeWorker.script(dir.appendingPathComponent("bin"), "w", FakeWorker.ok),
                                    workRoot: dir.appendingPathComponent("candidates"), timeoutSeconds: 30)
        let worker = try startWorker(dir, evaluator: fake)
        let summary = try await run.value
        XCTAssertEqual(summary.evaluations, 4)
        let workerExit = try await worker.value
        XCTAssertEqual(workerExit.completed, 4)
        let accs = try store.read { try Double.fetchAll($0, sql: "SELECT val_accuracy FROM evaluations") }
        XCTAssertEqual(accs, [0.81, 0.81, 0.81, 0.81])
    }

    /// The controller stops (simulated kill) with jobs in flight; a worker finishes them while
    /// it is down; the resumed controller records those results, proposes the rest, and no
    /// evaluation is lost or repeated.
    func testResumeAfterControllerStopPicksUpJobsDoneMeanwhile() async throws {
        let dir = temporaryDirectory(self)
        let config = queueConfig(trials: 10, batch: 4)
        let store = try RunStore.create(directory: dir, config: config)
        let first = controller(store, config)
        first.stopAfterEvaluations = 3
        let run = Task { try await first.run() }
        let w1 = try startWorker(dir, evaluator: SyntheticEvaluator(delayMilliseconds: 30), options: QueueWorkerOptions(idleExitSeconds: 0.5))
        let firstSummary = try await run.value
        XCTAssertEqual(firstSummary.status, "interrupted")
        let exit1 = try await w1.value
        XCTAssertTrue(exit1.reason.contains("idle"), exit1.reason)
        let doneWhileDown = try jobStats(store).done - 3
        XCTAssertGreaterThan(doneWhileDown, 0, "the worker should finish in-flight jobs while the controller is down")
        store.lock?.release()

        let reopened = try RunStore.open(directory: dir)
        let resumed = controller(reopened, try reopened.config())
        let run2 = Task { try await resumed.run() }
        let w2 = try startWorker(dir, evaluator: SyntheticEvaluator(delayMilliseconds: 5))
        let s = try await run2.value
        XCTAssertEqual(s.status, "done")
        XCTAssertEqual(s.evaluations, 10)
        let exit2 = try await w2.value
        let rows = try evaluationRows(reopened)
        XCTAssertEqual(rows.count, 10, "none lost")
        XCTAssertTrue(rows.allSatisfy { $0.count == 1 }, "none repeated")
        XCTAssertEqual(try jobStats(reopened).jobs, 10, "one job per evaluated candidate")
        XCTAssertEqual(exit1.completed + exit2.completed, 10)
    }

    func testWorkerStopConditions() async throws {
        let dir = temporaryDirectory(self)
        let config = queueConfig(trials: 6, batch: 3)
        let store = try RunStore.create(directory: dir, config: config)
        let c = controller(store, config)
        let run = Task { try await c.run() }
        // --max-jobs
        let one = try await startWorker(dir, evaluator: SyntheticEvaluator(), options: QueueWorkerOptions(maxJobs: 1)).value
        XCTAssertEqual(one.completed, 1)
        XCTAssertTrue(one.reason.contains("--max-jobs"), one.reason)
        // SIGTERM mid-job: the job is given back (queued, not a lost lease).
        let stop = StopFlag()
        let slow = try startWorker(dir, evaluator: SyntheticEvaluator(delayMilliseconds: 5_000), stop: stop)
        let q = try SQLiteWorkQueue(store: store)
        for _ in 0..<200 where (try q.counts()["claimed"] ?? 0) == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        stop.set()
        let stopped = try await slow.value
        XCTAssertTrue(stopped.reason.contains("SIGTERM") && stopped.reason.contains("given back"), stopped.reason)
        XCTAssertEqual(try q.counts()["claimed"] ?? 0, 0)
        XCTAssertEqual(try jobStats(store).maxAttempts, 0)
        let reason = try store.read { try String.fetchOne($0, sql: "SELECT exit_reason FROM workers WHERE id = ?", arguments: [stopped.workerID]) }
        XCTAssertEqual(reason, stopped.reason)
        // The rest, then the run is done and a late worker exits at once.
        let rest = try startWorker(dir, evaluator: SyntheticEvaluator())
        let final = try await run.value
        XCTAssertEqual(final.evaluations, 6)
        _ = try await rest.value
        let late = try await startWorker(dir, evaluator: SyntheticEvaluator()).value
        XCTAssertEqual(late.reason, "the run is done")
        XCTAssertEqual(late.completed, 0)
    }

    func testHalvingWithTheQueueIsRefused() {
        var c = queueConfig()
        c.halving = try? HalvingSettings.parse(epochs: "1,3", eta: 2, subsets: nil)
        c.settings.epochs = 1
        XCTAssertThrowsError(try c.validate()) { e in XCTAssertTrue("\(e)".contains("--executor local"), "\(e)") }
        c.executor = "nope"; c.halving = nil
        XCTAssertThrowsError(try c.validate()) { e in XCTAssertTrue("\(e)".contains("local, workers, external"), "\(e)") }
    }
}

/// `LocalWorkerPool` with fake worker commands (shell), and the controller's reaction when
/// every local worker is gone.
final class LocalWorkerPoolTests: XCTestCase {
    func waitUntil(_ seconds: Double, _ condition: () -> Bool) async throws {
        let end = Date().addingTimeInterval(seconds)
        while !condition() && Date() < end { try await Task.sleep(nanoseconds: 20_000_000) }
    }

    func testExitsAreReportedAndStopKillsTheRest() async throws {
        let dir = temporaryDirectory(self)
        let failing = LocalWorkerPool(command: ["/bin/sh", "-c", "echo label=$TINYFORGE_WORKER_LABEL; exit 3"], count: 2,
                                      logDirectory: dir.appendingPathComponent("a"))
        try failing.start()
        try await waitUntil(10) { failing.allExited() != nil }
        let why = try XCTUnwrap(failing.allExited())
        XCTAssertTrue(why.contains("all 2 local worker(s) exited") && why.contains("exited(3)"), why)
        let log = try String(contentsOf: dir.appendingPathComponent("a/worker-2.log"), encoding: .utf8)
        XCTAssertEqual(log, "label=local:2\n")

        let sleeping = LocalWorkerPool(command: ["/bin/sh", "-c", "sleep 30"], count: 2, logDirectory: dir.appendingPathComponent("b"))
        try sleeping.start()
        try await waitUntil(10) { sleeping.running.count == 2 }
        XCTAssertEqual(sleeping.running.count, 2)
        XCTAssertNil(sleeping.allExited())
        let t = Date()
        sleeping.stop(grace: 2)
        XCTAssertLessThan(Date().timeIntervalSince(t), 5)
        try await waitUntil(5) { sleeping.allExited() != nil }
        XCTAssertNotNil(sleeping.allExited(), "stop() ends every worker")
    }

    /// `--executor workers` whose workers all die: the run fails naming the logs instead of waiting forever.
    func testControllerFailsWhenAllLocalWorkersExit() async throws {
        let dir = temporaryDirectory(self)
        var config = testConfig(trials: 4, batch: 2)
        config.executor = "workers"
        let store = try RunStore.create(directory: dir, config: config)
        let c = SearchController(store: store, config: config, proposer: config.makeClassicProposer()!, evaluator: SyntheticEvaluator())
        c.queuePollSeconds = 0.02
        c.workerPool = LocalWorkerPool(command: ["/bin/sh", "-c", "echo cannot start >&2; exit 1"], count: 2,
                                       logDirectory: dir.appendingPathComponent("workers"))
        do {
            _ = try await c.run()
            XCTFail("the run must fail when no worker is left")
        } catch {
            XCTAssertTrue("\(error)".contains("all 2 local worker(s) exited") && "\(error)".contains("workers/worker-*.log"), "\(error)")
        }
        XCTAssertEqual(try SQLiteWorkQueue(store: store).runStatus(), "failed")
    }
}
