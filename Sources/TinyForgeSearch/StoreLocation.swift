import Foundation

/// Where a run is stored: a run directory (SQLite `run.sqlite`, the default) or a named run in
/// a PostgreSQL database (`postgres://USER@HOST:PORT/DB?run=NAME`).
public enum StoreLocation: Sendable, CustomStringConvertible {
    case directory(URL)
    case postgres(PostgresStoreURL)

    /// Parses `--store`: a `postgres://` (or `postgresql://`) URL, else a run directory path.
    /// `password` comes from `PGPASSWORD` or a password file, never from the URL.
    public static func parse(_ text: String, password: String? = nil, localDirectory: String? = nil) throws -> StoreLocation {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            var url = try PostgresStoreURL.parse(text)
            url.password = password
            url.localDirectory = URL(fileURLWithPath: localDirectory ?? "tinyforge-runs/\(url.run)")
            return .postgres(url)
        }
        return .directory(URL(fileURLWithPath: text))
    }

    /// Where files written next to the run go (pareto.json, candidates.csv, finished models,
    /// explain output): the run directory, or a PostgreSQL run's local output directory.
    public var localDirectory: URL {
        switch self {
        case .directory(let d): return d
        case .postgres(let p): return p.localDirectory
        }
    }

    /// Never contains a password.
    public var description: String {
        switch self {
        case .directory(let d): return d.path
        case .postgres(let p): return p.description
        }
    }
}

/// A PostgreSQL run: server, user, database and run name. The password is held only in memory
/// (`password`), never part of `description`, never stored or logged.
public struct PostgresStoreURL: Sendable, CustomStringConvertible, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// The run's unique name in the database (`?run=NAME`).
    public var run: String
    public var password: String?
    /// Where this run's files are written on this machine (see `StoreLocation.localDirectory`).
    public var localDirectory: URL = URL(fileURLWithPath: ".")

    /// `postgres://USER@HOST:PORT/DB?run=NAME` (no password).
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)?run=\(run)" }

    /// The server and database without the run (for messages about the database itself).
    public var databaseDescription: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    public static func == (a: Self, b: Self) -> Bool { a.description == b.description }

    public static func parse(_ text: String) throws -> PostgresStoreURL {
        guard let c = URLComponents(string: text), let scheme = c.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw StoreLocationError.invalidURL(text: redacted(text), reason: "not a postgres:// URL")
        }
        if c.password != nil { throw StoreLocationError.passwordInURL(text: redacted(text)) }
        guard let host = c.host, !host.isEmpty else {
            throw StoreLocationError.invalidURL(text: redacted(text), reason: "no host (postgres://USER@HOST:PORT/DB?run=NAME)")
        }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreLocationError.invalidURL(text: redacted(text), reason: "no database name after the host (…:PORT/DB?run=NAME)")
        }
        let items = c.queryItems ?? []
        if let other = items.first(where: { $0.name != "run" }) {
            throw StoreLocationError.invalidURL(text: redacted(text), reason: "unknown parameter `\(other.name)` (only ?run=NAME is read)")
        }
        guard let run = items.first(where: { $0.name == "run" })?.value, !run.isEmpty else {
            throw StoreLocationError.missingRunName(text: redacted(text))
        }
        guard run.count <= 100, run.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw StoreLocationError.invalidURL(text: redacted(text), reason: "run name `\(run)`: use up to 100 letters, digits, '-', '_' or '.'")
        }
        return PostgresStoreURL(host: host, port: c.port ?? 5432, user: c.user ?? "postgres", database: database, run: run)
    }

    /// The URL with any password replaced by `***` (for error messages).
    static func redacted(_ text: String) -> String {
        guard var c = URLComponents(string: text), c.password != nil else { return text }
        c.password = "***"
        return c.string ?? "postgres://***"
    }
}

/// The password of a PostgreSQL store: `--store-password-file FILE` (first line), else the
/// `PGPASSWORD` environment variable, else none (trust or peer authentication).
public enum StorePassword {
    public static func resolve(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw StoreLocationError.unreadablePasswordFile(path: file)
            }
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.isEmpty else { throw StoreLocationError.emptyPasswordFile(path: file) }
            return line
        }
        if let p = environment["PGPASSWORD"], !p.isEmpty { return p }
        return nil
    }
}

/// Why `--store` could not be used. No message ever contains a password.
public enum StoreLocationError: Error, CustomStringConvertible, Equatable {
    case invalidURL(text: String, reason: String)
    case passwordInURL(text: String)
    case missingRunName(text: String)
    case unreadablePasswordFile(path: String)
    case emptyPasswordFile(path: String)

    public var description: String {
        switch self {
        case let .invalidURL(t, r):
            return "--store \(t): \(r); expected postgres://USER@HOST:PORT/DB?run=NAME or a run directory"
        case let .passwordInURL(t):
            return "--store \(t): the URL contains a password; passwords are never accepted in the URL (they would end up in "
                + "shell history, process lists and logs). Remove it and set PGPASSWORD or pass --store-password-file FILE"
        case let .missingRunName(t):
            return "--store \(t): name the run with ?run=NAME (one database holds many runs)"
        case let .unreadablePasswordFile(p):
            return "--store-password-file \(p): cannot read the file; check the path and its permissions"
        case let .emptyPasswordFile(p):
            return "--store-password-file \(p): the first line is empty; write the password on the first line"
        }
    }
}
