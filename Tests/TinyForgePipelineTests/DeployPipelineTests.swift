import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// The export and device-check use cases as library calls, and the distillation teacher's shape.
final class DeployPipelineTests: XCTestCase {
    func model() throws -> TrainedModel {
        let (net, norm, train, test) = try trainSmallNetwork(epochs: 1, trainCount: 192, testCount: 40)
        let splits = try Splitter.split(train: train, test: test, valFraction: 0.25, seed: 42)
        return TrainedModel(network: net, normalization: norm, splits: splits, source: "unit test")
    }

    func testExportWritesTheBundleWithATestVector() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = QuantizationSettings(); settings.calibrationBatches = 2
        let (q, s) = try DeployPipeline.export(ExportRequest(model: try model(), quantization: settings, format: .tflite,
                                                              directory: dir, target: .stm32f746, labels: ["a", "b", "c", "d"]))
        XCTAssertEqual(q.calibrationImages, 64)
        for f in ["model.tflite", "test_input.bin", "test_output.bin", "manifest.json", "labels.txt"] {
            XCTAssertTrue(s.files.contains(f), "\(f) missing from \(s.files)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        XCTAssertGreaterThan(s.modelBytes, 0)
    }

    func testDeviceCheckRefusesZeroSamplesBeforeQuantising() throws {
        let r = DeviceCheckRequest(model: try model(), quantization: QuantizationSettings(), samples: 0, target: .stm32f746,
                                   workDirectory: FileManager.default.temporaryDirectory)
        XCTAssertThrowsError(try DeployPipeline.deviceCheck(r)) { e in
            XCTAssertEqual(e as? PipelineError, .samples(0))
            XCTAssertTrue("\(e)".contains("--samples"), "\(e)")
        }
    }

    func testTeacherIsTheSameTopologyWider() throws {
        let spec = coverageSpecs[0]
        let t = TeacherDistillation.widened(spec, factor: 2)
        XCTAssertEqual(t.stages.count, spec.stages.count)
        for (a, b) in zip(t.stages, spec.stages) {
            XCTAssertEqual(a.outChannels, 2 * b.outChannels)
            XCTAssertEqual(a.block, b.block); XCTAssertEqual(a.kernel, b.kernel); XCTAssertEqual(a.stride, b.stride)
        }
        XCTAssertEqual(t.stem?.outChannels, spec.stem.map { 2 * $0.outChannels })
        XCTAssertEqual(t.numClasses, spec.numClasses)
        XCTAssertTrue(t.name?.hasSuffix("-teacher") == true)
        XCTAssertGreaterThan(LayerPlan(spec: t).macs, LayerPlan(spec: spec).macs)
    }

    /// Without a cached teacher the step trains the small 2×-wide one (and says so), then writes
    /// both arms from the same finished student: the control (no teacher) and the distilled one.
    /// The arms' weights differ, so the teacher's logits reached the loss.
    func testDistillationTrainsAFallbackTeacherAndMeasuresAgainstAControl() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-distill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let m = try model()
        let finished = dir.appendingPathComponent("finished.safetensors").path
        try Checkpoint.save(m.network, to: finished)
        var recipe = TrainConfig(); recipe.epochs = 1; recipe.batchSize = 32
        let r = DistillationRequest(chosen: m.network.plan.spec, finishedModel: finished, before: 0.5, splits: m.splits,
                                    normalization: m.normalization, dataset: "synthetic:test", teachersRoot: dir.appendingPathComponent("none"),
                                    recipe: recipe, teacherEpochs: 1, distillEpochs: 1, seed: 7, outDir: dir.appendingPathComponent("kd"))
        var lines: [String] = []
        let o = try TeacherDistillation.run(r, log: { lines.append($0) })
        XCTAssertFalse(o.cachedTeacher)
        XCTAssertTrue(lines.contains { $0.hasPrefix("notice: no cached teacher") }, "\(lines)")
        XCTAssertEqual(o.gain, o.withKD - o.withoutKD)
        for a in [o.withKD, o.withoutKD, o.teacherValAccuracy] { XCTAssertTrue((0...1).contains(a), "\(o)") }
        let kd = try Checkpoint.read(dir.appendingPathComponent("kd/student.safetensors").path)
        let control = try Checkpoint.read(dir.appendingPathComponent("kd/no-distillation/student.safetensors").path)
        XCTAssertEqual(kd.metadata["teacher"], o.teacherLabel)
        XCTAssertNil(control.metadata["teacher"])
        XCTAssertEqual(Set(kd.tensors.keys), Set(control.tensors.keys))
        XCTAssertTrue(kd.tensors.contains { k, v in v.values != control.tensors[k]!.values }, "the distilled arm equals the control")
    }
}
