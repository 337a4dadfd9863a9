import Foundation
import GRDB
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Schema v5 and `SQLiteWorkQueue`: enqueue, atomic claim, heartbeat, complete exactly once,
/// fail, release, stale-lease reclaim, results since a cursor.
final class WorkQueueTests: XCTestCase {
    /// A run with `n` accepted candidates (status proposed) and its queue.
    func makeQueue(_ n: Int = 4) async throws -> (RunStore, SQLiteWorkQueue, [Int64]) {
        let dir = temporaryDirectory(self)
        let store = try RunStore.create(directory: dir, config: testConfig())
        var validator = testValidator()
        var ctx = try testContext(iteration: 0)
        var outcomes: [ProposalOutcome] = []
        for p in try await RandomProposer().propose(count: 40, context: &ctx) where outcomes.count < n {
            if case .success(let a) = validator.validate(p, iteration: 0) { outcomes.append(.accepted(a)) }
        }
        let ids = try store.recordIteration(0, outcomes: outcomes)
        XCTAssertEqual(ids.count, n)
        return (store, try SQLiteWorkQueue(store: store), ids)
    }

    let settings = EvaluationSettings(dataset: "synthetic:classes=10", epochs: 2, subset: 0.5, seed: 3, extraArgs: ["--lr", "0.1"])
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    func worker(_ q: SQLiteWorkQueue, _ label: String? = nil) throws -> Int64 {
        try q.registerWorker(WorkerInfo(host: "h", pid: 42, version: "v", label: label), now: t0)
    }
    /// Calls the synchronous GRDB API from an async test (overloads would pick the async one).
    func sync<T>(_ body: () throws -> T) rethrows -> T { try body() }
    func ok(_ acc: Double) -> EvaluationResult { EvaluationResult(status: .ok, valAccuracy: acc, valLoss: 0.3, epochs: 2, seconds: 1) }

    func testEnqueueIsIdempotentAndStatusIsChecked() async throws {
        let (store, q, ids) = try await makeQueue()
        XCTAssertEqual(try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: settings) }, now: t0), 4)
        XCTAssertEqual(try q.enqueue([QueueJobRequest(candidateID: ids[0], rung: 0, settings: settings)], now: t0), 0, "UNIQUE(candidate_id, rung)")
        XCTAssertEqual(try q.enqueue([QueueJobRequest(candidateID: ids[0], rung: 1, settings: settings)], now: t0), 1)
        XCTAssertEqual(try q.counts(), ["queued": 5])
        let raw = try SQLiteWorkQueue.open(runDirectory: store.directory)
        do {
            try sync { try raw.immediate { try $0.execute(sql: "UPDATE jobs SET status = 'running' WHERE id = 1") } }
            XCTFail("status is CHECKed")
        } catch {
            XCTAssertTrue("\(error)".contains("CHECK"), "\(error)")
        }
    }

    func testClaimHeartbeatCompleteExactlyOnce() async throws {
        let (_, q, ids) = try await makeQueue()
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
        let row = try sync { try q.db.read { try Row.fetchOne($0, sql: "SELECT label, evaluations FROM workers WHERE id = ?", arguments: [w])! } }
        XCTAssertEqual(row["label"] as String?, "slurm:7_1")
        XCTAssertEqual(row["evaluations"] as Int, 1)
        let refusals = try sync { try q.db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events WHERE message LIKE '%refused%'") } }
        XCTAssertEqual(refusals, 1, "the refused completion is recorded")
    }

    func testFailAndReleaseAndFailedTrainingIsAResult() async throws {
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
    func testStaleLeaseIsReclaimedAndEvaluatedOnce() async throws {
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

    func testLastAttemptFailsTheJobWithTheReason() async throws {
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

    /// Two processes' worth of claimers (separate connections, concurrent threads) never get the same job.
    func testConcurrentClaimersNeverShareAJob() async throws {
        let (store, q, ids) = try await makeQueue(12)
        try q.enqueue(ids.map { QueueJobRequest(candidateID: $0, rung: 0, settings: settings) }, now: t0)
        let queues = [try SQLiteWorkQueue.open(runDirectory: store.directory), try SQLiteWorkQueue.open(runDirectory: store.directory)]
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
        let owners = try sync { try q.db.read { try Int.fetchOne($0, sql: "SELECT COUNT(DISTINCT lease_owner) FROM jobs WHERE status = 'claimed'") } }
        XCTAssertEqual(owners, claimed.filter { !$0.isEmpty }.count)
    }

    func testIdentityFirstRecordWinsAndMismatchNamesBothValues() async throws {
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
