import Foundation
import XCTest
@testable import TinyForgeLaunch

/// The launcher against a real Slurm (the one-node cluster of `scripts/slurm.sh start`, or any
/// cluster whose clients are configured here). Runs only with TINYFORGE_TEST_SLURM=1.
final class SlurmClusterTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["TINYFORGE_TEST_SLURM"] == "1" else {
            throw XCTSkip("SKIPPED: real Slurm tests need TINYFORGE_TEST_SLURM=1 and a running cluster (scripts/slurm.sh install && scripts/slurm.sh start)")
        }
        dir = try temporaryDirectory("slurm")
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// 4 tasks, 2 at a time: every task writes its label and a variable passed through sbatch's
    /// environment into its own file; all end COMPLETED with their logs in RUN/slurm.
    func testArrayRunsEveryTaskWithItsLabel() throws {
        let out = dir.appendingPathComponent("out dir")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let command = ["/bin/sh", "-c", "printf '%s|%s\\n' \"$TINYFORGE_WORKER_LABEL\" \"$TF_TEST_VALUE\" > \"$0/task-$SLURM_ARRAY_TASK_ID.txt\"", out.path]
        let options = SlurmJobOptions(arraySize: 4, maxConcurrent: 2, environment: ["TF_TEST_VALUE": "it's a $secret"])
        let launcher = SlurmLauncher()
        let job = try launcher.submit(try SlurmBatchScript(runDirectory: dir, workerCommand: command, options: options))
        defer { try? launcher.cancel(job) }
        var watcher = launcher.watcher(for: job)
        let status = try watcher.waitUntilFinished(timeout: 180, pollInterval: 1) { print("slurm job \(job.jobID): \($0.summary)") }
        XCTAssertEqual(status.counts, [.completed: 4], status.summary)
        for i in 0..<4 {
            let text = try String(contentsOf: out.appendingPathComponent("task-\(i).txt"), encoding: .utf8)
            XCTAssertEqual(text, "slurm:\(job.jobID)_\(i)|it's a $secret\n")
            XCTAssertTrue(FileManager.default.fileExists(atPath: job.logPath(task: i)), job.logPath(task: i))
        }
        XCTAssertFalse(try String(contentsOfFile: job.script, encoding: .utf8).contains("$secret"))
        XCTAssertEqual(try SlurmLauncher.recordedJobs(runDirectory: dir).map(\.jobID), [job.jobID])
    }

    /// A long array cancelled while running: every task, running or pending, ends CANCELLED.
    func testCancelEndsEveryTask() throws {
        let launcher = SlurmLauncher()
        let options = SlurmJobOptions(arraySize: 6, maxConcurrent: 2, time: "10")
        let job = try launcher.submit(try SlurmBatchScript(runDirectory: dir, workerCommand: ["sleep", "600"], options: options))
        defer { try? launcher.cancel(job) }
        var watcher = launcher.watcher(for: job)
        let deadline = Date().addingTimeInterval(60)
        var status = try watcher.poll()
        while (status.counts[.running] ?? 0) == 0 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            status = try watcher.poll()
        }
        XCTAssertGreaterThan(status.counts[.running] ?? 0, 0, "no task started within 60 s: \(status.summary)")
        try launcher.cancel(job)
        let final = try watcher.waitUntilFinished(timeout: 60, pollInterval: 1)
        XCTAssertEqual(final.counts, [.cancelled: 6], final.summary)
        XCTAssertNoThrow(try launcher.cancel(job), "cancelling an ended job is not an error")
    }

    /// A partition that does not exist: sbatch refuses, and the error carries Slurm's reason.
    func testImpossibleRequestIsRejectedWithSlurmsMessage() throws {
        let options = SlurmJobOptions(arraySize: 2, partition: "no-such-partition")
        XCTAssertThrowsError(try SlurmLauncher().submit(try SlurmBatchScript(runDirectory: dir, workerCommand: ["true"], options: options))) {
            guard case let SlurmLaunchError.submissionRejected(message) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("Invalid partition name"), message)
        }
        XCTAssertEqual(try SlurmLauncher.recordedJobs(runDirectory: dir), [])
    }

    /// More CPUs per task than any node has: sbatch accepts the job, which would wait forever;
    /// the watcher shows why (PartitionConfig) so the caller can say so.
    func testTaskThatCanNeverStartShowsItsPendingReason() throws {
        let launcher = SlurmLauncher()
        let options = SlurmJobOptions(arraySize: 2, cpusPerTask: 4096)
        let job = try launcher.submit(try SlurmBatchScript(runDirectory: dir, workerCommand: ["true"], options: options))
        defer { try? launcher.cancel(job) }
        var watcher = launcher.watcher(for: job)
        var status = try watcher.poll()
        let deadline = Date().addingTimeInterval(30)
        while status.pendingReasons.count < 2 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            status = try watcher.poll()
        }
        XCTAssertEqual(status.counts, [.pending: 2], status.summary)
        XCTAssertEqual(Set(status.pendingReasons.values), ["PartitionConfig"], status.summary)
        try launcher.cancel(job)
        XCTAssertEqual(try watcher.waitUntilFinished(timeout: 30, pollInterval: 0.5).counts, [.cancelled: 2])
    }
}
