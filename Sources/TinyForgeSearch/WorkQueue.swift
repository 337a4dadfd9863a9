import Foundation
import TinyForgeSpec

/// One evaluation to enqueue: a candidate at a rung with the settings it is trained with.
public struct QueueJobRequest: Sendable, Equatable {
    public var candidateID: Int64
    public var rung: Int
    public var settings: EvaluationSettings

    public init(candidateID: Int64, rung: Int, settings: EvaluationSettings) {
        self.candidateID = candidateID; self.rung = rung; self.settings = settings
    }
}

/// A job a worker holds the lease of, with everything needed to evaluate it.
public struct ClaimedJob: Sendable {
    public var jobID: Int64
    public var attempts: Int
    public var evaluation: EvaluationJob
}

/// A job in a final state (`done` with the worker's result, or `failed` with the reason), in
/// the order it finished (`sequence`), for the controller's "results since" read.
public struct FinishedJob: Sendable, Equatable {
    public var jobID: Int64
    public var sequence: Int64
    public var candidateID: Int64
    public var rung: Int
    public var result: EvaluationResult
}

/// What became of a completion: only the lease holder's completion of a claimed job counts.
public enum CompletionOutcome: Sendable, Equatable {
    case accepted
    /// The worker no longer held the lease (reclaimed after missed heartbeats, or the job is
    /// already final); the result was dropped and the refusal written to the run's events.
    case refused(reason: String)
}

/// A claimed job whose worker stopped heartbeating: queued again or, after the last attempt, failed.
public struct ReclaimedJob: Sendable, Equatable {
    public var jobID: Int64
    public var candidateID: Int64
    public var previousOwner: Int64?
    public var attempts: Int
    /// True when the job reached the attempt limit and was failed instead of queued again.
    public var failed: Bool
}

/// What a worker says about itself when it registers (the `workers` table).
public struct WorkerInfo: Sendable, Equatable {
    public var host: String
    public var pid: Int32
    public var version: String
    /// `TINYFORGE_WORKER_LABEL`, e.g. `slurm:1234_7`; nil when unset.
    public var label: String?

    public init(host: String, pid: Int32, version: String, label: String?) {
        self.host = host; self.pid = pid; self.version = version; self.label = label
    }

    /// This process: host name, pid, the given version and `TINYFORGE_WORKER_LABEL`.
    public static func current(version: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> WorkerInfo {
        let label = environment["TINYFORGE_WORKER_LABEL"].flatMap { $0.isEmpty ? nil : $0 }
        return WorkerInfo(host: ProcessInfo.processInfo.hostName, pid: getpid(), version: version, label: label)
    }
}

/// The work queue between the search controller and its workers (`jobs` + `workers` tables,
/// schema v5). Every method is one transaction, so any process may die between two calls.
///
/// Invariants: a queued job is claimed by exactly one worker (claim is atomic); a job reaches a
/// final state exactly once, from its current lease holder (or from `reclaimStale` after the
/// attempt limit); `jobs` is UNIQUE(candidate_id, rung) like `evaluations`, so enqueueing a
/// candidate again (resume) is a no-op.
///
/// SQLite (`SQLiteWorkQueue`) serialises writers with `BEGIN IMMEDIATE`. PostgreSQL
/// (`PostgresWorkQueue`) claims with row locks that skip rows another worker is claiming, so
/// claimers never wait on each other (`RunStore.workQueue()` / `workerQueue(at:)` pick one):
///
///     UPDATE jobs SET status = 'claimed', lease_owner = $1,
///                     claimed_at = $3, heartbeat_at = $3
///     WHERE id = (SELECT id FROM jobs WHERE run_id = $2 AND status = 'queued'
///                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
///     RETURNING id, candidate_id, rung, settings_json, attempts;
///
/// and completes with a conditional update that only the lease holder can satisfy:
///
///     UPDATE jobs SET status = 'done', result_json = $3, finished_at = $4,
///                     finished_seq = nextval('jobs_finished_seq')
///     WHERE id = $1 AND status = 'claimed' AND lease_owner = $2;   -- 0 rows → refused
///
/// Enqueue is `INSERT … ON CONFLICT (candidate_id, rung) DO NOTHING`; "results since" is
/// `SELECT … FROM jobs WHERE run_id = $1 AND finished_seq > $2 ORDER BY finished_seq`.
///
/// Stale leases: `UPDATE jobs SET status = CASE WHEN attempts + 1 >= $max THEN 'failed' ELSE
/// 'queued' END, attempts = attempts + 1, lease_owner = NULL … WHERE run_id = $1 AND status =
/// 'claimed' AND heartbeat_at < $now - $grace RETURNING …`.
public protocol WorkQueue: Sendable {
    /// Records the run's binary version and dataset fingerprint (first call wins); returns the stored one.
    func recordIdentity(_ identity: RunIdentity, now: Date) throws -> RunIdentity
    func identity() throws -> RunIdentity?
    /// The run's status (`running`, `done`, …); nil when the run does not exist.
    func runStatus() throws -> String?
    func registerWorker(_ info: WorkerInfo, now: Date) throws -> Int64
    func stopWorker(_ worker: Int64, reason: String, now: Date) throws
    /// Inserts jobs not yet present (UNIQUE(candidate_id, rung)); returns how many were new.
    @discardableResult func enqueue(_ jobs: [QueueJobRequest], now: Date) throws -> Int
    /// Atomically leases the oldest queued job to `worker`; nil when none is queued.
    func claim(worker: Int64, now: Date) throws -> ClaimedJob?
    /// Refreshes the worker's heartbeat and its job's lease; false when the lease is lost.
    @discardableResult func heartbeat(worker: Int64, job: Int64?, now: Date) throws -> Bool
    func complete(job: Int64, worker: Int64, result: EvaluationResult, now: Date) throws -> CompletionOutcome
    /// The worker could not evaluate the job at all (not a training failure: that is a result).
    func fail(job: Int64, worker: Int64, reason: String, now: Date) throws -> CompletionOutcome
    /// Gives a leased job back (queued, attempts unchanged): the worker was asked to stop.
    func release(job: Int64, worker: Int64, now: Date) throws
    /// Claimed jobs whose heartbeat is older than `grace` seconds: queued again with attempts+1,
    /// or failed with the reason once attempts reach `maxAttempts`.
    func reclaimStale(grace: Double, maxAttempts: Int, now: Date) throws -> [ReclaimedJob]
    /// Jobs that reached `done` / `failed` after `sequence` (0 = all), in finishing order.
    func results(since sequence: Int64) throws -> [FinishedJob]
    /// Jobs by status (`queued`, `claimed`, `done`, `failed`).
    func counts() throws -> [String: Int]
}

/// What a worker must match to evaluate a run's jobs: results from another build or other data
/// would mix incomparable accuracies into one Pareto front.
public struct RunIdentity: Sendable, Equatable {
    public var version: String
    public var datasetFingerprint: String

    public init(version: String, datasetFingerprint: String) {
        self.version = version; self.datasetFingerprint = datasetFingerprint
    }

    /// Throws `QueueError.versionMismatch` / `.datasetMismatch` when `mine` differs from the run's.
    public func check(worker mine: RunIdentity, run: String) throws {
        if mine.version != version { throw QueueError.versionMismatch(run: run, runVersion: version, workerVersion: mine.version) }
        if mine.datasetFingerprint != datasetFingerprint {
            throw QueueError.datasetMismatch(run: run, runFingerprint: datasetFingerprint, workerFingerprint: mine.datasetFingerprint)
        }
    }
}

/// The queue's errors; each names the values involved and the fix.
public enum QueueError: Error, CustomStringConvertible, Equatable, Sendable {
    case versionMismatch(run: String, runVersion: String, workerVersion: String)
    case datasetMismatch(run: String, runFingerprint: String, workerFingerprint: String)
    /// The run was created before the queue existed and no controller has opened it since.
    case noQueue(run: String)
    /// The run has no recorded identity: no queue controller has started it.
    case noIdentity(run: String)
    /// A stored job could not be read back (damaged row).
    case badJob(id: Int64, reason: String)

    public var description: String {
        switch self {
        case let .versionMismatch(run, r, w):
            return "\(run): the run was started by tinyforge \(r) but this worker is tinyforge \(w); "
                + "run a worker built from the same version as the controller (install tinyforge \(r) on this host)"
        case let .datasetMismatch(run, r, w):
            return "\(run): the dataset here differs from the run's (run: \(r); this worker: \(w)); "
                + "give the worker the same dataset files as the controller (same path, same contents), e.g. copy or mount them unchanged"
        case let .noQueue(run):
            return "\(run): the run store has no work queue (created by an older tinyforge); "
                + "continue it with `tinyforge search --resume \(run)` (local executor) instead of workers"
        case let .noIdentity(run):
            return "\(run): no queue controller has started this run (no recorded version / dataset fingerprint); "
                + "start it with `tinyforge search ... --executor external` first"
        case let .badJob(id, reason):
            return "job \(id): \(reason); the run store is damaged"
        }
    }
}
