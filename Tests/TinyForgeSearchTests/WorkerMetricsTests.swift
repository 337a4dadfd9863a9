import Foundation
import TinyForgeSpec
@testable import TinyForgeSearch
import XCTest

/// The worker writes METRICS.json and the search reads it through the same type: every status
/// survives the round trip through the file's text, and bad files name the field.
final class WorkerMetricsTests: XCTestCase {
    func roundTrip(_ m: WorkerMetrics) throws -> WorkerMetrics {
        try WorkerMetrics.decode(Data(m.jsonValue().prettyText().utf8), source: "metrics.json")
    }

    func testEveryStatusRoundTrips() throws {
        let ok = WorkerMetrics(result: EvaluationResult(status: .ok, valAccuracy: 0.81, valLoss: 0.5, trainLoss: 0.4, epochs: 3,
                                                            seconds: 1.5, extra: ["images_per_second": 900]),
                                   hash: "abc123")
        XCTAssertEqual(try roundTrip(ok), ok)
        let diverged = WorkerMetrics(result: EvaluationResult(status: .diverged, valAccuracy: 0.1, epochs: 1, seconds: 2),
                                         hash: "def", message: "loss is NaN at step 12")
        XCTAssertEqual(try roundTrip(diverged), diverged)
        let failed = WorkerMetrics.failed(SearchError("--dataset", "not found"), seconds: 0.25)
        let back = try roundTrip(failed)
        XCTAssertEqual(back, failed)
        XCTAssertEqual(back.result.failureReason, "--dataset: not found")
    }

    func testFileKeysAreTheWorkerContract() throws {
        let m = WorkerMetrics(result: EvaluationResult(status: .diverged, valAccuracy: 0.2, trainLoss: 9, epochs: 2, seconds: 3),
                                  hash: "h", message: "diverged")
        guard case .object(let o) = m.jsonValue() else { return XCTFail("not an object") }
        XCTAssertEqual(Set(o.keys), ["status", "val_accuracy", "train_loss", "epochs", "seconds", "hash", "error"])
        XCTAssertEqual(o["status"], .string("diverged"))
        XCTAssertEqual(o["error"], .string("diverged"))
    }

    func testWriteThenDecodeFromDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-metrics-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sub/metrics.json").path
        let m = WorkerMetrics(result: EvaluationResult(status: .ok, valAccuracy: 0.5, epochs: 1, seconds: 0.1), hash: "x")
        try m.write(to: path)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertEqual(try WorkerMetrics.decode(data, source: path), m)
    }

    func testBadFilesNameTheField() {
        func message(_ text: String) -> String {
            do { _ = try WorkerMetrics.decode(Data(text.utf8), source: "m.json"); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(#"{"status": "ok"}"#).contains("m.json: val_accuracy"))
        XCTAssertTrue(message(#"{"status": "ok", "val_accuracy": 1.5}"#).contains("not a fraction"))
        XCTAssertTrue(message(#"{"status": "done"}"#).contains("m.json: status"))
        XCTAssertTrue(message(#"[1]"#).contains("expected a JSON object"))
    }
}
