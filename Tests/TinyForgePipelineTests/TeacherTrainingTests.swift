import Foundation
import TinyForgeData
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// Teacher presets, the paper's distillation preset, teacher (ensemble) training and
/// fine-tuning from a trained checkpoint.
final class TeacherTrainingTests: XCTestCase {
    let fmnist = InputShape(height: 28, width: 28, channels: 1)

    func testWideResNetPresetIsResidualWideAndFarOutsideMCUBudgets() throws {
        let spec = TeacherPreset.wideResNet.spec(input: fmnist, classes: 10)
        try spec.validate()
        let layers = spec.expandedLayers()
        XCTAssertEqual(layers.map(\.block), [.basic, .basic, .basic])
        XCTAssertEqual(layers.map(\.shortcut), [.identity, .projection, .projection])
        XCTAssertEqual(layers.map(\.outChannels), [32, 64, 128])
        XCTAssertEqual(layers.map(\.stride), [1, 2, 2])
        let macs = LayerPlan(spec: spec).macs
        XCTAssertTrue((30_000_000...45_000_000).contains(macs), "wide-resnet w1 at 28×28: \(macs) MACs")
        let wide = TeacherPreset.wideResNet.spec(input: fmnist, classes: 10, width: 2)
        XCTAssertEqual(wide.expandedLayers().map(\.outChannels), [64, 128, 256])
        let ratio = Double(LayerPlan(spec: wide).macs) / Double(macs)
        XCTAssertEqual(ratio, 4, accuracy: 0.1, "2× width ≈ 4× MACs")
        let deep = TeacherPreset.wideResNet.spec(input: fmnist, classes: 10, depth: 2)
        XCTAssertEqual(deep.expandedLayers().count, 6)
        let net = try Network(spec: spec, seed: 1, threads: 1)
        XCTAssertGreaterThan(net.parameterCount, 250_000, "more weights than an MCU's flash holds at int8")
    }

    func testLargeCNNPresetIsAPlainStack() throws {
        let spec = TeacherPreset.largeCNN.spec(input: fmnist, classes: 10)
        try spec.validate()
        let layers = spec.expandedLayers()
        XCTAssertEqual(layers.count, 6)
        XCTAssertTrue(layers.allSatisfy { $0.block == .conv && $0.shortcut == .none })
        XCTAssertEqual(layers.map(\.stride), [1, 2, 1, 2, 1, 1])
        XCTAssertEqual(spec.head.convChannels, 256)
        let macs = LayerPlan(spec: spec).macs
        XCTAssertTrue((15_000_000...25_000_000).contains(macs), "large-cnn w1 at 28×28: \(macs) MACs")
        XCTAssertEqual(TeacherPreset.largeCNN.spec(input: fmnist, classes: 10, width: 0.5).head.convChannels, 128)
    }

    func testPaperDistillationPreset() throws {
        let c = try DistillationPreset.parse("paper").config
        XCTAssertEqual(c.alphaStart, 0.4); XCTAssertEqual(c.alphaEnd, 0.8); XCTAssertEqual(c.temperature, 10)
        XCTAssertEqual(c.alpha(progress: 0, total: 10), 0.4, accuracy: 1e-6)
        XCTAssertEqual(c.alpha(progress: 5, total: 10), 0.6, accuracy: 1e-6)
        XCTAssertEqual(c.alpha(progress: 10, total: 10), 0.8, accuracy: 1e-6)
        XCTAssertNil(c.labelSmoothing, "paper keeps the run's label smoothing")
        let t = try DistillationPreset.parse("tuned").config
        XCTAssertEqual(t, DistillationConfig(alphaStart: 0.5, alphaEnd: 0.5, temperature: 4, labelSmoothing: 0))
        XCTAssertEqual(DistillationPreset.summary,
                       "paper: alpha 0.4→0.8, temperature 10; tuned: alpha 0.5, temperature 4, no label smoothing while distilling")
        XCTAssertThrowsError(try DistillationPreset.parse("hinton")) { e in
            XCTAssertTrue("\(e)".contains("--kd-preset") && "\(e)".contains("paper"), "\(e)")
        }
    }

    /// A two-member ensemble of a (narrow) preset: both checkpoints, teacher.json with the
    /// ensemble's accuracy from averaged logits, and the logits cached for the split.
    func testEnsembleTeacherTrainsAndCachesItsLogits() throws {
        let d = try SyntheticData.generate(SyntheticConfig(classes: 4, size: 12, channels: 1, trainCount: 160, testCount: 20, noise: 0.1, seed: 2))
        let s = try Splitter.split(train: d.train, test: d.test, valFraction: 0.25, seed: 42)
        let id = SplitIdentity(splits: s, dataset: "synthetic:t", valFraction: 0.25)
        let norm = Normalization.compute(from: s.train)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-teacher-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var cfg = TrainConfig(); cfg.epochs = 1; cfg.batchSize = 20; cfg.schedule.baseLR = 0.05; cfg.threads = 1; cfg.labelSmoothing = 0
        let spec = TeacherPreset.largeCNN.spec(input: InputShape(height: 12, width: 12, channels: 1), classes: 4, width: 0.25)
        let d2 = try TeacherTraining(spec: spec, preset: "large-cnn", config: cfg, members: 2).run(splits: s, split: id, normalization: norm, directory: dir)
        XCTAssertEqual(try TeacherDescriptor.read(dir.appendingPathComponent(TeacherDescriptor.fileName)).labelSmoothing, 0,
                       "teacher.json records the smoothing its members trained with")
        XCTAssertEqual(d2.members, ["member-1.safetensors", "member-2.safetensors"])
        XCTAssertEqual(d2.memberValAccuracy.count, 2)
        let c1 = try Checkpoint.read(dir.appendingPathComponent("member-1.safetensors").path)
        let c2 = try Checkpoint.read(dir.appendingPathComponent("member-2.safetensors").path)
        let key = try XCTUnwrap(c1.tensors.keys.sorted().first)
        XCTAssertNotEqual(c1.tensors[key]?.values, c2.tensors[key]?.values, "members must differ (seeds)")
        let t = try Teacher.open(dir.path)
        XCTAssertEqual(t.checkpoints.count, 2)
        let (logits, source) = try t.logits(splits: s, student: id, fallback: norm)
        XCTAssertEqual(source, .cache, "tinyforge teacher caches the logits of its own split")
        let members = try t.checkpoints.map { f -> [Float] in
            let (net, _) = try Checkpoint.load(f.path)
            return try Trainer.logits(net, on: s.train, normalization: norm)
        }
        XCTAssertEqual(logits, try TeacherLogitsCache.average(members))
        XCTAssertEqual(TeacherDescriptor.find(under: dir.deletingLastPathComponent(), split: id).map(\.0.lastPathComponent), [dir.lastPathComponent])
        let other = try Splitter.split(train: d.train, test: d.test, valFraction: 0.25, seed: 1)
        XCTAssertTrue(TeacherDescriptor.find(under: dir, split: SplitIdentity(splits: other, dataset: "synthetic:t", valFraction: 0.25)).isEmpty)
    }

    func testFineTuneStartCopiesWeightsOfTheSameArchitectureOnly() throws {
        let spec = pipelineSpec(TeacherCacheTests.smallSpec)
        let trained = try Network(spec: spec, seed: 9, threads: 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-init-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let norm = Normalization(mean: [0.3], std: [0.2])
        try Checkpoint.save(trained, to: file, metadata: ["normalization": norm.metadataText])
        let fresh = try Network(spec: spec, seed: 1, threads: 1)
        XCTAssertNotEqual(fresh.parameters[0].value.values, trained.parameters[0].value.values)
        let got = try FineTuneStart.apply(checkpoint: file, to: fresh, fallback: Normalization(mean: [0], std: [1]))
        XCTAssertEqual(got, norm)
        for (a, b) in zip(fresh.parameters, trained.parameters) { XCTAssertEqual(a.value.values, b.value.values, a.name) }
        var other = spec; other.stages[0].outChannels = 16
        XCTAssertThrowsError(try FineTuneStart.apply(checkpoint: file, to: try Network(spec: other, seed: 1, threads: 1), fallback: norm)) { e in
            XCTAssertTrue("\(e)".contains("--init-from"), "\(e)")
        }
    }
}

extension Tensor {
    /// A copy of the tensor's values, for comparisons in tests.
    fileprivate var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
}
