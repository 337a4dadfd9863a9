import Foundation
import TinyForgeData
import TinyForgePipeline
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// The search's worker step as a library call: a trained candidate comes back as `ok` with its
/// hash and scores, bad input as `failed` with the reason, never as a thrown error.
final class ProxyEvaluationTests: XCTestCase {
    let specJSON = #"{"name": "proxy", "input": {"height": 12, "width": 12, "channels": 1}, "num_classes": 4, "stem": {"out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu6"}, "stages": [{"block": "dsconv", "out_channels": 12, "kernel": 3, "stride": 2, "activation": "relu"}], "head": {"dropout": 0}}"#

    func request(dataset: String, valFraction: Double = 0.2, checkpoint: String? = nil) throws -> ProxyEvaluationRequest {
        var cfg = TrainConfig(); cfg.epochs = 1; cfg.batchSize = 32; cfg.schedule.baseLR = 0.05; cfg.threads = 1
        return ProxyEvaluationRequest(spec: pipelineSpec(specJSON), dataset: try DatasetSource.parse(dataset), datasetText: dataset,
                                      valFraction: valFraction, splitSeed: 42, config: cfg, memory: nil, checkpointPath: checkpoint)
    }

    func testTrainsAndReportsOkWithHashAndCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-proxy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("model.safetensors").path
        let r = try request(dataset: "synthetic:classes=4,size=12,n=240,test=40,seed=3", checkpoint: ckpt)
        let m = ProxyEvaluation.run(r)
        XCTAssertEqual(m.result.status, .ok, "\(m.result.failureReason ?? "")")
        XCTAssertEqual(m.hash, r.spec.canonicalHash)
        XCTAssertEqual(m.result.epochs, 1)
        XCTAssertNotNil(m.result.valAccuracy)
        XCTAssertNotNil(m.result.extra["images_per_second"])
        XCTAssertGreaterThan(m.result.seconds, 0)
        let (net, _) = try Checkpoint.load(ckpt)
        XCTAssertEqual(net.plan.spec.canonicalHash, r.spec.canonicalHash)
    }

    func testEmptyValidationSplitIsAFailureNamingTheFix() throws {
        let m = ProxyEvaluation.run(try request(dataset: "synthetic:classes=4,size=12,n=40,test=8,seed=3", valFraction: 0))
        XCTAssertEqual(m.result.status.name, "failed")
        XCTAssertTrue(m.result.failureReason?.contains("raise --val-fraction") == true, "\(m.result.failureReason ?? "")")
    }

    func testUnreadableDataIsAFailureNotAThrow() throws {
        let m = ProxyEvaluation.run(try request(dataset: "idx:/nonexistent/a,/nonexistent/b"))
        XCTAssertEqual(m.result.status.name, "failed")
        XCTAssertTrue(m.result.failureReason?.contains("/nonexistent/a") == true, "\(m.result.failureReason ?? "")")
    }
}
