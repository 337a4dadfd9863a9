import Foundation
import GRDB
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// The built `tinyforge` binary with `--executor workers --workers 2` (synthetic evaluator):
/// every candidate evaluated once, and `kill -9` of a worker mid-job is reclaimed and evaluated
/// once. (scripts/queue-e2e.sh has more cases: external workers, SIGTERM, controller kill.)
final class QueueCLIE2ETests: XCTestCase {
    var binary: URL!

    override func setUpWithError() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: QueueCLIE2ETests.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        binary = b
    }

    func search(_ dir: URL, _ extra: [String]) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746", "--sram", "64KB",
                       "--flash", "256KB", "--macs", "5M", "--proposer", "evolution", "--population", "6", "--tournament", "3",
                       "--evaluator", "synthetic", "--executor", "workers", "--workers", "2", "--run", dir.path] + extra
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// (completed evaluations, candidates left without one, extra evaluation rows per candidate × rung).
    func tally(_ dir: URL) throws -> (completed: Int, lost: Int, duplicated: Int) {
        let store = try RunStore.openReadOnly(directory: dir)
        return try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM evaluations") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM candidates WHERE status IN ('proposed','evaluating')") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM evaluations GROUP BY candidate_id, rung)") ?? -1)
        }
    }

    func testTwoLocalWorkersAndAKilledWorker() throws {
        let dir = temporaryDirectory(self)
        let p = try search(dir.appendingPathComponent("a"), ["--trials", "8", "--batch", "4", "--synthetic-delay-ms", "100"])
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let a = try tally(dir.appendingPathComponent("a"))
        XCTAssertTrue(a == (8, 0, 0), "completed/lost/duplicated \(a)")

        let b = dir.appendingPathComponent("b")
        let q = try search(b, ["--trials", "6", "--batch", "2", "--synthetic-delay-ms", "1500", "--lease-grace", "3"])
        var victim: Int32?
        for _ in 0..<300 where victim == nil {
            Thread.sleep(forTimeInterval: 0.05)
            victim = try? RunStore.openReadOnly(directory: b).read { db in
                try Int32.fetchOne(db, sql: "SELECT w.pid FROM jobs j JOIN workers w ON w.id = j.lease_owner WHERE j.status = 'claimed' LIMIT 1")
            }
        }
        let pid = try XCTUnwrap(victim, "no worker claimed a job")
        kill(pid, SIGKILL)
        q.waitUntilExit()
        XCTAssertEqual(q.terminationStatus, 0)
        let t = try tally(b)
        XCTAssertTrue(t == (6, 0, 0), "completed/lost/duplicated \(t)")
        let reclaimed = try RunStore.openReadOnly(directory: b).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE attempts = 1") ?? 0
        }
        XCTAssertEqual(reclaimed, 1, "the killed worker's job was reclaimed once")
    }
}
