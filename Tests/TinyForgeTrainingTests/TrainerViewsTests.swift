import Foundation
import XCTest
import TinyForgeData
import TinyForgeEngine
import TinyForgeSpec
@testable import TinyForgeTraining

/// Distillation against teacher logits of fixed augmented views: the gathered soft target is
/// the teacher's row of the very view the student sees (K×N×C, row k·N + i).
final class TrainerViewsTests: XCTestCase {
    let spec = tinySpec(#"[{"block": "conv", "out_channels": 8, "stride": 2, "activation": "relu"}]"#,
                        input: #"{"height": 12, "width": 12, "channels": 1}"#, classes: 4)
    let aug = AugmentConfig(cropPadding: 2, horizontalFlip: true)

    func data(_ n: Int = 30) throws -> Dataset {
        try SyntheticData.generate(SyntheticConfig(classes: 4, size: 12, channels: 1, trainCount: n, testCount: 0, noise: 0.2, seed: 6)).train
    }

    /// A fake "teacher" whose logits of view k of image i are (pixel sum of that view, 0, 0, 0):
    /// any mismatch between the pixels trained on and the row gathered shows in column 0.
    func pixelSumTeacher(_ d: Dataset, _ pre: Preprocessor, _ views: AugmentViews) -> [Float] {
        var out: [Float] = []
        var buf = [Float](repeating: 0, count: pre.outputSampleSize)
        for k in 0..<views.count {
            for i in 0..<d.count {
                buf.withUnsafeMutableBufferPointer { pre.process(d, index: i, draw: views.draw(view: k, image: i), into: $0.baseAddress!) }
                out += [buf.reduce(0, +), 0, 0, 0]
            }
        }
        return out
    }

    func testGatheredTeacherRowIsTheRowOfTheViewShown() throws {
        let d = try data()
        let norm = Normalization.compute(from: d)
        var cfg = TrainConfig(); cfg.batchSize = 8; cfg.augment = aug
        cfg.distillation = DistillationConfig(); cfg.kdViews = KDViewsConfig(count: 3, seed: 2)
        let views = try XCTUnwrap(try Trainer.studentViews(cfg, spec: spec))
        let pre = try Trainer.preprocessor(for: spec, data: d, normalization: norm, augment: aug)
        let teacher = pixelSumTeacher(d, pre, views)
        var it = try BatchIterator(dataset: d, preprocessor: pre, batchSize: 8, seed: 4, augment: true, dropLast: true, views: views)
        var gathered = [Float](repeating: 0, count: 8 * 4)
        var checked = 0, differsFromClean = 0
        while let b = it.next() {
            let logits = Tensor(shape: [b.count, 4])
            let labels = (0..<b.count).map { Int(b.labels[$0]) }
            _ = try Trainer.lossAndGradient(logits, labels: labels, batch: b, config: cfg, progress: 0, teacherLogits: teacher,
                                            teacherRows: d.count, teacherBatch: &gathered)
            let s = pre.outputSampleSize
            for i in 0..<b.count {
                let sum = b.images[(i * s)..<((i + 1) * s)].reduce(0, +)
                XCTAssertEqual(gathered[i * 4], sum, accuracy: 1e-3, "image \(b.indices[i]) view \(b.views[i])")
                let other = (Int(b.views[i]) + 1) % 3
                if abs(teacher[(other * d.count + b.indices[i]) * 4] - sum) > 1e-2 { differsFromClean += 1 }
                checked += 1
            }
        }
        XCTAssertEqual(checked, d.count - d.count % 8)
        XCTAssertGreaterThan(differsFromClean, checked / 2, "another view's row must differ, or the test could not see a mismatch")
    }

    func testViewLogitsOfANetworkAreItsOutputsOnThoseViews() throws {
        let d = try data(13)
        let norm = Normalization.compute(from: d)
        let net = try Network(spec: spec, seed: 3, threads: 1)
        let views = try AugmentViews(config: aug, count: 2, seed: 7, height: 12, width: 12)
        let all = try Trainer.logits(net, on: d, normalization: norm, views: views, batchSize: 5)
        XCTAssertEqual(all.count, 2 * 13 * 4)
        let pre = try Trainer.preprocessor(for: spec, data: d, normalization: norm, augment: aug)
        for (k, i) in [(0, 0), (1, 0), (1, 12), (0, 7)] {
            let x = Tensor(shape: [1, 12, 12, 1])
            pre.process(d, index: i, draw: views.draw(view: k, image: i), into: x.data)
            let y = net.forward(x, training: false)
            for j in 0..<4 { XCTAssertEqual(all[(k * 13 + i) * 4 + j], y[j], accuracy: 1e-4, "view \(k) image \(i)") }
        }
        XCTAssertNotEqual(Array(all[0..<(13 * 4)]), Array(all[(13 * 4)...]), "two views give different logits")
        let wrong = try AugmentViews(config: aug, count: 2, seed: 7, height: 10, width: 10)
        XCTAssertThrowsError(try Trainer.logits(net, on: d, normalization: norm, views: wrong)) { e in
            XCTAssertTrue("\(e)".contains("10x10") && "\(e)".contains("12x12"), "\(e)")
        }
    }

    func testTrainingWithViewsChecksTheLogitsShapeAndRuns() throws {
        let d = try data(32)
        let norm = Normalization.compute(from: d)
        var cfg = TrainConfig(); cfg.epochs = 1; cfg.batchSize = 8; cfg.threads = 1; cfg.augment = aug
        cfg.distillation = DistillationConfig(); cfg.kdViews = KDViewsConfig(count: 2, seed: 0)
        let teacher = try Network(spec: spec, seed: 1, threads: 1)
        let views = try XCTUnwrap(try Trainer.studentViews(cfg, spec: spec))
        let logits = try Trainer.logits(teacher, on: d, normalization: norm, views: views)
        let student = try Network(spec: spec, seed: 2, threads: 1)
        XCTAssertEqual(try Trainer.train(student, train: d, val: nil, normalization: norm, config: cfg, teacherLogits: logits).status, .completed)
        let clean = try Trainer.logits(teacher, on: d, normalization: norm)
        XCTAssertThrowsError(try Trainer.train(student, train: d, val: nil, normalization: norm, config: cfg, teacherLogits: clean)) { e in
            XCTAssertTrue("\(e)".contains("2 views × 32 rows × 4 classes") && "\(e)".contains("got \(clean.count)"), "\(e)")
        }
        cfg.augment = .none
        XCTAssertThrowsError(try Trainer.train(student, train: d, val: nil, normalization: norm, config: cfg, teacherLogits: logits)) { e in
            XCTAssertTrue("\(e)".contains("none"), "\(e)")
        }
    }
}
