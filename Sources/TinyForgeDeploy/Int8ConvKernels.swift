// int8 reference kernels for the MAC-heavy ops, NHWC, bit-exact with TFLM's reference kernels
// (`reference_integer_ops::ConvPerChannel`, `DepthwiseConvPerChannel`,
// `FullyConnected`/`FullyConnectedPerChannel`). Accumulation is int32 of
// filter · (input − input_zero_point), plus the int32 bias, requantised per output channel
// with `multiplyByQuantizedMultiplier`, offset by the output zero point, clamped to the fused
// activation range. Padded pixels are skipped (they contribute real 0, i.e. q = zero point).

/// (N, H, W, C) dimensions of an NHWC tensor.
public struct Shape4: Equatable, Sendable {
    public var n: Int, h: Int, w: Int, c: Int
    public init(_ n: Int, _ h: Int, _ w: Int, _ c: Int) { self.n = n; self.h = h; self.w = w; self.c = c }
    /// Right-aligns a shape of rank ≤ 4 into NHWC (as TFLite's `RuntimeShape::ExtendedShape`).
    public init(extending s: [Int]) {
        let e = Array(repeating: 1, count: max(0, 4 - s.count)) + s.suffix(4)
        self.init(e[0], e[1], e[2], e[3])
    }
    public var count: Int { n * h * w * c }
}

/// Requantisation data of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED op (TFLM `OpData`).
public struct ConvQuantParams: Equatable, Sendable {
    /// −input_zero_point.
    public var inputOffset: Int32
    /// −filter_zero_point (FULLY_CONNECTED per-tensor only; 0 for symmetric weights).
    public var filterOffset: Int32
    public var outputOffset: Int32
    /// One per output channel (a single entry for per-tensor FULLY_CONNECTED).
    public var multipliers: [QuantizedMultiplier]
    public var activationMin: Int32, activationMax: Int32
}

public struct ConvGeometry: Equatable, Sendable {
    public var strideH: Int, strideW: Int, padTop: Int, padLeft: Int
}

public enum Int8Kernels {
    /// CONV_2D. x is (N,H,W,Cin), filter is (Cout,KH,KW,Cin), bias is (Cout), y is (N,OH,OW,Cout).
    public static func conv2d(
        x: UnsafeBufferPointer<Int8>, xShape: Shape4,
        filter: UnsafeBufferPointer<Int8>, filterShape: Shape4,
        bias: UnsafeBufferPointer<Int32>?,
        y: UnsafeMutableBufferPointer<Int8>, yShape: Shape4,
        geometry g: ConvGeometry, quant q: ConvQuantParams
    ) {
        let cin = xShape.c, cout = yShape.c, kh = filterShape.h, kw = filterShape.w
        for b in 0..<yShape.n {
            for oy in 0..<yShape.h {
                let iy0 = oy * g.strideH - g.padTop
                for ox in 0..<yShape.w {
                    let ix0 = ox * g.strideW - g.padLeft
                    for oc in 0..<cout {
                        var acc: Int32 = 0
                        for fy in 0..<kh {
                            let iy = iy0 + fy
                            if iy < 0 || iy >= xShape.h { continue }
                            for fx in 0..<kw {
                                let ix = ix0 + fx
                                if ix < 0 || ix >= xShape.w { continue }
                                let xBase = ((b * xShape.h + iy) * xShape.w + ix) * cin
                                let fBase = ((oc * kh + fy) * kw + fx) * cin
                                for ic in 0..<cin {
                                    acc &+= Int32(filter[fBase + ic]) &* (Int32(x[xBase + ic]) &+ q.inputOffset)
                                }
                            }
                        }
                        if let bias { acc &+= bias[oc] }
                        y[((b * yShape.h + oy) * yShape.w + ox) * cout + oc] =
                            requantize(acc, q.multipliers[oc], q)
                    }
                }
            }
        }
    }

    /// DEPTHWISE_CONV_2D, depth multiplier 1. x is (N,H,W,C), filter is (1,KH,KW,C), bias (C),
    /// y is (N,OH,OW,C).
    public static func depthwiseConv2d(
        x: UnsafeBufferPointer<Int8>, xShape: Shape4,
        filter: UnsafeBufferPointer<Int8>, filterShape: Shape4,
        bias: UnsafeBufferPointer<Int32>?,
        y: UnsafeMutableBufferPointer<Int8>, yShape: Shape4,
        geometry g: ConvGeometry, quant q: ConvQuantParams
    ) {
        let c = xShape.c, kh = filterShape.h, kw = filterShape.w
        for b in 0..<yShape.n {
            for oy in 0..<yShape.h {
                let iy0 = oy * g.strideH - g.padTop
                for ox in 0..<yShape.w {
                    let ix0 = ox * g.strideW - g.padLeft
                    for ch in 0..<c {
                        var acc: Int32 = 0
                        for fy in 0..<kh {
                            let iy = iy0 + fy
                            if iy < 0 || iy >= xShape.h { continue }
                            for fx in 0..<kw {
                                let ix = ix0 + fx
                                if ix < 0 || ix >= xShape.w { continue }
                                let xv = Int32(x[((b * xShape.h + iy) * xShape.w + ix) * c + ch])
                                acc &+= Int32(filter[(fy * kw + fx) * c + ch]) &* (xv &+ q.inputOffset)
                            }
                        }
                        if let bias { acc &+= bias[ch] }
                        y[((b * yShape.h + oy) * yShape.w + ox) * c + ch] =
                            requantize(acc, q.multipliers[ch], q)
                    }
                }
            }
        }
    }

    /// FULLY_CONNECTED. x is (B, I) (any shape whose last `I` elements form a row),
    /// weights are (O, I), bias (O), y is (B, O). One multiplier = per-tensor weights
    /// (filter offset applied), O multipliers = per-channel.
    public static func fullyConnected(
        x: UnsafeBufferPointer<Int8>, batches: Int, inputDepth: Int,
        weights: UnsafeBufferPointer<Int8>, outputDepth: Int,
        bias: UnsafeBufferPointer<Int32>?,
        y: UnsafeMutableBufferPointer<Int8>, quant q: ConvQuantParams
    ) {
        let perChannel = q.multipliers.count > 1
        for b in 0..<batches {
            for o in 0..<outputDepth {
                var acc: Int32 = 0
                for d in 0..<inputDepth {
                    let xv = Int32(x[b * inputDepth + d]) &+ q.inputOffset
                    let wv = Int32(weights[o * inputDepth + d]) &+ (perChannel ? 0 : q.filterOffset)
                    acc &+= wv &* xv
                }
                if let bias { acc &+= bias[o] }
                y[b * outputDepth + o] = requantize(acc, q.multipliers[perChannel ? o : 0], q)
            }
        }
    }

    @inline(__always)
    static func requantize(_ acc: Int32, _ m: QuantizedMultiplier, _ q: ConvQuantParams) -> Int8 {
        var v = multiplyByQuantizedMultiplier(acc, m.multiplier, m.shift) &+ q.outputOffset
        v = max(v, q.activationMin)
        v = min(v, q.activationMax)
        return Int8(truncatingIfNeeded: v)
    }
}
