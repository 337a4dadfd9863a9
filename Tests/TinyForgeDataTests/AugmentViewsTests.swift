import TinyForgeData
import TinyForgeSpec
import XCTest

/// Fixed augmented views (consistent distillation): deterministic per (seed, view, image), and
/// the batch iterator shows each image as one of its views — while without views it draws
/// exactly as before.
final class AugmentViewsTests: XCTestCase {
    let aug = AugmentConfig(cropPadding: 2, horizontalFlip: true, cutout: 4)

    func synth(_ n: Int = 23) throws -> Dataset {
        try SyntheticData.generate(SyntheticConfig(classes: 3, size: 10, trainCount: n, testCount: 0, seed: 4)).train
    }

    func preprocessor(_ ds: Dataset, _ a: AugmentConfig) throws -> Preprocessor {
        try Preprocessor(for: ds, config: PreprocessConfig(normalization: Normalization(mean: [0.5], std: [0.25]), augment: a))
    }

    /// Image `index` of `ds` in [0, 1] units, (H, W, C): the reference pipeline's input.
    func image(_ ds: Dataset, _ index: Int) -> [Float] {
        guard case .uint8(let px) = ds.pixels else { return [] }
        return px[(index * ds.sampleSize)..<((index + 1) * ds.sampleSize)].map { Float($0) * ds.pixelScale }
    }

    func assertClose(_ a: ArraySlice<Float>, _ b: [Float], _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-4, what)
    }

    func testViewDrawsAreDeterministicAndDifferAcrossViewsAndSeeds() throws {
        let v = try AugmentViews(config: aug, count: 8, seed: 3, height: 10, width: 10)
        let again = try AugmentViews(config: aug, count: 8, seed: 3, height: 10, width: 10)
        let other = try AugmentViews(config: aug, count: 8, seed: 4, height: 10, width: 10)
        for i in [0, 5, 22] {
            let draws = (0..<8).map { v.draw(view: $0, image: i) }
            XCTAssertEqual(draws, (0..<8).map { again.draw(view: $0, image: i) })
            XCTAssertGreaterThan(Set(draws.map { "\($0)" }).count, 4, "8 views of image \(i) should mostly differ: \(draws)")
            XCTAssertNotEqual(draws, (0..<8).map { other.draw(view: $0, image: i) }, "the view seed must change the views")
            var rng = SeededGenerator(seed: 3, stream: UInt64(2) << 32 | UInt64(i))
            XCTAssertEqual(draws[2], aug.draw(height: 10, width: 10, rng: &rng), "view k of image i is the draw of stream k<<32|i")
        }
        XCTAssertNotEqual(v.draw(view: 1, image: 0), v.draw(view: 1, image: 1))
    }

    func testIdentityAugmentationAndBadCountsAreClearErrors() {
        XCTAssertThrowsError(try AugmentViews(config: .none, count: 4, seed: 0, height: 10, width: 10)) { e in
            XCTAssertTrue("\(e)".contains("none") && "\(e)".contains("0 views"), "\(e)")
        }
        XCTAssertThrowsError(try AugmentViews(config: aug, count: 0, seed: 0, height: 10, width: 10))
        XCTAssertThrowsError(try AugmentViews(config: aug, count: AugmentViews.maxCount + 1, seed: 0, height: 10, width: 10))
        XCTAssertEqual(aug.description, "crop=2,flip,cutout=4")
        XCTAssertEqual(AugmentConfig.none.description, "none")
    }

    /// Without views the iterator's draws are the free stream of (seed, epoch, position), as
    /// before views existed, and `Batch.views` stays empty.
    func testIteratorWithoutViewsKeepsItsFreeDraws() throws {
        let ds = try synth()
        let pre = try preprocessor(ds, aug)
        var it = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 5, seed: 9, augment: true, threads: 2)
        it.start(epoch: 1)
        var position = 0
        while let b = it.next() {
            XCTAssertTrue(b.views.isEmpty)
            for i in 0..<b.count {
                var rng = SeededGenerator(seed: 9 ^ 0xA06E_0000_0000_0000, stream: UInt64(1) << 32 | UInt64(position + i))
                let expected = pre.reference(image(ds, b.indices[i]), draw: pre.draw(rng: &rng))
                let s = pre.outputSampleSize
                assertClose(b.images[(i * s)..<((i + 1) * s)], expected, "image at position \(position + i)")
            }
            position += b.count
        }
        XCTAssertEqual(position, ds.count)
    }

    /// With views every image is exactly one of its K views (the reference ops applied with
    /// that view's draw), the view choice covers all K, and it follows seed and epoch.
    func testIteratorWithViewsShowsTheChosenView() throws {
        let ds = try synth()
        let pre = try preprocessor(ds, aug)
        let views = try AugmentViews(config: aug, count: 3, seed: 5, height: 10, width: 10)
        func choices(seed: UInt64, epoch: Int, threads: Int = 1) throws -> [Int32] {
            var it = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 4, seed: seed, augment: true, threads: threads, views: views)
            it.start(epoch: epoch)
            var out: [Int32] = []
            while let b = it.next() {
                XCTAssertEqual(b.views.count, 4)
                for i in 0..<b.count {
                    let k = Int(b.views[i])
                    XCTAssertTrue((0..<3).contains(k))
                    let expected = pre.reference(image(ds, b.indices[i]), draw: views.draw(view: k, image: b.indices[i]))
                    let s = pre.outputSampleSize
                    assertClose(b.images[(i * s)..<((i + 1) * s)], expected, "image \(b.indices[i]) as view \(k)")
                }
                out += b.views.prefix(b.count)
            }
            return out
        }
        let a = try choices(seed: 1, epoch: 0)
        XCTAssertEqual(Set(a), [0, 1, 2], "23 images should meet all 3 views")
        XCTAssertEqual(a, try choices(seed: 1, epoch: 0, threads: 2))
        XCTAssertNotEqual(a, try choices(seed: 1, epoch: 1))
        XCTAssertNotEqual(a, try choices(seed: 2, epoch: 0))
    }

    func testViewsMustMatchTheIteratorsAugmentationAndGeometry() throws {
        let ds = try synth()
        let views = try AugmentViews(config: aug, count: 2, seed: 0, height: 10, width: 10)
        let pre = try preprocessor(ds, aug)
        XCTAssertThrowsError(try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 4, seed: 1, augment: false, views: views))
        let other = try preprocessor(ds, AugmentConfig(cropPadding: 1))
        XCTAssertThrowsError(try BatchIterator(dataset: ds, preprocessor: other, batchSize: 4, seed: 1, augment: true, views: views)) { e in
            XCTAssertTrue("\(e)".contains("crop=2,flip,cutout=4") && "\(e)".contains("crop=1"), "\(e)")
        }
        let small = try AugmentViews(config: aug, count: 2, seed: 0, height: 8, width: 8)
        XCTAssertThrowsError(try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 4, seed: 1, augment: true, views: small)) { e in
            XCTAssertTrue("\(e)".contains("8x8") && "\(e)".contains("10x10"), "\(e)")
        }
    }
}
