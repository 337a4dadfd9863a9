import Foundation
import XCTest

/// The built `tinyforge` binary with `--executor slurm`: flag checks (no Slurm needed), and
/// against a real cluster (TINYFORGE_TEST_SLURM=1, `scripts/slurm.sh start`) a job array that
/// can never start failing the search. scripts/cluster-e2e.sh has the fault cases.
final class SlurmCLITests: XCTestCase {
    var binary: URL!

    override func setUpWithError() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: SlurmCLITests.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        binary = b
    }

    /// Runs `tinyforge search …` on the synthetic evaluator; (exit status, stdout + stderr).
    func search(_ dir: URL, _ extra: [String], timeout: Double = 120) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = ["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746", "--sram", "64KB",
                       "--flash", "256KB", "--macs", "5M", "--proposer", "evolution", "--population", "6", "--tournament", "3",
                       "--evaluator", "synthetic", "--trials", "4", "--batch", "2", "--run", dir.path] + extra
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testSlurmFlagsAreCheckedBeforeTheRunIsCreated() throws {
        let dir = temporaryDirectory(self).appendingPathComponent("r")
        var (code, text) = try search(dir, ["--executor", "local", "--slurm-partition", "cpu"])
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(text.contains("--slurm-partition") && text.contains("only applies with --executor slurm"), text)
        (code, text) = try search(dir, ["--executor", "slurm", "--slurm-time", "two hours"])
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(text.contains("--slurm-time 'two hours' is not valid"), text)
        (code, text) = try search(dir, ["--executor", "slurm", "--slurm-arg=--array=0-3"])
        XCTAssertTrue(text.contains("use --slurm-array"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "a refused command creates no run directory")
    }

    /// sbatch accepts 4096 CPUs per task on a 2-CPU node (EnforcePartLimits=NO); the search
    /// must not wait forever: it fails naming PartitionConfig, and the array is cancelled.
    func testArrayThatCanNeverStartFailsTheSearch() throws {
        guard ProcessInfo.processInfo.environment["TINYFORGE_TEST_SLURM"] == "1" else {
            throw XCTSkip("SKIPPED: real Slurm tests need TINYFORGE_TEST_SLURM=1 and a running cluster (scripts/slurm.sh install && scripts/slurm.sh start)")
        }
        let dir = temporaryDirectory(self)
        let start = Date()
        let (code, text) = try search(dir, ["--executor", "slurm", "--workers", "2", "--slurm-cpus-per-task", "4096"])
        XCTAssertNotEqual(code, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60)
        XCTAssertTrue(text.contains("can never start") && text.contains("PartitionConfig") && text.contains("--slurm-cpus-per-task"), text)
        let jobs = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("slurm/jobs.json"))) as? [[String: Any]]
        let id = try XCTUnwrap(jobs?.first?["job_id"] as? String)
        let squeue = Process()
        squeue.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        squeue.arguments = ["squeue", "--noheader", "--jobs=\(id)", "--states=PENDING,RUNNING"]
        let out = Pipe()
        squeue.standardOutput = out
        squeue.standardError = FileHandle.nullDevice
        try squeue.run()
        let listed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        squeue.waitUntilExit()
        XCTAssertEqual(listed.trimmingCharacters(in: .whitespacesAndNewlines), "", "job \(id) must be cancelled")
    }
}
