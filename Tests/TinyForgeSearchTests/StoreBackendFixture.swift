import Foundation
@testable import TinyForgeSearch
import XCTest

/// Which database a parameterised run-store test uses. PostgreSQL needs a server: the tests
/// read `TINYFORGE_TEST_PG_URL` (`postgres://postgres@127.0.0.1:PORT/DB`, as printed by
/// `scripts/postgres.sh start`) and skip LOUDLY when it is unset.
enum StoreBackend {
    case sqlite
    case postgres(PostgresStoreURL)

    static let pgVariable = "TINYFORGE_TEST_PG_URL"

    /// The PostgreSQL server for tests, or an `XCTSkip` saying how to get one.
    static func postgresServer() throws -> String {
        guard let url = ProcessInfo.processInfo.environment[pgVariable], !url.isEmpty else {
            throw XCTSkip("PostgreSQL run-store tests SKIPPED: \(pgVariable) is unset; start a server with "
                          + "`scripts/postgres.sh start --port 55433 --dir /tmp/pg-store` and export \(pgVariable)=<the URL it prints>")
        }
        return url
    }

    static func postgres() throws -> StoreBackend {
        .postgres(try PostgresStoreURL.parse(try postgresServer() + "?run=unused"))
    }

    /// A location for a new run: a fresh temporary directory, or a fresh uniquely named run
    /// (with a temporary local output directory) in the test database.
    func location(_ test: XCTestCase, _ name: String = "run") -> StoreLocation {
        let dir = temporaryDirectory(test, name)
        switch self {
        case .sqlite:
            return .directory(dir)
        case .postgres(var url):
            url.run = "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
            url.localDirectory = dir
            return .postgres(url)
        }
    }

    var postgresURL: PostgresStoreURL { if case .postgres(let u) = self { return u } else { preconditionFailure("not a PostgreSQL backend") } }
}

/// A throwaway PostgreSQL database (created on the test server, dropped at teardown) for tests
/// that change the schema itself (migrations, foreign tables).
func scratchDatabase(_ test: XCTestCase) throws -> PostgresStoreURL {
    var admin = try PostgresStoreURL.parse(try StoreBackend.postgresServer() + "?run=admin")
    let name = "tf_test_" + UUID().uuidString.prefix(8).lowercased()
    let db = try PostgresStoreDatabase(url: admin, command: "test")
    try db.executeOutsideTransaction("CREATE DATABASE \(name)")
    test.addTeardownBlock {
        try? db.executeOutsideTransaction("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        db.close()
    }
    admin.database = name
    admin.run = "scratch"
    return admin
}
