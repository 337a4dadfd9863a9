import Foundation
import TinyForgeData
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// Teacher logits of K augmented views, cached beside the clean ones: keyed by augmentation,
/// K and view seed (another setting is a miss, never a mix), a named mismatch is a clear
/// error, v1 (clean) manifests still read, and `--kd-views` is checked before any inference.
final class TeacherViewsCacheTests: XCTestCase {
    var dir: URL!
    let aug = AugmentConfig(cropPadding: 2, horizontalFlip: true)

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-views-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func setup() throws -> (DatasetSplits, SplitIdentity, Normalization, URL) {
        let d = try SyntheticData.generate(SyntheticConfig(classes: 4, size: 12, channels: 1, trainCount: 60, testCount: 0, noise: 0.1, seed: 5))
        let s = try Splitter.split(train: d.train, test: nil, valFraction: 0.2, seed: 42)
        let norm = Normalization.compute(from: s.train)
        let net = try Network(spec: pipelineSpec(TeacherCacheTests.smallSpec), seed: 3, threads: 1)
        let url = dir.appendingPathComponent("model.safetensors")
        try Checkpoint.save(net, to: url.path, metadata: ["normalization": norm.metadataText])
        return (s, SplitIdentity(splits: s, dataset: "synthetic:test", valFraction: 0.2), norm, url)
    }

    func views(_ k: Int, seed: UInt64 = 0, _ a: AugmentConfig? = nil) throws -> AugmentViews {
        try AugmentViews(config: a ?? aug, count: k, seed: seed, height: 12, width: 12)
    }

    func testViewsLogitsRoundTripBesideTheCleanCache() throws {
        let (s, id, norm, url) = try setup()
        let v = try views(3, seed: 9)
        let first = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: v)
        XCTAssertEqual(first.source, .computed)
        let (net, _) = try Checkpoint.load(url.path)
        XCTAssertEqual(first.logits, try Trainer.logits(net, on: s.train, normalization: norm, views: v))
        let again = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: try views(3, seed: 9))
        XCTAssertEqual(again.source, .cache)
        XCTAssertEqual(again.logits, first.logits)
        let key = TeacherLogitsViews(v)
        let manifest = dir.appendingPathComponent(TeacherLogitsCache.stem(for: id, views: key) + ".json")
        let m = try TeacherLogitsCache.readManifest(manifest)
        XCTAssertEqual(m.format, "tinyforge-teacher-logits-v2")
        XCTAssertEqual([m.augmentation, "\(m.views)", "\(m.viewSeed)"], ["crop=2,flip", "3", "9"])
        XCTAssertEqual(try NPY.read(path: dir.appendingPathComponent(m.logitsFile).path).shape, [3, s.train.count, 4])
        let text = try String(contentsOf: manifest, encoding: .utf8)
        XCTAssertTrue(text.contains("\"views\" : 3") && text.contains("\"view_seed\" : 9"), text)
        // The clean cache keeps its old name and is another file.
        let clean = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm)
        XCTAssertEqual(clean.source, .computed)
        XCTAssertEqual(clean.logits.count, s.train.count * 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("logits-\(id.fingerprint.prefix(16)).json").path))
        XCTAssertEqual(try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: v).source, .cache)
    }

    func testAnotherCountSeedOrAugmentationIsAMissComputedBesideIt() throws {
        let (s, id, norm, _) = try setup()
        let base = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: try views(2))
        for other in [try views(3), try views(2, seed: 1), try views(2, AugmentConfig(cropPadding: 1, horizontalFlip: true))] {
            let r = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: other)
            XCTAssertEqual(r.source, .computed, "\(TeacherLogitsViews(other)) must not hit the cache of 2 views")
            XCTAssertEqual(r.logits.count, other.count * s.train.count * 4)
            if other.count == 2 { XCTAssertNotEqual(r.logits, base.logits, "other views, other logits") }
        }
        // Views are nested: view k of image i does not depend on K, so 3 views extend 2.
        let three = try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: try views(3))
        XCTAssertEqual(three.source, .cache)
        XCTAssertEqual(Array(three.logits.prefix(base.logits.count)), base.logits)
        let jsons = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(jsons.count, 4, "four settings, four caches side by side: \(jsons)")
        XCTAssertEqual(try Teacher.open(dir.path).logits(splits: s, student: id, fallback: norm, views: try views(2)).logits, base.logits)
    }

    func testNamedCacheOfAnotherSettingIsAClearError() throws {
        let (s, id, _, _) = try setup()
        let key = TeacherLogitsViews(try views(4))
        let url = try TeacherLogitsCache.store([Float](repeating: 1, count: 4 * s.train.count * 4), classes: 4, directory: dir, split: id,
                                               teacherHash: "h", checkpoints: ["x"], views: key)
        XCTAssertEqual(try TeacherLogitsCache.load(manifest: url, student: id, views: key).count, 4 * s.train.count * 4)
        for student in [TeacherLogitsViews.clean, TeacherLogitsViews(try views(2)), TeacherLogitsViews(try views(4, seed: 3))] {
            XCTAssertThrowsError(try TeacherLogitsCache.load(manifest: url, student: id, views: student)) { e in
                guard case TeacherCacheError.viewsMismatch(let file, let cache, let st) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(file, url.path); XCTAssertEqual(cache, key); XCTAssertEqual(st, student)
                let text = "\(e)"
                XCTAssertTrue(text.contains("4 augmented views, crop=2,flip") && text.contains("--kd-views 4") && text.contains("--teacher DIR"), text)
            }
        }
        // Truncated .npy: the existing clear NPY error, naming the file.
        let npy = dir.appendingPathComponent(try TeacherLogitsCache.readManifest(url).logitsFile)
        let bytes = try Data(contentsOf: npy)
        try bytes.prefix(bytes.count / 2).write(to: npy)
        XCTAssertThrowsError(try TeacherLogitsCache.load(manifest: url, student: id, views: key)) { e in
            XCTAssertTrue("\(e)".contains(npy.lastPathComponent), "\(e)")
        }
    }

    /// A manifest written before views existed (v1) reads as clean logits.
    func testVersionOneManifestReadsAsClean() throws {
        let (s, id, _, _) = try setup()
        let url = try TeacherLogitsCache.store([Float](repeating: 2, count: s.train.count * 4), classes: 4, directory: dir, split: id,
                                               teacherHash: "h", checkpoints: ["x"])
        var o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        o["views"] = nil; o["view_seed"] = nil; o["format"] = "tinyforge-teacher-logits-v1"
        try JSONSerialization.data(withJSONObject: o).write(to: url)
        let m = try TeacherLogitsCache.readManifest(url)
        XCTAssertEqual(m.format, "tinyforge-teacher-logits-v1")
        XCTAssertEqual(m.viewSetting, .clean)
        XCTAssertEqual(try TeacherLogitsCache.lookup(directory: dir, split: id, teacherHash: "h")?.count, s.train.count * 4)
        XCTAssertNil(try TeacherLogitsCache.lookup(directory: dir, split: id, teacherHash: "h", views: TeacherLogitsViews(try views(2))))
    }

    func testKDViewsOptionIsCheckedUpFront() throws {
        func check(_ k: Int, seed: UInt64? = nil, augment: AugmentConfig? = nil, teacher: Bool = true, raw: Bool = false) throws -> AugmentViews? {
            try KDViewsOption.views(count: k, seed: seed, augment: augment ?? aug, hasTeacher: teacher, rawNPY: raw, height: 12, width: 12)
        }
        XCTAssertNil(try check(0))
        XCTAssertEqual(try check(4, seed: 2)?.count, 4)
        XCTAssertEqual(try check(4)?.seed, 0)
        let cases: [(() throws -> AugmentViews?, String)] = [
            ({ try check(4, teacher: false) }, "need a teacher"),
            ({ try check(4, augment: AugmentConfig.none) }, "--augment is none"),
            ({ try check(4, raw: true) }, "clean images"),
            ({ try check(-1) }, "outside 0...64"),
            ({ try check(0, seed: 3) }, "--kd-view-seed 3 needs --kd-views"),
        ]
        for (f, needle) in cases {
            XCTAssertThrowsError(try f()) { e in
                guard case PipelineError.kdViews = e else { return XCTFail("\(e)") }
                XCTAssertTrue("\(e)".contains(needle) && "\(e)".hasPrefix("--kd-views"), "\(e) lacks \(needle)")
            }
        }
        XCTAssertEqual(try KDViewsOption.side(resolutions: [28]), 28)
        XCTAssertThrowsError(try KDViewsOption.side(resolutions: [24, 28]))
    }
}
