/// Single-precision matrix multiply `C (+)= A · B` with arbitrary strides, the workhorse behind
/// pointwise (1×1) convolutions, im2col convolutions and their weight/input gradients.
///
/// Layout of the arguments (element addresses, in floats):
/// - `A` is (M, K): `A(i,k) = a[i·rsA + k·csA]` — unpacked; the micro-kernel broadcasts
///   single elements, so any stride works (row-major activations have csA = 1; the transposed
///   activations of a weight gradient have rsA = 1, csA = C).
/// - `B` is (K, N): `B(k,j) = b[k·rsB + j·csB]` — packed per call into 16-wide, zero-padded
///   panels of `kc ≤ 256` rows so the kernel reads it with aligned vector loads.
/// - `C` is (M, N) row-major with row stride `ldc`.
///
/// Blocking (why these numbers): the 6×16 register tile uses 12 of the 16 AVX2 registers for
/// accumulators, leaving room for two B vectors and a broadcast; every k step does 12 FMAs for
/// 8 loads. One 256×16 B panel is 16 KB and the 6×256 A strip 6 KB, both L1-resident while
/// the kernel sweeps the panels of one row strip.
///
/// Two register tiles exist (`GemmKernel`): this file's AVX2 6×16 one and the AVX-512 12×32
/// one (Gemm512.swift). They give bitwise-identical results; `sgemm` uses `Gemm.selected`,
/// chosen once per process (GemmSelect.swift).
public enum Gemm {
    public static let mr = 6
    public static let nr = 16
    public static let kc = 256

    /// Floats of scratch `sgemm` needs for a given N (B packed in panels of the wider tile).
    public static func packSize(n: Int) -> Int { kc * ((n + nr512 - 1) / nr512) * nr512 }

    /// Fast path. `pack` must hold `packSize(n:)` floats (use the thread's workspace).
    /// `kernel` defaults to the per-process choice; tests and benchmarks pass it explicitly.
    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, rsA: Int, csA: Int,
                             b: UnsafePointer<Float>, rsB: Int, csB: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, pack: UnsafeMutablePointer<Float>,
                             kernel: GemmKernel = Gemm.selected) {
        sgemmBlocked(kernel, m: m, n: n, k: k, a: a, rsA: rsA, csA: csA, b: b, rsB: rsB, csB: csB, prepacked: nil,
                     c: c, ldc: ldc, accumulate: accumulate, pack: pack)
    }

    /// Floats that `packAll` needs for a K × N matrix B (either kernel's layout).
    public static func packedSize(k: Int, n: Int) -> Int { max(1, k * ((n + nr512 - 1) / nr512) * nr512) }

    /// Packs all of B (K × N, any strides) once, in `kernel`'s panel layout, for repeated
    /// `sgemm(packedB:)` calls with the same B — the layer weights, which every row chunk of
    /// every thread multiplies by (packing them per chunk cost 10–40 % of a 48-row GEMM).
    /// `out` must hold `packedSize(k:n:)` floats and be 64-byte aligned.
    public static func packAll(k: Int, n: Int, b: UnsafePointer<Float>, rsB: Int, csB: Int,
                               into out: UnsafeMutablePointer<Float>, kernel: GemmKernel = Gemm.selected) {
        let w = kernel == .avx512 ? nr512 : nr
        let stride = (n + w - 1) / w * w
        var pc = 0
        while pc < k {
            let kcur = min(kc, k - pc)
            packB(kcur, n, b + pc * rsB, rsB, csB, out + pc * stride, width: w)
            pc += kcur
        }
    }

    /// `C (+)= A · B` with B already packed by `packAll` for the same `kernel`.
    public static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, rsA: Int, csA: Int,
                             packedB: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, kernel: GemmKernel = Gemm.selected) {
        let scratch = UnsafeMutablePointer(mutating: packedB)   // never written: prepacked is set
        sgemmBlocked(kernel, m: m, n: n, k: k, a: a, rsA: rsA, csA: csA, b: packedB, rsB: 0, csB: 0, prepacked: packedB,
                     c: c, ldc: ldc, accumulate: accumulate, pack: scratch)
    }

    /// The blocked loop both tiles share: k blocks of `kc` (B packed per block into panels of
    /// the tile's width, or taken from `prepacked` at offset pc·panels·width), row strips of the
    /// tile's height, one register tile per panel. Only the tile differs between the kernels
    /// (`tile`), so the k-block order — and with it the bitwise contract — is the same.
    static func sgemmBlocked(_ kernel: GemmKernel, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, rsA: Int, csA: Int,
                             b: UnsafePointer<Float>, rsB: Int, csB: Int, prepacked: UnsafePointer<Float>?,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, pack: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let tm = kernel == .avx512 ? mr512 : mr, tn = kernel == .avx512 ? nr512 : nr
        let panels = (n + tn - 1) / tn
        var pc = 0
        while pc < k {
            let kcur = min(kc, k - pc)
            let bblock: UnsafePointer<Float>
            if let prepacked { bblock = prepacked + pc * panels * tn } else {
                packB(kcur, n, b + pc * rsB, rsB, csB, pack, width: tn); bblock = UnsafePointer(pack)
            }
            let acc = accumulate || pc > 0
            var ir = 0
            while ir < m {
                let mcur = min(tm, m - ir)
                let ap = a + ir * rsA + pc * csA
                for p in 0..<panels {
                    tile(kernel, kcur, ap, rsA, csA, mcur, bblock + p * kcur * tn, c + ir * ldc + p * tn, ldc,
                         min(tn, n - p * tn), acc)
                }
                ir += tm
            }
            pc += kcur
        }
    }

    /// One register tile. The last panel uses the half-width tile when it is at most half full
    /// (avoids half-empty FMAs on e.g. N = 24 or N = 48).
    @inline(__always)
    static func tile(_ kernel: GemmKernel, _ kc: Int, _ a: UnsafePointer<Float>, _ rsA: Int, _ csA: Int, _ mr: Int,
                     _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ nr: Int, _ acc: Bool) {
        switch kernel {
        case .avx2:
            if nr <= 8 { kernel6x8(kc, a, rsA, csA, mr, b, c, ldc, nr, acc) } else { kernel6x16(kc, a, rsA, csA, mr, b, c, ldc, nr, acc) }
        case .avx512:
            if nr <= 16 { kernel12x16(kc, a, rsA, csA, mr, b, c, ldc, nr, acc) } else { kernel12x32(kc, a, rsA, csA, mr, b, c, ldc, nr, acc) }
        }
    }

    /// Packs B(0..<kc, 0..<n) into panels `[panel][k][width]` (width 16 or 32), zero-padding
    /// the last panel. Transposed B (csB ≠ 1, rsB = 1) is read column by column so the loads
    /// stay contiguous and the strided writes land in the L1-resident panel.
    @inline(__always)
    static func packB(_ kc: Int, _ n: Int, _ b: UnsafePointer<Float>, _ rsB: Int, _ csB: Int,
                      _ out: UnsafeMutablePointer<Float>, width: Int) {
        let panels = (n + width - 1) / width
        for p in 0..<panels {
            let j0 = p * width, w = min(width, n - j0)
            let dst = out + p * kc * width
            if csB == 1 && w == width {
                for k in 0..<kc {
                    let src = UnsafeRawPointer(b + k * rsB + j0)
                    let d = UnsafeMutableRawPointer(dst + k * width)
                    var o = 0
                    while o < width * 4 {
                        d.storeBytes(of: src.loadUnaligned(fromByteOffset: o, as: F8.self), toByteOffset: o, as: F8.self)
                        o += 32
                    }
                }
            } else if rsB == 1 {
                for j in 0..<w {
                    let src = b + (j0 + j) * csB
                    for k in 0..<kc { dst[k * width + j] = src[k] }
                }
                if w < width { for k in 0..<kc { (dst + k * width + w).update(repeating: 0, count: width - w) } }
            } else {
                for k in 0..<kc {
                    let row = dst + k * width, src = b + k * rsB + j0 * csB
                    for j in 0..<w { row[j] = src[j * csB] }
                    for j in w..<width { row[j] = 0 }
                }
            }
        }
    }

    /// 6×16 register tile: C[0..<mr, 0..<nr] (+)= A strip · packed B panel.
    /// Rows ≥ mr read row mr-1 again (results discarded), so edge tiles need no special A path.
    @inline(__always)
    static func kernel6x16(_ kc: Int, _ a: UnsafePointer<Float>, _ rsA: Int, _ csA: Int, _ mr: Int,
                           _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                           _ nr: Int, _ acc: Bool) {
        let a0 = a, a1 = a + min(1, mr - 1) * rsA, a2 = a + min(2, mr - 1) * rsA
        let a3 = a + min(3, mr - 1) * rsA, a4 = a + min(4, mr - 1) * rsA, a5 = a + min(5, mr - 1) * rsA
        var c00 = F8(), c01 = F8(), c10 = F8(), c11 = F8(), c20 = F8(), c21 = F8()
        var c30 = F8(), c31 = F8(), c40 = F8(), c41 = F8(), c50 = F8(), c51 = F8()
        var bp = UnsafeRawPointer(b)
        var off = 0
        for _ in 0..<kc {
            let b0 = bp.load(as: F8.self), b1 = bp.load(fromByteOffset: 32, as: F8.self)
            var s = F8(repeating: a0[off])
            c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
            s = F8(repeating: a1[off])
            c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
            s = F8(repeating: a2[off])
            c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
            s = F8(repeating: a3[off])
            c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
            s = F8(repeating: a4[off])
            c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
            s = F8(repeating: a5[off])
            c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
            bp += 64
            off += csA
        }
        if mr == 6 && nr == 16 {
            store2(c, c00, c01, acc); store2(c + ldc, c10, c11, acc)
            store2(c + 2 * ldc, c20, c21, acc); store2(c + 3 * ldc, c30, c31, acc)
            store2(c + 4 * ldc, c40, c41, acc); store2(c + 5 * ldc, c50, c51, acc)
            return
        }
        withUnsafeTemporaryAllocation(of: F8.self, capacity: 12) { t in
            t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21
            t[6] = c30; t[7] = c31; t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51
            storePartial(UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self), 16, c, ldc, mr, nr, acc)
        }
    }

    /// 6×8 tile for the last panel when N mod 16 ≤ 8 (avoids half-empty FMAs on e.g. N = 24).
    @inline(__always)
    static func kernel6x8(_ kc: Int, _ a: UnsafePointer<Float>, _ rsA: Int, _ csA: Int, _ mr: Int,
                          _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                          _ nr: Int, _ acc: Bool) {
        let a0 = a, a1 = a + min(1, mr - 1) * rsA, a2 = a + min(2, mr - 1) * rsA
        let a3 = a + min(3, mr - 1) * rsA, a4 = a + min(4, mr - 1) * rsA, a5 = a + min(5, mr - 1) * rsA
        var c0 = F8(), c1 = F8(), c2 = F8(), c3 = F8(), c4 = F8(), c5 = F8()
        var bp = UnsafeRawPointer(b)
        var off = 0
        for _ in 0..<kc {
            let b0 = bp.load(as: F8.self)
            c0 = c0.addingProduct(F8(repeating: a0[off]), b0)
            c1 = c1.addingProduct(F8(repeating: a1[off]), b0)
            c2 = c2.addingProduct(F8(repeating: a2[off]), b0)
            c3 = c3.addingProduct(F8(repeating: a3[off]), b0)
            c4 = c4.addingProduct(F8(repeating: a4[off]), b0)
            c5 = c5.addingProduct(F8(repeating: a5[off]), b0)
            bp += 64
            off += csA
        }
        if mr == 6 && nr == 8 {
            store1(c, c0, acc); store1(c + ldc, c1, acc); store1(c + 2 * ldc, c2, acc)
            store1(c + 3 * ldc, c3, acc); store1(c + 4 * ldc, c4, acc); store1(c + 5 * ldc, c5, acc)
            return
        }
        withUnsafeTemporaryAllocation(of: F8.self, capacity: 6) { t in
            t[0] = c0; t[1] = c1; t[2] = c2; t[3] = c3; t[4] = c4; t[5] = c5
            storePartial(UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self), 8, c, ldc, mr, nr, acc)
        }
    }

    /// Stores (or adds, with `acc`) two adjacent vectors of a tile row at `c` (both tile widths).
    @inline(__always)
    static func store2<V: SIMD>(_ c: UnsafeMutablePointer<Float>, _ x0: V, _ x1: V, _ acc: Bool) where V.Scalar == Float {
        store1(c, x0, acc); store1(c + V.scalarCount, x1, acc)
    }

    /// Stores (or adds, with `acc`) one vector of a tile row at `c`.
    @inline(__always)
    static func store1<V: SIMD>(_ c: UnsafeMutablePointer<Float>, _ x0: V, _ acc: Bool) where V.Scalar == Float {
        let p = UnsafeMutableRawPointer(c)
        if acc { p.storeBytes(of: p.loadUnaligned(as: V.self) + x0, as: V.self) } else { p.storeBytes(of: x0, as: V.self) }
    }

    /// Edge tiles: copy (or add) the first `mr` rows × `nr` columns of a row-major tile of width `w`.
    @inline(__always)
    static func storePartial(_ f: UnsafePointer<Float>, _ w: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                             _ mr: Int, _ nr: Int, _ acc: Bool) {
        for i in 0..<mr {
            let row = c + i * ldc, src = f + i * w
            if acc { for j in 0..<nr { row[j] += src[j] } } else { for j in 0..<nr { row[j] = src[j] } }
        }
    }

    /// Reference twin: the textbook triple loop with Double accumulation.
    public static func sgemmReference(m: Int, n: Int, k: Int,
                                      a: UnsafePointer<Float>, rsA: Int, csA: Int,
                                      b: UnsafePointer<Float>, rsB: Int, csB: Int,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * rsA + p * csA]) * Double(b[p * rsB + j * csB]) }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + Float(s) : Float(s)
            }
        }
    }
}
