import Foundation
@testable import TinyForgeSearch
import TinyForgeLaunch
import XCTest

/// The worker command line and environment a controller hands to its workers: the store URL
/// without the password; the password only in the environment (or as a password file path),
/// and through Slurm never in the batch script or jobs.json.
final class WorkerStoreArgumentsTests: XCTestCase {
    func pgLocation(password: String?) throws -> StoreLocation {
        try StoreLocation.parse("postgres://tf@db.example:5432/runs?run=cifar-7", password: password, localDirectory: "/tmp/out")
    }

    func testRunDirectoryIsPassedAsIs() {
        let a = WorkerStoreArguments(location: .directory(URL(fileURLWithPath: "/runs/a/")), passwordFile: nil)
        XCTAssertEqual(a.arguments, ["--store", "/runs/a"])
        XCTAssertEqual(a.environment, [:])
    }

    func testPasswordGoesToTheEnvironmentOnly() throws {
        let a = WorkerStoreArguments(location: try pgLocation(password: "s3cret-pw"), passwordFile: nil)
        XCTAssertEqual(a.arguments, ["--store", "postgres://tf@db.example:5432/runs?run=cifar-7", "--output", "/tmp/out"])
        XCTAssertEqual(a.environment, ["PGPASSWORD": "s3cret-pw"])
    }

    func testPasswordFileIsPassedByPathAndNotCopied() throws {
        let a = WorkerStoreArguments(location: try pgLocation(password: "s3cret-pw"), passwordFile: "/secrets/pg")
        XCTAssertEqual(a.arguments, ["--store", "postgres://tf@db.example:5432/runs?run=cifar-7", "--output", "/tmp/out",
                                     "--store-password-file", "/secrets/pg"])
        XCTAssertEqual(a.environment, [:], "the workers read the file themselves")
        XCTAssertFalse(a.arguments.joined().contains("s3cret"))
    }

    func testNoPasswordNoEnvironment() throws {
        XCTAssertEqual(WorkerStoreArguments(location: try pgLocation(password: nil), passwordFile: nil).environment, [:])
    }

    /// Through a (scripted) sbatch: the password reaches sbatch's environment, and no file the
    /// launcher writes (batch script, jobs.json) nor the sbatch arguments contain it.
    func testSlurmCarriesThePasswordInTheEnvironmentNeverInFiles() throws {
        let dir = temporaryDirectory(self)
        let a = WorkerStoreArguments(location: try pgLocation(password: "s3cret-pw"), passwordFile: nil)
        let runner = RecordingSbatch()
        let pool = try SlurmWorkerPool(runDirectory: dir, workerCommand: ["/opt/tf/tinyforge", "worker"] + a.arguments,
                                       options: SlurmJobOptions(arraySize: 2, cpusPerTask: 1, environment: a.environment),
                                       runner: runner, pollSeconds: 0)
        _ = try pool.start()
        XCTAssertEqual(runner.environments.first?["PGPASSWORD"], "s3cret-pw")
        XCTAssertFalse(runner.arguments.joined(separator: " ").contains("s3cret"), "\(runner.arguments)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir.path)
        var read = 0
        for f in files {
            guard let text = try? String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8) else { continue }
            read += 1
            XCTAssertFalse(text.contains("s3cret"), "\(f) holds the password")
        }
        XCTAssertTrue(files.contains("slurm/worker.sbatch") && files.contains("slurm/jobs.json"), "\(files)")
        let script = try String(contentsOf: dir.appendingPathComponent("slurm/worker.sbatch"), encoding: .utf8)
        XCTAssertTrue(script.contains("postgres://tf@db.example:5432/runs?run=cifar-7"), script)
        XCTAssertGreaterThanOrEqual(read, 2)
    }
}

/// An sbatch that accepts every submission and records its arguments and environment.
final class RecordingSbatch: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var args: [String] = [], envs: [[String: String]] = []
    var arguments: [String] { lock.withLock { args } }
    var environments: [[String: String]] { lock.withLock { envs } }

    func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> CommandOutput {
        lock.withLock {
            args += [tool] + arguments
            if tool == "sbatch" { envs.append(environment); return CommandOutput(status: 0, stdout: "4242\n") }
            return CommandOutput(status: 0)
        }
    }
}
