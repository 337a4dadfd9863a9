import Foundation
import GRDB
import TinyForgeSearch
import XCTest

/// Real `kill -9` of the built `tinyforge search`, then `--resume`: every completed evaluation
/// appears exactly once, the total reaches N, and the run equals an uninterrupted one.
/// Needs the `tinyforge` binary next to the test bundle (`swift build` builds it).
final class SearchE2ETests: XCTestCase {
    var binary: URL!

    override func setUpWithError() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: SearchE2ETests.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        binary = b
    }

    func launch(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Counts stored evaluations through a read-only connection: the poll must never write
    /// (e.g. migrate) a database that the search process is still creating.
    func evaluations(_ dir: URL) -> Int {
        let path = dir.appendingPathComponent(RunStore.fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        var config = Configuration()
        config.readonly = true
        guard let q = try? DatabaseQueue(path: path, configuration: config) else { return 0 }
        return (try? q.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM evaluations") ?? 0 }) ?? 0
    }

    /// Starts (or resumes) the run and SIGKILLs it once `killAt` evaluations are stored.
    func runAndKill(_ args: [String], dir: URL, killAt: Int) throws {
        let p = try launch(args)
        let deadline = Date().addingTimeInterval(120)
        while evaluations(dir) < killAt {
            XCTAssertTrue(p.isRunning, "search exited (status \(p.terminationStatus)) before \(killAt) evaluations")
            if !p.isRunning { return }
            XCTAssertLessThan(Date(), deadline); if Date() > deadline { p.terminate(); return }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
    }

    func finish(_ args: [String]) throws {
        let p = try launch(args)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "tinyforge \(args.joined(separator: " "))")
    }

    func table(_ dir: URL) throws -> [String] {
        let s = try RunStore.open(directory: dir)
        return try s.read { db in
            try Row.fetchAll(db, sql: "SELECT c.hash, c.status, e.status AS e, e.val_accuracy FROM candidates c LEFT JOIN evaluations e ON e.candidate_id = c.id ORDER BY c.id")
                .map { "\($0["hash"] as String) \($0["status"] as String) \(($0["e"] as String?) ?? "-") \(($0["val_accuracy"] as Double?) ?? -1)" }
        }
    }

    func checkComplete(_ dir: URL, trials: Int) throws {
        let s = try RunStore.open(directory: dir)
        let rows = try evaluationRows(s)
        XCTAssertEqual(rows.count, trials)
        XCTAssertTrue(rows.allSatisfy { $0.count == 1 }, "a completed evaluation appears twice")
        let indices = try s.read { try Int.fetchAll($0, sql: "SELECT eval_index FROM evaluations ORDER BY eval_index") }
        XCTAssertEqual(indices, Array(1...trials))
        let pending = try s.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates WHERE status IN ('proposed','evaluating')") }
        XCTAssertEqual(pending, 0)
        XCTAssertEqual(try s.hypervolumeHistory().count, trials)
    }

    func testKill9SyntheticSearchThenResume() throws {
        let root = temporaryDirectory(self, "e2e")
        let killed = root.appendingPathComponent("killed"), ref = root.appendingPathComponent("reference")
        let common = ["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746", "--sram", "64KB",
                      "--flash", "256KB", "--macs", "5M", "--proposer", "evolution", "--population", "8", "--trials", "40",
                      "--batch", "4", "--workers", "2", "--evaluator", "synthetic", "--seed", "3"]
        try runAndKill(common + ["--synthetic-delay-ms", "60", "--run", killed.path], dir: killed, killAt: 9)
        try runAndKill(["search", "--resume", killed.path], dir: killed, killAt: 23)
        try runAndKill(["search", "--resume", killed.path], dir: killed, killAt: 30)
        try finish(["search", "--resume", killed.path])
        try checkComplete(killed, trials: 40)
        let retried = try RunStore.open(directory: killed).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates WHERE attempts > 1") }
        XCTAssertGreaterThan(retried ?? 0, 0, "no kill landed mid-evaluation; the test did not exercise re-runs")
        try finish(common + ["--run", ref.path])
        XCTAssertEqual(try table(killed), try table(ref), "killed-and-resumed run differs from the uninterrupted one")
    }

    /// Successive halving under `kill -9`: every (candidate, rung) evaluation stored once, and
    /// the same evaluations table as an uninterrupted run.
    func testKill9HalvingSearchThenResume() throws {
        let root = temporaryDirectory(self, "e2e-halving")
        let killed = root.appendingPathComponent("killed"), ref = root.appendingPathComponent("reference")
        let common = ["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746", "--sram", "64KB",
                      "--flash", "256KB", "--macs", "5M", "--proposer", "nsga2", "--population", "6", "--trials", "16",
                      "--batch", "4", "--workers", "2", "--evaluator", "synthetic", "--seed", "5",
                      "--halving-epochs", "1,2,4", "--halving-eta", "2"]
        try runAndKill(common + ["--synthetic-delay-ms", "60", "--run", killed.path], dir: killed, killAt: 6)
        try runAndKill(["search", "--resume", killed.path], dir: killed, killAt: 15)
        try finish(["search", "--resume", killed.path])
        try finish(common + ["--run", ref.path])
        func rungTable(_ dir: URL) throws -> [String] {
            try RunStore.open(directory: dir).read { db in
                try Row.fetchAll(db, sql: """
                    SELECT c.hash, e.rung, e.status, e.val_accuracy FROM evaluations e JOIN candidates c ON c.id = e.candidate_id
                    ORDER BY c.id, e.rung
                    """).map { "\($0["hash"] as String) r\($0["rung"] as Int) \($0["status"] as String) \(($0["val_accuracy"] as Double?) ?? -1)" }
            }
        }
        let rows = try rungTable(killed)
        XCTAssertEqual(Set(rows).count, rows.count, "a (candidate, rung) evaluation appears twice")
        XCTAssertTrue(rows.contains { $0.contains(" r2 ") }, "no candidate reached rung 2")
        XCTAssertEqual(rows, try rungTable(ref), "killed-and-resumed halving run differs from the uninterrupted one")
        XCTAssertEqual(try table(killed).count, try table(ref).count)
    }

    func testKill9ProcessEvaluatorSearchThenResume() throws {
        let root = temporaryDirectory(self, "e2e-process")
        let worker = try FakeWorker.script(root, "sleepy", """
            sleep 0.2
            echo '{"status":"ok","val_accuracy":0.'$(echo "$OUT" | cksum | cut -c1-4)',"epochs":1,"seconds":0.2}' > "$OUT"
            """)
        let dir = root.appendingPathComponent("run")
        let args = ["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746", "--sram", "64KB",
                    "--flash", "256KB", "--macs", "5M", "--proposer", "nsga2", "--population", "6", "--trials", "16",
                    "--batch", "4", "--workers", "3", "--evaluator", "process", "--worker-command", worker.joined(separator: " "),
                    "--timeout", "20", "--seed", "4", "--run", dir.path]
        try runAndKill(args, dir: dir, killAt: 5)
        try runAndKill(["search", "--resume", dir.path], dir: dir, killAt: 10)
        try finish(["search", "--resume", dir.path])
        try checkComplete(dir, trials: 16)
    }
}
