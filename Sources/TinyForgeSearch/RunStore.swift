import Foundation
import GRDB
import TinyForgeSpec

/// The result of validating one proposal, as the store records it.
public enum ProposalOutcome {
    case accepted(AcceptedCandidate)
    case rejected(Proposal, Rejection)
}

/// A candidate whose evaluation has not completed: evaluated (again) on resume.
public struct PendingCandidate: Sendable {
    public var id: Int64
    public var hash: String
    public var spec: ArchitectureSpec
    public var cost: CostSummary
    /// It was being evaluated when the process died.
    public var wasInterrupted: Bool
    /// The rung its next evaluation is at (0 unless promoted by successive halving).
    public var rung: Int = 0
}

/// What the controller needs to continue a run.
public struct StoredState {
    public var archive: ParetoArchive
    public var seen: [String: String]
    public var recentRejections: [Rejection]
    public var pending: [PendingCandidate]
    public var nextIteration: Int
    public var evaluationCount: Int
    public var status: String
    /// Every stored evaluation (rung, score) in evaluation order, for the halving rule.
    public var rungResults: [RungResult] = []

    /// Rung-0 evaluations: the candidates trained so far (what `--trials` counts).
    public var trainedCount: Int { rungResults.filter { $0.rung == 0 }.count }
}

/// SQLite run store (GRDB, WAL journal, synchronous FULL) in the run directory.
///
/// Crash safety comes from transaction boundaries, not from cleanup code:
/// 1. an iteration's proposals (accepted, rejected, duplicates, exchanges) and the run's
///    `next_iteration` are written in ONE transaction, so proposals are never half-recorded;
/// 2. `markEvaluating` flips candidates to `evaluating` before work starts;
/// 3. an evaluation's result, its candidate's `done`/`failed` status and the hypervolume row are
///    written in ONE transaction, and `evaluations` is UNIQUE per (candidate, rung);
/// 4. successive-halving promotions flip `done` candidates back to `proposed` in ONE
///    transaction; their pending rung is derived (highest stored rung + 1), never stored.
/// After `kill -9` at any point, `loadState` finds completed evaluations exactly once and every
/// `proposed`/`evaluating` candidate as pending (re-run); nothing completed is repeated.
public final class RunStore: @unchecked Sendable {
    public static let fileName = "run.sqlite"
    public let directory: URL
    public let runID: Int64
    let db: DatabaseQueue
    /// The run lock of a writer (held as long as this store lives); nil for a read-only store.
    public let lock: RunLock?
    /// Tables present when opened: a read-only store of an older run cannot migrate, so readers
    /// of later tables (explanations, finished) check here and report nothing instead of failing.
    let tables: Set<String>

    public var isReadOnly: Bool { lock == nil }

    private init(directory: URL, db: DatabaseQueue, runID: Int64, lock: RunLock?, tables: Set<String>) {
        self.directory = directory; self.db = db; self.runID = runID; self.lock = lock; self.tables = tables
    }

    /// Creates the run directory, takes its lock and creates the store. Refuses a directory that
    /// already holds a run.
    public static func create(directory: URL, config: SearchConfig, lock options: RunLock.Options = .init(command: "search")) throws -> RunStore {
        let path = directory.appendingPathComponent(fileName).path
        func refuseExisting() throws {
            if FileManager.default.fileExists(atPath: path) {
                throw SearchError("--run", "\(directory.path) already holds a run; continue it with --resume \(directory.path) or choose a new directory")
            }
        }
        try refuseExisting()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lock = try RunLock.acquire(directory: directory, options: options)
        try refuseExisting() // another process created it between the check and the lock
        let q = try RunStoreAccess.openWriter(path, creating: true)
        let budget = "{\"sram_bytes\":\(config.sramBytes),\"flash_bytes\":\(config.flashBytes),\"macs\":\(config.macs.map(String.init) ?? "null")}"
        let id: Int64 = try q.write { db in
            try db.execute(sql: "INSERT INTO runs(config_json, seed, space_json, budget_json, status) VALUES (?,?,?,?, 'created')",
                           arguments: [config.jsonText(), Int64(bitPattern: config.seed), config.spaceJSON, budget])
            return db.lastInsertedRowID
        }
        try AtomicFile.write(config.jsonText() + "\n", to: directory.appendingPathComponent("config.json"))
        return RunStore(directory: directory, db: q, runID: id, lock: lock, tables: try RunStoreAccess.tableNames(q))
    }

    /// Opens an existing run (the latest run in the file) for writing: takes the run lock
    /// (refused while another process writes it) and migrates an older schema.
    public static func open(directory: URL, lock options: RunLock.Options = .init()) throws -> RunStore {
        let path = try existingStorePath(directory)
        let lock = try RunLock.acquire(directory: directory, options: options)
        let q = try RunStoreAccess.openWriter(path, creating: false)
        return RunStore(directory: directory, db: q, runID: try latestRunID(q, path), lock: lock, tables: try RunStoreAccess.tableNames(q))
    }

    /// Opens an existing run for reading only: no lock, no migration, nothing created or changed
    /// (works on a read-only copy and while a writer runs).
    public static func openReadOnly(directory: URL) throws -> RunStore {
        let path = try existingStorePath(directory)
        let (q, tables) = try RunStoreAccess.openReader(path)
        return RunStore(directory: directory, db: q, runID: try latestRunID(q, path), lock: nil, tables: tables)
    }

    private static func existingStorePath(_ directory: URL) throws -> String {
        let path = directory.appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SearchError(directory.path, "holds no run (\(fileName) missing); start one with tinyforge search --run \(directory.path)")
        }
        return path
    }

    private static func latestRunID(_ q: DatabaseQueue, _ path: String) throws -> Int64 {
        let id = try RunStoreAccess.mapping(path) { try q.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM runs") } }
        guard let id else {
            throw SearchError(path, "has no run row; the run was never created completely — delete the directory and start again")
        }
        return id
    }

    /// Whether the store has `table` (false for later tables in a read-only store of an older run).
    func hasTable(_ table: String) -> Bool { tables.contains(table) }

    public func config() throws -> SearchConfig {
        let text = try db.read { try String.fetchOne($0, sql: "SELECT config_json FROM runs WHERE id = ?", arguments: [runID]) }
        return try SearchConfig.decode(text ?? "", source: directory.appendingPathComponent(Self.fileName).path + " runs.config_json")
    }

    // MARK: writes

    public func setStatus(_ status: String) throws {
        try db.write { try $0.execute(sql: "UPDATE runs SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
                                      arguments: [status, runID]) }
    }

    public func log(_ message: String, level: String = "info") throws {
        try db.write { try $0.execute(sql: "INSERT INTO events(run_id, level, message) VALUES (?,?,?)", arguments: [runID, level, message]) }
    }

    /// Records one iteration's proposals in proposal order and advances `next_iteration`, in one
    /// transaction. Returns the candidate ids of the accepted ones, in order.
    @discardableResult
    public func recordIteration(_ iteration: Int, outcomes: [ProposalOutcome]) throws -> [Int64] {
        try db.write { db in
            var accepted: [Int64] = []
            for o in outcomes {
                switch o {
                case .accepted(let a):
                    try insertCandidate(db, iteration, a.proposal, hash: a.hash, spec: a.spec, cost: CostSummary(a.cost),
                                        status: "proposed", rejection: nil)
                    let id = db.lastInsertedRowID
                    accepted.append(id)
                    try insertExchanges(db, iteration, a.proposal, candidate: id, duplicate: nil)
                case let .rejected(p, r) where r.kind == .duplicate:
                    let of = try Int64.fetchOne(db, sql: "SELECT id FROM candidates WHERE run_id = ? AND hash = ?", arguments: [runID, r.hash])
                    var args: StatementArguments = [runID, iteration, r.hash, of, p.proposer, p.rationale, p.change, jsonList(p.parents), r.reason]
                    args += repairSlotArguments(p)
                    try db.execute(sql: """
                        INSERT INTO duplicates(run_id, iteration, hash, duplicate_of, proposer, rationale, change, parents_json, reason,
                                               \(Self.repairSlotColumns))
                        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                        """, arguments: args)
                    try insertExchanges(db, iteration, p, candidate: nil, duplicate: db.lastInsertedRowID)
                case let .rejected(p, r):
                    try insertCandidate(db, iteration, p, hash: r.hash, spec: r.spec, cost: r.cost, status: "rejected", rejection: r)
                    try insertExchanges(db, iteration, p, candidate: db.lastInsertedRowID, duplicate: nil)
                }
            }
            try db.execute(sql: "UPDATE runs SET next_iteration = MAX(next_iteration, ?), status = 'running' WHERE id = ?",
                           arguments: [iteration + 1, runID])
            return accepted
        }
    }

    private func insertCandidate(_ db: Database, _ iteration: Int, _ p: Proposal, hash: String, spec: ArchitectureSpec?,
                                 cost: CostSummary?, status: String, rejection: Rejection?) throws {
        var raw: String?
        if case .text(let t) = p.content { raw = t }
        var args: StatementArguments = [runID, iteration, hash, spec?.jsonText(pretty: false), raw, cost.map(encodeJSON), p.proposer,
                                        p.rationale, p.change, jsonList(p.parents), status, rejection?.kind.rawValue, rejection?.reason]
        args += repairSlotArguments(p)
        try db.execute(sql: """
            INSERT INTO candidates(run_id, iteration, hash, spec_json, raw_text, cost_json, proposer, rationale, change,
                                   parents_json, status, rejection_kind, reason, \(Self.repairSlotColumns))
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, arguments: args)
    }

    private func insertExchanges(_ db: Database, _ iteration: Int, _ p: Proposal, candidate: Int64?, duplicate: Int64?) throws {
        for e in p.exchanges {
            try db.execute(sql: """
                INSERT INTO exchanges(run_id, iteration, candidate_id, duplicate_id, proposer, model, prompt, response,
                                      latency_ms, prompt_tokens, completion_tokens, error)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """, arguments: [runID, iteration, candidate, duplicate, p.repair?.originalProposer ?? p.proposer, e.model, e.prompt, e.response,
                                 e.latencyMs, e.promptTokens, e.completionTokens, e.error])
        }
    }

    /// Flags candidates as being evaluated (so a crash leaves a visible trace) and counts attempts.
    public func markEvaluating(_ ids: [Int64]) throws {
        try db.write { db in
            for id in ids {
                try db.execute(sql: "UPDATE candidates SET status = 'evaluating', attempts = attempts + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ? AND status IN ('proposed','evaluating')",
                               arguments: [id])
            }
        }
    }

    /// Stores a completed evaluation, its candidate's final status and the hypervolume after it,
    /// atomically. Returns the evaluation number (1-based).
    ///
    /// `rung` > 0 (successive halving): the candidate already has a score from a lower rung, so
    /// it stays `done` even when this evaluation failed; the failure is kept in the evaluation
    /// row and in the candidate's `reason` ("rung r evaluation failed: …").
    @discardableResult
    public func recordEvaluation(candidateID: Int64, result: EvaluationResult, hypervolume: Double, frontSize: Int,
                                 rung: Int = 0) throws -> Int {
        try db.write { db in
            let n = (try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(eval_index), 0) FROM evaluations WHERE run_id = ?", arguments: [runID]) ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO evaluations(run_id, candidate_id, rung, eval_index, status, reason, val_accuracy, val_loss, train_loss,
                                        epochs, seconds, extra_json)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """, arguments: [runID, candidateID, rung, n, result.status.name, result.failureReason, result.valAccuracy, result.valLoss,
                                 result.trainLoss, result.epochs, result.seconds, encodeJSON(result.extra)])
            let status = result.failureReason == nil || rung > 0 ? "done" : "failed"
            let reason = rung > 0 ? result.failureReason.map { "rung \(rung) evaluation failed: \($0)" } : result.failureReason
            try db.execute(sql: "UPDATE candidates SET status = ?, reason = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
                           arguments: [status, reason, candidateID])
            try db.execute(sql: "INSERT INTO hypervolume(run_id, eval_index, candidate_id, hv, front_size) VALUES (?,?,?,?,?)",
                           arguments: [runID, n, candidateID, hypervolume, frontSize])
            return n
        }
    }

    /// Queues successive-halving promotions: the candidates go back to `proposed` (their next
    /// evaluation is pending) in one transaction. `loadState` then lists them as pending at the
    /// rung after their highest stored one, so a crash from here on re-runs exactly these.
    public func promote(_ promotions: [HalvingScheduler.Promotion]) throws {
        guard !promotions.isEmpty else { return }
        try db.write { db in
            for p in promotions {
                try db.execute(sql: "UPDATE candidates SET status = 'proposed', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ? AND run_id = ? AND status = 'done'",
                               arguments: [p.candidateID, runID])
            }
        }
    }

    /// Runs arbitrary reads (reports, tests).
    public func read<T>(_ body: (Database) throws -> T) throws -> T { try db.read(body) }
}

func encodeJSON<T: Encodable>(_ v: T) -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try! e.encode(v), as: UTF8.self)
}

func jsonList(_ xs: [String]) -> String { encodeJSON(xs) }

extension RunStore {
    /// Proposer, parents and rationale of candidates (for archive entries).
    public func proposalInfo(ids: [Int64]) throws -> [Int64: (proposer: String, parents: [String], rationale: String?)] {
        try db.read { db in
            var out: [Int64: (String, [String], String?)] = [:]
            for id in ids {
                if let r = try Row.fetchOne(db, sql: "SELECT proposer, parents_json, rationale FROM candidates WHERE id = ?", arguments: [id]) {
                    out[id] = (r["proposer"], decodeStored(r["parents_json"]) ?? [], r["rationale"])
                }
            }
            return out
        }
    }
}
