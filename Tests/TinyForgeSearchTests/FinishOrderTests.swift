import Foundation
import GRDB
@testable import TinyForgeSearch
import XCTest

/// Regression tests for the commit-order race of `finished_seq` (fixed in 6452ce4): the
/// controller reads "results since cursor" (`finished_seq > cursor`), so a job whose sequence
/// number becomes visible after a larger one was read is never read. PostgreSQL's `nextval` is
/// not transactional, so there every transaction that draws a `finished_seq` first takes a
/// per-run transaction lock (`PostgresWorkQueue.lockFinishOrder`). Each test holds one
/// completion open at the worst moment — sequence drawn, COMMIT not yet sent — on its own
/// session, runs another final-state write and the controller's cursor read against it, then
/// commits and reads again: every job must be read exactly once, in sequence order.
/// Skipped, loudly, without `TINYFORGE_TEST_PG_URL` (as all PostgreSQL tests).
final class FinishOrderPostgresTests: XCTestCase {
    struct Run {
        let contract: WorkQueueContract
        let store: RunStore
        let controller: WorkQueue
        let jobs: [Int64]
        let url: PostgresStoreURL
    }

    /// A run with `n` queued jobs; the controller's queue shares the run store's session.
    func makeRun(_ n: Int) async throws -> Run {
        let c = WorkQueueContract(backend: try .postgres(), test: self)
        let (store, q, ids) = try await c.makeQueue(n)
        try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: c.settings) }, now: c.t0)
        guard case .postgres(let url) = store.location else { throw SetupFailure("\(store.location) is not a PostgreSQL store") }
        let jobs: [Int64] = try store.fetch { c in
            try c.fetchAll("SELECT id FROM jobs WHERE run_id = ? ORDER BY id", [store.runID]).map { try $0["id"] as Int64 }
        }
        return Run(contract: c, store: store, controller: q, jobs: jobs, url: url)
    }

    /// A worker on its own session (as a worker process has) that claims one job.
    func workerClaiming(_ run: Run) throws -> (PostgresWorkQueue, Int64, ClaimedJob) {
        let q = try PostgresWorkQueue.open(url: run.url, reconnectDelays: [0.1])
        let w = try run.contract.worker(q)
        return (q, w, try XCTUnwrap(try q.claim(worker: w, now: run.contract.t0)))
    }

    /// `job`'s completion by `worker`, held before its COMMIT on `queue`'s session; holds its `finished_seq`.
    func holdCompletion(_ queue: PostgresWorkQueue, worker: Int64, job: Int64, accuracy: Double, now: Date) throws -> HeldTransaction<Int64> {
        let json = WorkerMetrics(result: EvaluationResult(status: .ok, valAccuracy: accuracy, valLoss: 0.3, epochs: 2, seconds: 1)).jsonValue().canonicalText()
        return try HeldTransaction { hold in
            try queue.db.write { c in
                let outcome = try queue.finish(in: c, job: job, worker: worker, status: .done, resultJSON: json, reason: nil, now: now)
                guard outcome == .accepted else { throw SetupFailure("the held completion was refused: \(outcome)") }
                hold(try c.fetchValue("SELECT finished_seq FROM jobs WHERE id = ?", [job]) ?? -1)
            }
        }
    }

    /// Whether the session `pid` is queued behind a lock (with the fix: the finish-order advisory lock).
    func waitsOnALock(_ store: RunStore, pid: Int64) throws -> Bool {
        let n: Int? = try store.fetch { try $0.fetchValue("SELECT COUNT(*) FROM pg_locks WHERE pid = ?::int AND NOT granted", [pid]) }
        return (n ?? 0) > 0
    }

    /// The run's final jobs in `finished_seq` order.
    func finishedOrder(_ run: Run) throws -> [Int64] {
        try run.store.fetch { c in
            try c.fetchAll("SELECT id FROM jobs WHERE run_id = ? AND finished_seq IS NOT NULL ORDER BY finished_seq", [run.store.runID])
                .map { try $0["id"] as Int64 }
        }
    }

    /// Two workers complete; the first is held open. The second must wait for it (not commit a
    /// larger sequence ahead of it), and the controller's read at that moment, then again after
    /// both commits, sees each job exactly once. Without the lock the second commits at once,
    /// the first read returns it and moves the cursor past the held job's sequence, and the
    /// held job is never read: the candidate stays `evaluating` forever.
    func testASecondCompletionWaitsForAnOpenOneAndTheCursorLosesNothing() async throws {
        let run = try await makeRun(2)
        let (q1, w1, a) = try workerClaiming(run), (q2, w2, b) = try workerClaiming(run)
        let pid2 = try XCTUnwrap(q2.db as? PostgresStoreDatabase).sessionPID()
        let held = try holdCompletion(q1, worker: w1, job: a.jobID, accuracy: 0.7, now: run.contract.t0 + 1)
        defer { try? held.commit() }
        let (jobB, resultB, timeB) = (b.jobID, run.contract.ok(0.8), run.contract.t0 + 2)
        let second = Pending { try q2.complete(job: jobB, worker: w2, result: resultB, now: timeB) }

        let waiting = try eventually(seconds: 5) { try second.isDone || waitsOnALock(run.store, pid: pid2) }
        XCTAssertTrue(waiting, "the second completion neither finished nor waited within 5 s")
        XCTAssertFalse(second.isDone, "job \(b.jobID)'s completion committed while job \(a.jobID)'s finished_seq \(held.value) was drawn but not committed")
        var cursor = ResultCursor()
        try cursor.read(run.controller)                       // the worst moment: one completion open, one waiting
        XCTAssertEqual(cursor.seen, [], "nothing is committed yet")
        try held.commit()
        XCTAssertEqual(try second.value(within: 10, "the second completion"), .accepted)
        try cursor.read(run.controller)
        XCTAssertEqual(cursor.seen, [a.jobID, b.jobID], "each finished job read exactly once, in commit order (job \(a.jobID) held seq \(held.value))")
        XCTAssertEqual(try finishedOrder(run), [a.jobID, b.jobID], "finished_seq follows commit order")
        XCTAssertEqual(try run.controller.results(since: cursor.position), [], "nothing left behind the cursor")
    }

    /// The same order against the other writer of a final state: a worker's `reclaimStale`
    /// that fails a job on its last attempt waits for an open completion (it takes the same
    /// lock), so the controller's cursor never skips the completion.
    func testAFinalReclaimWaitsForAnOpenCompletionAndTheCursorLosesNothing() async throws {
        let run = try await makeRun(2)
        let (q1, w1, a) = try workerClaiming(run), (_, _, stale) = try workerClaiming(run)
        let reclaimer = try PostgresWorkQueue.open(url: run.url, reconnectDelays: [0.1])
        let pid = try XCTUnwrap(reclaimer.db as? PostgresStoreDatabase).sessionPID()
        // w1 heartbeats, so only the other job is stale: the reclaim never touches the held row
        // and nothing but the finish-order lock can make it wait.
        XCTAssertTrue(try q1.heartbeat(worker: w1, job: a.jobID, now: run.contract.t0 + 90))
        let held = try holdCompletion(q1, worker: w1, job: a.jobID, accuracy: 0.7, now: run.contract.t0 + 91)
        defer { try? held.commit() }
        let reclaimTime = run.contract.t0 + 100
        let reclaim = Pending { try reclaimer.reclaimStale(grace: 30, maxAttempts: 1, now: reclaimTime) }

        let waiting = try eventually(seconds: 5) { try reclaim.isDone || waitsOnALock(run.store, pid: pid) }
        XCTAssertTrue(waiting, "the reclaim neither finished nor waited within 5 s")
        XCTAssertFalse(reclaim.isDone, "the reclaim committed a final state while job \(a.jobID)'s finished_seq \(held.value) was not committed")
        var cursor = ResultCursor()
        try cursor.read(run.controller)
        try held.commit()
        let reclaimed = try reclaim.value(within: 10, "the reclaim")
        XCTAssertEqual(reclaimed.map(\.jobID), [stale.jobID], "only the stale job (the held one completed meanwhile)")
        XCTAssertEqual(reclaimed.map(\.failed), [true])
        try cursor.read(run.controller)
        XCTAssertEqual(cursor.seen, [a.jobID, stale.jobID], "each finished job read exactly once, in commit order (job \(a.jobID) held seq \(held.value))")
        XCTAssertEqual(try finishedOrder(run), [a.jobID, stale.jobID], "finished_seq follows commit order")
    }
}

/// SQLite draws `finished_seq` (MAX + 1) inside `BEGIN IMMEDIATE`, whose write lock already
/// orders writers; this pins that down with the same interleaving as the PostgreSQL tests.
final class FinishOrderSQLiteTests: XCTestCase {
    func testASecondCompletionWaitsForAnOpenOneAndTheCursorLosesNothing() async throws {
        let c = WorkQueueContract(backend: .sqlite, test: self)
        let (store, controller, ids) = try await c.makeQueue(2)
        try controller.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: c.settings) }, now: c.t0)
        let q1 = try SQLiteWorkQueue.open(runDirectory: store.directory), q2 = try SQLiteWorkQueue.open(runDirectory: store.directory)
        let w1 = try c.worker(q1), w2 = try c.worker(q2)
        let a = try XCTUnwrap(try q1.claim(worker: w1, now: c.t0)), b = try XCTUnwrap(try q2.claim(worker: w2, now: c.t0))
        let json = WorkerMetrics(result: c.ok(0.7)).jsonValue().canonicalText()
        let held = try HeldTransaction<Int64> { hold in
            try q1.immediate { db in
                let outcome = try q1.finish(in: db, job: a.jobID, worker: w1, status: .done, resultJSON: json, reason: nil, now: c.t0 + 1)
                guard outcome == .accepted else { throw SetupFailure("the held completion was refused: \(outcome)") }
                hold(try Int64.fetchOne(db, sql: "SELECT finished_seq FROM jobs WHERE id = ?", arguments: [a.jobID]) ?? -1)
            }
        }
        defer { try? held.commit() }
        let (jobB, resultB, timeB) = (b.jobID, c.ok(0.8), c.t0 + 2)
        let second = Pending { try q2.complete(job: jobB, worker: w2, result: resultB, now: timeB) }

        try await Task.sleep(nanoseconds: 300_000_000)   // SQLite shows no lock waits: the second writer must still be blocked
        XCTAssertFalse(second.isDone, "job \(b.jobID)'s completion committed while job \(a.jobID)'s transaction was open")
        var cursor = ResultCursor()
        try cursor.read(controller)
        XCTAssertEqual(cursor.seen, [], "an open transaction's result is not visible")
        try held.commit()
        XCTAssertEqual(try second.value(within: 10, "the second completion"), .accepted)
        try cursor.read(controller)
        XCTAssertEqual(cursor.seen, [a.jobID, b.jobID], "each finished job read exactly once, in commit order")
        XCTAssertEqual(try controller.results(since: 0).map(\.sequence), [held.value, held.value + 1])
    }
}
