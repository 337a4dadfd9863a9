import Foundation
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Issue 12: workers outlived a `kill -9` of the search. Foreign worker commands are reaped
/// by the resumed run, and only when their identity (pid + kernel start time) is proven.
final class WorkerReaperTests: XCTestCase {
    /// A process in its own group, like a worker, that stays until killed.
    func spawnSleeper(_ dir: URL) throws -> pid_t {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try WorkerProcess.spawn(["/bin/sleep", "60"], stdout: "/dev/null", stderr: "/dev/null")
    }

    /// Waits for the child and returns the signal that ended it (0 if it exited normally).
    func terminationSignal(_ pid: pid_t, timeout: Double = 5) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var st: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid { return st & 0x7f }
            usleep(20_000)
        }
        return nil
    }

    func testLeftoverWorkerIsReapedAndItsRecordRemoved() throws {
        let root = temporaryDirectory(self)
        let work = root.appendingPathComponent("7-abcdef")
        let pid = try spawnSleeper(work)
        WorkerReaper.record(pid: pid, in: work)
        let recordFile = work.appendingPathComponent(WorkerRecord.fileName)
        let record = try JSONDecoder().decode(WorkerRecord.self, from: Data(contentsOf: recordFile))
        XCTAssertEqual(record.pid, pid); XCTAssertEqual(record.pgid, pid); XCTAssertEqual(record.parentPID, getpid())

        let reaped = WorkerReaper.reap(workRoot: root)
        XCTAssertEqual(reaped.map(\.killed), [[pid]])
        XCTAssertEqual(terminationSignal(pid), SIGKILL)
        XCTAssertFalse(FileManager.default.fileExists(atPath: recordFile.path))
        XCTAssertEqual(WorkerReaper.reap(workRoot: root), [], "nothing left to reap")
    }

    /// A worker that already died but was not collected yet (zombie) is not "left running".
    func testZombieWorkerIsNotReaped() throws {
        let root = temporaryDirectory(self)
        let work = root.appendingPathComponent("6-abcdef")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let pid = try WorkerProcess.spawn(["/bin/true"], stdout: "/dev/null", stderr: "/dev/null")
        defer { _ = terminationSignal(pid) }
        WorkerReaper.record(pid: pid, in: work)
        let deadline = Date().addingTimeInterval(5)
        while ProcStat.read(pid)?.isLive == true && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(ProcStat.read(pid)?.state, "Z", "not collected yet: a zombie")
        XCTAssertEqual(WorkerReaper.reap(workRoot: root), [])
    }

    /// A recorded pid now used by an unrelated process (different start time) is never killed.
    func testReusedPidIsNotKilled() throws {
        let root = temporaryDirectory(self)
        let work = root.appendingPathComponent("8-abcdef")
        let pid = try spawnSleeper(work)
        defer { kill(pid, SIGKILL); _ = terminationSignal(pid) }
        let start = try XCTUnwrap(ProcStat.read(pid)).startTicks
        let impostor = WorkerRecord(pid: pid, pgid: pid, startTicks: start - 1, parentPID: 1, host: RunLockHolder.localHostName())
        XCTAssertEqual(WorkerReaper.reap(impostor), [])
        XCTAssertNotNil(ProcStat.read(pid), "the process must still be alive")
        XCTAssertNil(terminationSignal(pid, timeout: 0.2))
    }

    /// Records written on another host name processes this machine cannot see: left alone.
    func testRecordsFromAnotherHostAreIgnored() throws {
        let root = temporaryDirectory(self)
        let work = root.appendingPathComponent("9-abcdef")
        let pid = try spawnSleeper(work)
        defer { kill(pid, SIGKILL); _ = terminationSignal(pid) }
        let start = try XCTUnwrap(ProcStat.read(pid)).startTicks
        let r = WorkerRecord(pid: pid, pgid: pid, startTicks: start, parentPID: 1, host: "other-host")
        try JSONEncoder().encode(r).write(to: work.appendingPathComponent(WorkerRecord.fileName))
        XCTAssertEqual(WorkerReaper.reap(workRoot: root), [])
        XCTAssertNil(terminationSignal(pid, timeout: 0.2))
    }

    func testProcStatParsesCommandNamesWithSpacesAndParentheses() {
        let line = "4242 (evil) (name x) S 1 4000 4000 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"
        XCTAssertEqual(ProcStat.parse(line, pid: 4242), ProcStat(pid: 4242, state: "S", pgrp: 4000, startTicks: 987654))
        XCTAssertEqual(ProcStat.parse(line.replacingOccurrences(of: ") S ", with: ") Z "), pid: 4242)?.isLive, false)
        XCTAssertNil(ProcStat.parse("garbage", pid: 1))
    }

    /// The process evaluator records each running worker and removes the record when it ends;
    /// it passes its pid to the worker for the parent-death signal.
    func testProcessEvaluatorRecordsWorkerAndPassesParentPid() async throws {
        let dir = temporaryDirectory(self)
        // The record is written just after the spawn: wait for it (atomic, so present = complete).
        let body = #"R="$(dirname "$OUT")/worker.pid"; n=0; while [ ! -s "$R" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; "#
            + #"echo "$TINYFORGE_PARENT_PID" > "$OUT.parent"; cat "$R" > "$OUT.record"; "#
            + #"echo '{"status":"ok","val_accuracy":0.5}' > "$OUT""#
        let ev = ProcessEvaluator(command: try FakeWorker.script(dir, "w", body), workRoot: dir.appendingPathComponent("candidates"),
                                  timeoutSeconds: 30, killGraceSeconds: 0.5)
        var rng = SeededGenerator(seed: 3)
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        let job = EvaluationJob(candidateID: 1, hash: spec.canonicalHash, spec: spec,
                                cost: CostSummary(macs: 1, params: 1, peakSRAMBytes: 1, flashBytes: 1, latencyMs: 0),
                                settings: EvaluationSettings(dataset: "synthetic:n=8", epochs: 1))
        let r = await ev.evaluate(job)
        XCTAssertEqual(r.status, .ok, r.failureReason ?? "")
        let wd = ev.workDirectory(for: job)
        let parent = try String(contentsOf: wd.appendingPathComponent("metrics.json.parent"), encoding: .utf8)
        XCTAssertEqual(parent.trimmingCharacters(in: .whitespacesAndNewlines), String(getpid()))
        let rec = try JSONDecoder().decode(WorkerRecord.self, from: Data(contentsOf: wd.appendingPathComponent("metrics.json.record")))
        XCTAssertEqual(rec.parentPID, getpid())
        XCTAssertFalse(FileManager.default.fileExists(atPath: wd.appendingPathComponent(WorkerRecord.fileName).path),
                       "the record goes when the worker ends")
    }

    func testWorkerParentOutcomesWithoutTouchingThisProcess() {
        XCTAssertEqual(WorkerParent.arm(environment: [:]), .notRequested)
        guard case .failed(let m) = WorkerParent.arm(environment: [WorkerParent.environmentVariable: "abc"]) else {
            return XCTFail("a non-numeric parent pid must be refused")
        }
        XCTAssertTrue(m.contains("TINYFORGE_PARENT_PID=abc"), m)
    }
}
