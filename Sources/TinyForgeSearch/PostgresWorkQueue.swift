import Foundation
import TinyForgeSpec

/// `WorkQueue` on a PostgreSQL run store (schema v5, `StorePostgresQueueSchema`). The
/// controller shares its `RunStore`'s session (`RunStore.workQueue()`), which holds the run's
/// advisory lock; a worker opens its own session (`open(url:)`) that never takes that lock —
/// the lock keeps a second controller out, not the workers.
///
/// Every method is one transaction of `PostgresStoreDatabase`, which repeats a transaction on
/// a new session after a connection loss (with backoff): each body below is therefore safe to
/// run again (a rolled-back claim leaves the job queued; a rolled-back completion leaves the
/// lease, and its holder completes again). Claim and completion are single conditional
/// statements, so correctness never depends on the isolation level: `FOR UPDATE SKIP LOCKED`
/// gives each queued row to exactly one claimer, and only the lease holder's UPDATE matches.
public final class PostgresWorkQueue: WorkQueue, @unchecked Sendable {
    let db: StoreDatabase
    public let runID: Int64
    /// The run's URL (no password), for messages.
    public let runName: String

    init(db: StoreDatabase, runID: Int64, runName: String) {
        self.db = db; self.runID = runID; self.runName = runName
    }

    /// A worker's session on `url`'s run (reconnecting with the store's backoff, ≈ 1 min): no advisory lock, no migration (a worker never
    /// changes the schema). Throws `unknownRun` for a NAME not in the database and
    /// `QueueError.noQueue` for a database without the v5 tables.
    public static func open(url: PostgresStoreURL, reconnectDelays: [Double]? = nil) throws -> PostgresWorkQueue {
        let db = try PostgresStoreDatabase(url: url, command: "worker",
                                           reconnectDelays: reconnectDelays ?? PostgresStoreDatabase.defaultReconnectDelays)
        let applied = try db.read { try StorePostgresSchema.appliedVersions($0, description: url.databaseDescription, creating: false) }
        guard let applied else { throw PostgresStoreError.unknownRun(database: url.databaseDescription, run: url.run, known: []) }
        guard applied[5] != nil else { throw QueueError.noQueue(run: url.description) }
        let id: Int64? = try db.read { try $0.fetchValue("SELECT id FROM runs WHERE name = ?", [url.run]) }
        guard let id else {
            throw PostgresStoreError.unknownRun(database: url.databaseDescription, run: url.run, known: try RunStore.runNames(db))
        }
        return PostgresWorkQueue(db: db, runID: id, runName: url.description)
    }

    // MARK: identity, run, workers

    public func recordIdentity(_ identity: RunIdentity, now: Date) throws -> RunIdentity {
        try db.write { c in
            try c.execute("""
                INSERT INTO run_identity(run_id, binary_version, dataset_fingerprint, recorded_at) VALUES (?,?,?,?)
                ON CONFLICT (run_id) DO NOTHING
                """, [runID, identity.version, identity.datasetFingerprint, now.timeIntervalSince1970])
            return try Self.identity(c, runID)!
        }
    }

    public func identity() throws -> RunIdentity? { try db.read { try Self.identity($0, runID) } }

    static func identity(_ c: StoreConnection, _ runID: Int64) throws -> RunIdentity? {
        guard let r = try c.fetchOne("SELECT binary_version, dataset_fingerprint FROM run_identity WHERE run_id = ?", [runID]) else { return nil }
        return RunIdentity(version: try r["binary_version"], datasetFingerprint: try r["dataset_fingerprint"])
    }

    public func runStatus() throws -> String? {
        try db.read { try $0.fetchValue("SELECT status FROM runs WHERE id = ?", [runID]) }
    }

    public func registerWorker(_ info: WorkerInfo, now: Date) throws -> Int64 {
        let t = now.timeIntervalSince1970
        return try db.write { c in
            try c.insertReturningID("INSERT INTO workers(run_id, host, pid, version, label, started_at, heartbeat_at) VALUES (?,?,?,?,?,?,?)",
                                    [runID, info.host, info.pid, info.version, info.label, t, t])
        }
    }

    public func stopWorker(_ worker: Int64, reason: String, now: Date) throws {
        let t = now.timeIntervalSince1970
        try db.write { try $0.execute("UPDATE workers SET stopped_at = ?, heartbeat_at = ?, exit_reason = ? WHERE id = ?", [t, t, reason, worker]) }
    }

    // MARK: jobs

    public func enqueue(_ jobs: [QueueJobRequest], now: Date) throws -> Int {
        try db.write { c in
            var added = 0
            for j in jobs {
                added += try c.fetchAll("""
                    INSERT INTO jobs(run_id, candidate_id, rung, settings_json, status, enqueued_at) VALUES (?,?,?,?, 'queued', ?)
                    ON CONFLICT (candidate_id, rung) DO NOTHING RETURNING id
                    """, [runID, j.candidateID, j.rung, encodeJSON(j.settings), now.timeIntervalSince1970]).count
            }
            return added
        }
    }

    /// A COMMIT that got no answer (the session died while it was in flight) is resolved by
    /// reading back: a worker holds at most one job, so the job it may have claimed is the one
    /// leased to it; if there is none the claim never happened and is made again.
    public func claim(worker: Int64, now: Date) throws -> ClaimedJob? {
        do { return try claimOnce(worker: worker, now: now) } catch let e as PostgresStoreError where e.isCommitUnknown {
            let held = try db.read { c in
                try c.fetchOne("""
                    SELECT id, candidate_id, rung, settings_json, attempts FROM jobs
                    WHERE run_id = ? AND status = 'claimed' AND lease_owner = ? ORDER BY id DESC LIMIT 1
                    """, [runID, worker]).map { try Self.claimedJob(c, $0) }
            }
            return try held ?? claimOnce(worker: worker, now: now)
        }
    }

    func claimOnce(worker: Int64, now: Date) throws -> ClaimedJob? {
        let t = now.timeIntervalSince1970
        return try db.write { c in
            guard let job = try c.fetchOne("""
                UPDATE jobs SET status = 'claimed', lease_owner = ?, claimed_at = ?, heartbeat_at = ?
                WHERE id = (SELECT id FROM jobs WHERE run_id = ? AND status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, candidate_id, rung, settings_json, attempts
                """, [worker, t, t, runID]) else { return nil }
            try c.execute("UPDATE workers SET heartbeat_at = ? WHERE id = ?", [t, worker])
            return try Self.claimedJob(c, job)
        }
    }

    /// A job row (id, candidate_id, rung, settings_json, attempts) with its candidate's spec and cost.
    static func claimedJob(_ c: StoreConnection, _ job: StoreRow) throws -> ClaimedJob {
        let id: Int64 = try job["id"]
        guard let cand = try c.fetchOne("SELECT hash, spec_json, cost_json FROM candidates WHERE id = ?", [try job["candidate_id"] as Int64]) else {
            throw QueueError.badJob(id: id, reason: "its candidate row is missing")
        }
        guard let settings: EvaluationSettings = decodeStored(try job["settings_json"]) else {
            throw QueueError.badJob(id: id, reason: "settings_json is not valid evaluation settings")
        }
        let evaluation = EvaluationJob(candidateID: try job["candidate_id"], hash: try cand["hash"], spec: try storedSpec(try cand["spec_json"]),
                                       cost: try storedCost(try cand["cost_json"]), settings: settings, rung: try job["rung"])
        return ClaimedJob(jobID: id, attempts: try job["attempts"], evaluation: evaluation)
    }

    /// Idempotent writes (heartbeat, release) are simply made again after a COMMIT without answer.
    func writeAgainIfUnknown<T>(_ body: (StoreConnection) throws -> T) throws -> T {
        do { return try db.write(body) } catch let e as PostgresStoreError where e.isCommitUnknown { return try db.write(body) }
    }

    public func heartbeat(worker: Int64, job: Int64?, now: Date) throws -> Bool {
        let t = now.timeIntervalSince1970
        return try writeAgainIfUnknown { c in
            try c.execute("UPDATE workers SET heartbeat_at = ? WHERE id = ?", [t, worker])
            guard let job else { return true }
            return try c.fetchAll("UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND status = 'claimed' AND lease_owner = ? RETURNING id",
                                  [t, job, worker]).count == 1
        }
    }

    public func complete(job: Int64, worker: Int64, result: EvaluationResult, now: Date) throws -> CompletionOutcome {
        let json = WorkerMetrics(result: result).jsonValue().canonicalText()
        return try finish(job: job, worker: worker, status: .done, resultJSON: json, reason: result.failureReason, now: now)
    }

    public func fail(job: Int64, worker: Int64, reason: String, now: Date) throws -> CompletionOutcome {
        try finish(job: job, worker: worker, status: .failed, resultJSON: nil, reason: reason, now: now)
    }

    /// The single path to a final state from a worker: only while it holds the lease. After a
    /// COMMIT without answer the row says what happened: final with this worker still as
    /// lease owner means the completion landed (a reclaim clears the owner); else it is made again.
    func finish(job: Int64, worker: Int64, status: JobStatus, resultJSON: String?, reason: String?, now: Date) throws -> CompletionOutcome {
        do { return try finishOnce(job: job, worker: worker, status: status, resultJSON: resultJSON, reason: reason, now: now) }
        catch let e as PostgresStoreError where e.isCommitUnknown {
            let row = try db.read { try $0.fetchOne("SELECT status, lease_owner FROM jobs WHERE id = ?", [job]) }
            if let row, try row["status"] as String == status.rawValue, try row["lease_owner"] as Int64? == worker { return .accepted }
            return try finishOnce(job: job, worker: worker, status: status, resultJSON: resultJSON, reason: reason, now: now)
        }
    }

    func finishOnce(job: Int64, worker: Int64, status: JobStatus, resultJSON: String?, reason: String?, now: Date) throws -> CompletionOutcome {
        try db.write { c in try finish(in: c, job: job, worker: worker, status: status, resultJSON: resultJSON, reason: reason, now: now) }
    }

    /// A completion's statements inside the caller's transaction `c`, up to but not including
    /// its COMMIT. `finishOnce` is the only production caller; the regression tests of the
    /// commit-order race (`FinishOrderTests`) call it to hold a completion open at the worst moment.
    func finish(in c: StoreConnection, job: Int64, worker: Int64, status: JobStatus, resultJSON: String?, reason: String?,
                now: Date) throws -> CompletionOutcome {
        let t = now.timeIntervalSince1970
        try Self.lockFinishOrder(c, runID: runID)
        let updated = try c.fetchAll("""
            UPDATE jobs SET status = ?, result_json = ?, reason = ?, finished_at = ?, finished_seq = nextval('jobs_finished_seq')
            WHERE id = ? AND status = 'claimed' AND lease_owner = ? RETURNING id
            """, [status.rawValue, resultJSON, reason, t, job, worker])
        if updated.count == 1 {
            try c.execute("UPDATE workers SET evaluations = evaluations + 1, heartbeat_at = ? WHERE id = ?", [t, worker])
            return .accepted
        }
        let why = try Self.leaseLost(c, job: job, worker: worker)
        try c.execute("INSERT INTO events(run_id, level, message) VALUES (?, 'warning', ?)",
                      [runID, "worker #\(worker): result of job \(job) refused: \(why)"])
        return .refused(reason: why)
    }

    /// Second key class of the transaction-level lock that orders a run's final states: "TFsq".
    static let finishOrderClass: Int32 = 0x5446_7371

    /// Makes `finished_seq` follow commit order. `nextval` alone does not: a completion that
    /// draws 10 and commits after the one that drew 11 would fall behind a controller cursor
    /// already at 11, and that result would never be recorded (seen with 64 and 128 workers).
    /// Every transaction that gives a job of this run a `finished_seq` first takes this lock
    /// (held until its commit), so they draw and commit one after another; claims and
    /// heartbeats never take it. A distinct key class from the run lock (`lockClass`), which
    /// the controller's session holds for the whole run.
    static func lockFinishOrder(_ c: StoreConnection, runID: Int64) throws {
        _ = try c.fetchAll("SELECT pg_advisory_xact_lock(\(finishOrderClass), ?::int4)", [Int(truncatingIfNeeded: Int32(truncatingIfNeeded: runID))])
    }

    /// Why `worker` no longer holds `job`'s lease, in words.
    static func leaseLost(_ c: StoreConnection, job: Int64, worker: Int64) throws -> String {
        guard let r = try c.fetchOne("SELECT status, lease_owner FROM jobs WHERE id = ?", [job]) else { return "no such job" }
        let status: String = try r["status"], owner: Int64? = try r["lease_owner"]
        switch JobStatus(rawValue: status) {
        case .claimed: return "the lease was reclaimed and the job is now held by worker #\(owner ?? 0)"
        case .queued: return "the lease was reclaimed (missed heartbeats) and the job is queued again"
        default: return "the job is already \(status)"
        }
    }

    public func release(job: Int64, worker: Int64, now: Date) throws {
        try writeAgainIfUnknown { try $0.execute("""
            UPDATE jobs SET status = 'queued', lease_owner = NULL, claimed_at = NULL, heartbeat_at = NULL
            WHERE id = ? AND status = 'claimed' AND lease_owner = ?
            """, [job, worker]) }
    }

    /// Locks the stale rows (`FOR UPDATE`) so a reclaim racing with the holder's completion or
    /// with another reclaimer sees the row after that other transaction: a row completed
    /// meanwhile no longer matches (`status = 'claimed'` is re-checked), and is skipped.
    public func reclaimStale(grace: Double, maxAttempts: Int, now: Date) throws -> [ReclaimedJob] {
        let t = now.timeIntervalSince1970
        // Every claim sweeps first, so the common case (no stale lease) must not take the run's
        // finish-order lock: a read-only probe on the (run_id, status) index answers it. Without
        // it, N workers' sweeps queue on that lock behind the completions holding it
        // (bench/RESULTS-scale.md, "Equal offered load, more processes").
        let stale = try db.read { c in
            try c.fetchAll("""
                SELECT 1 AS one FROM jobs WHERE run_id = ? AND status = 'claimed' AND heartbeat_at < ? LIMIT 1
                """, [runID, t - grace])
        }
        guard !stale.isEmpty else { return [] }
        return try db.write { c in
            try Self.lockFinishOrder(c, runID: runID)   // before the row locks: the order completions take them too
            let rows = try c.fetchAll("""
                SELECT id, candidate_id, lease_owner, attempts, heartbeat_at FROM jobs
                WHERE run_id = ? AND status = 'claimed' AND heartbeat_at < ? ORDER BY id FOR UPDATE
                """, [runID, t - grace])
            return try rows.compactMap { r in
                let id: Int64 = try r["id"], owner: Int64? = try r["lease_owner"], attempts = (try r["attempts"] as Int) + 1
                let silent = t - (try r["heartbeat_at"] as Double)
                let why = "worker #\(owner ?? 0) stopped heartbeating (last heartbeat \(Int(silent)) s ago, grace \(Int(grace)) s); lost lease \(attempts) of \(maxAttempts)"
                let failed = attempts >= maxAttempts
                let changed = failed
                    ? try c.fetchAll("""
                        UPDATE jobs SET status = 'failed', attempts = ?, reason = ?, lease_owner = NULL, finished_at = ?,
                          finished_seq = nextval('jobs_finished_seq')
                        WHERE id = ? AND status = 'claimed' RETURNING id
                        """, [attempts, "evaluation abandoned: " + why, t, id])
                    : try c.fetchAll("""
                        UPDATE jobs SET status = 'queued', attempts = ?, reason = ?, lease_owner = NULL, claimed_at = NULL, heartbeat_at = NULL
                        WHERE id = ? AND status = 'claimed' RETURNING id
                        """, [attempts, why, id])
                guard changed.count == 1 else { return nil }
                return ReclaimedJob(jobID: id, candidateID: try r["candidate_id"], previousOwner: owner, attempts: attempts, failed: failed)
            }
        }
    }

    public func results(since sequence: Int64) throws -> [FinishedJob] {
        try db.read { c in
            try c.fetchAll("""
                SELECT id, finished_seq, candidate_id, rung, status, result_json, reason FROM jobs
                WHERE run_id = ? AND finished_seq > ? ORDER BY finished_seq
                """, [runID, sequence]).map { r in
                let id: Int64 = try r["id"]
                let reason: String? = try r["reason"]
                var result = EvaluationResult.failed(reason ?? "failed")
                if (try r["status"] as String) == "done" {
                    guard let text: String = try r["result_json"] else { throw QueueError.badJob(id: id, reason: "done without result_json") }
                    do { result = try WorkerMetrics.decode(Data(text.utf8), source: "jobs.result_json of job \(id)").result } catch {
                        throw QueueError.badJob(id: id, reason: "\(error)")
                    }
                }
                return FinishedJob(jobID: id, sequence: try r["finished_seq"], candidateID: try r["candidate_id"], rung: try r["rung"], result: result)
            }
        }
    }

    public func counts() throws -> [String: Int] {
        try db.read { c in
            var out: [String: Int] = [:]
            for r in try c.fetchAll("SELECT status, COUNT(*) AS n FROM jobs WHERE run_id = ? GROUP BY status", [runID]) {
                out[try r["status"]] = try r["n"]
            }
            return out
        }
    }
}
