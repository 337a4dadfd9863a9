/// Depthwise convolution kernels (forward, dW, dX side by side), one image per call, NHWC.
///
/// Why this shape (the previous per-pixel kernels spent ~38 % of a MobileNetV2 step on ≈ 10 % of
/// its MACs): they reloaded all k² weight vectors for every output pixel, recomputed the window
/// bounds per pixel, and swept channel blocks over the whole image (one cache line per pixel,
/// 32 bytes used). Here
/// - input rows are copied once into a small ring of zero-padded rows (`PaddedRows`), so every
///   window is in bounds and the inner loops carry no bounds logic; the ring (k rows of
///   (W+2p)·C floats) stays in L1/L2 while a row of outputs is produced;
/// - the loops run row → 8-channel block → output columns, so the window rows of one channel
///   block are reused across the whole output row;
/// - forward keeps 4 output columns in registers (the 3×3 path also keeps the 9 weight vectors),
///   dW keeps the 9 tap accumulators of a 3×3 kernel in registers for a whole output row
///   (maps narrower than 8 columns use the per-pixel kernel, which is faster there);
/// - dX at stride 1 is the forward kernel applied to dz with the taps flipped (same padding);
///   dX at stride 2 with a 3×3 kernel splits input rows and columns by parity
///   (`backwardInputStride2K3`, every FMA a real tap); 5×5 and 7×7 at stride 2 use the per-pixel
///   gather of `DepthwiseSimple` (each input pixel has at most ⌈k/2⌉² taps).
/// Channels beyond the last multiple of 8 take scalar loops with the same structure.
/// The reference twin is `ConvReference` (direct loops, Double accumulation).
public enum Depthwise {
    /// Scratch floats a call needs (the ring of padded rows plus a zero row and flipped weights;
    /// on maps narrower than 8 output columns also room for one transformed input image).
    public static func scratchSize(_ s: ConvShape) -> Int {
        imageOffset(s) + (s.ow < 8 ? s.h * s.w * s.cin : 0)
    }

    /// Scratch layout: the ring (k slots + the zero row) from 0, the flipped weights from
    /// `ringFloats`, the transformed image (narrow maps only) from `imageOffset`.
    static func ringFloats(_ s: ConvShape) -> Int { (s.k + 1) * (max(s.w, s.ow) + 2 * s.pad) * s.cin }
    static func imageOffset(_ s: ConvShape) -> Int { ringFloats(s) + s.k * s.k * s.cin }

    // MARK: forward

    /// z(oh,ow,C) = depthwise(x(h,w,C), w(k,k,C)) for one image. `scratch` holds `scratchSize(s)` floats.
    /// With `transform`, x holds the producer's pending pre-activations and the kernel convolves
    /// `transform(x)` (applied as the rows are copied into the ring).
    public static func forward(_ x: UnsafePointer<Float>, _ wt: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                               _ s: ConvShape, scratch: UnsafeMutablePointer<Float>, transform: InputTransform? = nil) {
        var ring = PaddedRows(src: x, h: s.h, w: s.w, c: s.cin, pad: s.pad, slots: s.k, buffer: scratch, transform: transform)
        convolve(&ring, wt, z, oh: s.oh, ow: s.ow, c: s.cin, k: s.k, st: s.stride)
    }

    /// out(oh,ow,C) = Σ taps of padded `ring` rows · wt, stride `st` (shared by forward and the
    /// stride-1 input gradient).
    static func convolve(_ ring: inout PaddedRows, _ wt: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                         oh: Int, ow: Int, c: Int, k: Int, st: Int) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: k) { rows in
            let rp = rows.baseAddress!
            for oy in 0..<oh {
                for ky in 0..<k { rp[ky] = ring.row(oy * st - ring.pad + ky) }
                let orow = out + oy * ow * c
                if k == 3 { row3(rp, wt, orow, ow: ow, c: c, st: st) } else { rowK(rp, wt, orow, ow: ow, c: c, k: k, st: st) }
            }
        }
    }

    /// One output row of a 3×3 depthwise conv: 9 weight vectors and 4 output columns in registers.
    /// Channel blocks of 16 where the process runs the AVX-512 GEMM tile (half the instructions;
    /// each lane does the same FMAs in the same order, so the result is the same bits), then 8,
    /// then scalar.
    @inline(__always)
    static func row3(_ rows: UnsafePointer<UnsafePointer<Float>>, _ wt: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                     ow: Int, c: Int, st: Int) {
        var cb = Gemm.wideLanes ? row3Blocks(F16.self, rows, wt, out, ow: ow, c: c, st: st, from: 0) : 0
        cb = row3Blocks(F8.self, rows, wt, out, ow: ow, c: c, st: st, from: cb)
        if cb < c { rowTail(rows, wt, out, ow: ow, c: c, k: 3, st: st, from: cb) }
    }

    /// `row3` for channel blocks of `V.scalarCount` lanes from `cb0` while whole blocks fit;
    /// returns the first channel not done.
    @inline(__always)
    static func row3Blocks<V: SIMD>(_: V.Type, _ rows: UnsafePointer<UnsafePointer<Float>>, _ wt: UnsafePointer<Float>,
                                    _ out: UnsafeMutablePointer<Float>, ow: Int, c: Int, st: Int, from cb0: Int) -> Int
    where V.Scalar == Float {
        let lanes = V.scalarCount, cs = c * 4, ss = st * c * 4
        let r0 = UnsafeRawPointer(rows[0]), r1 = UnsafeRawPointer(rows[1]), r2 = UnsafeRawPointer(rows[2])
        let wr = UnsafeRawPointer(wt)
        var cb = cb0
        while cb + lanes <= c {
            let o = cb * 4
            @inline(__always) func w(_ t: Int) -> V { wr.loadUnaligned(fromByteOffset: t * cs + o, as: V.self) }
            let w0 = w(0), w1 = w(1), w2 = w(2), w3 = w(3), w4 = w(4), w5 = w(5), w6 = w(6), w7 = w(7), w8 = w(8)
            @inline(__always) func tap(_ p: UnsafeRawPointer, _ acc: inout V, _ a: V, _ b: V, _ cc: V) {
                acc = acc.addingProduct(p.loadUnaligned(as: V.self), a)
                acc = acc.addingProduct(p.loadUnaligned(fromByteOffset: cs, as: V.self), b)
                acc = acc.addingProduct(p.loadUnaligned(fromByteOffset: 2 * cs, as: V.self), cc)
            }
            var ox = 0
            while ox + 4 <= ow {
                let base = ox * ss + o
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                tap(r0 + base, &a0, w0, w1, w2); tap(r0 + base + ss, &a1, w0, w1, w2)
                tap(r0 + base + 2 * ss, &a2, w0, w1, w2); tap(r0 + base + 3 * ss, &a3, w0, w1, w2)
                tap(r1 + base, &a0, w3, w4, w5); tap(r1 + base + ss, &a1, w3, w4, w5)
                tap(r1 + base + 2 * ss, &a2, w3, w4, w5); tap(r1 + base + 3 * ss, &a3, w3, w4, w5)
                tap(r2 + base, &a0, w6, w7, w8); tap(r2 + base + ss, &a1, w6, w7, w8)
                tap(r2 + base + 2 * ss, &a2, w6, w7, w8); tap(r2 + base + 3 * ss, &a3, w6, w7, w8)
                let op = UnsafeMutableRawPointer(out + ox * c + cb)
                op.storeBytes(of: a0, as: V.self); op.storeBytes(of: a1, toByteOffset: cs, as: V.self)
                op.storeBytes(of: a2, toByteOffset: 2 * cs, as: V.self); op.storeBytes(of: a3, toByteOffset: 3 * cs, as: V.self)
                ox += 4
            }
            while ox < ow {
                let base = ox * ss + o
                var a0 = V()
                tap(r0 + base, &a0, w0, w1, w2); tap(r1 + base, &a0, w3, w4, w5); tap(r2 + base, &a0, w6, w7, w8)
                UnsafeMutableRawPointer(out + ox * c + cb).storeBytes(of: a0, as: V.self)
                ox += 1
            }
            cb += lanes
        }
        return cb
    }

    /// One output row for any k: 4 output columns in registers, weights streamed from L1.
    static func rowK(_ rows: UnsafePointer<UnsafePointer<Float>>, _ wt: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                     ow: Int, c: Int, k: Int, st: Int) {
        let c8 = c & ~7, cs = c * 4, ss = st * c * 4
        var cb = 0
        while cb < c8 {
            let o = cb * 4
            var ox = 0
            while ox + 4 <= ow {
                var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
                for ky in 0..<k {
                    var p = UnsafeRawPointer(rows[ky]) + ox * ss + o
                    var wp = UnsafeRawPointer(wt + ky * k * c) + o
                    for _ in 0..<k {
                        let wv = wp.loadUnaligned(as: F8.self)
                        a0 = a0.addingProduct(p.loadUnaligned(as: F8.self), wv)
                        a1 = a1.addingProduct(p.loadUnaligned(fromByteOffset: ss, as: F8.self), wv)
                        a2 = a2.addingProduct(p.loadUnaligned(fromByteOffset: 2 * ss, as: F8.self), wv)
                        a3 = a3.addingProduct(p.loadUnaligned(fromByteOffset: 3 * ss, as: F8.self), wv)
                        p += cs; wp += cs
                    }
                }
                let op = UnsafeMutableRawPointer(out + ox * c + cb)
                op.storeBytes(of: a0, as: F8.self); op.storeBytes(of: a1, toByteOffset: cs, as: F8.self)
                op.storeBytes(of: a2, toByteOffset: 2 * cs, as: F8.self); op.storeBytes(of: a3, toByteOffset: 3 * cs, as: F8.self)
                ox += 4
            }
            while ox < ow {
                var a0 = F8()
                for ky in 0..<k {
                    var p = UnsafeRawPointer(rows[ky]) + ox * ss + o
                    var wp = UnsafeRawPointer(wt + ky * k * c) + o
                    for _ in 0..<k {
                        a0 = a0.addingProduct(p.loadUnaligned(as: F8.self), wp.loadUnaligned(as: F8.self))
                        p += cs; wp += cs
                    }
                }
                UnsafeMutableRawPointer(out + ox * c + cb).storeBytes(of: a0, as: F8.self)
                ox += 1
            }
            cb += 8
        }
        if c8 < c { rowTail(rows, wt, out, ow: ow, c: c, k: k, st: st, from: c8) }
    }

    /// Scalar channels `from..<c` of one output row.
    static func rowTail(_ rows: UnsafePointer<UnsafePointer<Float>>, _ wt: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        ow: Int, c: Int, k: Int, st: Int, from: Int) {
        for ox in 0..<ow {
            for ch in from..<c {
                var acc: Float = 0
                for ky in 0..<k { for kx in 0..<k { acc += rows[ky][(ox * st + kx) * c + ch] * wt[(ky * k + kx) * c + ch] } }
                out[ox * c + ch] = acc
            }
        }
    }

    // MARK: backward: weights

    /// dw(k,k,C) += Σ x·dz for one image (of `transform(x)` when given, as in `forward`).
    /// `scratch` holds `scratchSize(s)` floats.
    public static func backwardWeights(_ x: UnsafePointer<Float>, _ dz: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                       _ s: ConvShape, scratch: UnsafeMutablePointer<Float>, transform: InputTransform? = nil) {
        // Below 8 output columns the 9 accumulator loads/stores per row cost more than they
        // save; the tap-major per-pixel kernel wins there (measured with `--dw`).
        if s.ow < 8 {
            guard let t = transform else { DepthwiseSimple.backwardWeights(x, dz, dw, s); return }
            let image = scratch + imageOffset(s)
            t.apply(x, image, rows: s.h * s.w, c: s.cin)
            DepthwiseSimple.backwardWeights(UnsafePointer(image), dz, dw, s)
            return
        }
        var ring = PaddedRows(src: x, h: s.h, w: s.w, c: s.cin, pad: s.pad, slots: s.k, buffer: scratch, transform: transform)
        let c = s.cin, k = s.k, st = s.stride, c8 = c & ~7, cs = c * 4, ss = st * c * 4
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: k) { rows in
            let rp = rows.baseAddress!
            for oy in 0..<s.oh {
                for ky in 0..<k { rp[ky] = ring.row(oy * st - s.pad + ky) }
                let drow = UnsafeRawPointer(dz + oy * s.ow * c)
                var cb = 0
                if k == 3 {
                    // 9 tap accumulators stay in registers for the whole output row.
                    if Gemm.wideLanes { cb = dw3Blocks(F16.self, rp, drow, dw, ow: s.ow, c: c, st: st, from: 0) }
                    cb = dw3Blocks(F8.self, rp, drow, dw, ow: s.ow, c: c, st: st, from: cb)
                }
                while cb < c8 {
                    let o = cb * 4
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let dwp = UnsafeMutableRawPointer(dw + (ky * k + kx) * c + cb)
                            var acc = dwp.loadUnaligned(as: F8.self)
                            var px = UnsafeRawPointer(rp[ky]) + kx * cs + o, pd = drow + o
                            for _ in 0..<s.ow {
                                acc = acc.addingProduct(px.loadUnaligned(as: F8.self), pd.loadUnaligned(as: F8.self))
                                px += ss; pd += cs
                            }
                            dwp.storeBytes(of: acc, as: F8.self)
                        }
                    }
                    cb += 8
                }
                for ch in c8..<c {
                    for ky in 0..<k { for kx in 0..<k {
                        var acc: Float = 0
                        for ox in 0..<s.ow { acc += rp[ky][(ox * st + kx) * c + ch] * dz[(oy * s.ow + ox) * c + ch] }
                        dw[(ky * k + kx) * c + ch] += acc
                    } }
                }
            }
        }
    }

    /// One output row's contribution to a 3×3 dW for channel blocks of `V.scalarCount` lanes
    /// from `cb0` (9 tap accumulators in registers); returns the first channel not done.
    @inline(__always)
    static func dw3Blocks<V: SIMD>(_: V.Type, _ rp: UnsafePointer<UnsafePointer<Float>>, _ drow: UnsafeRawPointer,
                                   _ dw: UnsafeMutablePointer<Float>, ow: Int, c: Int, st: Int, from cb0: Int) -> Int
    where V.Scalar == Float {
        let lanes = V.scalarCount, cs = c * 4, ss = st * c * 4
        var cb = cb0
        while cb + lanes <= c {
            let o = cb * 4
            let dwp = UnsafeMutableRawPointer(dw + cb)
            @inline(__always) func ld(_ t: Int) -> V { dwp.loadUnaligned(fromByteOffset: t * cs, as: V.self) }
            var t0 = ld(0), t1 = ld(1), t2 = ld(2), t3 = ld(3), t4 = ld(4), t5 = ld(5), t6 = ld(6), t7 = ld(7), t8 = ld(8)
            var p0 = UnsafeRawPointer(rp[0]) + o, p1 = UnsafeRawPointer(rp[1]) + o, p2 = UnsafeRawPointer(rp[2]) + o
            var pd = drow + o
            for _ in 0..<ow {
                let d = pd.loadUnaligned(as: V.self)
                t0 = t0.addingProduct(p0.loadUnaligned(as: V.self), d)
                t1 = t1.addingProduct(p0.loadUnaligned(fromByteOffset: cs, as: V.self), d)
                t2 = t2.addingProduct(p0.loadUnaligned(fromByteOffset: 2 * cs, as: V.self), d)
                t3 = t3.addingProduct(p1.loadUnaligned(as: V.self), d)
                t4 = t4.addingProduct(p1.loadUnaligned(fromByteOffset: cs, as: V.self), d)
                t5 = t5.addingProduct(p1.loadUnaligned(fromByteOffset: 2 * cs, as: V.self), d)
                t6 = t6.addingProduct(p2.loadUnaligned(as: V.self), d)
                t7 = t7.addingProduct(p2.loadUnaligned(fromByteOffset: cs, as: V.self), d)
                t8 = t8.addingProduct(p2.loadUnaligned(fromByteOffset: 2 * cs, as: V.self), d)
                p0 += ss; p1 += ss; p2 += ss; pd += cs
            }
            dwp.storeBytes(of: t0, as: V.self); dwp.storeBytes(of: t1, toByteOffset: cs, as: V.self)
            dwp.storeBytes(of: t2, toByteOffset: 2 * cs, as: V.self); dwp.storeBytes(of: t3, toByteOffset: 3 * cs, as: V.self)
            dwp.storeBytes(of: t4, toByteOffset: 4 * cs, as: V.self); dwp.storeBytes(of: t5, toByteOffset: 5 * cs, as: V.self)
            dwp.storeBytes(of: t6, toByteOffset: 6 * cs, as: V.self); dwp.storeBytes(of: t7, toByteOffset: 7 * cs, as: V.self)
            dwp.storeBytes(of: t8, toByteOffset: 8 * cs, as: V.self)
            cb += lanes
        }
        return cb
    }

    // MARK: backward: input

    /// dx(h,w,C) = Σ dz·w for one image (written, not accumulated). `scratch` holds `scratchSize(s)` floats.
    public static func backwardInput(_ dz: UnsafePointer<Float>, _ wt: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                     _ s: ConvShape, scratch: UnsafeMutablePointer<Float>) {
        let c = s.cin, k = s.k, kk = k * k
        if s.stride == 1 {
            // dx = same-padded correlation of dz with the 180°-rotated kernel.
            let flipped = scratch + ringFloats(s)
            for t in 0..<kk { (flipped + t * c).update(from: wt + (kk - 1 - t) * c, count: c) }
            var ring = PaddedRows(src: dz, h: s.oh, w: s.ow, c: c, pad: s.pad, slots: k, buffer: scratch)
            convolve(&ring, flipped, dx, oh: s.h, ow: s.w, c: c, k: k, st: 1)
            return
        }
        if k == 3 { backwardInputStride2K3(dz, wt, dx, s, scratch: scratch); return }
        // Stride 2, k = 5, 7: the per-pixel gather (each input pixel has only ⌈k/2⌉² or fewer taps).
        DepthwiseSimple.backwardInput(dz, wt, dx, s)
    }

    /// dX of a 3×3 stride-2 depthwise conv (pad 1), by input-row parity: an even input row 2m
    /// takes tap row 1 of dz row m; an odd row 2m+1 takes tap row 0 of dz row m+1 and tap row 2
    /// of dz row m. Within a row, even column 2j takes tap column 1 of dz column j, odd column
    /// 2j+1 taps 0 and 2 of dz columns j+1 and j. So every FMA is a real tap (the per-pixel
    /// gather spent most of its time on window bounds), and a pair of input columns shares its
    /// dz loads. dz rows come zero-padded from the ring, so no bounds logic is left.
    static func backwardInputStride2K3(_ dz: UnsafePointer<Float>, _ wt: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                       _ s: ConvShape, scratch: UnsafeMutablePointer<Float>) {
        let c = s.cin, c8 = c & ~7, cs = c * 4
        var ring = PaddedRows(src: dz, h: s.oh, w: s.ow, c: c, pad: 1, slots: 3, buffer: scratch)
        let wr = UnsafeRawPointer(wt)
        let pairs = s.w / 2, odd = s.w % 2 == 1   // full (even, odd) column pairs, then maybe one even column
        for iy in 0..<s.h {
            let m = iy / 2
            // (dz row, tap row) pairs feeding this input row
            let even = iy % 2 == 0
            let ra = UnsafeRawPointer(even ? ring.row(m) : ring.row(m + 1)) + cs   // +cs: padded column 0 is ox = −1
            let rb = UnsafeRawPointer(ring.row(m)) + cs
            let kyA = even ? 1 : 0, kyB = 2
            let orow = UnsafeMutableRawPointer(dx + iy * s.w * c)
            var cb = 0
            while cb < c8 {
                let o = cb * 4
                @inline(__always) func w(_ t: Int) -> F8 { wr.loadUnaligned(fromByteOffset: t * cs + o, as: F8.self) }
                let a0 = w(kyA * 3), a1 = w(kyA * 3 + 1), a2 = w(kyA * 3 + 2)
                let b0 = w(kyB * 3), b1 = w(kyB * 3 + 1), b2 = w(kyB * 3 + 2)
                var pa = ra + o, pb = rb + o, po = orow + o
                if even {
                    for _ in 0..<pairs {
                        let d0 = pa.loadUnaligned(as: F8.self), d1 = pa.loadUnaligned(fromByteOffset: cs, as: F8.self)
                        po.storeBytes(of: d0 * a1, as: F8.self)
                        po.storeBytes(of: (d1 * a0).addingProduct(d0, a2), toByteOffset: cs, as: F8.self)
                        pa += cs; po += 2 * cs
                    }
                    if odd { po.storeBytes(of: pa.loadUnaligned(as: F8.self) * a1, as: F8.self) }
                } else {
                    for _ in 0..<pairs {
                        let d0 = pa.loadUnaligned(as: F8.self), d1 = pa.loadUnaligned(fromByteOffset: cs, as: F8.self)
                        let e0 = pb.loadUnaligned(as: F8.self), e1 = pb.loadUnaligned(fromByteOffset: cs, as: F8.self)
                        po.storeBytes(of: (d0 * a1).addingProduct(e0, b1), as: F8.self)
                        po.storeBytes(of: (d1 * a0).addingProduct(d0, a2).addingProduct(e1, b0).addingProduct(e0, b2),
                                      toByteOffset: cs, as: F8.self)
                        pa += cs; pb += cs; po += 2 * cs
                    }
                    if odd {
                        po.storeBytes(of: (pa.loadUnaligned(as: F8.self) * a1).addingProduct(pb.loadUnaligned(as: F8.self), b1), as: F8.self)
                    }
                }
                cb += 8
            }
            // Channel tail: the same taps, one channel at a time.
            if c8 < c {
                let fa = ra.assumingMemoryBound(to: Float.self), fb = rb.assumingMemoryBound(to: Float.self)
                let out = dx + iy * s.w * c
                for ch in c8..<c {
                    let a0 = wt[kyA * 3 * c + ch], a1 = wt[(kyA * 3 + 1) * c + ch], a2 = wt[(kyA * 3 + 2) * c + ch]
                    let b0 = wt[kyB * 3 * c + ch], b1 = wt[(kyB * 3 + 1) * c + ch], b2 = wt[(kyB * 3 + 2) * c + ch]
                    for ix in 0..<s.w {
                        let j = ix / 2
                        let d0 = fa[j * c + ch], d1 = fa[(j + 1) * c + ch]
                        var v: Float = ix % 2 == 0 ? d0 * a1 : (d1 * a0).addingProduct(d0, a2)
                        if !even {
                            let e0 = fb[j * c + ch], e1 = fb[(j + 1) * c + ch]
                            v = ix % 2 == 0 ? v.addingProduct(e0, b1) : v.addingProduct(e1, b0).addingProduct(e0, b2)
                        }
                        out[ix * c + ch] = v
                    }
                }
            }
        }
    }
}

/// A ring of `slots` zero-padded copies of consecutive rows of an (h, w, c) image, plus one
/// all-zero row for rows outside the image. Rows must be requested in non-decreasing windows no
/// wider than `slots` (true for every convolution sweep). Each source row is copied once, through
/// `transform` when given (the padding stays zero: it pads the transformed image).
struct PaddedRows {
    let src: UnsafePointer<Float>
    let h, w, c, pad, slots, rowFloats: Int
    let buffer: UnsafeMutablePointer<Float>
    let transform: InputTransform?
    var loaded = -1

    init(src: UnsafePointer<Float>, h: Int, w: Int, c: Int, pad: Int, slots: Int, buffer: UnsafeMutablePointer<Float>,
         transform: InputTransform? = nil) {
        self.src = src; self.h = h; self.w = w; self.c = c; self.pad = pad; self.slots = slots
        self.buffer = buffer; self.transform = transform
        rowFloats = (w + 2 * pad) * c
        // Zero the zero row and the border columns of every slot (never written again); each
        // slot's interior is overwritten by every row it receives.
        (buffer + slots * rowFloats).update(repeating: 0, count: rowFloats)
        if pad > 0 {
            for slot in 0..<slots {
                (buffer + slot * rowFloats).update(repeating: 0, count: pad * c)
                (buffer + slot * rowFloats + (pad + w) * c).update(repeating: 0, count: pad * c)
            }
        }
    }

    /// Padded row `iy` (column j of the padded row is image column j − pad).
    @inline(__always)
    mutating func row(_ iy: Int) -> UnsafePointer<Float> {
        if iy < 0 || iy >= h { return UnsafePointer(buffer + slots * rowFloats) }
        while loaded < iy {
            loaded += 1
            let dst = buffer + (loaded % slots) * rowFloats + pad * c
            if let t = transform { t.apply(src + loaded * w * c, dst, rows: w, c: c) } else { dst.update(from: src + loaded * w * c, count: w * c) }
        }
        return UnsafePointer(buffer + (iy % slots) * rowFloats)
    }
}
