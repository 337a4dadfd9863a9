import Foundation
import XCTest
@testable import TinyForgeLaunch

/// submit / watch / cancel against a scripted runner: the exact Slurm calls and the parsing of
/// their answers, including the failure paths a real cluster rarely shows on demand.
final class LauncherFakeRunnerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try temporaryDirectory("fake") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func script(size: Int = 4, env: [String: String] = [:]) throws -> SlurmBatchScript {
        try SlurmBatchScript(runDirectory: dir, workerCommand: ["tinyforge", "worker", "--store", dir.path],
                             options: SlurmJobOptions(arraySize: size, maxConcurrent: 2, environment: env))
    }

    private func ok(_ stdout: String) -> CommandOutput { CommandOutput(status: 0, stdout: stdout) }

    func testSubmitRunsSbatchWithTheEnvironmentAndRecordsTheJob() throws {
        let fake = FakeCommandRunner(["sbatch": [ok("42;tf\n"), ok("43\n")]])
        let launcher = SlurmLauncher(runner: fake)
        let s = try script(env: ["PGPASSWORD": "pw"])
        let job = try launcher.submit(s)
        XCTAssertEqual(job.jobID, "42")
        XCTAssertEqual(fake.calls(to: "sbatch"), [.init(tool: "sbatch", arguments: s.sbatchArguments, environment: ["PGPASSWORD": "pw"])])
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.scriptURL.path))
        XCTAssertEqual(job.logPath(task: 3), "\(dir.path)/slurm/42_3.out")
        let second = try launcher.submit(s)
        let recorded = try SlurmLauncher.recordedJobs(runDirectory: dir)
        XCTAssertEqual(recorded.map(\.jobID), ["42", "43"])
        XCTAssertEqual(recorded.last?.sbatchArguments, second.sbatchArguments)
        XCTAssertEqual(recorded.first?.maxConcurrent, 2)
        let text = try String(contentsOf: dir.appendingPathComponent("slurm/jobs.json"), encoding: .utf8)
        XCTAssertFalse(text.contains("\"pw\""), "the environment's values are not recorded")
    }

    func testRejectedSubmissionCarriesSlurmsMessage() throws {
        let message = "sbatch: error: Batch job submission failed: Requested node configuration is not available"
        let fake = FakeCommandRunner(["sbatch": [CommandOutput(status: 1, stderr: message + "\n")]])
        XCTAssertThrowsError(try SlurmLauncher(runner: fake).submit(try script())) {
            XCTAssertEqual($0 as? SlurmLaunchError, .submissionRejected(message: message))
        }
        XCTAssertEqual(try SlurmLauncher.recordedJobs(runDirectory: dir), [], "nothing recorded for a rejected job")
    }

    func testUnreadableJobRecordStopsBeforeSbatch() throws {
        let slurm = dir.appendingPathComponent("slurm")
        try FileManager.default.createDirectory(at: slurm, withIntermediateDirectories: true)
        try Data("not json".utf8).write(to: slurm.appendingPathComponent("jobs.json"))
        let fake = FakeCommandRunner(["sbatch": [ok("42\n")]])
        XCTAssertThrowsError(try SlurmLauncher(runner: fake).submit(try script())) {
            guard case let SlurmLaunchError.runDirectory(path, reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(path.hasSuffix("slurm/jobs.json"), path)
            XCTAssertTrue(reason.contains("move it away"), reason)
        }
        XCTAssertEqual(fake.calls(to: "sbatch"), [], "nothing submitted")
    }

    func testMissingSbatchAndGarbageOutputAreTypedErrors() throws {
        let missing = FakeCommandRunner(missing: ["sbatch"])
        XCTAssertThrowsError(try SlurmLauncher(runner: missing).submit(try script())) {
            XCTAssertEqual($0 as? SlurmLaunchError, .toolMissing(tool: "sbatch"))
            XCTAssertTrue("\($0)".contains("scripts/slurm.sh install"))
        }
        let garbage = FakeCommandRunner(["sbatch": [ok("Submitted batch job 42\n")]])
        XCTAssertThrowsError(try SlurmLauncher(runner: garbage).submit(try script())) {
            guard case SlurmLaunchError.unexpectedOutput = $0 else { return XCTFail("\($0)") }
        }
    }

    func testWatchFollowsTasksThroughPurgeAndCountsStates() throws {
        let fake = FakeCommandRunner([
            "sbatch": [ok("42\n")],
            "squeue": [
                ok("42_[0-3%2]|PENDING|None\n"),
                ok("42_0|RUNNING|None\n42_1|RUNNING|None\n42_[2-3%2]|PENDING|JobArrayTaskLimit\n"),
                ok("42_0|COMPLETED|None\n42_1|FAILED|NonZeroExitCode\n42_2|RUNNING|None\n42_3|RUNNING|None\n"),
                // slurmctld purged the two finished tasks (MinJobAge); no accounting.
                ok("42_2|COMPLETED|None\n42_3|COMPLETED|None\n"),
            ],
            "sacct": [CommandOutput(status: 1, stderr: "Slurm accounting storage is disabled\n")],
        ])
        let launcher = SlurmLauncher(runner: fake)
        var watcher = launcher.watcher(for: try launcher.submit(try script()))
        let first = try watcher.poll()
        XCTAssertEqual(first.counts, [.pending: 4])
        XCTAssertEqual(first.pendingReasons, [:], "None is no reason")
        let second = try watcher.poll()
        XCTAssertEqual(second.counts, [.running: 2, .pending: 2])
        XCTAssertEqual(second.pendingReasons, [2: "JobArrayTaskLimit", 3: "JobArrayTaskLimit"])
        XCTAssertEqual(second.summary, "2 PENDING (JobArrayTaskLimit), 2 RUNNING")
        XCTAssertFalse(second.isFinished)
        var seen: [String] = []
        let final = try watcher.waitUntilFinished(timeout: 10, pollInterval: 0) { seen.append($0.summary) }
        XCTAssertTrue(final.isFinished)
        XCTAssertEqual(final.tasks, [0: .completed, 1: .failed, 2: .completed, 3: .completed])
        XCTAssertEqual(seen, ["2 RUNNING, 1 COMPLETED, 1 FAILED", "3 COMPLETED, 1 FAILED"])
        XCTAssertEqual(fake.calls(to: "squeue").first?.arguments,
                       ["--noheader", "--array", "--states=all", "--jobs=42", "--format=%i|%T|%r"])
    }

    func testAccountingFillsInPurgedTasksAndUnknownWithoutIt() throws {
        let job = SlurmJob(jobID: "9", arraySize: 3, maxConcurrent: nil, script: "s", logPattern: "%A_%a",
                           sbatchArguments: [], submittedAt: Date())
        let invalid = CommandOutput(status: 1, stderr: "slurm_load_jobs error: Invalid job id specified\n")
        let withAccounting = FakeCommandRunner([
            "squeue": [invalid],
            "sacct": [ok("9_0|COMPLETED\n9_0.batch|COMPLETED\n9_1|CANCELLED by 0\n9_2|TIMEOUT\n8_1|FAILED\n")],
        ])
        var watcher = SlurmLauncher(runner: withAccounting).watcher(for: job)
        XCTAssertEqual(try watcher.poll().tasks, [0: .completed, 1: .cancelled, 2: .timeout])
        XCTAssertEqual(withAccounting.calls(to: "sacct").first?.arguments,
                       ["--noheader", "--parsable2", "--allocations", "--jobs=9", "--format=JobID,State"])
        var blind = SlurmLauncher(runner: FakeCommandRunner(["squeue": [invalid]], missing: ["sacct"])).watcher(for: job)
        let status = try blind.poll()
        XCTAssertEqual(status.tasks, [0: .unknown, 1: .unknown, 2: .unknown])
        XCTAssertTrue(status.isFinished)
    }

    func testWatchTimesOutAndSqueueFailuresAreReported() throws {
        let job = SlurmJob(jobID: "5", arraySize: 1, maxConcurrent: nil, script: "s", logPattern: "%A_%a",
                           sbatchArguments: [], submittedAt: Date())
        var running = SlurmLauncher(runner: FakeCommandRunner(["squeue": [ok("5_0|RUNNING\n")]])).watcher(for: job)
        XCTAssertThrowsError(try running.waitUntilFinished(timeout: 0, pollInterval: 0)) {
            XCTAssertEqual($0 as? SlurmLaunchError, .watchTimedOut(jobID: "5", seconds: 0, summary: "1 RUNNING"))
        }
        let down = CommandOutput(status: 1, stderr: "squeue: error: Unable to contact slurm controller (connect failure)")
        var broken = SlurmLauncher(runner: FakeCommandRunner(["squeue": [down]])).watcher(for: job)
        XCTAssertThrowsError(try broken.poll()) {
            guard case let SlurmLaunchError.toolFailed(_, status, message) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(status, 1)
            XCTAssertTrue(message.contains("Unable to contact slurm controller"))
        }
    }

    func testCancelIsSafeOnEndedJobsAndReportsRealFailures() throws {
        let job = SlurmJob(jobID: "7", arraySize: 2, maxConcurrent: nil, script: "s", logPattern: "%A_%a",
                           sbatchArguments: [], submittedAt: Date())
        let fine = FakeCommandRunner(["scancel": [ok(""),
                                                  CommandOutput(status: 1, stderr: "scancel: error: Kill job error on job id 7: Job/step already completing or completed"),
                                                  CommandOutput(status: 1, stderr: "scancel: error: Invalid job id 7")]])
        let launcher = SlurmLauncher(runner: fine)
        for _ in 0..<3 { XCTAssertNoThrow(try launcher.cancel(job)) }
        XCTAssertEqual(fine.calls(to: "scancel").map(\.arguments), [["7"], ["7"], ["7"]])
        let denied = FakeCommandRunner(["scancel": [CommandOutput(status: 1, stderr: "scancel: error: Kill job error on job id 7: Access/permission denied")]])
        XCTAssertThrowsError(try SlurmLauncher(runner: denied).cancel(job)) {
            guard case let SlurmLaunchError.toolFailed(command, _, message) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(command, "scancel 7")
            XCTAssertTrue(message.contains("permission denied"))
        }
    }

    func testListingAndStateParsing() {
        XCTAssertEqual(SlurmListing.taskIndices("5"), [5])
        XCTAssertEqual(SlurmListing.taskIndices("[0-3,7%2]"), [0, 1, 2, 3, 7])
        XCTAssertEqual(SlurmListing.taskIndices("[0-9:3]"), [0, 3, 6, 9])
        XCTAssertEqual(SlurmListing.taskIndices("batch"), [])
        XCTAssertEqual(SlurmTaskState(slurmName: "CANCELLED by 0"), .cancelled)
        XCTAssertEqual(SlurmTaskState(slurmName: "CANCELLED+"), .cancelled)
        XCTAssertEqual(SlurmTaskState(slurmName: "OUT_OF_MEMORY"), .outOfMemory)
        XCTAssertEqual(SlurmTaskState(slurmName: "RESV_DEL_HOLD"), .other("RESV_DEL_HOLD"))
        XCTAssertFalse(SlurmTaskState.other("X").isFinal)
        XCTAssertTrue(SlurmTaskState.nodeFail.isFinal)
        XCTAssertFalse(SlurmTaskState.completing.isFinal)
        XCTAssertEqual(SlurmTaskState.nodeFail.description, "NODE_FAIL")
        XCTAssertEqual(SlurmTaskState.requeued.description, "REQUEUED")
    }
}
