import Foundation
import PostgresNIO

/// The PostgreSQL backend: one session (`PostgresConnection`) per store, serialised by a mutex
/// like SQLite's `DatabaseQueue`, so transactions never interleave.
///
/// Connection loss: a transaction that fails because the session died is retried on a new
/// session after a bounded backoff (`reconnectDelays`, each attempt logged). That is safe
/// because PostgreSQL rolls back a transaction whose session dies before COMMIT; only when the
/// session dies while COMMIT is in flight is the outcome unknown, and then the store stops with
/// `commitUnknown` instead of guessing. No write is ever dropped silently.
///
/// The run lock: a writer holds a session-level advisory lock keyed by the run's name
/// (`pg_try_advisory_lock`), which the server releases when the session ends, whichever machine
/// the holder ran on. After a reconnect the lock is taken again; if another controller took it
/// meanwhile, the store refuses to continue (`RunLockError.held`).
final class PostgresStoreDatabase: StoreDatabase, @unchecked Sendable {
    /// First key of the run locks (`pg_try_advisory_lock(lockClass, hashtext(name))`): "TFor".
    static let lockClass: Int32 = 0x5446_6F72
    /// ≈ 1 min in all: long enough to ride out a database restart (a queue run's controller and
    /// workers keep going across one; measured in cluster-e2e), short enough to fail a run whose
    /// database is really gone.
    static let defaultReconnectDelays: [Double] = [0.25, 0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8]

    let url: PostgresStoreURL
    let command: String
    let reconnectDelays: [Double]
    /// See `PostgresStoreConnection.timeout`.
    let statementTimeout: TimeAmount
    var dialect: StoreDialect { .postgres }
    private let logger = Logger(label: "tinyforge.run-store.postgres")
    private let log: @Sendable (String) -> Void
    private let mutex = NSLock()
    private var connection: PostgresConnection?
    private var connectionCount = 0
    /// The run whose advisory lock this session holds, re-taken after a reconnect.
    private var lockedRun: String?
    /// After `close()` the store refuses work instead of silently reconnecting without its lock.
    private var isClosed = false

    init(url: PostgresStoreURL, command: String, reconnectDelays: [Double] = defaultReconnectDelays,
         statementTimeout: TimeAmount = .seconds(60),
         log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        self.url = url; self.command = command; self.reconnectDelays = reconnectDelays; self.log = log
        self.statementTimeout = statementTimeout
        connection = try connect()
    }

    deinit { close() }

    /// Ends the session (which releases its advisory lock).
    func close() {
        mutex.lock(); defer { mutex.unlock() }
        if let c = connection { Self.closeWaitingAtMost(c, seconds: 5) }
        connection = nil
        lockedRun = nil
        isClosed = true
    }

    func write<T>(_ body: (StoreConnection) throws -> T) throws -> T { try transaction(readOnly: false, body) }
    func read<T>(_ body: (StoreConnection) throws -> T) throws -> T { try transaction(readOnly: true, body) }

    func tableNames() throws -> Set<String> {
        Set(try read { c in
            try c.fetchAll("SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema()", [])
                .map { try $0["name"] as String }
        })
    }

    /// Runs one statement outside any transaction (CREATE/DROP DATABASE, which PostgreSQL
    /// refuses inside one): administration and tests only.
    func executeOutsideTransaction(_ sql: String) throws {
        mutex.lock(); defer { mutex.unlock() }
        try withSession { try $0.execute(sql, []) }
    }

    /// The server process id of the current session (tests of connection loss terminate it).
    func sessionPID() throws -> Int64 {
        mutex.lock(); defer { mutex.unlock() }
        return try withSession { try $0.fetchValue("SELECT pg_backend_pid()") ?? 0 }
    }

    /// Takes the run's advisory lock for this session or throws `RunLockError.held` naming the
    /// holder (its host, pid and command, from its session's application_name).
    func lockRun(_ name: String) throws {
        mutex.lock(); defer { mutex.unlock() }
        try withSession { c in
            try self.takeLock(name, on: c)
            self.lockedRun = name
        }
    }

    private func takeLock(_ name: String, on c: PostgresStoreConnection) throws {
        let ok: Bool? = try c.fetchValue("SELECT pg_try_advisory_lock(\(Self.lockClass), hashtext(?)) AS ok", [name])
        guard ok == true else { throw RunLockError.held(directory: url.description, holder: try holder(of: name, on: c), stale: false) }
    }

    private func holder(of name: String, on c: PostgresStoreConnection) throws -> RunLockHolder? {
        let row = try c.fetchOne("""
            SELECT a.application_name::text AS app, a.pid AS pid, EXTRACT(EPOCH FROM a.backend_start)::float8 AS started
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid = (\(Self.lockClass))::oid AND l.objid = hashtext(?)::oid
            """, [name])
        guard let row else { return nil }
        let parts = (try row["app"] as String).split(separator: "|", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "tinyforge", let pid = Int32(parts[2]) else { return nil }
        let started: Double = try row["started"]
        return RunLockHolder(host: parts[3], pid: pid, command: parts[1], startedAt: started, heartbeatAt: Date().timeIntervalSince1970)
    }

    /// `tinyforge|COMMAND|PID|HOST` (PostgreSQL keeps 63 bytes: the host is cut first).
    private var applicationName: String {
        "tinyforge|\(command.replacingOccurrences(of: "|", with: "/"))|\(getpid())|\(RunLockHolder.localHostName())"
    }

    private func connect() throws -> PostgresConnection {
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(url.host)
        let tls: PostgresConnection.Configuration.TLS = loopback ? .disable
            : .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        var cfg = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                   database: url.database, tls: tls)
        cfg.options.additionalStartupParameters = [("application_name", applicationName)]
        cfg.options.connectTimeout = .seconds(10)
        connectionCount += 1
        do {
            return try PostgresConnection.connect(on: PostgresConnection.defaultEventLoopGroup.next(), configuration: cfg,
                                                  id: connectionCount, logger: logger).wait()
        } catch {
            throw PostgresStoreError.cannotConnect(database: url.databaseDescription, reason: Self.reason(error))
        }
    }

    private func transaction<T>(readOnly: Bool, _ body: (StoreConnection) throws -> T) throws -> T {
        mutex.lock(); defer { mutex.unlock() }
        return try withSession { c in
            try c.execute(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", [])
            let value: T
            do {
                value = try body(c)
            } catch {
                if !c.connection.isClosed && !Self.isConnectionLoss(error) { _ = try? c.execute("ROLLBACK", []) }
                throw error
            }
            do {
                try c.execute("COMMIT", [])
            } catch let error where !readOnly && Self.commitNeverSent(error) {
                throw error   // rolled back with the session: withSession makes the transaction again
            } catch let error where !readOnly && (c.connection.isClosed || Self.isConnectionLoss(error)) {
                throw PostgresStoreError.commitUnknown(database: url.description, reason: Self.reason(error))
            }
            return value
        }
    }

    /// Runs `work` on the live session; when it fails because the session died, reconnects
    /// after the next backoff delay (re-taking the run lock) and runs it again.
    private func withSession<T>(_ work: (PostgresStoreConnection) throws -> T) throws -> T {
        guard !isClosed else { throw PostgresStoreError.closed(database: url.description) }
        var attempt = 0
        while true {
            do {
                if connection == nil { connection = try connect() }
                let c = PostgresStoreConnection(connection: connection!, logger: logger, timeout: statementTimeout)
                if attempt > 0, let run = lockedRun { try takeLock(run, on: c) }
                let value = try work(c)
                if attempt > 0 { log("run store \(url): reconnected after \(attempt) attempt(s); the interrupted step was repeated") }
                return value
            } catch let e as PostgresStoreError where e.isCommitUnknown {
                throw e
            } catch {
                let lost = connection?.isClosed ?? true
                guard lost || Self.isConnectionLoss(error) else { throw error }
                attempt += 1
                guard attempt <= reconnectDelays.count else {
                    throw PostgresStoreError.connectionLost(database: url.description, attempts: reconnectDelays.count, reason: Self.reason(error))
                }
                let delay = reconnectDelays[attempt - 1]
                log("run store \(url): connection lost (\(Self.reason(error))); reconnecting in \(delay) s (attempt \(attempt) of \(reconnectDelays.count))")
                // A dead session may never confirm, so the close is not awaited; the callback keeps
                // `old` alive until its channel is closed (postgres-nio asserts, in debug builds,
                // when a connection is deinitialised while its channel is still active).
                if let old = connection { old.close().whenComplete { _ in withExtendedLifetime(old) {} } }
                connection = nil
                Thread.sleep(forTimeInterval: delay)
            }
        }
    }

    /// Closes a session (which ends its advisory lock on the server), waiting for the goodbye
    /// at most `seconds`: a session the server already dropped may never confirm.
    static func closeWaitingAtMost(_ c: PostgresConnection, seconds: Int64) {
        let done = c.eventLoop.makePromise(of: Void.self)
        c.close().cascade(to: done)
        let timer = c.eventLoop.scheduleTask(in: .seconds(seconds)) { done.succeed(()) }
        try? done.futureResult.wait()
        timer.cancel()
    }

    /// A COMMIT that failed without leaving this process: the session was already closed or
    /// closing when it was issued (our pre-check, or postgres-nio refusing to enqueue it with
    /// `clientClosedConnection`; this store closes a session itself only after a timeout, which
    /// reports `noAnswer(limit)`). The server never saw it, so the transaction is rolled back —
    /// unlike a COMMIT in flight, whose outcome is unknown. A database restart hits this often.
    static func commitNeverSent(_ error: Error) -> Bool {
        if let e = error as? PostgresStoreError, case .noAnswer(let seconds) = e { return seconds == 0 }
        if let e = error as? PSQLError { return e.code == .clientClosedConnection && e.serverInfo == nil }
        return false
    }

    /// Errors that mean the session is gone (as opposed to a statement the server rejected).
    static func isConnectionLoss(_ error: Error) -> Bool {
        switch error {
        case let e as PSQLError:
            if let state = e.serverInfo?[.sqlState] { return state.hasPrefix("08") || state.hasPrefix("57P") }
            return [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(e.code)
        case let e as PostgresStoreError:
            if case .cannotConnect = e { return true }
            if case .noAnswer = e { return true }
            if case .server(let state?, _, _) = e { return state.hasPrefix("08") || state.hasPrefix("57P") }
            return false
        case is ChannelError, is IOError:
            return true
        default:
            return false
        }
    }

    /// A readable reason without the query's bound values or any password.
    static func reason(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let m = e.serverInfo?[.message] { return m }
            return "\(e.code)" + (e.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}

extension PostgresStoreError {
    var isCommitUnknown: Bool { if case .commitUnknown = self { return true } else { return false } }
}
