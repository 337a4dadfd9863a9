import XCTest
import TinyForgeSpec
@testable import TinyForgeEngine

/// Every optimised kernel against its plain reference twin, on awkward shapes.
final class KernelTwinTests: XCTestCase {
    func testGemmMatchesReferenceOnOddShapesAndStrides() {
        var rng = SeededGenerator(seed: 1)
        let ws = Workspace()
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (13, 24, 300), (6, 16, 8), (25, 9, 33), (5, 40, 257), (12, 8, 3)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = randomTensor([m * k], &rng), b = randomTensor([k * n], &rng)
                    let c0 = randomTensor([m * n], &rng)
                    let (rsA, csA) = transA ? (1, m) : (k, 1)
                    let (rsB, csB) = transB ? (1, k) : (n, 1)
                    for acc in [false, true] {
                        let fast = c0.clone(), ref = c0.clone()
                        Gemm.sgemm(m: m, n: n, k: k, a: a.data, rsA: rsA, csA: csA, b: b.data, rsB: rsB, csB: csB,
                                   c: fast.data, ldc: n, accumulate: acc, pack: ws.floats(.pack, Gemm.packSize(n: n)))
                        Gemm.sgemmReference(m: m, n: n, k: k, a: a.data, rsA: rsA, csA: csA, b: b.data, rsB: rsB, csB: csB,
                                            c: ref.data, ldc: n, accumulate: acc)
                        assertClose(fast.array, ref.array, tol: 1e-4, "gemm m\(m) n\(n) k\(k) tA\(transA) tB\(transB) acc\(acc)")
                    }
                }
            }
        }
    }

    /// Both register tiles (AVX2 6×16, AVX-512 12×32), unpacked and prepacked B, against the
    /// reference on shapes that are not multiples of either tile (M 1…37, N 1…70, K across the
    /// 256 block), strided/transposed A and B, C with a row stride wider than N, accumulate on
    /// and off; and the two tiles bitwise equal to each other on every case.
    func testGemmKernelOverrideParsesAndRejectsWithTheFix() throws {
        XCTAssertEqual(try Gemm.kernel(forEnvironmentValue: "avx2"), .avx2)
        XCTAssertEqual(try Gemm.kernel(forEnvironmentValue: "AVX512"), .avx512)
        XCTAssertThrowsError(try Gemm.kernel(forEnvironmentValue: "avx1024")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("TINYFORGE_GEMM=avx1024") && m.contains("use avx2 or avx512"), m)
        }
    }

    func testGemmKernelsMatchReferenceAndEachOtherBitwise() {
        var rng = SeededGenerator(seed: 21)
        let ws = Workspace()
        let shapes = [(1, 1, 1), (13, 33, 7), (12, 32, 256), (25, 17, 257), (37, 70, 300), (11, 48, 40), (24, 5, 513), (7, 64, 1)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = randomTensor([m * k], &rng), b = randomTensor([k * n], &rng)
                    let ldc = n + 3
                    let c0 = randomTensor([m * ldc], &rng)
                    let (rsA, csA) = transA ? (1, m) : (k, 1)
                    let (rsB, csB) = transB ? (1, k) : (n, 1)
                    for acc in [false, true] {
                        let ref = c0.clone()
                        Gemm.sgemmReference(m: m, n: n, k: k, a: a.data, rsA: rsA, csA: csA, b: b.data, rsB: rsB, csB: csB,
                                            c: ref.data, ldc: ldc, accumulate: acc)
                        var results: [[Float]] = []
                        for kern in GemmKernel.allCases {
                            let fast = c0.clone(), pre = c0.clone()
                            Gemm.sgemm(m: m, n: n, k: k, a: a.data, rsA: rsA, csA: csA, b: b.data, rsB: rsB, csB: csB,
                                       c: fast.data, ldc: ldc, accumulate: acc, pack: ws.floats(.pack, Gemm.packSize(n: n)), kernel: kern)
                            let packed = Tensor(shape: [Gemm.packedSize(k: k, n: n)])
                            Gemm.packAll(k: k, n: n, b: b.data, rsB: rsB, csB: csB, into: packed.data, kernel: kern)
                            Gemm.sgemm(m: m, n: n, k: k, a: a.data, rsA: rsA, csA: csA, packedB: packed.data,
                                       c: pre.data, ldc: ldc, accumulate: acc, kernel: kern)
                            let what = "\(kern) m\(m) n\(n) k\(k) tA\(transA) tB\(transB) acc\(acc)"
                            assertClose(fast.array, ref.array, tol: 1e-4, what)
                            XCTAssertEqual(fast.array, pre.array, "prepacked differs: \(what)")
                            results.append(fast.array)
                        }
                        XCTAssertEqual(results[0], results[1], "avx2 and avx512 tiles differ bitwise: m\(m) n\(n) k\(k) tA\(transA) tB\(transB) acc\(acc)")
                    }
                }
            }
        }
        XCTAssertTrue(GemmKernel.allCases.contains(Gemm.selected))
    }

    func testSimdActivationsMatchScalar() {
        var xs: [Float] = [-90, -20, -6, -3.5, -3, -1, -0.25, 0, 0.3, 1, 2.9, 3, 5.99, 6, 6.5, 20, 90]
        var rng = SeededGenerator(seed: 2)
        for _ in 0..<63 { xs.append(rng.nextGaussian() * 5) }
        for act in KernelActivation.allCases {
            for i in stride(from: 0, to: xs.count - 7, by: 8) {
                let u = F8((0..<8).map { xs[i + $0] }), dy = F8(repeating: 1.5)
                let f = act.apply(u), d = act.backward(u, dy)
                for l in 0..<8 {
                    XCTAssertEqual(f[l], act.apply(u[l]), accuracy: 2e-6 * max(1, abs(f[l])), "\(act) f(\(u[l]))")
                    XCTAssertEqual(d[l], 1.5 * act.derivative(u[l]), accuracy: 3e-6, "\(act) f'(\(u[l]))")
                }
            }
        }
    }

    /// Full and depthwise conv through the layer (no BN, no act ⇒ y = conv(x)) against the
    /// direct-loop reference, forward and backward, over odd sizes, all kernels and strides.
    func testConvKernelsMatchReference() throws {
        let pool = ThreadPool(threads: 2)
        var rng = SeededGenerator(seed: 3)
        let cases: [(h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int, dw: Bool)] = [
            (5, 7, 3, 13, 3, 1, false), (7, 5, 5, 9, 3, 2, false), (1, 1, 4, 6, 3, 1, false),
            (6, 6, 7, 17, 1, 1, false), (7, 7, 6, 5, 1, 2, false), (9, 8, 3, 8, 5, 2, false), (8, 8, 2, 4, 7, 1, false),
            (7, 9, 11, 11, 3, 1, true), (7, 7, 19, 19, 3, 2, true), (6, 5, 8, 8, 5, 1, true),
            (9, 9, 16, 16, 7, 2, true), (1, 1, 10, 10, 3, 2, true), (2, 3, 24, 24, 5, 2, true),
        ]
        for cs in cases {
            let layer = try ConvBNAct(cin: cs.cin, cout: cs.cout, kernel: cs.k, stride: cs.s, groups: cs.dw ? cs.cin : 1,
                                      bias: false, batchNorm: false, activation: nil, pool: pool, rng: &rng)
            let x = randomTensor([3, cs.h, cs.w, cs.cin], &rng)
            let s = ConvShape(n: 3, h: cs.h, w: cs.w, cin: cs.cin, cout: cs.cout, k: cs.k, stride: cs.s, depthwise: cs.dw)
            let y = layer.forward(x, training: true)
            let ref = ConvReference.forward(x.array, layer.weight.array, s)
            XCTAssertEqual(y.shape, [3, s.oh, s.ow, cs.cout])
            assertClose(y.array, ref, tol: 1e-4, "forward \(cs)")
            let dz = randomTensor(y.shape, &rng)
            layer.zeroGrad()
            let dx = layer.backward(dz)
            let (rdx, rdw) = ConvReference.backward(x.array, layer.weight.array, dz.array, s)
            assertClose(dx.array, rdx, tol: 1e-4, "dx \(cs)")
            assertClose(layer.weightGrad.array, rdw, tol: 1e-4, "dw \(cs)")
        }
    }

    /// The fused BN+activation passes against a plain per-element evaluation.
    func testFusedBNActMatchesPlainFormulas() {
        var rng = SeededGenerator(seed: 4)
        // c = 13: 8-wide block + scalar tail; 77: 32-wide blocks + 8-wide + tail; 48: the 16-lane
        // path when the AVX-512 tile is selected.
        for (rows, c) in [(11, 13), (9, 77), (7, 48)] {
        let z = randomTensor([rows, c], &rng, scale: 2), dy = randomTensor([rows, c], &rng)
        let scale = (0..<c).map { _ in rng.nextGaussian() }, shift = (0..<c).map { _ in rng.nextGaussian() }
        let mean = (0..<c).map { _ in rng.nextGaussian() * 0.1 }
        let k1 = (0..<c).map { _ in rng.nextGaussian() }, k2 = (0..<c).map { _ in rng.nextGaussian() }
        for act in [nil] + KernelActivation.allCases.map(Optional.some) {
            let y = Tensor(shape: [rows, c]), dz = Tensor(shape: [rows, c])
            var sg = [Double](repeating: 0, count: c), sgz = [Double](repeating: 0, count: c)
            BNAct.apply(z.data, y.data, rows: rows, c: c, scale: scale, shift: shift, act: act)
            BNAct.gradInput(dy.data, z.data, dz.data, rows: rows, c: c, scale: scale, shift: shift, k1: k1, k2: k2, act: act)
            BNAct.accumulateGrad(dy.data, z.data, rows: rows, c: c, scale: scale, shift: shift, mean: mean, act: act,
                                 sumG: &sg, sumGZ: &sgz)
            var ry = [Float](), rdz = [Float](), rsg = [Double](repeating: 0, count: c), rsgz = rsg
            for r in 0..<rows { for ch in 0..<c {
                let zi = z[r * c + ch], u = zi * scale[ch] + shift[ch]
                ry.append(act?.apply(u) ?? u)
                let g = dy[r * c + ch] * (act?.derivative(u) ?? 1)
                rdz.append(scale[ch] * g + k1[ch] + k2[ch] * zi)
                rsg[ch] += Double(g); rsgz[ch] += Double(g) * Double(zi - mean[ch])
            } }
            assertClose(y.array, ry, tol: 1e-5, "apply \(String(describing: act))")
            assertClose(dz.array, rdz, tol: 1e-5, "gradInput \(String(describing: act))")
            assertClose(sg.map(Float.init), rsg.map(Float.init), tol: 1e-5, "Σg \(String(describing: act))")
            assertClose(sgz.map(Float.init), rsgz.map(Float.init), tol: 1e-5, "Σg(z−μ) \(String(describing: act))")
            var st = [Double](repeating: 0, count: c), sq = st, rst = st, rsq = st
            BNAct.accumulateStats(z.data, rows: rows, c: c, sum: &st, sumSq: &sq)
            for r in 0..<rows { for ch in 0..<c { let v = Double(z[r * c + ch]); rst[ch] += v; rsq[ch] += v * v } }
            assertClose(st.map(Float.init), rst.map(Float.init), tol: 1e-5, "Σz")
            assertClose(sq.map(Float.init), rsq.map(Float.init), tol: 1e-5, "Σz²")
        }
        }
    }

    /// The 16-lane apply and dz kernels give the 8-lane kernels' bits (finite inputs).
    func testSixteenLaneBNActEqualsEightLaneBitwise() {
        var rng = SeededGenerator(seed: 8)
        let rows = 10, c = 32
        let z = randomTensor([rows, c], &rng, scale: 4), dy = randomTensor([rows, c], &rng)
        let p = (0..<4).map { _ in randomTensor([c], &rng) }   // scale, shift, k1, k2
        func run<K8: ActKernel, K16: Act16Kernel>(_ k8: K8.Type, _ k16: K16.Type) {
            let y8 = Tensor(shape: [rows, c]), y16 = Tensor(shape: [rows, c]), d8 = Tensor(shape: [rows, c]), d16 = Tensor(shape: [rows, c])
            BNAct.applyT(k8, z.data, y8.data, rows, c, p[0].data, p[1].data)
            BNAct.apply16(k16, z.data, y16.data, rows * c, c, p[0].data, p[1].data)
            BNAct.dzT(k8, dy.data, z.data, d8.data, rows, c, p[0].data, p[1].data, p[2].data, p[3].data)
            BNAct.dz16(k16, dy.data, z.data, d16.data, rows * c, c, p[0].data, p[1].data, p[2].data, p[3].data)
            XCTAssertEqual(y16.array, y8.array, "apply \(k8)")
            XCTAssertEqual(d16.array, d8.array, "dz \(k8)")
        }
        run(IdentityK.self, Identity16.self)
        run(ReLUK.self, ReLU16.self)
        run(ReLU6K.self, ReLU616.self)
        run(LeakyK.self, Leaky16.self)
        run(HSwishK.self, HSwish16.self)
    }
}
