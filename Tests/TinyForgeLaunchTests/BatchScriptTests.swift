import Foundation
import XCTest
@testable import TinyForgeLaunch

/// The batch script and sbatch command line: content, shell quoting (checked by running the
/// script with bash) and option validation.
final class BatchScriptTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try temporaryDirectory("batch") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func script(_ command: [String], _ options: SlurmJobOptions = SlurmJobOptions(arraySize: 4)) throws -> SlurmBatchScript {
        try SlurmBatchScript(runDirectory: dir, workerCommand: command, options: options)
    }

    /// Runs the written script under bash as Slurm would (array ids in the environment).
    private func runScript(_ s: SlurmBatchScript) throws -> String {
        try s.write()
        let out = try SystemCommandRunner().run("bash", [s.scriptURL.path],
                                                environment: ["SLURM_ARRAY_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": "3"])
        XCTAssertEqual(out.status, 0, out.stderr)
        return out.stdout
    }

    func testEveryArgumentReachesTheWorkerUnchanged() throws {
        let tricky = ["a b", "$HOME", "it's", "x&y?run=1;z", "line1\nline2", "*", "`id`", "\"q\"", "back\\slash", "-n", "%A"]
        let s = try script(["printf", "[%s]\\n"] + tricky)
        let expected = tricky.map { "[\($0)]\n" }.joined()
        XCTAssertEqual(try runScript(s), expected)
    }

    func testWorkerLabelNamesTheArrayJobAndTask() throws {
        let s = try script(["/bin/sh", "-c", "printf %s \"$TINYFORGE_WORKER_LABEL\""])
        XCTAssertEqual(try runScript(s), "slurm:77_3")
        XCTAssertTrue(s.text.contains("export TINYFORGE_WORKER_LABEL=\"slurm:${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\""))
        XCTAssertTrue(s.text.hasPrefix("#!/bin/bash\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: s.scriptURL.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o755)
        XCTAssertEqual(s.scriptURL.path, dir.appendingPathComponent("slurm/worker.sbatch").path)
    }

    func testSbatchArgumentsCarryEveryOptionWithTheScriptLast() throws {
        let options = SlurmJobOptions(arraySize: 8, maxConcurrent: 3, cpusPerTask: 2, gres: "gpu:a100:1", time: "1-02:00:00",
                                      partition: "gpu", extraArguments: ["--account", "proj", "--mem=4G"])
        let s = try script(["tinyforge", "worker", "--store", "postgres://tf@db:5432/tf?run=a"], options)
        XCTAssertEqual(s.sbatchArguments, [
            "--parsable", "--array=0-7%3", "--job-name=tinyforge-worker", "--output=\(dir.path)/slurm/%A_%a.out",
            "--cpus-per-task=2", "--export=ALL", "--gres=gpu:a100:1", "--time=1-02:00:00", "--partition=gpu",
            "--account", "proj", "--mem=4G", "\(dir.path)/slurm/worker.sbatch",
        ])
        XCTAssertTrue(s.text.contains("exec tinyforge worker --store 'postgres://tf@db:5432/tf?run=a'\n"), s.text)
        XCTAssertTrue(s.text.contains("#   sbatch --parsable --array=0-7%3 "), s.text)
    }

    func testNoConcurrencyLimitLeavesThePercentOut() throws {
        XCTAssertEqual(try script(["w"], SlurmJobOptions(arraySize: 1)).arraySpec, "0-0")
        XCTAssertEqual(try script(["w"], SlurmJobOptions(arraySize: 5, maxConcurrent: 9)).arraySpec, "0-4%9")
    }

    func testEnvironmentValuesStayOutOfTheScript() throws {
        let options = SlurmJobOptions(arraySize: 2, environment: ["PGPASSWORD": "hunter2-secret", "OMP_NUM_THREADS": "1"])
        let s = try script(["w"], options)
        try s.write()
        let written = try String(contentsOf: s.scriptURL, encoding: .utf8)
        XCTAssertFalse(written.contains("hunter2-secret"))
        XCTAssertTrue(written.contains("values not written here): OMP_NUM_THREADS PGPASSWORD"))
    }

    func testInvalidOptionsNameTheFlag() {
        func option(_ o: SlurmJobOptions) -> String? {
            do { try o.validate(); return nil } catch let SlurmLaunchError.invalidOption(option, _, _) { return option } catch { return "other: \(error)" }
        }
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 0)), "--slurm-array")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, maxConcurrent: 0)), "--slurm-max-concurrent")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, cpusPerTask: 0)), "--slurm-cpus-per-task")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, gres: "gpu 1")), "--slurm-gres")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, time: "2h")), "--slurm-time")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, partition: "a b")), "--slurm-partition")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, extraArguments: ["proj"])), "--slurm-arg")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, extraArguments: ["--array=0-9"])), "--slurm-arg")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, extraArguments: ["-c4"])), "--slurm-arg")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, extraArguments: ["--export=NONE"])), "--slurm-arg")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, environment: ["1BAD": "x"])), "environment")
        XCTAssertEqual(option(SlurmJobOptions(arraySize: 2, environment: ["TINYFORGE_WORKER_LABEL": "x"])), "environment")
        for ok in ["30", "30:00", "2:00:00", "1-0", "1-02:30", "1-02:30:00", "UNLIMITED"] {
            XCTAssertNil(option(SlurmJobOptions(arraySize: 2, time: ok)), ok)
        }
        for ok in ["gpu:1", "gpu:a100:2", "gpu:1,mps:100", "nvme"] {
            XCTAssertNil(option(SlurmJobOptions(arraySize: 2, gres: ok)), ok)
        }
        XCTAssertNil(option(SlurmJobOptions(arraySize: 2, extraArguments: ["--account", "proj", "--mem=4G", "--constraint=avx2"])))
    }

    func testBadRunDirectoryAndCommandAreRefused() {
        let percent = dir.appendingPathComponent("50%run")
        XCTAssertThrowsError(try SlurmBatchScript(runDirectory: percent, workerCommand: ["w"], options: SlurmJobOptions(arraySize: 1))) {
            guard case SlurmLaunchError.runDirectory = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("rename it"))
        }
        XCTAssertThrowsError(try script([])) { XCTAssertEqual($0 as? SlurmLaunchError, .emptyWorkerCommand) }
    }

    func testShellQuoteLeavesSafeWordsBareAndQuotesTheRest() {
        XCTAssertEqual(ShellQuote.word("tinyforge"), "tinyforge")
        XCTAssertEqual(ShellQuote.word("/a/b-c_d.e=f:g,h@i%j+k"), "/a/b-c_d.e=f:g,h@i%j+k")
        XCTAssertEqual(ShellQuote.word(""), "''")
        XCTAssertEqual(ShellQuote.word("it's"), "'it'\\''s'")
        XCTAssertEqual(ShellQuote.word("a?b"), "'a?b'")
    }
}
