import Foundation
@testable import TinyForgeSearch
import XCTest

/// What only the PostgreSQL backend has: many runs in one database, the migrations table, the
/// advisory run lock across sessions, reconnection, and passwords that are never kept.
final class PostgresStoreTests: XCTestCase {
    func location(_ name: String) throws -> StoreLocation { try StoreBackend.postgres().location(self, name) }

    func testTwoRunsInOneDatabase() async throws {
        let a = try location("a"), b = try location("b")
        let contract = RunStoreContract(backend: try .postgres(), test: self)
        let (sa, ra) = try await contract.search(testConfig(proposer: "random", trials: 8, seed: 1), at: a)
        let (sb, rb) = try await contract.search(testConfig(proposer: "nsga2", trials: 12, seed: 2), at: b)
        XCTAssertNotEqual(sa.runID, sb.runID)
        XCTAssertEqual(try sa.evaluationCount(), 8)
        XCTAssertEqual(try sb.evaluationCount(), 12)
        XCTAssertEqual(try RunStore.openReadOnly(at: a).config().proposer, "random")
        XCTAssertEqual(try RunStore.openReadOnly(at: b).loadState(objectiveSpace: try sb.config().objectiveSpace()).evaluationCount, 12)
        XCTAssertEqual(ra.evaluations + rb.evaluations, 20)
        let names = try RunStore.runNames(sa.db)
        guard case .postgres(let ua) = a, case .postgres(let ub) = b, case .postgres(var unknown) = try location("x") else { return XCTFail() }
        XCTAssertTrue(names.contains(ua.run) && names.contains(ub.run), "\(names)")
        XCTAssertThrowsError(try RunStore.openReadOnly(at: .postgres(unknown))) { e in
            XCTAssertTrue("\(e)".contains("no run named `\(unknown.run)`") && "\(e)".contains(ua.run) && "\(e)".contains(ub.run), "\(e)")
        }
        unknown.run = ua.run
        XCTAssertThrowsError(try RunStore.create(at: .postgres(unknown), config: testConfig())) { e in
            XCTAssertEqual(e as? PostgresStoreError, .runExists(database: ua.databaseDescription, run: ua.run))
        }
        XCTAssertFalse(try RunStore.exists(at: try location("fresh")))
    }

    func testMigrationsTableAndNewerVersionRefused() throws {
        var url = try scratchDatabase(self)
        url.localDirectory = temporaryDirectory(self)
        let store = try RunStore.create(at: .postgres(url), config: testConfig())
        let versions: [String] = try store.fetch { c in
            try c.fetchAll("SELECT version, name FROM tinyforge_migrations ORDER BY version", []).map { "\(try $0["version"] as Int) \(try $0["name"] as String)" }
        }
        XCTAssertEqual(versions, ["1 v1", "2 v2-explanations", "3 v3-finished", "4 v4-repair-slots", "5 v5-queue"])
        XCTAssertTrue(store.hasTable("finished") && store.hasTable("explanations") && store.hasTable("jobs") && store.hasTable("workers"))
        store.close()
        // Opening again applies nothing new.
        let again = try RunStore.open(at: .postgres(url))
        XCTAssertEqual(try again.fetch { try $0.fetchValue("SELECT COUNT(*) FROM tinyforge_migrations") as Int? }, 5)
        try again.db.write { try $0.execute("INSERT INTO tinyforge_migrations(version, name, applied_at) VALUES (99, 'v99-future', 'x')", []) }
        again.close()
        for open in [{ try RunStore.open(at: .postgres(url)) }, { try RunStore.openReadOnly(at: .postgres(url)) }] {
            XCTAssertThrowsError(try open()) { e in
                XCTAssertEqual(e as? RunStoreError, .newerSchema(file: url.databaseDescription, unknown: ["99 v99-future"]))
                XCTAssertTrue("\(e)".contains("newer TinyForge"), "\(e)")
            }
        }
    }

    func testForeignDatabaseIsLeftAlone() throws {
        var url = try scratchDatabase(self)
        url.localDirectory = temporaryDirectory(self)
        let admin = try PostgresStoreDatabase(url: url, command: "test")
        try admin.write { try $0.execute("CREATE TABLE invoices(id INT)", []) }
        XCTAssertThrowsError(try RunStore.create(at: .postgres(url), config: testConfig())) { e in
            XCTAssertEqual(e as? PostgresStoreError, .notARunStore(database: url.databaseDescription, tables: ["invoices"]))
        }
        XCTAssertEqual(try admin.tableNames(), ["invoices"], "nothing was created in another program's database")
        admin.close()
    }

    /// The advisory lock is per run and per session: another run in the same database is free,
    /// and the holder's session ending (a crash, on any machine) frees the run.
    func testAdvisoryLockIsPerRunAndReleasedWithTheSession() throws {
        let a = try location("a"), b = try location("b")
        let holder = try RunStore.create(at: a, config: testConfig(), lock: .init(command: "search"))
        let other = try RunStore.create(at: b, config: testConfig())
        XCTAssertThrowsError(try RunStore.open(at: a, lock: .init(command: "explain"))) { e in
            XCTAssertTrue("\(e)".contains("locked by pid \(getpid()) on host \(RunLockHolder.localHostName()) (search)"), "\(e)")
            XCTAssertTrue("\(e)".contains("tinyforge runs show --store '\(a)'"), "\(e)")
        }
        XCTAssertThrowsError(try RunStore.open(at: a, lock: .init(command: "explain", breakStale: true))) { e in
            XCTAssertTrue("\(e)".contains("--break-lock: applies to run directories"), "\(e)")
        }
        // Kill the holder's session from the server side, as when its machine dies.
        let pid = try (holder.db as! PostgresStoreDatabase).sessionPID()
        try other.db.write { try $0.execute("SELECT pg_terminate_backend(?::int)", [pid]) }
        var opened: RunStore?
        for _ in 0..<50 where opened == nil {   // the server drops the lock when the backend exits
            opened = try? RunStore.open(at: a, lock: .init(command: "explain"))
            if opened == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        XCTAssertNotNil(opened, "the lock of a terminated session must be free")
        // The old holder reconnects for its next write, finds the run taken, and refuses to write.
        XCTAssertThrowsError(try holder.log("still here?")) { e in
            guard case RunLockError.held = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try opened!.fetch { try $0.fetchValue("SELECT COUNT(*) FROM events WHERE message = 'still here?'") as Int? }, 0)
    }

    /// A lost session is re-established (logged) and the write goes through exactly once.
    func testReconnectsAfterConnectionLoss() throws {
        let store = try RunStore.create(at: try location("r"), config: testConfig())
        let killer = try PostgresStoreDatabase(url: try StoreBackend.postgres().postgresURL, command: "test")
        let pid = try (store.db as! PostgresStoreDatabase).sessionPID()
        try killer.write { try $0.execute("SELECT pg_terminate_backend(?::int)", [pid]) }
        Thread.sleep(forTimeInterval: 0.2)
        try store.log("after the loss")
        XCTAssertEqual(try store.fetch { try $0.fetchValue("SELECT COUNT(*) FROM events WHERE run_id = ? AND message = 'after the loss'", [store.runID]) as Int? }, 1)
        XCTAssertNotEqual(try (store.db as! PostgresStoreDatabase).sessionPID(), pid)
        // Still the only writer: the lock was taken again on the new session.
        XCTAssertThrowsError(try RunStore.open(at: store.location)) { guard case RunLockError.held = $0 else { return XCTFail("\($0)") } }
        killer.close()
    }

    /// When the database stays unreachable, reconnection gives up after the configured attempts,
    /// each logged, and the write fails loudly (nothing is dropped silently).
    func testReconnectionIsBoundedAndLogged() throws {
        let url = try scratchDatabase(self)
        let lines = LogLines()
        let db = try PostgresStoreDatabase(url: url, command: "test", reconnectDelays: [0.05, 0.1], log: { lines.append($0) })
        try db.write { try $0.execute("CREATE TABLE t(x BIGINT)", []) }
        let admin = try PostgresStoreDatabase(url: try StoreBackend.postgres().postgresURL, command: "test")
        try admin.executeOutsideTransaction("DROP DATABASE \(url.database) WITH (FORCE)")   // ends db's session too
        XCTAssertThrowsError(try db.write { try $0.execute("INSERT INTO t VALUES (1)", []) }) { e in
            guard case PostgresStoreError.connectionLost(_, 2, _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("--resume"), "\(e)")
        }
        XCTAssertEqual(lines.all.count, 2, "\(lines.all)")
        XCTAssertTrue(lines.all.allSatisfy { $0.contains("connection lost") && $0.contains("of 2") }, "\(lines.all)")
        admin.close()
    }

    /// A password given through PGPASSWORD / a file is used for the login but appears nowhere:
    /// not in any table, not in a message, not in the session's application name.
    func testPasswordIsNeverStoredOrPrinted() async throws {
        let secret = "s3cret-\(UUID().uuidString.prefix(6))"
        guard case .postgres(var url) = try location("pw") else { return XCTFail() }
        url.password = secret
        let contract = RunStoreContract(backend: try .postgres(), test: self)
        let (store, _) = try await contract.search(testConfig(proposer: "random", trials: 4), at: .postgres(url))
        try RunReport(store: store).writeFiles(store: store)
        var texts: [String] = [store.location.description, "\(store.location)"]
        let tables = try store.db.tableNames()
        for t in tables.sorted() {
            texts += try store.fetch { c in try c.fetchAll("SELECT * FROM \(t)", []).map { "\($0.values)" } }
        }
        texts += try store.fetch { c in try c.fetchAll("SELECT application_name::text AS a FROM pg_stat_activity", []).map { "\($0.values)" } }
        for f in try FileManager.default.contentsOfDirectory(atPath: url.localDirectory.path) {
            texts.append((try? String(contentsOf: url.localDirectory.appendingPathComponent(f), encoding: .utf8)) ?? "")
        }
        var unknown = url
        unknown.run = "missing-run"
        do { _ = try RunStore.openReadOnly(at: .postgres(unknown)) } catch { texts.append("\(error)") }
        do { _ = try RunStore.open(at: .postgres(url)) } catch { texts.append("\(error)") }
        XCTAssertGreaterThan(texts.count, tables.count)
        XCTAssertFalse(texts.contains { $0.contains(secret) }, "the password leaked")
    }
}

/// Log lines collected from the store's background-safe logger.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
