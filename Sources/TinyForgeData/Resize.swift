/// Bilinear resizing with PyTorch's `F.interpolate(mode="bilinear", align_corners=False)`
/// semantics (no antialiasing), so a model trained here at 160x160 sees the same upscaled
/// CIFAR pixels as one trained with the reference PyTorch pipeline.
///
/// For output index `o` on an axis of input size `I` and output size `O`:
/// `src = max(0, (o + 0.5) * I/O - 0.5)`, `i0 = floor(src)`, `i1 = min(i0 + 1, I - 1)`,
/// `w1 = src - i0`, `w0 = 1 - w1`. The clamp at 0 (and `i1` at the border) is PyTorch's
/// `area_pixel_compute_source_index` for linear modes.
public enum Resize {
    /// One axis' lookup table: `i0[o]`, `i1[o]` and their weights.
    public struct AxisTable: Sendable, Equatable {
        public let i0: [Int32]
        public let i1: [Int32]
        public let w0: [Float]
        public let w1: [Float]

        public init(input: Int, output: Int) {
            precondition(input > 0 && output > 0, "resize axis sizes must be positive")
            var i0 = [Int32](), i1 = [Int32](), w0 = [Float](), w1 = [Float]()
            for o in 0..<output {
                let (a, b, l) = Resize.sourceIndex(o, input: input, output: output)
                i0.append(Int32(a)); i1.append(Int32(b)); w1.append(l); w0.append(1 - l)
            }
            self.i0 = i0; self.i1 = i1; self.w0 = w0; self.w1 = w1
        }
    }

    /// Source neighbours and the weight of the second one for output index `o`.
    @inline(__always)
    public static func sourceIndex(_ o: Int, input: Int, output: Int) -> (Int, Int, Float) {
        let scale = Float(input) / Float(output)
        let src = max(0, scale * (Float(o) + 0.5) - 0.5)
        let i0 = min(Int(src), input - 1)
        let i1 = min(i0 + 1, input - 1)
        return (i0, i1, src - Float(i0))
    }

    /// Plain reference: one image `x` (H, W, C) → (outH, outW, C), coordinates recomputed for
    /// every value. The table-driven path in `Preprocessor` is tested against this.
    public static func bilinearReference(_ x: [Float], height h: Int, width w: Int, channels c: Int,
                                         outHeight oh: Int, outWidth ow: Int) -> [Float] {
        precondition(x.count == h * w * c, "x must be (H, W, C)")
        var out = [Float](repeating: 0, count: oh * ow * c)
        for oy in 0..<oh {
            let (y0, y1, ly) = sourceIndex(oy, input: h, output: oh)
            for ox in 0..<ow {
                let (x0, x1, lx) = sourceIndex(ox, input: w, output: ow)
                for ch in 0..<c {
                    let a = x[(y0 * w + x0) * c + ch], b = x[(y0 * w + x1) * c + ch]
                    let d = x[(y1 * w + x0) * c + ch], e = x[(y1 * w + x1) * c + ch]
                    out[(oy * ow + ox) * c + ch] = (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * d + lx * e)
                }
            }
        }
        return out
    }

    /// Batch version for Float NHWC data: `x` is (N, H, W, C) → (N, outH, outW, C), using the
    /// precomputed tables (no per-pixel index math).
    public static func bilinear(_ x: [Float], count n: Int, height h: Int, width w: Int, channels c: Int,
                                outHeight oh: Int, outWidth ow: Int) -> [Float] {
        precondition(x.count == n * h * w * c, "x must be (N, H, W, C)")
        let ty = AxisTable(input: h, output: oh), tx = AxisTable(input: w, output: ow)
        var out = [Float](repeating: 0, count: n * oh * ow * c)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let s = src.baseAddress! + i * h * w * c
                    let d = dst.baseAddress! + i * oh * ow * c
                    for oy in 0..<oh {
                        let r0 = s + Int(ty.i0[oy]) * w * c, r1 = s + Int(ty.i1[oy]) * w * c
                        let wy0 = ty.w0[oy], wy1 = ty.w1[oy]
                        for ox in 0..<ow {
                            let a = Int(tx.i0[ox]) * c, b = Int(tx.i1[ox]) * c
                            let wx0 = tx.w0[ox], wx1 = tx.w1[ox]
                            let o = d + (oy * ow + ox) * c
                            for ch in 0..<c {
                                o[ch] = wy0 * (wx0 * r0[a + ch] + wx1 * r0[b + ch]) + wy1 * (wx0 * r1[a + ch] + wx1 * r1[b + ch])
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
