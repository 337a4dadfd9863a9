import Foundation
import XCTest
import TinyForgeData
import TinyForgeEngine
import TinyForgeSpec
@testable import TinyForgeTraining

final class TrainerTests: XCTestCase {
    let spec = tinySpec(#"[{"block": "conv", "out_channels": 8, "stride": 2, "activation": "relu"}, {"block": "dsconv", "out_channels": 16, "stride": 2, "se_ratio": 0.25, "skip": "residual"}]"#,
                        input: #"{"height": 16, "width": 16, "channels": 1}"#, classes: 4)

    func data(_ n: Int, seed: UInt64 = 2) throws -> (train: Dataset, test: Dataset) {
        try SyntheticData.generate(SyntheticConfig(classes: 4, size: 16, channels: 1, trainCount: n, testCount: 200, noise: 0.1, seed: seed))
    }

    /// A small network learns the synthetic task well above chance (25%) on held-out data.
    func testLearnsSyntheticTask() throws {
        let d = try data(800)
        let net = try Network(spec: spec, seed: 1, threads: 2)
        var cfg = TrainConfig(); cfg.epochs = 4; cfg.batchSize = 32; cfg.schedule.baseLR = 0.05
        let norm = Normalization.compute(from: d.train)
        let r = try Trainer.train(net, train: d.train, val: d.test, normalization: norm, config: cfg)
        XCTAssertEqual(r.status, .completed)
        XCTAssertEqual(r.epochs.count, 4)
        XCTAssertLessThan(r.epochs.last!.trainLoss, r.epochs.first!.trainLoss)
        XCTAssertGreaterThan(r.finalValAccuracy!, 0.6)
    }

    func testDivergenceIsAStatusNotACrash() throws {
        let d = try data(128)
        let net = try Network(spec: spec, seed: 1, threads: 1)
        var cfg = TrainConfig(); cfg.epochs = 3; cfg.batchSize = 32; cfg.schedule.baseLR = 1e12; cfg.schedule.kind = .constant
        let r = try Trainer.train(net, train: d.train, val: nil, normalization: Normalization.compute(from: d.train), config: cfg)
        XCTAssertEqual(r.status, .diverged)
        XCTAssertTrue(r.message!.contains("lower the learning rate"), r.message!)
    }

    func testCheckpointRoundTripAndMismatch() throws {
        let d = try data(64)
        let net = try Network(spec: spec, seed: 4, threads: 1)
        var cfg = TrainConfig(); cfg.epochs = 1; cfg.batchSize = 32
        let norm = Normalization.compute(from: d.train)
        _ = try Trainer.train(net, train: d.train, val: nil, normalization: norm, config: cfg)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try Checkpoint.save(net, to: path, metadata: ["note": "test"])
        let (loaded, contents) = try Checkpoint.load(path, threads: 1)
        XCTAssertEqual(contents.metadata["note"], "test")
        XCTAssertEqual(contents.spec.canonicalHash, spec.canonicalHash)
        let a = try Trainer.logits(net, on: d.test, normalization: norm)
        let b = try Trainer.logits(loaded, on: d.test, normalization: norm)
        XCTAssertEqual(a, b)
        // A checkpoint applied to a different architecture names the offending tensor.
        let other = try Network(spec: tinySpec(#"[{"block": "conv", "out_channels": 12, "stride": 2, "activation": "relu"}]"#, input: #"{"height": 16, "width": 16, "channels": 1}"#, classes: 4), seed: 1, threads: 1)
        XCTAssertThrowsError(try Checkpoint.apply(contents, to: other, file: path)) { e in
            XCTAssertTrue("\(e)".contains("does not match its architecture"), "\(e)")
        }
        // Truncated files are rejected with the file name.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.safetensors").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Checkpoint.read(cut)) { e in XCTAssertTrue("\(e)".contains("cut.safetensors"), "\(e)") }
    }

    /// Distillation gradient matches finite differences of its loss, and at T=1, α=1 it is CE.
    func testDistillationLoss() throws {
        var rng = SeededGenerator(seed: 3)
        let s = Tensor(shape: [3, 5]); for i in 0..<s.count { s[i] = rng.nextGaussian() }
        let t = (0..<15).map { _ in rng.nextGaussian() * 2 }
        let labels = [0, 4, 2]
        let (l, _, _, g) = try Distillation.loss(student: s, teacher: t, labels: labels, alpha: 0.3, temperature: 4, smoothing: 0.1)
        for i in 0..<s.count {
            let old = s[i]; let h: Float = 1e-3
            s[i] = old + h; let lp = try Distillation.loss(student: s, teacher: t, labels: labels, alpha: 0.3, temperature: 4, smoothing: 0.1).loss
            s[i] = old - h; let lm = try Distillation.loss(student: s, teacher: t, labels: labels, alpha: 0.3, temperature: 4, smoothing: 0.1).loss
            s[i] = old
            XCTAssertEqual(Double(g[i]), Double(lp - lm) / Double(2 * h), accuracy: 2e-3)
        }
        let ce = try SoftmaxCrossEntropy.compute(logits: s, labels: labels, smoothing: 0.1).loss
        XCTAssertEqual(try Distillation.loss(student: s, teacher: t, labels: labels, alpha: 1, temperature: 1, smoothing: 0.1).loss, ce, accuracy: 1e-6)
        XCTAssertGreaterThan(l, 0)
        XCTAssertThrowsError(try Distillation.loss(student: s, teacher: [1, 2], labels: labels, alpha: 0.5, temperature: 2, smoothing: 0))
    }

    /// A distillation recipe's own label smoothing (the `tuned` preset's 0) replaces the run's in
    /// the label loss; without one the run's applies.
    func testDistillationRecipeSmoothingReplacesTheRunsInTheLabelLoss() throws {
        var rng = SeededGenerator(seed: 5)
        let s = Tensor(shape: [3, 4]); for i in 0..<s.count { s[i] = rng.nextGaussian() }
        let teacher = (0..<12).map { _ in rng.nextGaussian() * 3 }
        let labels = [1, 3, 0]
        var b = Batch(capacity: 3, height: 1, width: 1, channels: 1)
        b.indices = [0, 1, 2]; b.count = 3
        var buf = [Float](repeating: 0, count: 12)
        var cfg = TrainConfig(); cfg.labelSmoothing = 0.1
        func loss(_ d: DistillationConfig) throws -> Float {
            cfg.distillation = d
            return try Trainer.lossAndGradient(s, labels: labels, batch: b, config: cfg, progress: 0, teacherLogits: teacher,
                                               teacherRows: 3, teacherBatch: &buf).0
        }
        let expect = { (sm: Float) in try Distillation.loss(student: s, teacher: teacher, labels: labels, alpha: 0.5, temperature: 4, smoothing: sm).loss }
        XCTAssertEqual(try loss(DistillationPreset.tuned.config), try expect(0), accuracy: 1e-6)
        XCTAssertEqual(try loss(DistillationConfig()), try expect(0.1), accuracy: 1e-6)
        XCTAssertNotEqual(try expect(0), try expect(0.1), "the two smoothings must differ, or the test could not tell them apart")
    }

    /// Distilling from a trained teacher runs end to end (teacher logits by sample index).
    func testDistillationTrainingRuns() throws {
        let d = try data(256)
        let norm = Normalization.compute(from: d.train)
        let teacher = try Network(spec: spec, seed: 1, threads: 1)
        var cfg = TrainConfig(); cfg.epochs = 2; cfg.batchSize = 32
        _ = try Trainer.train(teacher, train: d.train, val: nil, normalization: norm, config: cfg)
        let logits = try Trainer.logits(teacher, on: d.train, normalization: norm)
        let student = try Network(spec: spec, seed: 2, threads: 1)
        cfg.distillation = DistillationConfig(alphaStart: 0.4, alphaEnd: 0.8, temperature: 4)
        let r = try Trainer.train(student, train: d.train, val: d.test, normalization: norm, config: cfg, teacherLogits: logits)
        XCTAssertEqual(r.status, .completed)
        cfg.epochs = 1
        XCTAssertThrowsError(try Trainer.train(student, train: d.train, val: nil, normalization: norm, config: cfg, teacherLogits: [1, 2, 3]))
    }

    func testSchedules() {
        var s = LRSchedule(); s.kind = .step; s.baseLR = 0.5; s.stepEpochs = 10; s.gamma = 0.1
        XCTAssertEqual(s.lr(progress: 9.9, total: 30), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.lr(progress: 10, total: 30), 0.05, accuracy: 1e-6)
        XCTAssertEqual(s.lr(progress: 25, total: 30), 0.005, accuracy: 1e-6)
        var c = LRSchedule(); c.kind = .cosine; c.baseLR = 1; c.warmupEpochs = 1
        XCTAssertLessThan(c.lr(progress: 0.1, total: 10), 0.2)
        XCTAssertEqual(c.lr(progress: 1, total: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(c.lr(progress: 10, total: 10), 0, accuracy: 1e-6)
    }
}
