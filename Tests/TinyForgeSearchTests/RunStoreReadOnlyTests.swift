import Foundation
import GRDB
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Issue 12: `runs show` on an unrelated SQLite file added TinyForge's tables to it, failed on
/// a read-only run, and a garbage run.sqlite gave a bare "SQLite error 26".
final class RunStoreReadOnlyTests: XCTestCase {
    func tables(_ path: String) throws -> [String] {
        var c = Configuration(); c.readonly = true
        return try DatabaseQueue(path: path, configuration: c).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
    }

    /// Plain SQL on the file behind the store's back (simulating old or foreign files).
    func execute(_ path: String, _ sql: String) throws {
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
    }

    func testUnrelatedSQLiteFileIsRefusedAndLeftUnchanged() throws {
        let dir = temporaryDirectory(self)
        let path = dir.appendingPathComponent(RunStore.fileName).path
        try DatabaseQueue(path: path).write { try $0.execute(sql: "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for open in [{ try RunStore.openReadOnly(directory: dir) }, { try RunStore.open(directory: dir) }] {
            XCTAssertThrowsError(try open()) { e in
                guard case .notARunStore(let f, let t)? = e as? RunStoreError else { return XCTFail("\(e)") }
                XCTAssertEqual(f, path); XCTAssertEqual(t, ["photos"])
                XCTAssertTrue("\(e)".hasPrefix("\(path) is not a TinyForge run store"), "\(e)")
            }
        }
        XCTAssertEqual(try tables(path), ["photos"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }

    func testGarbageStoreNamesTheFileAndTheFix() throws {
        let dir = temporaryDirectory(self)
        let path = dir.appendingPathComponent(RunStore.fileName).path
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: path))
        for open in [{ try RunStore.openReadOnly(directory: dir) }, { try RunStore.open(directory: dir) }] {
            XCTAssertThrowsError(try open()) { e in
                guard case .notADatabase(let f, _)? = e as? RunStoreError else { return XCTFail("\(e)") }
                XCTAssertEqual(f, path)
                XCTAssertTrue("\(e)".contains("restore it from a backup"), "\(e)")
                XCTAssertFalse("\(e)".contains("PRAGMA"), "\(e)")
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(repeating: 0x5a, count: 8192))
    }

    func files(_ dir: URL) -> [String: Date] {
        var out: [String: Date] = [:]
        for n in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
            out[n] = (try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(n).path))?[.modificationDate] as? Date
        }
        return out
    }

    /// A reader changes nothing: same store bytes, no lock file, no new file except SQLite's own
    /// `-wal`/`-shm` coordination files (how a WAL reader stays consistent with a live writer).
    func testReaderChangesNothing() async throws {
        let dir = temporaryDirectory(self)
        try await runSearch(testConfig(trials: 6), in: dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent(RunLock.fileName))
        let before = files(dir)
        let bytes = try Data(contentsOf: dir.appendingPathComponent(RunStore.fileName))
        let store = try RunStore.openReadOnly(directory: dir)
        XCTAssertTrue(store.isReadOnly)
        let report = try RunReport(store: store)
        XCTAssertEqual(report.state.evaluationCount, 6)
        XCTAssertThrowsError(try store.setStatus(.failed))
        XCTAssertEqual(files(dir).filter { !$0.key.hasSuffix("-wal") && !$0.key.hasSuffix("-shm") }, before)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent(RunStore.fileName)), bytes)
    }

    /// A run written before the `finished` table existed: readers report it without migrating;
    /// a writer still migrates it.
    func testReaderOfAnOlderSchemaDoesNotMigrateButAWriterDoes() async throws {
        let dir = temporaryDirectory(self)
        let path = dir.appendingPathComponent(RunStore.fileName).path
        try await runSearch(testConfig(trials: 4), in: dir)
        try execute(path, "DROP TABLE finished; DELETE FROM grdb_migrations WHERE identifier = 'v3-finished'")
        let reader = try RunStore.openReadOnly(directory: dir)
        XCTAssertEqual(try reader.finishedRecords().count, 0)
        XCTAssertEqual(try RunReport(store: reader).state.evaluationCount, 4)
        XCTAssertFalse(try tables(path).contains("finished"))
        _ = try RunStore.open(directory: dir)
        XCTAssertTrue(try tables(path).contains("finished"))
    }

    func testStoreFromANewerVersionIsRefused() async throws {
        let dir = temporaryDirectory(self)
        try await runSearch(testConfig(trials: 2), in: dir)
        try execute(dir.appendingPathComponent(RunStore.fileName).path, "INSERT INTO grdb_migrations(identifier) VALUES ('v9-future')")
        XCTAssertThrowsError(try RunStore.openReadOnly(directory: dir)) { e in
            XCTAssertEqual(e as? RunStoreError, .newerSchema(file: dir.appendingPathComponent(RunStore.fileName).path, unknown: ["v9-future"]))
        }
    }

    func testImmutableURIEscapesSpecialCharacters() {
        XCTAssertEqual(RunStoreAccess.immutableURI("/r/a?b#c%d/run.sqlite"), "file:/r/a%3fb%23c%25d/run.sqlite?immutable=1")
    }

    /// Report files are written atomically; when they cannot be (here: the name is taken by a
    /// directory, which fails even for root), the error is the typed one `runs show` skips.
    func testReportFilesFailWithATypedErrorAndLeaveNoPartialFile() async throws {
        let dir = temporaryDirectory(self)
        try await runSearch(testConfig(trials: 3), in: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pareto.json/x"), withIntermediateDirectories: true)
        let store = try RunStore.openReadOnly(directory: dir)
        XCTAssertThrowsError(try RunReport(store: store).writeFiles(store: store)) { e in
            XCTAssertNotNil(e as? AtomicFileError, "\(e)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertFalse(names.contains { $0.hasSuffix(AtomicFile.temporarySuffix) }, "\(names)")
    }
}
