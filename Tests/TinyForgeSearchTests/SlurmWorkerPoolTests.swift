import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import TinyForgeSearch
import TinyForgeLaunch
import XCTest

/// Scripted Slurm clients: each tool answers from its queue (the last answer repeats); every
/// call is recorded, so the order sbatch / squeue / scancel are called in is checked.
final class ScriptedSlurm: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: [CommandOutput]]
    private var log: [String] = []

    init(_ answers: [String: [CommandOutput]]) { self.answers = answers }

    var calls: [String] { lock.withLock { log } }

    func set(_ tool: String, _ outputs: [CommandOutput]) { lock.withLock { answers[tool] = outputs } }

    func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> CommandOutput {
        lock.withLock {
            log.append(([tool] + arguments.filter { !$0.hasPrefix("--output") && !$0.hasSuffix(".sbatch") }).joined(separator: " "))
            guard var q = answers[tool], let first = q.first else { return CommandOutput(status: 127, stderr: "no answer for \(tool)") }
            if q.count > 1 { q.removeFirst(); answers[tool] = q }
            return first
        }
    }
}

/// `--executor slurm`'s worker pool against scripted Slurm clients: the submission (earlier
/// arrays cancelled first), the watch's verdicts, the cancel on stop and on a signal.
final class SlurmWorkerPoolTests: XCTestCase {
    let command = ["/opt/tf/tinyforge", "worker", "--store", "/runs/a", "--threads", "2"]

    func pool(_ dir: URL, _ slurm: ScriptedSlurm, size: Int = 2) throws -> SlurmWorkerPool {
        try SlurmWorkerPool(runDirectory: dir, workerCommand: command, options: SlurmJobOptions(arraySize: size, cpusPerTask: 2),
                            runner: slurm, pollSeconds: 0)
    }

    func squeue(_ lines: String) -> [CommandOutput] { [CommandOutput(status: 0, stdout: lines)] }

    func testResumeCancelsTheEarlierArrayBeforeSubmittingAFreshOne() throws {
        let dir = temporaryDirectory(self)
        let slurm = ScriptedSlurm(["sbatch": [CommandOutput(status: 0, stdout: "101\n"), CommandOutput(status: 0, stdout: "202\n")],
                                   "scancel": [CommandOutput(status: 0)]])
        let first = try pool(dir, slurm).start()
        XCTAssertTrue(first.hasPrefix("submitted Slurm job array 101: 2 worker task(s), 2 CPU(s) each"), first)
        let script = try String(contentsOf: dir.appendingPathComponent("slurm/worker.sbatch"), encoding: .utf8)
        XCTAssertTrue(script.contains("exec /opt/tf/tinyforge worker --store /runs/a --threads 2\n"), script)
        let second = try pool(dir, slurm).start()
        XCTAssertTrue(second.hasPrefix("cancelled this run's earlier Slurm job(s) 101; submitted Slurm job array 202"), second)
        XCTAssertEqual(slurm.calls.map { $0.split(separator: " ").first.map(String.init) ?? "" }, ["sbatch", "scancel", "sbatch"])
        XCTAssertEqual(slurm.calls[1], "scancel 101")
        XCTAssertTrue(slurm.calls[2].contains("--array=0-1") && slurm.calls[2].contains("--cpus-per-task=2"), slurm.calls[2])
        XCTAssertEqual(try SlurmLauncher.recordedJobs(runDirectory: dir).map(\.jobID), ["101", "202"])
    }

    func testEveryTaskEndedWhileWorkRemainsFailsNamingTheLog() throws {
        let dir = temporaryDirectory(self)
        let slurm = ScriptedSlurm(["sbatch": [CommandOutput(status: 0, stdout: "101")],
                                   "squeue": squeue("101_0|FAILED|NonZeroExitCode\n101_1|CANCELLED|None\n")])
        let p = try pool(dir, slurm)
        _ = try p.start()
        try "worker: refused: the run was made by tinyforge 0.13.0\n\n".write(to: dir.appendingPathComponent("slurm/101_0.out"),
                                                                             atomically: true, encoding: .utf8)
        guard case let .failed(why) = try p.check(workRemains: true) else { return XCTFail("must fail") }
        XCTAssertTrue(why.contains("every task of Slurm job 101 ended (1 CANCELLED, 1 FAILED)"), why)
        XCTAssertTrue(why.contains("task 0 logged: worker: refused: the run was made by tinyforge 0.13.0"), why)
        XCTAssertTrue(why.contains("--resume \(dir.path)") && why.contains("slurm/101_*.out"), why)
        // With nothing in flight (the run is done) ended tasks are the normal end, not a failure.
        XCTAssertEqual(try pool(dir, slurm).check(workRemains: true), .fine, "not submitted: nothing to check")
        guard case .note = try p.check(workRemains: false) else { return XCTFail("no work: a note at most") }
    }

    func testTaskThatCanNeverStartFailsButOneWaitingForResourcesDoesNot() throws {
        let dir = temporaryDirectory(self)
        let slurm = ScriptedSlurm(["sbatch": [CommandOutput(status: 0, stdout: "101")],
                                   "squeue": squeue("101_[0-1]|PENDING|Resources\n")])
        let p = try pool(dir, slurm)
        _ = try p.start()
        XCTAssertEqual(try p.check(workRemains: true), .note("Slurm job 101: 2 PENDING (Resources)"))
        XCTAssertEqual(try p.check(workRemains: true), .fine, "an unchanged status is no new event")
        slurm.set("squeue", squeue("101_0|CANCELLED|None\n101_1|RUNNING|None\n"))
        XCTAssertEqual(try p.check(workRemains: true), .note("Slurm job 101: 1 CANCELLED, 1 RUNNING"),
                       "one cancelled task among running ones: its lease expires, another task takes the job")
        slurm.set("squeue", squeue("101_[0-1]|PENDING|PartitionConfig\n"))
        guard case let .failed(why) = try p.check(workRemains: true) else { return XCTFail("must fail") }
        XCTAssertTrue(why.contains("Slurm job 101 can never start (2 PENDING (PartitionConfig))") && why.contains("--slurm-cpus-per-task"), why)
    }

    func testFailedPollsAreToleratedUntilTheLimit() throws {
        let dir = temporaryDirectory(self)
        let down = CommandOutput(status: 1, stderr: "squeue: error: Unable to contact slurm controller (connect failure)")
        let slurm = ScriptedSlurm(["sbatch": [CommandOutput(status: 0, stdout: "101")], "squeue": [down]])
        let p = try SlurmWorkerPool(runDirectory: dir, workerCommand: command, options: SlurmJobOptions(arraySize: 2),
                                    runner: slurm, pollSeconds: 0, maxFailedPolls: 3)
        _ = try p.start()
        guard case let .note(first) = try p.check(workRemains: true) else { return XCTFail("first failure: a note") }
        XCTAssertTrue(first.contains("could not poll Slurm job 101") && first.contains("Unable to contact"), first)
        XCTAssertEqual(try p.check(workRemains: true), .fine, "noted once")
        slurm.set("squeue", squeue("101_0|RUNNING|None\n101_1|RUNNING|None\n"))
        XCTAssertEqual(try p.check(workRemains: true), .note("Slurm job 101: 2 RUNNING"), "a good poll resets the count")
        slurm.set("squeue", [down])
        _ = try p.check(workRemains: true); _ = try p.check(workRemains: true)
        guard case let .failed(why) = try p.check(workRemains: true) else { return XCTFail("the third failure in a row fails") }
        XCTAssertTrue(why.contains("cannot follow Slurm job 101: 3 squeue calls in a row failed"), why)
    }

    func testStopAndSignalsCancelTheArray() throws {
        let dir = temporaryDirectory(self)
        let slurm = ScriptedSlurm(["sbatch": [CommandOutput(status: 0, stdout: "101")], "scancel": [CommandOutput(status: 0)],
                                   "squeue": squeue("101_0|RUNNING|None\n101_1|RUNNING|None\n")])
        let p = try pool(dir, slurm)
        XCTAssertEqual(p.interrupted(by: SIGINT), "search interrupted by SIGINT before its Slurm job was submitted")
        _ = try p.start()
        let t = Date()
        XCTAssertNil(p.stop(settle: 0.5))
        XCTAssertLessThan(Date().timeIntervalSince(t), 3)
        XCTAssertEqual(slurm.calls.last, "scancel 101")
        let line = p.interrupted(by: SIGTERM)
        XCTAssertTrue(line.hasPrefix("search interrupted by SIGTERM: cancelled Slurm job 101;") && line.contains("--resume"), line)
        slurm.set("scancel", [CommandOutput(status: 1, stderr: "scancel: error: Unable to contact slurm controller")])
        let failed = try XCTUnwrap(p.stop(settle: 0))
        XCTAssertTrue(failed.contains("could not cancel Slurm job 101") && failed.contains("scancel 101"), failed)
    }

    /// The controller fails the run (status `failed`, the error naming the job) when the array
    /// can no longer take the jobs in flight, and cancels it on the way out.
    func testControllerFailsWhenTheArrayEndsWithWorkInFlight() async throws {
        let dir = temporaryDirectory(self)
        var config = testConfig(trials: 4, batch: 2)
        config.executor = "slurm"
        let store = try RunStore.create(directory: dir, config: config)
        let slurm = ScriptedSlurm(["sbatch": [CommandOutput(status: 0, stdout: "77")], "scancel": [CommandOutput(status: 0)],
                                   "squeue": squeue("77_0|TIMEOUT|None\n77_1|TIMEOUT|None\n")])
        let c = SearchController(store: store, config: config, proposer: config.makeClassicProposer()!, evaluator: SyntheticEvaluator())
        c.queuePollSeconds = 0.02
        c.workerPool = try pool(dir, slurm)
        do {
            _ = try await c.run()
            XCTFail("the run must fail when no task is left")
        } catch {
            XCTAssertTrue("\(error)".contains("--executor slurm") && "\(error)".contains("every task of Slurm job 77 ended (2 TIMEOUT)"), "\(error)")
        }
        XCTAssertEqual(try SQLiteWorkQueue(store: store).runStatus(), "failed")
        XCTAssertEqual(slurm.calls.last, "scancel 77")
    }
}
