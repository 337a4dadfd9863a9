import Foundation
import TinyForgeData
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// Cached teacher logits: miss then hit, staleness, split mismatches, the manifest, ensembles.
final class TeacherCacheTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-teacher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let smallSpec = #"{"name": "small-teacher", "input": {"height": 12, "width": 12, "channels": 1}, "num_classes": 4, "stem": {"out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu"}, "stages": [{"block": "conv", "out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu"}], "head": {"dropout": 0}}"#

    func splits(seed: UInt64 = 42, valFraction: Double = 0.2) throws -> (DatasetSplits, SplitIdentity) {
        let d = try SyntheticData.generate(SyntheticConfig(classes: 4, size: 12, channels: 1, trainCount: 120, testCount: 20, noise: 0.1, seed: 5))
        let s = try Splitter.split(train: d.train, test: d.test, valFraction: valFraction, seed: seed)
        return (s, SplitIdentity(splits: s, dataset: "synthetic:test", valFraction: valFraction))
    }

    func saveTeacher(seed: UInt64, metadata: [String: String] = [:], file: String = "model.safetensors") throws -> (Network, URL) {
        let net = try Network(spec: pipelineSpec(Self.smallSpec), seed: seed, threads: 1)
        let url = dir.appendingPathComponent(file)
        try Checkpoint.save(net, to: url.path, metadata: metadata)
        return (net, url)
    }

    func testMissComputesAndCachesThenHitReadsTheSameLogits() throws {
        let (s, id) = try splits()
        let norm = Normalization.compute(from: s.train)
        let (net, url) = try saveTeacher(seed: 3, metadata: ["normalization": norm.metadataText])
        let teacher = try Teacher.open(url.path)
        let first = try teacher.logits(splits: s, student: id, fallback: norm)
        XCTAssertEqual(first.source, .computed)
        XCTAssertEqual(first.logits, try Trainer.logits(net, on: s.train, normalization: norm))
        let second = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm)
        XCTAssertEqual(second.source, .cache, "the second request must come from the cache")
        XCTAssertEqual(second.logits, first.logits)
    }

    func testRetrainedTeacherMakesTheCacheStale() throws {
        let (s, id) = try splits()
        let norm = Normalization.compute(from: s.train)
        _ = try saveTeacher(seed: 3)
        let a = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm)
        _ = try saveTeacher(seed: 4)
        let b = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm)
        XCTAssertEqual(b.source, .computed, "other weights, same file name: the old cache must not be used")
        XCTAssertNotEqual(a.logits, b.logits)
    }

    func testManifestRecordsTeacherSplitAndShape() throws {
        let (s, id) = try splits()
        let (_, url) = try saveTeacher(seed: 3)
        _ = try Teacher.open(url.path).logits(splits: s, student: id, fallback: Normalization.compute(from: s.train))
        let manifestURL = dir.appendingPathComponent(TeacherLogitsCache.stem(for: id) + ".json")
        let m = try TeacherLogitsCache.readManifest(manifestURL)
        XCTAssertEqual(m.teacherHash, try TeacherLogitsCache.hash(files: [url]))
        XCTAssertEqual(m.split, id)
        XCTAssertEqual(m.rows, s.train.count)
        XCTAssertEqual(m.classes, 4)
        XCTAssertEqual(m.teacherCheckpoints, ["model.safetensors"])
        let text = try String(contentsOf: manifestURL, encoding: .utf8)
        for key in ["\"teacher_hash\"", "\"split_seed\" : 42", "\"fingerprint\"", "\"logits_file\"", "\"augmentation\" : \"none\""] {
            XCTAssertTrue(text.contains(key), "manifest lacks \(key):\n\(text)")
        }
        let npy = try NPY.read(path: dir.appendingPathComponent(m.logitsFile).path)
        XCTAssertEqual(npy.shape, [s.train.count, 4])
        XCTAssertEqual(npy.dtype, .float32)
    }

    func testCacheOfAnotherSplitIsAnErrorNamingBoth() throws {
        let (a, idA) = try splits(seed: 42)
        let (_, idB) = try splits(seed: 7)
        XCTAssertNotEqual(idA.fingerprint, idB.fingerprint)
        let url = try TeacherLogitsCache.store([Float](repeating: 0.5, count: a.train.count * 4), classes: 4, directory: dir, split: idA,
                                               teacherHash: "h", checkpoints: ["x"])
        XCTAssertThrowsError(try TeacherLogitsCache.load(manifest: url, student: idB)) { e in
            guard case TeacherCacheError.splitMismatch(_, let cache, let student) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(cache, idA); XCTAssertEqual(student, idB)
            let text = "\(e)"
            XCTAssertTrue(text.contains("split seed 42") && text.contains("split seed 7"), text)
        }
        XCTAssertEqual(try TeacherLogitsCache.load(manifest: url, student: idA).count, a.train.count * 4)
    }

    func testTeacherTrainedOnAnotherSplitIsRefused() throws {
        let (s, id) = try splits(seed: 42)
        let (_, other) = try splits(seed: 7)
        let (_, url) = try saveTeacher(seed: 3, metadata: [TeacherTraining.fingerprintKey: other.fingerprint, "split_seed": "7"])
        XCTAssertThrowsError(try Teacher.open(url.path).logits(splits: s, student: id, fallback: Normalization.compute(from: s.train))) { e in
            guard case TeacherCacheError.teacherSplitMismatch = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("split seed 7") && "\(e)".contains("split seed 42"), "\(e)")
        }
        // A `tinyforge train` checkpoint records dataset, fraction and seed instead.
        let (_, url2) = try saveTeacher(seed: 3, metadata: ["dataset": "synthetic:test", "split_seed": "9", "val_fraction": "0.2"], file: "t2.safetensors")
        XCTAssertThrowsError(try Teacher.open(url2.path).logits(splits: s, student: id, fallback: Normalization.compute(from: s.train)))
    }

    func testFingerprintFollowsContentAndOrder() throws {
        let (s, _) = try splits()
        let t = s.train
        XCTAssertEqual(SplitIdentity.fingerprint(t), SplitIdentity.fingerprint(t))
        guard case .uint8(var px) = t.pixels else { return XCTFail("synthetic data should be bytes") }
        px[0] ^= 1
        let changed = try Dataset(name: t.name, height: t.height, width: t.width, channels: t.channels, pixels: .uint8(px),
                                  labels: t.labels, classCount: t.classCount)
        XCTAssertNotEqual(SplitIdentity.fingerprint(changed), SplitIdentity.fingerprint(t))
        var labels = t.labels
        labels.swapAt(0, labels.firstIndex { $0 != labels[0] }!)
        let relabelled = try Dataset(name: t.name, height: t.height, width: t.width, channels: t.channels, pixels: t.pixels,
                                     labels: labels, classCount: t.classCount)
        XCTAssertNotEqual(SplitIdentity.fingerprint(relabelled), SplitIdentity.fingerprint(t))
    }

    func testEnsembleAveragesLogits() throws {
        XCTAssertEqual(try TeacherLogitsCache.average([[1, 2, -3], [3, 6, 3]]), [2, 4, 0])
        XCTAssertThrowsError(try TeacherLogitsCache.average([[1, 2], [3]]))
        XCTAssertThrowsError(try TeacherLogitsCache.average([]))
        XCTAssertEqual(TeacherTraining.accuracy([0, 1, 1, 0, 5, 2], labels: [1, 0, 1], classes: 2), 2.0 / 3.0, accuracy: 1e-12)
    }

    func testNPYWriteReadsBack() throws {
        let url = dir.appendingPathComponent("a.npy")
        let v: [Float] = [1.5, -2, 0, 3.25, .greatestFiniteMagnitude, -0.125]
        try NPY.writeFloat32(v, shape: [3, 2], to: url)
        let a = try NPY.read(path: url.path)
        XCTAssertEqual(a.shape, [3, 2])
        XCTAssertEqual(try NPY.float32Values(a, file: url.path), v)
        XCTAssertEqual(try Data(contentsOf: url).count % 16, (128 + 24) % 16, "header padded to 64 bytes")
        XCTAssertThrowsError(try NPY.writeFloat32(v, shape: [4, 2], to: url))
    }
}
