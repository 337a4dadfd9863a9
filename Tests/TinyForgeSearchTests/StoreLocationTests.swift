import Foundation
@testable import TinyForgeSearch
import XCTest

/// `--store` parsing and password handling (no server needed).
final class StoreLocationTests: XCTestCase {
    func testParsesPostgresURLAndDirectories() throws {
        guard case .postgres(let u) = try StoreLocation.parse("postgres://tf@db.example:6543/runs?run=exp-1", localDirectory: "/tmp/out") else {
            return XCTFail()
        }
        XCTAssertEqual([u.user, u.host, u.database, u.run], ["tf", "db.example", "runs", "exp-1"])
        XCTAssertEqual(u.port, 6543)
        XCTAssertEqual(u.localDirectory.path, "/tmp/out")
        XCTAssertEqual(u.description, "postgres://tf@db.example:6543/runs?run=exp-1")
        guard case .postgres(let d) = try StoreLocation.parse("postgresql://h/db?run=a") else { return XCTFail() }
        XCTAssertEqual([d.user, "\(d.port)", d.localDirectory.lastPathComponent], ["postgres", "5432", "a"])
        guard case .directory(let dir) = try StoreLocation.parse("runs/r1") else { return XCTFail() }
        XCTAssertEqual(dir.lastPathComponent, "r1")
    }

    func testRefusesBadURLs() {
        func refuses(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try StoreLocation.parse(text), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(e)", file: file, line: line)
            }
        }
        refuses("postgres://h:5432/db", "?run=NAME")
        refuses("postgres://h:5432/?run=a", "no database name")
        refuses("postgres://h/db?run=a&sslmode=x", "unknown parameter `sslmode`")
        refuses("postgres://h/db?run=a%20b", "run name")
    }

    func testPasswordInURLIsRefusedWithoutEchoingIt() {
        XCTAssertThrowsError(try StoreLocation.parse("postgres://tf:hunter2@h:5432/db?run=a")) { e in
            XCTAssertEqual(e as? StoreLocationError, .passwordInURL(text: "postgres://tf:***@h:5432/db?run=a"))
            XCTAssertTrue("\(e)".contains("PGPASSWORD") && "\(e)".contains("--store-password-file"), "\(e)")
            XCTAssertFalse("\(e)".contains("hunter2"))
        }
    }

    func testPasswordSources() throws {
        let dir = temporaryDirectory(self)
        let file = dir.appendingPathComponent("pw")
        try "from-file\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try StorePassword.resolve(file: file.path, environment: ["PGPASSWORD": "env"]), "from-file")
        XCTAssertEqual(try StorePassword.resolve(file: nil, environment: ["PGPASSWORD": "env"]), "env")
        XCTAssertNil(try StorePassword.resolve(file: nil, environment: [:]))
        XCTAssertThrowsError(try StorePassword.resolve(file: dir.appendingPathComponent("none").path, environment: [:]))
        try "\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try StorePassword.resolve(file: file.path, environment: [:])) { XCTAssertTrue("\($0)".contains("first line is empty")) }
        var u = try PostgresStoreURL.parse("postgres://u@h/db?run=a")
        u.password = "pw-123"
        XCTAssertFalse(u.description.contains("pw-123"))
        XCTAssertFalse(StoreLocation.postgres(u).description.contains("pw-123"))
    }

    func testPlaceholdersAreNumberedOutsideLiterals() {
        XCTAssertEqual(PostgresStoreConnection.numberedPlaceholders("SELECT ? , '?' , \"a?\" FROM t WHERE x = ? AND y LIKE ? || '%'"),
                       "SELECT $1 , '?' , \"a?\" FROM t WHERE x = $2 AND y LIKE $3 || '%'")
    }
}
