import Foundation
@testable import TinyForgeSearch
import XCTest

/// `RunStoreContract` on a run directory (SQLite).
final class RunStoreSQLiteTests: XCTestCase {
    var contract: RunStoreContract { RunStoreContract(backend: .sqlite, test: self) }

    func testSearchMatchesRunDirectory() async throws { try await contract.searchMatchesRunDirectory() }
    func testResumeAfterCrashes() async throws { try await contract.resumeAfterCrashes() }
    func testPendingCandidates() async throws { try await contract.pendingCandidates() }
    func testFinishedAndExplanations() async throws { try await contract.finishedAndExplanations() }
    func testSecondWriterRefused() throws { try contract.secondWriterRefused() }

    /// Two candidates of one batch that finished in the other order compare equal; an index that
    /// moved to another batch does not.
    func testEvalIndexComparedWithinItsIteration() {
        let header = ["id", "iteration", "eval_index"]
        let a = [header, ["#0", "0", "1"], ["#1", "0", "2"], ["#2", "1", "3"], ["#3", "1", "4"], ["#4", "1", ""]]
        let swapped = [header, ["#0", "0", "2"], ["#1", "0", "1"], ["#2", "1", "4"], ["#3", "1", "3"], ["#4", "1", ""]]
        let moved = [header, ["#0", "0", "1"], ["#1", "0", "3"], ["#2", "1", "2"], ["#3", "1", "4"], ["#4", "1", ""]]
        XCTAssertEqual(RunStoreContract.evalIndicesSortedPerIteration(swapped), a)
        XCTAssertNotEqual(RunStoreContract.evalIndicesSortedPerIteration(moved), RunStoreContract.evalIndicesSortedPerIteration(a))
    }
}

/// `RunStoreContract` on PostgreSQL (skipped, loudly, without `TINYFORGE_TEST_PG_URL`).
final class RunStorePostgresTests: XCTestCase {
    func contract() throws -> RunStoreContract { RunStoreContract(backend: try .postgres(), test: self) }

    func testSearchMatchesRunDirectory() async throws { try await contract().searchMatchesRunDirectory() }
    func testResumeAfterCrashes() async throws { try await contract().resumeAfterCrashes() }
    func testPendingCandidates() async throws { try await contract().pendingCandidates() }
    func testFinishedAndExplanations() async throws { try await contract().finishedAndExplanations() }
    func testSecondWriterRefused() throws { try contract().secondWriterRefused() }
}

/// The typed states match the tables' CHECK constraints (SQLite's migrations are kept byte for
/// byte, so the enums are checked against them rather than generating them).
final class RunStoreStatusTests: XCTestCase {
    func testEnumsMatchTheCheckConstraints() throws {
        let store = try RunStore.create(directory: temporaryDirectory(self), config: testConfig())
        let sql: [String: String] = try store.fetch { c in
            Dictionary(uniqueKeysWithValues: try c.fetchAll("SELECT name, sql FROM sqlite_master WHERE type = 'table'", [])
                .map { (try $0["name"] as String, try $0["sql"] as String) })
        }
        XCTAssertTrue(sql["candidates"]!.contains("CHECK (status IN (\(sqlList(CandidateStatus.allCases))))"), sql["candidates"]!)
        XCTAssertTrue(sql["finished"]!.contains("CHECK (status IN (\(sqlList(FinishedRecord.Status.allCases))))"), sql["finished"]!)
        XCTAssertTrue(sql["jobs"]!.contains("CHECK (status IN (\(sqlList(JobStatus.allCases))))"), sql["jobs"]!)
        XCTAssertEqual(EvaluationResult.Status.failed(reason: "x").stored.rawValue, EvaluationResult.Status.failed(reason: "x").name)
        XCTAssertEqual(EvaluationResult.Status.ok.stored.rawValue, EvaluationResult.Status.ok.name)
        XCTAssertEqual(EvaluationResult.Status.diverged.stored.rawValue, EvaluationResult.Status.diverged.name)
    }
}
