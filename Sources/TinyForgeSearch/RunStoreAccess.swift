import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// Opening `run.sqlite` for writing (WAL, synchronous FULL, migrations) or for reading only,
/// after checking that the file IS a TinyForge run store: a writer must never add its tables to
/// some other program's database, and a reader must never change anything.
enum RunStoreAccess {
    /// Writer connection. `creating`: the file is new, so an empty database is expected.
    static func openWriter(_ path: String, creating: Bool) throws -> DatabaseQueue {
        var c = Configuration()
        c.journalMode = .wal
        c.busyMode = .timeout(10)
        c.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        return try mapping(path) {
            // Check the file before the configured connection writes anything (journal mode, schema).
            if !creating { _ = try openReader(path) }
            let q = try DatabaseQueue(path: path, configuration: c)
            try RunStoreSchema.migrator.migrate(q)
            return q
        }
    }

    /// Read-only connection: `Configuration.readonly`, no PRAGMA writes, no migration. Returns the
    /// tables present so readers can skip tables an older run does not have.
    ///
    /// SQLite cannot open a WAL database read-only when it may not create the `-shm` index beside
    /// it (a read-only directory or copy). Then, if no journal is pending (`-wal` absent or
    /// empty, i.e. the last writer closed cleanly), the file is opened `immutable`: nothing can
    /// change it there anyway.
    static func openReader(_ path: String) throws -> (DatabaseQueue, Set<String>) {
        do {
            return try openReader(path, location: path)
        } catch RunStoreError.unreadable(let file, let reason) {
            guard access((path as NSString).deletingLastPathComponent, W_OK) != 0 else {
                throw RunStoreError.unreadable(file: file, reason: reason)
            }
            let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            guard wal == 0 else {
                throw RunStoreError.unreadable(file: file, reason: "\(reason); its journal \(path)-wal holds \(wal) bytes not yet merged and the directory is read-only — copy the run directory somewhere writable and read it there")
            }
            return try openReader(path, location: immutableURI(path))
        }
    }

    private static func openReader(_ path: String, location: String) throws -> (DatabaseQueue, Set<String>) {
        var c = Configuration()
        c.readonly = true
        c.busyMode = .timeout(10)
        return try mapping(path) {
            let q = try DatabaseQueue(path: location, configuration: c)
            let tables = try tableNames(q)
            guard tables.contains("runs"), tables.contains("candidates") else {
                throw RunStoreError.notARunStore(file: path, tables: tables.sorted())
            }
            let known = Set(RunStoreSchema.migrator.migrations)
            let applied = tables.contains("grdb_migrations")
                ? try q.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") } : []
            let unknown = applied.filter { !known.contains($0) }
            if !unknown.isEmpty { throw RunStoreError.newerSchema(file: path, unknown: unknown.sorted()) }
            return (q, tables)
        }
    }

    /// `file:PATH?immutable=1` with the URI's special characters escaped (SQLite is built with URI support).
    static func immutableURI(_ path: String) -> String {
        var escaped = ""
        for ch in path {
            switch ch {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.append(ch)
            }
        }
        return "file:" + escaped + "?immutable=1"
    }

    static func tableNames(_ q: DatabaseQueue) throws -> Set<String> {
        Set(try q.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") })
    }

    /// Turns SQLite's numbered errors into `RunStoreError`s naming the file and the fix.
    static func mapping<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                throw RunStoreError.notADatabase(file: path, reason: e.message ?? "\(e.resultCode)")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_AUTH:
                throw RunStoreError.unreadable(file: path, reason: e.message ?? "\(e.resultCode)")
            default:
                throw e
            }
        }
    }
}
