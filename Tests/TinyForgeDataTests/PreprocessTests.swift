import TinyForgeData
import TinyForgeSpec
import XCTest

final class ResizeTests: XCTestCase {
    /// 2x2 → 4x4 by hand: scale 0.5, source coords per output index are
    /// max(0, -0.25)=0, 0.25, 0.75, 1.25→(1,1). Row 0 is 1, 1.25, 1.75, 2.
    func testHandComputedUpsample() {
        let out = Resize.bilinearReference([1, 2, 3, 4], height: 2, width: 2, channels: 1, outHeight: 4, outWidth: 4)
        XCTAssertEqual(out, [1, 1.25, 1.75, 2,
                             1.5, 1.75, 2.25, 2.5,
                             2.5, 2.75, 3.25, 3.5,
                             3, 3.25, 3.75, 4])
    }

    /// Values printed by `F.interpolate(x, size=..., mode="bilinear", align_corners=False)`
    /// (torch 2.x CPU) for the inputs below; mixed up/down-sampling and non-integer scales.
    func testMatchesPyTorchInterpolate() {
        let x: [Float] = [0, 1.5, 1, 3.5, 2, 2.5, 4, 3.5, 6, 4.5, 5, 6.5, 6, 8.5, 7]  // (3, 5)
        let y = Resize.bilinearReference(x, height: 3, width: 5, channels: 1, outHeight: 4, outWidth: 3)
        let torch: [Float] = [0.5, 1.0, 2.5, 2.0625, 2.5625, 4.0625, 3.9375, 4.4375, 5.9375, 5.5, 6.0, 7.5]
        for (a, b) in zip(y, torch) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let x7 = (0..<49).map(Float.init)  // (7, 7) → (3, 2), downsampling without antialias
        let y7 = Resize.bilinearReference(x7, height: 7, width: 7, channels: 1, outHeight: 3, outWidth: 2)
        let torch7: [Float] = [5.9166665, 9.416666, 22.25, 25.75, 38.583332, 42.083332]
        for (a, b) in zip(y7, torch7) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testBatchTablePathEqualsReference() {
        var rng = SeededGenerator(seed: 3)
        let (n, h, w, c) = (3, 7, 5, 3)
        let x = (0..<(n * h * w * c)).map { _ in rng.nextFloat() }
        let fast = Resize.bilinear(x, count: n, height: h, width: w, channels: c, outHeight: 11, outWidth: 4)
        for i in 0..<n {
            let ref = Resize.bilinearReference(Array(x[(i * h * w * c)..<((i + 1) * h * w * c)]), height: h, width: w,
                                               channels: c, outHeight: 11, outWidth: 4)
            XCTAssertEqual(Array(fast[(i * 11 * 4 * c)..<((i + 1) * 11 * 4 * c)]), ref)
        }
    }
}

final class PreprocessorTests: XCTestCase {
    func grey(_ n: Int, _ h: Int, _ w: Int, seed: UInt64) throws -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let px = (0..<(n * h * w)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return try Dataset(name: "grey", height: h, width: w, channels: 1, pixels: .uint8(px),
                           labels: (0..<n).map { Int32($0 % 2) }, classCount: 2)
    }

    /// The fused kernel equals the plain composition for every combination of steps.
    func testFusedKernelMatchesReferenceComposition() throws {
        let ds = try grey(4, 9, 7, seed: 1)
        let norm = Normalization(mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3])
        let configs: [PreprocessConfig] = [
            PreprocessConfig(),
            PreprocessConfig(height: 16, width: 12, channels: 3, normalization: norm,
                             augment: AugmentConfig(cropPadding: 3, horizontalFlip: true, cutout: 5)),
            PreprocessConfig(height: 5, width: 4, channels: 1, normalization: Normalization(mean: [0.5], std: [0.5]),
                             augment: AugmentConfig(cropPadding: 1)),
            PreprocessConfig(channels: 3, augment: AugmentConfig(horizontalFlip: true, cutout: 4)),
        ]
        var rng = SeededGenerator(seed: 9)
        for cfg in configs {
            let pre = try Preprocessor(for: ds, config: cfg)
            var out = [Float](repeating: .nan, count: pre.outputSampleSize)
            for i in 0..<ds.count {
                for _ in 0..<4 {
                    let d = pre.draw(rng: &rng)
                    out.withUnsafeMutableBufferPointer { pre.process(ds, index: i, draw: d, into: $0.baseAddress!) }
                    let ref = pre.reference(ds.floatImage(at: i), draw: d)
                    XCTAssertEqual(out.count, ref.count)
                    for (a, b) in zip(out, ref) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(cfg) \(d)") }
                }
            }
        }
    }

    func testAugmentationIsDeterministicAndVaries() throws {
        let ds = try grey(2, 8, 8, seed: 2)
        let pre = try Preprocessor(for: ds, config: PreprocessConfig(augment: AugmentConfig(cropPadding: 2, horizontalFlip: true, cutout: 3)))
        let batch = (0..<2).flatMap { ds.floatImage(at: $0) }
        var r1 = SeededGenerator(seed: 42), r2 = SeededGenerator(seed: 42), r3 = SeededGenerator(seed: 43)
        let a = pre.apply(batch: batch, count: 2, augment: true, rng: &r1)
        let b = pre.apply(batch: batch, count: 2, augment: true, rng: &r2)
        let c = pre.apply(batch: batch, count: 2, augment: true, rng: &r3)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        var r4 = SeededGenerator(seed: 42)
        XCTAssertEqual(pre.apply(batch: batch, count: 2, augment: false, rng: &r4), batch)  // identity without augmentation
        // Draws cover the whole shift range and both flip states.
        var rng = SeededGenerator(seed: 5)
        let draws = (0..<400).map { _ in pre.draw(rng: &rng) }
        XCTAssertEqual(Set(draws.map(\.dy)), Set(-2...2))
        XCTAssertEqual(Set(draws.map(\.flip)), [false, true])
    }

    func testFlipAndShiftSemantics() throws {
        // One row 1x4 image [10, 20, 30, 40] / 255.
        let ds = try Dataset(name: "row", height: 1, width: 4, channels: 1, pixels: .uint8([10, 20, 30, 40]), labels: [0], classCount: 1)
        let pre = try Preprocessor(for: ds, config: PreprocessConfig(augment: AugmentConfig(cropPadding: 1, horizontalFlip: true)))
        func run(_ d: AugmentDraw) -> [Float] {
            var out = [Float](repeating: 0, count: 4)
            out.withUnsafeMutableBufferPointer { pre.process(ds, index: 0, draw: d, into: $0.baseAddress!) }
            return out.map { ($0 * 255).rounded() }
        }
        var d = AugmentDraw()
        d.dx = 1
        XCTAssertEqual(run(d), [20, 30, 40, 0])  // window moved right, zero pad enters
        d.flip = true
        XCTAssertEqual(run(d), [0, 40, 30, 20])  // crop first, then mirror the cropped window
    }

    func testNormalizationStatistics() throws {
        let ds = try Dataset(name: "n", height: 1, width: 2, channels: 1, pixels: .uint8([0, 255, 0, 255]), labels: [0, 0], classCount: 1)
        let n = Normalization.compute(from: ds, channels: 3)
        XCTAssertEqual(n.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(n.std[0], 0.5, accuracy: 1e-6)
        let pre = try Preprocessor(for: ds, config: PreprocessConfig(channels: 3, normalization: n))
        var out = [Float](repeating: 0, count: 6)
        out.withUnsafeMutableBufferPointer { pre.process(ds, index: 0, draw: AugmentDraw(), into: $0.baseAddress!) }
        XCTAssertEqual(out, [-1, -1, -1, 1, 1, 1])
        assertDataError(["channels", "3-channel", "1 channels"]) {
            _ = try Preprocessor(inputHeight: 2, inputWidth: 2, inputChannels: 3, config: PreprocessConfig(channels: 1))
        }
        assertDataError(["normalization", "2 means"]) {
            _ = try Preprocessor(for: ds, config: PreprocessConfig(normalization: Normalization(mean: [0, 0], std: [1, 1])))
        }
    }
}
