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

/// The run store: SQLite (GRDB, WAL journal, synchronous FULL) in the run directory, or a named
/// run in a PostgreSQL database (`StoreLocation`); the queries are written once against
/// `StoreDatabase`.
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
    /// Where files written next to the run go: the run directory (SQLite) or a PostgreSQL run's
    /// local output directory (`StoreLocation.localDirectory`).
    public let directory: URL
    public let location: StoreLocation
    public let runID: Int64
    let db: StoreDatabase
    /// The run lock of a writer on a run directory (held as long as this store lives); nil for a
    /// read-only store and for PostgreSQL, whose writers hold a session advisory lock instead.
    public let lock: RunLock?
    public let isReadOnly: Bool
    /// Tables present when opened: a read-only store of an older run cannot migrate, so readers
    /// of later tables (explanations, finished) check here and report nothing instead of failing.
    let tables: Set<String>

    init(location: StoreLocation, db: StoreDatabase, runID: Int64, lock: RunLock?, readOnly: Bool, tables: Set<String>) {
        self.location = location; self.directory = location.localDirectory; self.db = db; self.runID = runID
        self.lock = lock; self.isReadOnly = readOnly; self.tables = tables
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
        let db = SQLiteStoreDatabase(queue: q, path: path)
        let id = try db.write { try insertRun($0, name: nil, config: config) }
        try AtomicFile.write(config.jsonText() + "\n", to: directory.appendingPathComponent("config.json"))
        return RunStore(location: .directory(directory), db: db, runID: id, lock: lock, readOnly: false, tables: try db.tableNames())
    }

    /// The `runs` row of a new run (`name` only on PostgreSQL, where one database holds many runs).
    static func insertRun(_ c: StoreConnection, name: String?, config: SearchConfig) throws -> Int64 {
        let budget = "{\"sram_bytes\":\(config.sramBytes),\"flash_bytes\":\(config.flashBytes),\"macs\":\(config.macs.map(String.init) ?? "null")}"
        let args: StoreArguments = [config.jsonText(), Int64(bitPattern: config.seed), config.spaceJSON, budget, RunStatus.created.rawValue]
        guard let name else {
            return try c.insertReturningID("INSERT INTO runs(config_json, seed, space_json, budget_json, status) VALUES (?,?,?,?,?)", args)
        }
        return try c.insertReturningID("INSERT INTO runs(config_json, seed, space_json, budget_json, status, name) VALUES (?,?,?,?,?,?)",
                                       args + [name])
    }

    /// Opens an existing run (the latest run in the file) for writing: takes the run lock
    /// (refused while another process writes it) and migrates an older schema.
    public static func open(directory: URL, lock options: RunLock.Options = .init()) throws -> RunStore {
        let path = try existingStorePath(directory)
        let lock = try RunLock.acquire(directory: directory, options: options)
        let db = SQLiteStoreDatabase(queue: try RunStoreAccess.openWriter(path, creating: false), path: path)
        return RunStore(location: .directory(directory), db: db, runID: try latestRunID(db), lock: lock, readOnly: false,
                        tables: try db.tableNames())
    }

    /// Opens an existing run for reading only: no lock, no migration, nothing created or changed
    /// (works on a read-only copy and while a writer runs).
    public static func openReadOnly(directory: URL) throws -> RunStore {
        let path = try existingStorePath(directory)
        let (q, tables) = try RunStoreAccess.openReader(path)
        let db = SQLiteStoreDatabase(queue: q, path: path)
        return RunStore(location: .directory(directory), db: db, runID: try latestRunID(db), lock: nil, readOnly: true, tables: tables)
    }

    private static func existingStorePath(_ directory: URL) throws -> String {
        let path = directory.appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SearchError(directory.path, "holds no run (\(fileName) missing); start one with tinyforge search --run \(directory.path)")
        }
        return path
    }

    private static func latestRunID(_ db: SQLiteStoreDatabase) throws -> Int64 {
        let id: Int64? = try RunStoreAccess.mapping(db.path) { try db.read { try $0.fetchValue("SELECT MAX(id) FROM runs") } }
        guard let id else {
            throw SearchError(db.path, "has no run row; the run was never created completely — delete the directory and start again")
        }
        return id
    }

    /// Releases the run lock and ends the database session now (also done when the store is
    /// freed). A closed PostgreSQL store refuses further work.
    public func close() {
        lock?.release()
        (db as? PostgresStoreDatabase)?.close()
    }

    /// Whether the store has `table` (false for later tables in a read-only store of an older run).
    func hasTable(_ table: String) -> Bool { tables.contains(table) }

    public func config() throws -> SearchConfig {
        let text: String? = try db.read { try $0.fetchValue("SELECT config_json FROM runs WHERE id = ?", [runID]) }
        return try SearchConfig.decode(text ?? "", source: "\(location) runs.config_json")
    }

    /// Runs backend-neutral reads (reports, tests): SQL with `?` placeholders, `StoreDialect` tokens.
    public func fetch<T>(_ body: (StoreConnection) throws -> T) throws -> T { try db.read(body) }

    /// Runs arbitrary GRDB reads on a run directory's SQLite file (tests, diagnostics). A
    /// PostgreSQL store has no GRDB database: it throws; backend-neutral code uses `fetch`.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        guard let sqlite = db as? SQLiteStoreDatabase else {
            throw SearchError("\(location)", "is a PostgreSQL run store; this reader needs a run directory (SQLite)")
        }
        return try sqlite.queue.read(body)
    }
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
                if let r = try db.fetchOne("SELECT proposer, parents_json, rationale FROM candidates WHERE id = ?", [id]) {
                    out[id] = (try r["proposer"], decodeStored(try r["parents_json"]) ?? [], try r["rationale"])
                }
            }
            return out
        }
    }
}
