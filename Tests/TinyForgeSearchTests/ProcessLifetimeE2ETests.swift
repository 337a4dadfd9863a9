import Foundation
import GRDB
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Issue 12 with the built `tinyforge` binary: a second writer is refused while the first runs,
/// and an `evaluate-candidate` worker dies with its parent (kill -9 included).
final class ProcessLifetimeE2ETests: XCTestCase {
    var binary: URL!

    override func setUpWithError() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: ProcessLifetimeE2ETests.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        binary = b
    }

    func launch(_ executable: URL, _ args: [String], stderr: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        if let e = stderr {
            FileManager.default.createFile(atPath: e.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: e)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    func evaluations(_ dir: URL) -> Int {
        (try? RunStore.openReadOnly(directory: dir).evaluationCount()) ?? 0
    }

    func testSecondWriterIsRefusedWhileTheFirstRuns() throws {
        let dir = temporaryDirectory(self, "lock-e2e")
        let first = try launch(binary, ["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746",
                                        "--sram", "64KB", "--flash", "256KB", "--macs", "5M", "--proposer", "random", "--trials", "200",
                                        "--evaluator", "synthetic", "--synthetic-delay-ms", "100", "--run", dir.path])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(60)
        while evaluations(dir) < 1 && Date() < deadline && first.isRunning { usleep(20_000) }
        XCTAssertGreaterThan(evaluations(dir), 0)
        let err = dir.deletingLastPathComponent().appendingPathComponent("second.err")
        let second = try launch(binary, ["search", "--resume", dir.path], stderr: err)
        second.waitUntilExit()
        XCTAssertNotEqual(second.terminationStatus, 0)
        let text = try String(contentsOf: err, encoding: .utf8)
        XCTAssertTrue(text.contains("locked by pid \(first.processIdentifier) on host"), text)
        XCTAssertTrue(first.isRunning, "the refused writer must not disturb the first")
        // kill -9 of the holder frees the run at once: the resume takes over.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let before = evaluations(dir)
        let resumed = try launch(binary, ["search", "--resume", dir.path, "--json"])
        let until = Date().addingTimeInterval(60)
        while evaluations(dir) < before + 2 && Date() < until && resumed.isRunning { usleep(20_000) }
        XCTAssertTrue(resumed.isRunning, "the resume was refused instead of taking over (status \(resumed.terminationStatus))")
        XCTAssertGreaterThanOrEqual(evaluations(dir), before + 2)
        kill(resumed.processIdentifier, SIGKILL)
        resumed.waitUntilExit()
    }

    /// Process state letter from /proc (nil = gone; "Z" = dead, waiting to be reaped by init).
    func state(_ pid: Int32) -> String? {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let s = String(decoding: d, as: UTF8.self)
        guard let close = s.lastIndex(of: ")") else { return nil }
        return s[s.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// Starts `evaluate-candidate` under a shell parent, kill -9s the shell and reports whether
    /// the worker was still alive 2 s later.
    func workerOutlivesParent(setParentPid: Bool) throws -> Bool {
        let dir = temporaryDirectory(self, setParentPid ? "armed" : "unarmed")
        var rng = SeededGenerator(seed: 4)
        let spec = try SearchSpace.mcu28.sample(numClasses: 4, using: &rng)
        try spec.jsonText().write(to: dir.appendingPathComponent("spec.json"), atomically: true, encoding: .utf8)
        let env = setParentPid ? "TINYFORGE_PARENT_PID=$$ " : ""
        let script = """
            \(env)"\(binary.path)" evaluate-candidate --spec "\(dir.path)/spec.json" --dataset synthetic:classes=4,size=28,channels=1,n=256,test=32 \
              --epochs 100000 --out "\(dir.path)/metrics.json" >/dev/null 2>&1 &
            echo $! > "\(dir.path)/child.pid"
            wait
            """
        // posix_spawn + waitpid, not Foundation's Process: Process learns of an exit through a
        // descriptor its child's children inherit, so it would wait for the surviving worker.
        let shell = try WorkerProcess.spawn(["/bin/sh", "-c", script], stdout: "/dev/null", stderr: "/dev/null")
        let pidFile = dir.appendingPathComponent("child.pid").path
        let deadline = Date().addingTimeInterval(10)
        var child: Int32?
        while child == nil && Date() < deadline {
            child = FileManager.default.contents(atPath: pidFile).flatMap { Int32(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
            usleep(20_000)
        }
        let worker = try XCTUnwrap(child)
        defer { kill(worker, SIGKILL) }
        Thread.sleep(forTimeInterval: 1.0) // let it start (and arm) before the parent dies
        XCTAssertNotNil(state(worker), "the worker should be running before its parent is killed")
        kill(shell, SIGKILL)
        var st: Int32 = 0
        waitpid(shell, &st, 0)
        Thread.sleep(forTimeInterval: 2.0)
        return state(worker).map { $0 != "Z" } ?? false
    }

    func testWorkerDiesWithItsParent() throws {
        XCTAssertTrue(try workerOutlivesParent(setParentPid: false), "control: an unarmed worker survives its parent (the old behaviour)")
        XCTAssertFalse(try workerOutlivesParent(setParentPid: true), "an armed worker must be gone 2 s after its parent's kill -9")
    }

    func testWorkerWhoseParentIsAlreadyGoneExitsAtOnce() throws {
        let dir = temporaryDirectory(self, "gone")
        let err = dir.appendingPathComponent("err")
        let p = Process()
        p.executableURL = binary
        p.arguments = ["evaluate-candidate", "--spec", "/nonexistent.json", "--dataset", "synthetic:n=8", "--out", dir.appendingPathComponent("m.json").path]
        p.environment = ["TINYFORGE_PARENT_PID": "999999"]
        p.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        XCTAssertTrue(try String(contentsOf: err, encoding: .utf8).contains("the search (pid 999999) is gone"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.json").path))
    }
}
