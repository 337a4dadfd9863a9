import Foundation
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Schema v5 and the `WorkQueue` contract, written once and run on both backends
/// (`WorkQueueSQLiteTests`, `WorkQueuePostgresTests`): enqueue, atomic claim, heartbeat,
/// complete exactly once, fail, release, stale-lease reclaim, results since a cursor, identity,
/// and concurrent claimers on separate worker connections never sharing a job.
struct WorkQueueContract {
    let backend: StoreBackend
    let test: XCTestCase

    /// A run with `n` accepted candidates (status proposed) and the controller's queue on it.
    func makeQueue(_ n: Int = 4) async throws -> (RunStore, WorkQueue, [Int64]) {
        let store = try RunStore.create(at: backend.location(test), config: testConfig())
        var validator = testValidator()
        var ctx = try testContext(iteration: 0)
        var outcomes: [ProposalOutcome] = []
        for p in try await RandomProposer().propose(count: 40, context: &ctx) where outcomes.count < n {
            if case .success(let a) = validator.validate(p, iteration: 0) { outcomes.append(.accepted(a)) }
        }
        let ids = try store.recordIteration(0, outcomes: outcomes)
        XCTAssertEqual(ids.count, n)
        return (store, try store.workQueue(), ids)
    }

    let settings = EvaluationSettings(dataset: "synthetic:classes=10", epochs: 2, subset: 0.5, seed: 3, extraArgs: ["--lr", "0.1"])
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    func worker(_ q: WorkQueue, _ label: String? = nil) throws -> Int64 {
        try q.registerWorker(WorkerInfo(host: "h", pid: 42, version: "v", label: label), now: t0)
    }
    func ok(_ acc: Double) -> EvaluationResult { EvaluationResult(status: .ok, valAccuracy: acc, valLoss: 0.3, epochs: 2, seconds: 1) }

    func enqueueIsIdempotentAndStatusIsChecked() async throws {
        let (store, q, ids) = try await makeQueue()
        XCTAssertEqual(try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: settings) }, now: t0), 4)
        XCTAssertEqual(try q.enqueue([QueueJobRequest(candidateID: ids[0], rung: 0, settings: settings)], now: t0), 0, "UNIQUE(candidate_id, rung)")
        XCTAssertEqual(try q.enqueue([QueueJobRequest(candidateID: ids[0], rung: 1, settings: settings)], now: t0), 1)
        XCTAssertEqual(try q.counts(), ["queued": 5])
        do {
            try store.db.write { try $0.execute("UPDATE jobs SET status = 'running' WHERE run_id = ?", [store.runID]) }
            XCTFail("status is CHECKed")
        } catch {
            XCTAssertTrue("\(error)".lowercased().contains("check"), "\(error)")
        }
    }

    func claimHeartbeatCompleteExactlyOnce() async throws {
        let (store, q, ids) = try await makeQueue()
        try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: settings) }, now: t0)
        let w = try worker(q, "slurm:7_1")
        let job = try XCTUnwrap(try q.claim(worker: w, now: t0))
        XCTAssertEqual(job.evaluation.candidateID, ids[0], "oldest first")
        XCTAssertEqual(job.evaluation.settings, settings)
        XCTAssertEqual(job.evaluation.spec.canonicalHash, job.evaluation.hash)
        XCTAssertTrue(try q.heartbeat(worker: w, job: job.jobID, now: t0 + 5))
        XCTAssertEqual(try q.complete(job: job.jobID, worker: w, result: ok(0.7), now: t0 + 6), .accepted)
        guard case .refused(let why) = try q.complete(job: job.jobID, worker: w, result: ok(0.9), now: t0 + 7) else {
            return XCTFail("a second completion must be refused")
        }
        XCTAssertTrue(why.contains("already done"), why)
        XCTAssertFalse(try q.heartbeat(worker: w, job: job.jobID, now: t0 + 8), "no lease on a finished job")
        let results = try q.results(since: 0)
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results[0].result.valAccuracy, 0.7, "the first completion counts")
        XCTAssertEqual(try q.results(since: results[0].sequence), [])
        let row = try XCTUnwrap(try store.fetch { try $0.fetchOne("SELECT label, evaluations FROM workers WHERE id = ?", [w]) })
        XCTAssertEqual(try row["label"] as String?, "slurm:7_1")
        XCTAssertEqual(try row["evaluations"] as Int, 1)
        let refusals: Int? = try store.fetch { try $0.fetchValue("SELECT COUNT(*) FROM events WHERE run_id = ? AND message LIKE '%refused%'", [store.runID]) }
        XCTAssertEqual(refusals, 1, "the refused completion is recorded")
    }

    func failAndReleaseAndFailedTrainingIsAResult() async throws {
        let (_, q, ids) = try await makeQueue(3)
        try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: settings) }, now: t0)
        let w = try worker(q)
        let a = try XCTUnwrap(try q.claim(worker: w, now: t0)), b = try XCTUnwrap(try q.claim(worker: w, now: t0))
        let c = try XCTUnwrap(try q.claim(worker: w, now: t0))
        XCTAssertNil(try q.claim(worker: w, now: t0), "nothing left queued")
        XCTAssertEqual(try q.fail(job: a.jobID, worker: w, reason: "cannot write spec.json", now: t0), .accepted)
        XCTAssertEqual(try q.complete(job: b.jobID, worker: w, result: .failed("worker crashed (killed by signal 9)"), now: t0), .accepted)
        try q.release(job: c.jobID, worker: w, now: t0)
        XCTAssertEqual(try q.counts(), ["queued": 1, "failed": 1, "done": 1])
        let again = try XCTUnwrap(try q.claim(worker: w, now: t0))
        XCTAssertEqual(again.jobID, c.jobID)
        XCTAssertEqual(again.attempts, 0, "a released job is not a lost lease")
        let r = try q.results(since: 0)
        XCTAssertEqual(r.map(\.result.failureReason), ["cannot write spec.json", "worker crashed (killed by signal 9)"])
    }

    /// A worker stops heartbeating: its job is queued again (attempts + 1) and evaluated by
    /// another worker; the first worker's late completion is refused; only one result exists.
    func staleLeaseIsReclaimedAndEvaluatedOnce() async throws {
        let (_, q, ids) = try await makeQueue(1)
        try q.enqueue([QueueJobRequest(candidateID: ids[0], rung: 0, settings: settings)], now: t0)
        let slow = try worker(q), other = try worker(q)
        let job = try XCTUnwrap(try q.claim(worker: slow, now: t0))
        XCTAssertEqual(try q.reclaimStale(grace: 30, maxAttempts: 3, now: t0 + 29), [], "within the grace period")
        let back = try q.reclaimStale(grace: 30, maxAttempts: 3, now: t0 + 31)
        XCTAssertEqual(back, [ReclaimedJob(jobID: job.jobID, candidateID: ids[0], previousOwner: slow, attempts: 1, failed: false)])
        let retry = try XCTUnwrap(try q.claim(worker: other, now: t0 + 32))
        XCTAssertEqual(retry.jobID, job.jobID)
        XCTAssertEqual(retry.attempts, 1)
        XCTAssertFalse(try q.heartbeat(worker: slow, job: job.jobID, now: t0 + 33), "the slow worker lost its lease")
        XCTAssertEqual(try q.complete(job: job.jobID, worker: other, result: ok(0.6), now: t0 + 34), .accepted)
        guard case .refused(let why) = try q.complete(job: job.jobID, worker: slow, result: ok(0.1), now: t0 + 35) else {
            return XCTFail("the lost lease's completion must be refused")
        }
        XCTAssertTrue(why.contains("already done"), why)
        XCTAssertEqual(try q.results(since: 0).map(\.result.valAccuracy), [0.6])
    }

    func lastAttemptFailsTheJobWithTheReason() async throws {
        let (_, q, ids) = try await makeQueue(1)
        try q.enqueue([QueueJobRequest(candidateID: ids[0], rung: 0, settings: settings)], now: t0)
        var now = t0
        for attempt in 1...2 {
            let w = try worker(q)
            XCTAssertNotNil(try q.claim(worker: w, now: now))
            now += 100
            let r = try q.reclaimStale(grace: 30, maxAttempts: 2, now: now)
            XCTAssertEqual(r.map(\.attempts), [attempt])
            XCTAssertEqual(r.map(\.failed), [attempt == 2])
        }
        XCTAssertEqual(try q.counts(), ["failed": 1])
        let result = try XCTUnwrap(try q.results(since: 0).first).result
        XCTAssertTrue(result.failureReason?.contains("stopped heartbeating") == true, "\(String(describing: result.failureReason))")
        XCTAssertTrue(result.failureReason?.contains("lost lease 2 of 2") == true, "\(String(describing: result.failureReason))")
    }

    /// Two workers' connections (as two processes would open them), claiming from concurrent threads, never get the same job.
    func concurrentClaimersNeverShareAJob() async throws {
        let (store, q, ids) = try await makeQueue(12)
        try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: settings) }, now: t0)
        let queues = [try RunStore.workerQueue(at: store.location), try RunStore.workerQueue(at: store.location)]
        let workers = try queues.map { try worker($0) }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (qq, w) in zip(queues, workers) {
                group.addTask {
                    var mine: [Int64] = []
                    while let j = try qq.claim(worker: w, now: Date()) { mine.append(j.jobID) }
                    return mine
                }
            }
            return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
        }
        let all = claimed.flatMap { $0 }
        XCTAssertEqual(all.count, 12, "every job claimed once: \(claimed)")
        XCTAssertEqual(Set(all).count, 12, "no job claimed twice: \(claimed)")
        let owners: Int? = try store.fetch { try $0.fetchValue("SELECT COUNT(DISTINCT lease_owner) FROM jobs WHERE run_id = ? AND status = 'claimed'", [store.runID]) }
        XCTAssertEqual(owners, claimed.filter { !$0.isEmpty }.count)
    }

    func identityFirstRecordWinsAndMismatchNamesBothValues() async throws {
        let (store, q, _) = try await makeQueue(1)
        let mine = RunIdentity(version: "0.14.0", datasetFingerprint: "3 files, 100 bytes, sha256 ab")
        XCTAssertEqual(try q.recordIdentity(mine, now: t0), mine)
        XCTAssertEqual(try q.recordIdentity(RunIdentity(version: "9", datasetFingerprint: "x"), now: t0), mine)
        XCTAssertThrowsError(try mine.check(worker: RunIdentity(version: "0.13.9", datasetFingerprint: mine.datasetFingerprint), run: "runs/a")) { e in
            XCTAssertEqual(e as? QueueError, .versionMismatch(run: "runs/a", runVersion: "0.14.0", workerVersion: "0.13.9"))
            XCTAssertTrue("\(e)".contains("0.14.0") && "\(e)".contains("0.13.9") && "\(e)".contains("same version"), "\(e)")
        }
        XCTAssertThrowsError(try mine.check(worker: RunIdentity(version: "0.14.0", datasetFingerprint: "3 files, 101 bytes, sha256 cd"), run: "runs/a")) { e in
            XCTAssertTrue("\(e)".contains("100 bytes") && "\(e)".contains("101 bytes"), "\(e)")
        }
        XCTAssertNoThrow(try mine.check(worker: mine, run: "runs/a"))
        _ = store
    }
}

/// `WorkQueueContract` on a run directory (SQLite), plus the SQLite-only checks.
final class WorkQueueSQLiteTests: XCTestCase {
    var contract: WorkQueueContract { WorkQueueContract(backend: .sqlite, test: self) }

    func testEnqueueIsIdempotentAndStatusIsChecked() async throws { try await contract.enqueueIsIdempotentAndStatusIsChecked() }
    func testClaimHeartbeatCompleteExactlyOnce() async throws { try await contract.claimHeartbeatCompleteExactlyOnce() }
    func testFailAndReleaseAndFailedTrainingIsAResult() async throws { try await contract.failAndReleaseAndFailedTrainingIsAResult() }
    func testStaleLeaseIsReclaimedAndEvaluatedOnce() async throws { try await contract.staleLeaseIsReclaimedAndEvaluatedOnce() }
    func testLastAttemptFailsTheJobWithTheReason() async throws { try await contract.lastAttemptFailsTheJobWithTheReason() }
    func testConcurrentClaimersNeverShareAJob() async throws { try await contract.concurrentClaimersNeverShareAJob() }
    func testIdentityFirstRecordWinsAndMismatchNamesBothValues() async throws { try await contract.identityFirstRecordWinsAndMismatchNamesBothValues() }

    func testDatasetFingerprintChangesWithContent() throws {
        let dir = temporaryDirectory(self, "data")
        try Data("abc".utf8).write(to: dir.appendingPathComponent("a.bin"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("defg".utf8).write(to: dir.appendingPathComponent("sub/b.bin"))
        let f1 = try RunIdentity.datasetFingerprint(source: "x", roots: [dir])
        XCTAssertTrue(f1.hasPrefix("2 files, 7 bytes, sha256 "), f1)
        XCTAssertEqual(try RunIdentity.datasetFingerprint(source: "x", roots: [dir]), f1, "deterministic")
        try Data("defh".utf8).write(to: dir.appendingPathComponent("sub/b.bin"))
        XCTAssertNotEqual(try RunIdentity.datasetFingerprint(source: "x", roots: [dir]), f1, "same size, other content")
        XCTAssertThrowsError(try RunIdentity.datasetFingerprint(source: "x", roots: [dir.appendingPathComponent("missing")])) { e in
            XCTAssertTrue("\(e)".contains("same path"), "\(e)")
        }
        XCTAssertEqual(try RunIdentity.datasetFingerprint(source: "synthetic:classes=10", roots: []), "no files (generated: synthetic:classes=10)")
    }

    func testWorkerRefusesARunWithoutQueue() throws {
        let dir = temporaryDirectory(self)
        XCTAssertThrowsError(try SQLiteWorkQueue.open(runDirectory: dir)) { e in XCTAssertTrue("\(e)".contains("holds no run"), "\(e)") }
    }
}

/// `WorkQueueContract` on PostgreSQL (skipped, loudly, without `TINYFORGE_TEST_PG_URL`), plus
/// what only a server can show: the worker's session without the run lock, unknown runs, and a
/// worker whose session is killed reconnecting and keeping its lease.
final class WorkQueuePostgresTests: XCTestCase {
    func contract() throws -> WorkQueueContract { WorkQueueContract(backend: try .postgres(), test: self) }

    func testEnqueueIsIdempotentAndStatusIsChecked() async throws { try await contract().enqueueIsIdempotentAndStatusIsChecked() }
    func testClaimHeartbeatCompleteExactlyOnce() async throws { try await contract().claimHeartbeatCompleteExactlyOnce() }
    func testFailAndReleaseAndFailedTrainingIsAResult() async throws { try await contract().failAndReleaseAndFailedTrainingIsAResult() }
    func testStaleLeaseIsReclaimedAndEvaluatedOnce() async throws { try await contract().staleLeaseIsReclaimedAndEvaluatedOnce() }
    func testLastAttemptFailsTheJobWithTheReason() async throws { try await contract().lastAttemptFailsTheJobWithTheReason() }
    func testConcurrentClaimersNeverShareAJob() async throws { try await contract().concurrentClaimersNeverShareAJob() }
    func testIdentityFirstRecordWinsAndMismatchNamesBothValues() async throws { try await contract().identityFirstRecordWinsAndMismatchNamesBothValues() }

    /// The controller holds the run lock; workers open the run anyway (they never take it), a
    /// second controller is still refused, and an unknown NAME is named with the runs that exist.
    func testWorkerSessionSkipsTheRunLockAndUnknownRunsAreNamed() async throws {
        let c = try contract()
        let (store, _, _) = try await c.makeQueue(1)
        guard case .postgres(var url) = store.location else { return XCTFail("not a PostgreSQL store") }
        XCTAssertNoThrow(try RunStore.workerQueue(at: store.location))
        XCTAssertThrowsError(try RunStore.open(at: store.location)) { e in XCTAssertTrue(e is RunLockError, "\(e)") }
        url.run = "no-such-run-\(UUID().uuidString.prefix(6))"
        XCTAssertThrowsError(try RunStore.workerQueue(at: .postgres(url))) { e in
            guard case PostgresStoreError.unknownRun(_, let run, let known)? = e as? PostgresStoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(run, url.run)
            XCTAssertTrue(known.contains(store.location.description.components(separatedBy: "?run=").last!), "\(known)")
        }
    }

    /// The worker's session is terminated by the server between claim and completion: the next
    /// call reconnects (backoff) and the completion counts, because the lease is in the table,
    /// not in the session.
    func testWorkerSessionLossReconnectsAndKeepsTheLease() async throws {
        let c = try contract()
        let (store, q, ids) = try await c.makeQueue(2)
        try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: c.settings) }, now: c.t0)
        guard case .postgres(let url) = store.location else { return XCTFail("not a PostgreSQL store") }
        let wq = try PostgresWorkQueue.open(url: url, reconnectDelays: [0.1, 0.2, 0.4])
        let w = try c.worker(wq)
        let job = try XCTUnwrap(try wq.claim(worker: w, now: c.t0))
        let session = try XCTUnwrap(wq.db as? PostgresStoreDatabase).sessionPID()
        let killed: Bool? = try store.db.write { try $0.fetchValue("SELECT pg_terminate_backend(?::int) AS ok", [session]) }
        XCTAssertEqual(killed, true)
        XCTAssertTrue(try wq.heartbeat(worker: w, job: job.jobID, now: c.t0 + 1), "reconnected, lease kept")
        XCTAssertNotEqual(try XCTUnwrap(wq.db as? PostgresStoreDatabase).sessionPID(), session, "a new session")
        XCTAssertEqual(try wq.complete(job: job.jobID, worker: w, result: c.ok(0.8), now: c.t0 + 2), .accepted)
        XCTAssertEqual(try q.results(since: 0).map(\.result.valAccuracy), [0.8])
        XCTAssertEqual(try q.counts(), ["queued": 1, "done": 1])
    }
}
