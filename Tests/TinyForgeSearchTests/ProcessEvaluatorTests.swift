import Foundation
import GRDB
import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// Fake workers: shell scripts that follow (or break) the evaluate-candidate contract.
enum FakeWorker {
    /// Parses `--out PATH` and `--spec PATH`, then runs `body` (sh).
    static func script(_ dir: URL, _ name: String, _ body: String) throws -> [String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("\(name).sh")
        let text = """
            #!/bin/sh
            OUT=""; SPEC=""; ARGS="$*"
            while [ $# -gt 0 ]; do
              case "$1" in --out) OUT="$2"; shift;; --spec) SPEC="$2"; shift;; esac; shift
            done
            \(body)
            """
        try text.write(to: path, atomically: true, encoding: .utf8)
        return ["/bin/sh", path.path]
    }

    static let ok = #"echo "$ARGS" > "$OUT.args"; echo '{"status":"ok","val_accuracy":0.81,"val_loss":0.5,"train_loss":0.4,"epochs":3,"seconds":1.5,"images_per_second":900}' > "$OUT""#
}

final class ProcessEvaluatorTests: XCTestCase {
    func job(_ id: Int64 = 1) throws -> EvaluationJob {
        var rng = SeededGenerator(seed: 1)
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        return EvaluationJob(candidateID: id, hash: spec.canonicalHash, spec: spec,
                             cost: CostSummary(macs: 1, params: 1, peakSRAMBytes: 1, flashBytes: 1, latencyMs: 0),
                             settings: EvaluationSettings(dataset: "fashion-mnist:/data", epochs: 3, subset: 0.25, seed: 9,
                                                          extraArgs: ["--lr", "0.1"]))
    }

    func evaluator(_ dir: URL, _ body: String, timeout: Double = 30) throws -> ProcessEvaluator {
        ProcessEvaluator(command: try FakeWorker.script(dir, "w", body), workRoot: dir.appendingPathComponent("candidates"),
                         timeoutSeconds: timeout, killGraceSeconds: 0.5)
    }

    func testOkWorkerGetsTheContractArguments() async throws {
        let dir = temporaryDirectory(self)
        let ev = try evaluator(dir, FakeWorker.ok)
        let j = try job()
        let r = await ev.evaluate(j)
        XCTAssertEqual(r.status, .ok)
        XCTAssertEqual(r.valAccuracy, 0.81); XCTAssertEqual(r.valLoss, 0.5); XCTAssertEqual(r.trainLoss, 0.4)
        XCTAssertEqual(r.epochs, 3); XCTAssertEqual(r.seconds, 1.5); XCTAssertEqual(r.extra["images_per_second"], 900)
        let wd = ev.workDirectory(for: j)
        let args = try String(contentsOf: wd.appendingPathComponent("metrics.json.args"), encoding: .utf8)
        XCTAssertEqual(args.trimmingCharacters(in: .whitespacesAndNewlines),
                       "--spec \(wd.path)/spec.json --dataset fashion-mnist:/data --epochs 3 --subset 0.25 --seed 9 --out \(wd.path)/metrics.json --lr 0.1")
        let spec = try ArchitectureSpec.decode(jsonText: String(contentsOf: wd.appendingPathComponent("spec.json"), encoding: .utf8)).spec
        XCTAssertEqual(spec.canonicalHash, j.hash)
    }

    func testEveryFailureModeIsAFailedResultWithAReason() async throws {
        let dir = temporaryDirectory(self)
        let cases: [(String, String, String)] = [
            ("exit", "echo 'CUDA? no: out of memory in conv 3' >&2; exit 3", "exited with status 3; stderr: CUDA? no: out of memory in conv 3"),
            ("crash", "echo 'about to crash' >&2; kill -SEGV $$", "killed by signal 11"),
            ("nometrics", "echo done", "wrote no metrics file"),
            ("invalid", "echo '{\"status\": \"ok\"}' > \"$OUT\"", "val_accuracy: is required when status is ok"),
            ("garbage", "echo 'not json' > \"$OUT\"", "invalid metrics file"),
            ("reported", "echo '{\"status\":\"failed\",\"error\":\"dataset not found: /data\"}' > \"$OUT\"", "dataset not found: /data"),
        ]
        for (name, body, expected) in cases {
            let r = await (try evaluator(dir.appendingPathComponent(name), body)).evaluate(try job())
            XCTAssertEqual(r.status.name, "failed", name)
            XCTAssertTrue(r.failureReason?.contains(expected) ?? false, "\(name): \(r.failureReason ?? "nil")")
        }
        let diverged = await (try evaluator(dir.appendingPathComponent("div"), "echo '{\"status\":\"diverged\",\"val_accuracy\":0.1}' > \"$OUT\"")).evaluate(try job())
        XCTAssertEqual(diverged.status, .diverged)
        XCTAssertEqual(diverged.scoredAccuracy, 0.1)
    }

    func testHangingWorkerIsKilledWithItsChildren() async throws {
        let dir = temporaryDirectory(self)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Ignores SIGTERM and leaves a grandchild sleeping: the group kill must end both.
        let ev = try evaluator(dir, "trap '' TERM; echo $$ > \(dir.path)/pid; sleep 30 & echo $! > \(dir.path)/child; wait", timeout: 0.5)
        let t = Date()
        let r = await ev.evaluate(try job())
        XCTAssertLessThan(Date().timeIntervalSince(t), 5)
        XCTAssertTrue(r.failureReason?.hasPrefix("timed out after 0 s") ?? false, r.failureReason ?? "nil")
        let child = Int32(try String(contentsOf: dir.appendingPathComponent("child"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        usleep(200_000)
        // Dead = gone, or a zombie waiting for a reaper (containers' init may not reap).
        let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
        let state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? "gone"
        XCTAssertTrue(state == "gone" || state == "Z", "the worker's child survived the timeout kill (state \(state))")
    }

    func testMissingExecutableFailsCleanly() async throws {
        let ev = ProcessEvaluator(command: ["/nonexistent/tinyforge-worker"], workRoot: temporaryDirectory(self))
        let r = await ev.evaluate(try job())
        XCTAssertEqual(r.status.name, "failed")
        XCTAssertTrue(r.failureReason?.contains("/nonexistent/tinyforge-worker") ?? false, r.failureReason ?? "nil")
    }

    /// Workers that fail, crash or hang on some candidates never stop the search.
    func testSearchSurvivesBadWorkers() async throws {
        let dir = temporaryDirectory(self)
        // Decide by the first hex digit of the spec file's directory name hash: crash, hang, exit 1, or succeed.
        let body = """
            D=$(basename "$(dirname "$OUT")"); H=$(echo "$D" | cut -d- -f2 | cut -c1)
            case "$H" in
              0|1) kill -KILL $$;;
              2) sleep 30;;
              3|4) echo "boom" >&2; exit 1;;
              *) echo '{"status":"ok","val_accuracy":0.5,"epochs":1,"seconds":0.1}' > "$OUT";;
            esac
            """
        var config = testConfig(trials: 16, batch: 4, workers: 4, evaluator: "process")
        config.workerCommand = try FakeWorker.script(dir.deletingLastPathComponent(), "mixed", body)
        config.timeoutSeconds = 1
        let ev = ProcessEvaluator(command: config.workerCommand, workRoot: dir.appendingPathComponent("candidates"),
                                  timeoutSeconds: 1, killGraceSeconds: 0.2)
        let (store, summary) = try await runSearch(config, in: dir, evaluator: ev)
        XCTAssertEqual(summary.status, "done")
        XCTAssertEqual(summary.evaluations, 16)
        let counts = try store.statusCounts()
        XCTAssertEqual((counts["done"] ?? 0) + (counts["failed"] ?? 0), 16)
        XCTAssertGreaterThan(counts["failed"] ?? 0, 0)
        XCTAssertGreaterThan(counts["done"] ?? 0, 0)
        let reasons = try store.read { try String.fetchAll($0, sql: "SELECT reason FROM candidates WHERE status = 'failed'") }
        XCTAssertTrue(reasons.allSatisfy { $0.contains("signal 9") || $0.contains("timed out") || $0.contains("stderr: boom") }, "\(reasons)")
        let events = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events WHERE level = 'warning'") }
        XCTAssertEqual(events, counts["failed"])
    }
}
