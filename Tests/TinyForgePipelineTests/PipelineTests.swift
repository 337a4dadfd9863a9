import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// A small network trained on the synthetic task (a few seconds in debug builds).
func trainSmallNetwork(epochs: Int = 3, seed: UInt64 = 1, trainCount: Int = 384, testCount: Int = 200) throws -> (Network, Normalization, train: Dataset, test: Dataset) {
    let spec = pipelineSpec(#"{"name": "tiny-trained", "input": {"height": 12, "width": 12, "channels": 1}, "num_classes": 4, "stem": {"out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu6"}, "stages": [{"block": "mbconv", "out_channels": 12, "kernel": 3, "stride": 1, "expansion": 2, "se_ratio": 0.25, "activation": "swish", "skip": "residual"}, {"block": "dsconv", "out_channels": 16, "kernel": 3, "stride": 2, "activation": "leaky_relu"}], "head": {"dropout": 0}}"#)
    let d = try SyntheticData.generate(SyntheticConfig(classes: 4, size: 12, channels: 1, trainCount: trainCount, testCount: testCount, noise: 0.15, seed: 3))
    let net = try Network(spec: spec, seed: seed, threads: 2)
    var cfg = TrainConfig(); cfg.epochs = epochs; cfg.batchSize = 32; cfg.schedule.baseLR = 0.05
    let norm = Normalization.compute(from: d.train)
    _ = try Trainer.train(net, train: d.train, val: nil, normalization: norm, config: cfg)
    return (net, norm, d.train, d.test)
}

final class PipelineTests: XCTestCase {
    /// int8 (Swift engine, bit-exact with TFLM) and float agree on a small trained network.
    func testInt8AgreesWithFloatOnATrainedNetwork() throws {
        let (net, norm, train, test) = try trainSmallNetwork()
        var s = QuantizationSettings(); s.calibrationBatches = 4
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: train, settings: s)
        XCTAssertEqual(q.calibrationImages, 128)
        let r = try Int8Evaluation.evaluate(net, q, on: test, normalization: norm)
        XCTAssertEqual(r.count, 200)
        XCTAssertGreaterThan(r.floatAccuracy, 0.5, "the network did not learn; the agreement check would be vacuous")
        XCTAssertGreaterThanOrEqual(r.top1Agreement, 0.95, "top-1 agreement int8 vs float")
        XCTAssertLessThanOrEqual(abs(r.accuracyDrop), 0.03, "float \(r.floatAccuracy) int8 \(r.int8Accuracy)")
    }

    /// A checkpoint whose weights do not match the architecture it names is refused, naming
    /// the tensor — by the checkpoint loader and by the quantiser.
    func testCheckpointThatDoesNotMatchItsSpecIsRefused() throws {
        let a = coverageSpecs[1]
        var b = a; b.stages[1].outChannels = 16
        let net = try Network(spec: a, seed: 1, threads: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-mismatch-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(net, to: path, metadata: ["spec": b.jsonText(pretty: false)])
        XCTAssertThrowsError(try Checkpoint.load(path)) { e in
            XCTAssertTrue("\(e)".contains("does not match its architecture") && "\(e)".contains("stages[1]"), "\(e)")
        }
        let contents = try Checkpoint.read(path)
        let weights = PlanWeights(tensors: contents.tensors.mapValues { WeightTensor(shape: $0.shape, values: $0.values) })
        XCTAssertThrowsError(try PostTrainingQuantizer(plan: LayerPlan(spec: contents.spec), weights: weights)) { e in
            guard case let NetworkQuantizationError.weights(name, reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(name.hasPrefix("stages[1]"), name); XCTAssertTrue(reason.contains("shape"), reason)
        }
    }

    /// A layer the exporter has no int8 form for fails before calibration, naming the layer.
    func testLayerThatCannotBeExportedIsNamed() throws {
        let net = try Network(spec: coverageSpecs[2], seed: 1, threads: 1)
        var plan = net.plan
        let i = plan.ops.firstIndex { $0.role == "head.pool" }!
        plan.ops[i].activation = .relu6
        XCTAssertThrowsError(try PostTrainingQuantizer(plan: plan, weights: PlanWeights(network: net))) { e in
            XCTAssertTrue("\(e)".hasPrefix("layer head.pool: cannot be quantised to int8: relu6 fused into global_avg_pool"), "\(e)")
        }
    }

    func testExportBundles() throws {
        let net = try Network(spec: coverageSpecs[0], seed: 2, threads: 1)
        let d = try SyntheticData.generate(SyntheticConfig(classes: 5, size: 12, channels: 3, trainCount: 64, testCount: 8, noise: 0.1, seed: 2))
        let norm = Normalization.compute(from: d.train)
        try NetworkQuantization.warmUpBatchNorm(net, normalization: norm, train: d.train, passes: 3)
        var s = QuantizationSettings(); s.calibrationBatches = 2; s.calibrationBatchSize = 8; s.method = .percentile(99.9)
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: d.train, settings: s)
        let x = try NetworkQuantization.int8Inputs(q, spec: net.plan.spec, data: d.test, normalization: norm, count: 1)[0]
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for format in ExportFormat.allCases {
            let dir = root.appendingPathComponent(format.rawValue)
            let summary = try ExportBundle.write(q, plan: net.plan, normalization: norm, format: format, to: dir,
                                                 target: try Target.named("stm32h743"), source: "test", testInput: x)
            for f in summary.files { XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f) }
            let m = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
            let input = m["input"] as! [String: Any], memory = m["memory"] as! [String: Any]
            XCTAssertEqual((input["scale"] as! Double), Double(q.inputQuant.scale), accuracy: 1e-12)
            XCTAssertEqual(input["zero_point"] as? Int, Int(q.inputQuant.zeroPoint))
            let mean = (input["preprocess"] as! [String: Any])["mean"] as! [Double]
            for (a, b) in zip(mean, norm.mean) { XCTAssertEqual(a, Double(b), accuracy: 1e-6) }
            XCTAssertEqual(memory["arena_bytes"] as? Int, try CCodeGenerator(model: q.model).memory.arenaBytes)
            XCTAssertEqual((m["calibration"] as! [String: Any])["method"] as? String, "percentile 99.9")
            let expected = try Int8Interpreter(model: q.model).run(inputs: [x])[0]
            let golden = try Data(contentsOf: dir.appendingPathComponent("test_output.bin")).map { Int8(bitPattern: $0) }
            XCTAssertEqual(golden, expected)
            if format == .tflite {
                let bytes = try Data(contentsOf: dir.appendingPathComponent("model.tflite"))
                XCTAssertEqual(Array(bytes[4..<8]), Array("TFL3".utf8))
            } else {
                XCTAssertTrue(summary.files.contains("model.c") && summary.files.contains("weights.c"))
            }
            let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
            XCTAssertTrue(readme.contains("zero point \(q.inputQuant.zeroPoint)"), readme)
        }
    }
}
