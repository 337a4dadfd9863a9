import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// Class names through the export bundle, and `predict`'s float and int8 paths.
final class PredictionTests: XCTestCase {
    func images(_ d: Dataset, count: Int) -> [DecodedImage] {
        (0..<count).map { i in
            DecodedImage(width: d.width, height: d.height, channels: d.channels,
                         pixels: d.floatImage(at: i).map { UInt8(($0 * 255).rounded()) })
        }
    }

    func testFloatAndInt8PredictionsAgreeThroughAnExportedTFLite() throws {
        let (net, norm, train, test) = try trainSmallNetwork()
        let n = 40
        let data = try ImagePrediction.dataset(images(test, count: n), height: 12, width: 12, channels: 1, method: .area)
        let float = try ImagePrediction.floatScores(net, data: data, normalization: norm)
        XCTAssertEqual(float.count, n)
        for row in float { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-4) }
        let labels = ["zero", "one", "two", "three"]
        let floatTop = float.map { ImagePrediction.top($0, k: 1, labels: labels)[0] }
        let correct = zip(floatTop, test.labels.prefix(n)).filter { $0.index == Int($1) }.count
        XCTAssertGreaterThan(correct, n / 2, "a trained network should beat chance (25 %) on its own task")
        XCTAssertEqual(Set(floatTop.map(\.label)).isSubset(of: Set(labels)), true)

        var s = QuantizationSettings(); s.calibrationBatches = 2; s.calibrationBatchSize = 16
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: train, settings: s)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-predict-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try ExportBundle.write(q, plan: net.plan, normalization: norm, format: .tflite, to: dir,
                                             target: try Target.named("stm32h743"), source: "test", labels: labels)
        XCTAssertTrue(summary.files.contains(ExportBundle.labelsFileName))
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("labels.txt"), encoding: .utf8), "zero\none\ntwo\nthree\n")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        XCTAssertEqual(manifest["labels"] as? [String], labels)
        XCTAssertEqual((manifest["files"] as? [String])?.contains("labels.txt"), true)

        let model = try TFLiteReader.read(path: dir.appendingPathComponent("model.tflite").path)
        let int8 = try ImagePrediction.int8Scores(model, data: data, normalization: norm)
        let direct = try ImagePrediction.int8Scores(q.model, data: data, normalization: norm)
        XCTAssertEqual(int8, direct, "the .tflite read back must run exactly like the in-memory model")
        let agree = zip(int8, float).filter { a, b in
            ImagePrediction.top(a, k: 1, labels: nil)[0].index == ImagePrediction.top(b, k: 1, labels: nil)[0].index
        }.count
        XCTAssertGreaterThanOrEqual(agree, n * 9 / 10, "int8 and float top-1 should agree")
    }

    func testTopKOrderAndNamesBeyondTheLabels() {
        let t = ImagePrediction.top([0.1, 0.5, 0.2, 0.2], k: 3, labels: ["a", "b"])
        XCTAssertEqual(t.map(\.index), [1, 2, 3])
        XCTAssertEqual(t.map(\.label), ["b", "class 2", "class 3"])
    }

    func testCLibraryExportNamesClassesAndBadLabelsAreRefused() throws {
        let net = try Network(spec: coverageSpecs[0], seed: 2, threads: 1)
        let d = try SyntheticData.generate(SyntheticConfig(classes: 5, size: 12, channels: 3, trainCount: 32, testCount: 4, noise: 0.1, seed: 2))
        let norm = Normalization.compute(from: d.train)
        var s = QuantizationSettings(); s.calibrationBatches = 1; s.calibrationBatchSize = 8
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: d.train, settings: s)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-labels-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let classes = net.plan.spec.numClasses
        let names = (0..<classes).map { "class-\($0)" }
        _ = try ExportBundle.write(q, plan: net.plan, normalization: norm, format: .c, to: dir, target: try Target.named("stm32h743"),
                                   source: "test", labels: names)
        let c = try String(contentsOf: dir.appendingPathComponent("model.c"), encoding: .utf8)
        XCTAssertTrue(c.contains("const char *const tf_model_labels[TF_MODEL_LABEL_COUNT] = {"))
        XCTAssertTrue(c.contains("\"class-\(classes - 1)\","))
        XCTAssertThrowsError(try ExportBundle.write(q, plan: net.plan, normalization: norm, format: .tflite, to: dir,
                                                    target: try Target.named("stm32h743"), source: "test", labels: ["a\nb"])) { e in
            XCTAssertTrue("\(e)".contains("line break"), "\(e)")
        }
    }
}
