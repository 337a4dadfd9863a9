import XCTest
import TinyForgeSpec
@testable import TinyForgeEngine

/// The register-blocked depthwise kernels (3×3 path, generic-k path, stride-2 gather, channel
/// tails, widths that are not a multiple of the 4-column block) against the direct-loop
/// reference and the older per-pixel kernels, one image at a time as the layer calls them.
final class DepthwiseTwinTests: XCTestCase {
    func testDepthwiseKernelsMatchReferenceAndPerPixelTwin() {
        var rng = SeededGenerator(seed: 11)
        // (h, w, c, k, stride): 3×3 at both strides with c % 8 == 0 and ≠ 0, odd and tiny sizes,
        // widths 1…17 around the 4-column block and the 8-column dW switch, and the generic path
        // for k = 5, 7.
        let cases: [(Int, Int, Int, Int, Int)] = [
            (8, 8, 16, 3, 1), (8, 8, 16, 3, 2), (7, 9, 24, 3, 1), (7, 9, 24, 3, 2), (5, 6, 13, 3, 1),
            (6, 5, 13, 3, 2), (1, 1, 8, 3, 1), (1, 1, 8, 3, 2), (2, 3, 9, 3, 2), (4, 1, 16, 3, 1),
            (3, 7, 5, 3, 1), (9, 4, 32, 5, 1), (9, 10, 11, 5, 2), (8, 7, 16, 7, 1), (9, 9, 19, 7, 2),
            (3, 2, 8, 5, 2), (16, 16, 40, 3, 2), (6, 11, 12, 5, 1), (5, 17, 9, 7, 2),
        ]
        for (h, w, c, k, st) in cases {
            let s = ConvShape(n: 1, h: h, w: w, cin: c, cout: c, k: k, stride: st, depthwise: true)
            let x = randomTensor([h * w * c], &rng), wt = randomTensor([k * k * c], &rng)
            let dz = randomTensor([s.oh * s.ow * c], &rng)
            let scratch = Tensor(shape: [Depthwise.scratchSize(s)])
            // Garbage in the scratch must not leak into results.
            for i in 0..<scratch.count { scratch[i] = .nan }
            let z = Tensor(shape: [s.oh * s.ow * c])
            Depthwise.forward(x.data, wt.data, z.data, s, scratch: scratch.data)
            let dw0 = randomTensor([k * k * c], &rng)
            let dw = dw0.clone()
            Depthwise.backwardWeights(x.data, dz.data, dw.data, s, scratch: scratch.data)
            let dx = Tensor(shape: [h * w * c])
            for i in 0..<dx.count { dx[i] = .nan }   // must be fully overwritten
            Depthwise.backwardInput(dz.data, wt.data, dx.data, s, scratch: scratch.data)

            let what = "h\(h) w\(w) c\(c) k\(k) s\(st)"
            let refZ = ConvReference.forward(x.array, wt.array, s)
            let (refDx, refDw) = ConvReference.backward(x.array, wt.array, dz.array, s)
            assertClose(z.array, refZ, tol: 1e-4, "forward \(what)")
            assertClose(dx.array, refDx, tol: 1e-4, "dx \(what)")
            assertClose(dw.array, zip(dw0.array, refDw).map { $0 + $1 }, tol: 1e-4, "dw (accumulated) \(what)")

            // The per-pixel twin agrees too.
            let z2 = Tensor(shape: [s.oh * s.ow * c]), dx2 = Tensor(shape: [h * w * c]), dw2 = dw0.clone()
            DepthwiseSimple.forward(x.data, wt.data, z2.data, s)
            DepthwiseSimple.backwardWeights(x.data, dz.data, dw2.data, s)
            DepthwiseSimple.backwardInput(dz.data, wt.data, dx2.data, s)
            assertClose(z.array, z2.array, tol: 1e-5, "forward vs per-pixel \(what)")
            assertClose(dx.array, dx2.array, tol: 1e-5, "dx vs per-pixel \(what)")
            assertClose(dw.array, dw2.array, tol: 1e-5, "dw vs per-pixel \(what)")
        }
    }
}

/// The 16-lane 3×3 blocks (used when the AVX-512 tile is selected) give exactly the 8-lane
/// blocks' bits: each lane runs the same FMAs in the same order.
final class DepthwiseWideTests: XCTestCase {
    func testSixteenLaneBlocksEqualEightLaneBlocksBitwise() {
        var rng = SeededGenerator(seed: 13)
        for (ow, c, st) in [(9, 48, 1), (5, 32, 2), (4, 16, 1), (11, 64, 2)] {
            let pw = (ow - 1) * st + 3
            let rows = (0..<3).map { _ in randomTensor([pw * c], &rng) }
            let wt = randomTensor([9 * c], &rng), drow = randomTensor([ow * c], &rng)
            let outs = (0..<2).map { _ in Tensor(shape: [ow * c]) }
            let dws = (0..<2).map { _ in randomTensor([9 * c], &rng) }
            dws[1].copy(from: dws[0])
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 3) { rp in
                for i in 0..<3 { rp[i] = UnsafePointer(rows[i].data) }
                let r = UnsafePointer(rp.baseAddress!)
                XCTAssertEqual(Depthwise.row3Blocks(SIMD16<Float>.self, r, wt.data, outs[0].data, ow: ow, c: c, st: st, from: 0), c)
                XCTAssertEqual(Depthwise.row3Blocks(F8.self, r, wt.data, outs[1].data, ow: ow, c: c, st: st, from: 0), c)
                XCTAssertEqual(Depthwise.dw3Blocks(SIMD16<Float>.self, r, UnsafeRawPointer(drow.data), dws[0].data, ow: ow, c: c, st: st, from: 0), c)
                XCTAssertEqual(Depthwise.dw3Blocks(F8.self, r, UnsafeRawPointer(drow.data), dws[1].data, ow: ow, c: c, st: st, from: 0), c)
            }
            XCTAssertEqual(outs[0].array, outs[1].array, "row3 ow \(ow) c \(c) s\(st)")
            XCTAssertEqual(dws[0].array, dws[1].array, "dW ow \(ow) c \(c) s\(st)")
        }
    }
}
