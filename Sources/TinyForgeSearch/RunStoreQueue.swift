import Foundation
import GRDB
import TinyForgeSpec

/// `WorkQueue` on the run's SQLite file (schema v5). The controller shares its `RunStore`'s
/// connection (`init(store:)`); a worker opens its own (`open(runDirectory:)`) without the run
/// lock: the controller holds that lock for the whole run, and SQLite's WAL + `BEGIN IMMEDIATE`
/// already serialise the queue's writes between processes.
///
/// The SQL lives in the small functions below (one statement each where possible) so the
/// PostgreSQL backend can port them one by one; see `WorkQueue` for the PostgreSQL versions.
public final class SQLiteWorkQueue: WorkQueue, @unchecked Sendable {
    let db: DatabaseQueue
    public let runID: Int64
    /// The run directory, for messages.
    public let runName: String

    /// Throws for a store that is not a SQLite file (a PostgreSQL store has its own queue).
    public init(store: RunStore) throws {
        guard let sqlite = store.db as? SQLiteStoreDatabase else {
            throw SearchError("--store", "\(store.location) is not a SQLite run directory; its work queue is the PostgreSQL one")
        }
        db = sqlite.queue; runID = store.runID; runName = store.directory.path
    }

    init(db: DatabaseQueue, runID: Int64, runName: String) {
        self.db = db; self.runID = runID; self.runName = runName
    }

    /// A worker's connection to `RUN/run.sqlite`: checked like a reader (a TinyForge store, not
    /// newer than this binary), WAL with a 30 s busy timeout, never migrated by a worker.
    public static func open(runDirectory: URL) throws -> SQLiteWorkQueue {
        let path = runDirectory.appendingPathComponent(RunStore.fileName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SearchError(runDirectory.path, "holds no run (\(RunStore.fileName) missing); pass the run directory the controller (tinyforge search) writes")
        }
        let tables = try RunStoreAccess.openReader(path).1
        guard tables.contains("jobs") else { throw QueueError.noQueue(run: runDirectory.path) }
        var c = Configuration()
        c.busyMode = .timeout(30)
        c.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let q = try RunStoreAccess.mapping(path) { try DatabaseQueue(path: path, configuration: c) }
        guard let id = try q.read({ try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM runs") }) else {
            throw SearchError(path, "has no run row; the run was never created completely")
        }
        return SQLiteWorkQueue(db: q, runID: id, runName: runDirectory.path)
    }

    /// One `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two claimers
    /// can never both read the same queued row and then both update it.
    func immediate<T>(_ body: (Database) throws -> T) throws -> T {
        try db.writeWithoutTransaction { db in
            var out: T?
            try db.inTransaction(.immediate) {
                out = try body(db)
                return .commit
            }
            return out!
        }
    }

    // MARK: identity, run, workers

    public func recordIdentity(_ identity: RunIdentity, now: Date) throws -> RunIdentity {
        try immediate { db in
            try db.execute(sql: "INSERT OR IGNORE INTO run_identity(run_id, binary_version, dataset_fingerprint, recorded_at) VALUES (?,?,?,?)",
                           arguments: [runID, identity.version, identity.datasetFingerprint, now.timeIntervalSince1970])
            return try Self.identity(db, runID)!
        }
    }

    public func identity() throws -> RunIdentity? { try db.read { try Self.identity($0, runID) } }

    static func identity(_ db: Database, _ runID: Int64) throws -> RunIdentity? {
        try Row.fetchOne(db, sql: "SELECT binary_version, dataset_fingerprint FROM run_identity WHERE run_id = ?", arguments: [runID])
            .map { RunIdentity(version: $0["binary_version"], datasetFingerprint: $0["dataset_fingerprint"]) }
    }

    public func runStatus() throws -> String? {
        try db.read { try String.fetchOne($0, sql: "SELECT status FROM runs WHERE id = ?", arguments: [runID]) }
    }

    public func registerWorker(_ info: WorkerInfo, now: Date) throws -> Int64 {
        try immediate { db in
            let t = now.timeIntervalSince1970
            try db.execute(sql: "INSERT INTO workers(run_id, host, pid, version, label, started_at, heartbeat_at) VALUES (?,?,?,?,?,?,?)",
                           arguments: [runID, info.host, info.pid, info.version, info.label, t, t])
            return db.lastInsertedRowID
        }
    }

    public func stopWorker(_ worker: Int64, reason: String, now: Date) throws {
        try immediate { db in
            try db.execute(sql: "UPDATE workers SET stopped_at = ?, heartbeat_at = ?, exit_reason = ? WHERE id = ?",
                           arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, reason, worker])
        }
    }

    // MARK: jobs

    public func enqueue(_ jobs: [QueueJobRequest], now: Date) throws -> Int {
        try immediate { db in
            var added = 0
            for j in jobs {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO jobs(run_id, candidate_id, rung, settings_json, status, enqueued_at)
                    VALUES (?,?,?,?, 'queued', ?)
                    """, arguments: [runID, j.candidateID, j.rung, encodeJSON(j.settings), now.timeIntervalSince1970])
                added += db.changesCount
            }
            return added
        }
    }

    public func claim(worker: Int64, now: Date) throws -> ClaimedJob? {
        try immediate { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT j.id, j.candidate_id, j.rung, j.settings_json, j.attempts, c.hash, c.spec_json, c.cost_json
                FROM jobs j JOIN candidates c ON c.id = j.candidate_id
                WHERE j.run_id = ? AND j.status = 'queued' ORDER BY j.id LIMIT 1
                """, arguments: [runID]) else { return nil }
            let t = now.timeIntervalSince1970
            try db.execute(sql: "UPDATE jobs SET status = 'claimed', lease_owner = ?, claimed_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'queued'",
                           arguments: [worker, t, t, row["id"] as Int64])
            try db.execute(sql: "UPDATE workers SET heartbeat_at = ? WHERE id = ?", arguments: [t, worker])
            return try Self.claimedJob(row)
        }
    }

    static func claimedJob(_ row: Row) throws -> ClaimedJob {
        let id: Int64 = row["id"]
        guard let settings: EvaluationSettings = decodeStored(row["settings_json"]) else {
            throw QueueError.badJob(id: id, reason: "settings_json is not valid evaluation settings")
        }
        let job = EvaluationJob(candidateID: row["candidate_id"], hash: row["hash"], spec: try storedSpec(row["spec_json"]),
                                cost: try storedCost(row["cost_json"]), settings: settings, rung: row["rung"])
        return ClaimedJob(jobID: id, attempts: row["attempts"], evaluation: job)
    }

    public func heartbeat(worker: Int64, job: Int64?, now: Date) throws -> Bool {
        try immediate { db in
            let t = now.timeIntervalSince1970
            try db.execute(sql: "UPDATE workers SET heartbeat_at = ? WHERE id = ?", arguments: [t, worker])
            guard let job else { return true }
            try db.execute(sql: "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND status = 'claimed' AND lease_owner = ?",
                           arguments: [t, job, worker])
            return db.changesCount == 1
        }
    }

    public func complete(job: Int64, worker: Int64, result: EvaluationResult, now: Date) throws -> CompletionOutcome {
        let json = WorkerMetrics(result: result).jsonValue().canonicalText()
        return try finish(job: job, worker: worker, status: .done, resultJSON: json, reason: result.failureReason, now: now)
    }

    public func fail(job: Int64, worker: Int64, reason: String, now: Date) throws -> CompletionOutcome {
        try finish(job: job, worker: worker, status: .failed, resultJSON: nil, reason: reason, now: now)
    }

    /// The single path to a final state from a worker: only while it holds the lease.
    func finish(job: Int64, worker: Int64, status: JobStatus, resultJSON: String?, reason: String?, now: Date) throws -> CompletionOutcome {
        try immediate { db in try finish(in: db, job: job, worker: worker, status: status, resultJSON: resultJSON, reason: reason, now: now) }
    }

    /// A completion's statements inside the caller's `BEGIN IMMEDIATE` transaction, up to but
    /// not including its COMMIT. The write lock taken by `immediate` is what makes
    /// `finished_seq` (MAX + 1) follow commit order; the tests of that order (`FinishOrderTests`)
    /// call this to hold a completion open while another one and a cursor read run.
    func finish(in db: Database, job: Int64, worker: Int64, status: JobStatus, resultJSON: String?, reason: String?,
                now: Date) throws -> CompletionOutcome {
        let t = now.timeIntervalSince1970
        try db.execute(sql: """
            UPDATE jobs SET status = ?, result_json = ?, reason = ?, finished_at = ?,
              finished_seq = (SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM jobs WHERE run_id = ?)
            WHERE id = ? AND status = 'claimed' AND lease_owner = ?
            """, arguments: [status.rawValue, resultJSON, reason, t, runID, job, worker])
        if db.changesCount == 1 {
            try db.execute(sql: "UPDATE workers SET evaluations = evaluations + 1, heartbeat_at = ? WHERE id = ?", arguments: [t, worker])
            return .accepted
        }
        let why = try Self.leaseLost(db, job: job, worker: worker)
        try db.execute(sql: "INSERT INTO events(run_id, level, message) VALUES (?, 'warning', ?)",
                       arguments: [runID, "worker #\(worker): result of job \(job) refused: \(why)"])
        return .refused(reason: why)
    }

    /// Why `worker` no longer holds `job`'s lease, in words.
    static func leaseLost(_ db: Database, job: Int64, worker: Int64) throws -> String {
        guard let r = try Row.fetchOne(db, sql: "SELECT status, lease_owner FROM jobs WHERE id = ?", arguments: [job]) else {
            return "no such job"
        }
        let status: String = r["status"], owner: Int64? = r["lease_owner"]
        switch JobStatus(rawValue: status) {
        case .claimed: return "the lease was reclaimed and the job is now held by worker #\(owner ?? 0)"
        case .queued: return "the lease was reclaimed (missed heartbeats) and the job is queued again"
        default: return "the job is already \(status)"
        }
    }

    public func release(job: Int64, worker: Int64, now: Date) throws {
        try immediate { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', lease_owner = NULL, claimed_at = NULL, heartbeat_at = NULL
                WHERE id = ? AND status = 'claimed' AND lease_owner = ?
                """, arguments: [job, worker])
        }
    }

    public func reclaimStale(grace: Double, maxAttempts: Int, now: Date) throws -> [ReclaimedJob] {
        let t = now.timeIntervalSince1970
        // Every claim sweeps first: a read answers the common case (no stale lease) without
        // taking SQLite's write lock (BEGIN IMMEDIATE), which completions and claims wait on.
        let stale = try db.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM jobs WHERE run_id = ? AND status = 'claimed' AND heartbeat_at < ?)",
                              arguments: [runID, t - grace]) ?? false
        }
        guard stale else { return [] }
        return try immediate { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, candidate_id, lease_owner, attempts, heartbeat_at FROM jobs
                WHERE run_id = ? AND status = 'claimed' AND heartbeat_at < ? ORDER BY id
                """, arguments: [runID, t - grace])
            return try rows.map { r in
                let id: Int64 = r["id"], owner: Int64? = r["lease_owner"], attempts = (r["attempts"] as Int) + 1
                let silent = t - (r["heartbeat_at"] as Double)
                let why = "worker #\(owner ?? 0) stopped heartbeating (last heartbeat \(Int(silent)) s ago, grace \(Int(grace)) s); lost lease \(attempts) of \(maxAttempts)"
                let failed = attempts >= maxAttempts
                if failed {
                    try db.execute(sql: """
                        UPDATE jobs SET status = 'failed', attempts = ?, reason = ?, lease_owner = NULL, finished_at = ?,
                          finished_seq = (SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM jobs WHERE run_id = ?)
                        WHERE id = ?
                        """, arguments: [attempts, "evaluation abandoned: " + why, t, runID, id])
                } else {
                    try db.execute(sql: """
                        UPDATE jobs SET status = 'queued', attempts = ?, reason = ?, lease_owner = NULL, claimed_at = NULL, heartbeat_at = NULL
                        WHERE id = ?
                        """, arguments: [attempts, why, id])
                }
                return ReclaimedJob(jobID: id, candidateID: r["candidate_id"], previousOwner: owner, attempts: attempts, failed: failed)
            }
        }
    }

    public func results(since sequence: Int64) throws -> [FinishedJob] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, finished_seq, candidate_id, rung, status, result_json, reason FROM jobs
                WHERE run_id = ? AND finished_seq > ? ORDER BY finished_seq
                """, arguments: [runID, sequence]).map { r in
                let id: Int64 = r["id"]
                var result = EvaluationResult.failed(r["reason"] ?? "failed")
                if (r["status"] as String) == "done" {
                    guard let text: String = r["result_json"] else { throw QueueError.badJob(id: id, reason: "done without result_json") }
                    do { result = try WorkerMetrics.decode(Data(text.utf8), source: "jobs.result_json of job \(id)").result } catch {
                        throw QueueError.badJob(id: id, reason: "\(error)")
                    }
                }
                return FinishedJob(jobID: id, sequence: r["finished_seq"], candidateID: r["candidate_id"], rung: r["rung"], result: result)
            }
        }
    }

    public func counts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM jobs WHERE run_id = ? GROUP BY status", arguments: [runID]) {
                out[r["status"]] = r["n"]
            }
            return out
        }
    }
}
