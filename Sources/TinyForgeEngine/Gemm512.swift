/// The AVX-512-shaped GEMM path: a 12×32 register tile of `SIMD16<Float>` (24 zmm accumulators,
/// two B vectors, broadcasts embedded in the FMAs), B packed in 32-wide panels.
///
/// Why this shape: AVX-512 has 32 vector registers, so a tile twice as wide and twice as tall as
/// the AVX2 6×16 one fits; per k step it does 24 FMAs of 16 lanes for 2 vector loads and 12
/// broadcasts (which `-target-cpu native` folds into the FMA as `{1to16}` memory operands).
/// A stays unpacked (no copy cost, which would be ≥ 25 % of the work when N ≤ 64, the common
/// case of the projection convs); the 12 row pointers plus the B pointer and the k offset just
/// fit in the 15 usable general registers.
///
/// Bitwise contract with the AVX2 path: every C element is the same sequential FMA chain over
/// k (starting from +0, k blocks of `Gemm.kc`, each block's partial sum added to C in block
/// order), so both paths give identical bits; the choice between them is only about speed.
/// With `-target-cpu haswell` a SIMD16 op becomes two ymm ops and this tile spills, which the
/// selection probe (`Gemm.selected`) notices and avoids.

extension Gemm {
    static let mr512 = 12
    static let nr512 = 32

    /// 12×32 tile: C[0..<mr, 0..<nr] (+)= A strip · packed 32-wide B panel. Rows ≥ mr read row
    /// mr−1 again and columns ≥ nr are zero padding; both are discarded at the store.
    @inline(__always)
    static func kernel12x32(_ kc: Int, _ a: UnsafePointer<Float>, _ rsA: Int, _ csA: Int, _ mr: Int,
                            _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                            _ nr: Int, _ acc: Bool) {
        let l = mr - 1
        let a0 = a, a1 = a + min(1, l) * rsA, a2 = a + min(2, l) * rsA, a3 = a + min(3, l) * rsA
        let a4 = a + min(4, l) * rsA, a5 = a + min(5, l) * rsA, a6 = a + min(6, l) * rsA, a7 = a + min(7, l) * rsA
        let a8 = a + min(8, l) * rsA, a9 = a + min(9, l) * rsA, a10 = a + min(10, l) * rsA, a11 = a + min(11, l) * rsA
        var c00 = F16(), c01 = F16(), c10 = F16(), c11 = F16(), c20 = F16(), c21 = F16()
        var c30 = F16(), c31 = F16(), c40 = F16(), c41 = F16(), c50 = F16(), c51 = F16()
        var c60 = F16(), c61 = F16(), c70 = F16(), c71 = F16(), c80 = F16(), c81 = F16()
        var c90 = F16(), c91 = F16(), ca0 = F16(), ca1 = F16(), cb0 = F16(), cb1 = F16()
        var bp = UnsafeRawPointer(b)
        var off = 0
        for _ in 0..<kc {
            let b0 = bp.load(as: F16.self), b1 = bp.load(fromByteOffset: 64, as: F16.self)
            var s = F16(repeating: a0[off])
            c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
            s = F16(repeating: a1[off]); c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
            s = F16(repeating: a2[off]); c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
            s = F16(repeating: a3[off]); c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
            s = F16(repeating: a4[off]); c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
            s = F16(repeating: a5[off]); c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
            s = F16(repeating: a6[off]); c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
            s = F16(repeating: a7[off]); c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
            s = F16(repeating: a8[off]); c80 = c80.addingProduct(s, b0); c81 = c81.addingProduct(s, b1)
            s = F16(repeating: a9[off]); c90 = c90.addingProduct(s, b0); c91 = c91.addingProduct(s, b1)
            s = F16(repeating: a10[off]); ca0 = ca0.addingProduct(s, b0); ca1 = ca1.addingProduct(s, b1)
            s = F16(repeating: a11[off]); cb0 = cb0.addingProduct(s, b0); cb1 = cb1.addingProduct(s, b1)
            bp += 128
            off += csA
        }
        if mr == 12 && nr == 32 {
            store2(c, c00, c01, acc); store2(c + ldc, c10, c11, acc)
            store2(c + 2 * ldc, c20, c21, acc); store2(c + 3 * ldc, c30, c31, acc)
            store2(c + 4 * ldc, c40, c41, acc); store2(c + 5 * ldc, c50, c51, acc)
            store2(c + 6 * ldc, c60, c61, acc); store2(c + 7 * ldc, c70, c71, acc)
            store2(c + 8 * ldc, c80, c81, acc); store2(c + 9 * ldc, c90, c91, acc)
            store2(c + 10 * ldc, ca0, ca1, acc); store2(c + 11 * ldc, cb0, cb1, acc)
            return
        }
        withUnsafeTemporaryAllocation(of: F16.self, capacity: 24) { t in
            t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21
            t[6] = c30; t[7] = c31; t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51
            t[12] = c60; t[13] = c61; t[14] = c70; t[15] = c71; t[16] = c80; t[17] = c81
            t[18] = c90; t[19] = c91; t[20] = ca0; t[21] = ca1; t[22] = cb0; t[23] = cb1
            storePartial(UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self), 32, c, ldc, mr, nr, acc)
        }
    }

    /// 12×16 tile for the last panel when N mod 32 ≤ 16 (the 32-wide panel is zero-padded, so
    /// only its first 16 columns are read).
    @inline(__always)
    static func kernel12x16(_ kc: Int, _ a: UnsafePointer<Float>, _ rsA: Int, _ csA: Int, _ mr: Int,
                            _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                            _ nr: Int, _ acc: Bool) {
        let l = mr - 1
        let a0 = a, a1 = a + min(1, l) * rsA, a2 = a + min(2, l) * rsA, a3 = a + min(3, l) * rsA
        let a4 = a + min(4, l) * rsA, a5 = a + min(5, l) * rsA, a6 = a + min(6, l) * rsA, a7 = a + min(7, l) * rsA
        let a8 = a + min(8, l) * rsA, a9 = a + min(9, l) * rsA, a10 = a + min(10, l) * rsA, a11 = a + min(11, l) * rsA
        var c0 = F16(), c1 = F16(), c2 = F16(), c3 = F16(), c4 = F16(), c5 = F16()
        var c6 = F16(), c7 = F16(), c8 = F16(), c9 = F16(), c10 = F16(), c11 = F16()
        var bp = UnsafeRawPointer(b)
        var off = 0
        for _ in 0..<kc {
            let b0 = bp.load(as: F16.self)
            c0 = c0.addingProduct(F16(repeating: a0[off]), b0); c1 = c1.addingProduct(F16(repeating: a1[off]), b0)
            c2 = c2.addingProduct(F16(repeating: a2[off]), b0); c3 = c3.addingProduct(F16(repeating: a3[off]), b0)
            c4 = c4.addingProduct(F16(repeating: a4[off]), b0); c5 = c5.addingProduct(F16(repeating: a5[off]), b0)
            c6 = c6.addingProduct(F16(repeating: a6[off]), b0); c7 = c7.addingProduct(F16(repeating: a7[off]), b0)
            c8 = c8.addingProduct(F16(repeating: a8[off]), b0); c9 = c9.addingProduct(F16(repeating: a9[off]), b0)
            c10 = c10.addingProduct(F16(repeating: a10[off]), b0); c11 = c11.addingProduct(F16(repeating: a11[off]), b0)
            bp += 128
            off += csA
        }
        if mr == 12 && nr == 16 {
            store1(c, c0, acc); store1(c + ldc, c1, acc); store1(c + 2 * ldc, c2, acc)
            store1(c + 3 * ldc, c3, acc); store1(c + 4 * ldc, c4, acc); store1(c + 5 * ldc, c5, acc)
            store1(c + 6 * ldc, c6, acc); store1(c + 7 * ldc, c7, acc); store1(c + 8 * ldc, c8, acc)
            store1(c + 9 * ldc, c9, acc); store1(c + 10 * ldc, c10, acc); store1(c + 11 * ldc, c11, acc)
            return
        }
        withUnsafeTemporaryAllocation(of: F16.self, capacity: 12) { t in
            t[0] = c0; t[1] = c1; t[2] = c2; t[3] = c3; t[4] = c4; t[5] = c5
            t[6] = c6; t[7] = c7; t[8] = c8; t[9] = c9; t[10] = c10; t[11] = c11
            storePartial(UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: Float.self), 16, c, ldc, mr, nr, acc)
        }
    }
}
