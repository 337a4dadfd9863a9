/// Why the PostgreSQL run store failed. Messages name the database (never a password) and the fix.
public enum PostgresStoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The server could not be reached or refused the login.
    case cannotConnect(database: String, reason: String)
    /// The connection was lost and reconnecting failed `attempts` times.
    case connectionLost(database: String, attempts: Int, reason: String)
    /// The connection was lost while COMMIT was in flight: the write may or may not be stored.
    case commitUnknown(database: String, reason: String)
    /// The server rejected a statement.
    case server(sqlState: String?, message: String, query: String)
    /// `?run=NAME` names no run in the database (reading commands, resume).
    case unknownRun(database: String, run: String, known: [String])
    /// `search` with a NAME that already exists.
    case runExists(database: String, run: String)
    /// A statement got no answer in time (or the session was already closed): handled as a lost session.
    case noAnswer(seconds: Double)
    /// The store was closed (its lock released); open the run again to write.
    case closed(database: String)
    /// The database has tables but no `tinyforge_migrations` table: some other program's database.
    case notARunStore(database: String, tables: [String])

    public var description: String {
        switch self {
        case let .cannotConnect(db, r):
            return "\(db): cannot connect to PostgreSQL (\(r)); check that the server runs (scripts/postgres.sh status), "
                + "the host and port, and the password (PGPASSWORD or --store-password-file)"
        case let .connectionLost(db, n, r):
            return "\(db): the connection to PostgreSQL was lost and \(n) reconnection attempts failed (\(r)); "
                + "nothing after the last completed step was stored — fix the server and continue with --resume"
        case let .commitUnknown(db, r):
            return "\(db): the connection was lost while committing (\(r)), so this last write may or may not be stored; "
                + "stopping instead of guessing — continue with --resume (completed steps are never repeated)"
        case let .server(state, m, q):
            let line = q.split(separator: "\n").first.map(String.init) ?? q
            return "PostgreSQL rejected a run-store statement (\(state ?? "no SQLSTATE")): \(m) — in `\(line.trimmingCharacters(in: .whitespaces))`"
        case let .unknownRun(db, run, known):
            // The newest 20 (a shared database can hold hundreds).
            let shown = known.suffix(20), older = known.count - shown.count
            let list = known.isEmpty ? "the database holds no runs yet"
                : "known runs: " + shown.joined(separator: ", ") + (older > 0 ? " and \(older) older" : "")
            return "\(db): no run named `\(run)` (\(list)); start it with tinyforge search --store '\(db)?run=\(run)'"
        case let .runExists(db, run):
            return "\(db): a run named `\(run)` already exists; continue it with --resume, or choose another ?run=NAME"
        case let .noAnswer(seconds):
            return seconds > 0 ? "the PostgreSQL server did not answer within \(Int(seconds)) s" : "the PostgreSQL session is closed"
        case let .closed(db):
            return "\(db): this run store was closed and its run lock released; open the run again"
        case let .notARunStore(db, tables):
            return "\(db) is not a TinyForge run store: it has tables (\(tables.prefix(8).joined(separator: ", "))) but no "
                + "\(StorePostgresSchema.migrationsTable) table; it was left unchanged — use an empty database for TinyForge runs"
        }
    }
}
