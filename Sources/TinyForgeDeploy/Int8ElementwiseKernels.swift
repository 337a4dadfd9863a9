// int8 ADD, MUL, MEAN and AVERAGE_POOL_2D, bit-exact with TFLM's reference kernels
// (`reference_integer_ops::Add/Mul/AveragePool`, `reference_ops::QuantizedMeanOrSum`).

/// TFLM `OpDataAdd` for int8: both inputs are brought to a common scale (2 × the larger input
/// scale) with 20 bits of headroom (`left_shift = 20`), added in int32, then rescaled to the
/// output. All three multipliers are < 1 (`QuantizeMultiplierSmallerThanOneExp`).
public struct AddQuantParams: Equatable, Sendable {
    public var input1Offset: Int32, input2Offset: Int32, outputOffset: Int32
    public var leftShift: Int
    public var input1Multiplier: QuantizedMultiplier
    public var input2Multiplier: QuantizedMultiplier
    public var outputMultiplier: QuantizedMultiplier
    public var activationMin: Int32, activationMax: Int32

    public init(input1: QuantParams, input2: QuantParams, output: QuantParams, activation: FusedActivation) {
        leftShift = 20
        input1Offset = -input1.zeroPoint
        input2Offset = -input2.zeroPoint
        outputOffset = output.zeroPoint
        let twiceMaxInputScale = 2 * Double(max(input1.scale, input2.scale))
        input1Multiplier = QuantizedMultiplier(Double(input1.scale) / twiceMaxInputScale)
        input2Multiplier = QuantizedMultiplier(Double(input2.scale) / twiceMaxInputScale)
        outputMultiplier = QuantizedMultiplier(
            twiceMaxInputScale / (Double(1 << leftShift) * Double(output.scale)))
        (activationMin, activationMax) = activation.int8Range(output: output)
    }
}

/// TFLM `OpDataMul` for int8: one multiplier s1·s2/s_out applied to (x1 − z1)(x2 − z2).
public struct MulQuantParams: Equatable, Sendable {
    public var input1Offset: Int32, input2Offset: Int32, outputOffset: Int32
    public var outputMultiplier: QuantizedMultiplier
    public var activationMin: Int32, activationMax: Int32

    public init(input1: QuantParams, input2: QuantParams, output: QuantParams, activation: FusedActivation) {
        input1Offset = -input1.zeroPoint
        input2Offset = -input2.zeroPoint
        outputOffset = output.zeroPoint
        outputMultiplier = QuantizedMultiplier(
            Double(input1.scale) * Double(input2.scale) / Double(output.scale))
        (activationMin, activationMax) = activation.int8Range(output: output)
    }
}

extension Int8Kernels {
    @inline(__always)
    public static func add(_ a: Int8, _ b: Int8, _ p: AddQuantParams) -> Int8 {
        let s1 = (p.input1Offset &+ Int32(a)) &* (1 << p.leftShift)
        let s2 = (p.input2Offset &+ Int32(b)) &* (1 << p.leftShift)
        let rawSum = multiplyByQuantizedMultiplierSmallerThanOne(s1, p.input1Multiplier)
            &+ multiplyByQuantizedMultiplierSmallerThanOne(s2, p.input2Multiplier)
        let raw = multiplyByQuantizedMultiplierSmallerThanOne(rawSum, p.outputMultiplier) &+ p.outputOffset
        return Int8(truncatingIfNeeded: min(p.activationMax, max(p.activationMin, raw)))
    }

    @inline(__always)
    public static func mul(_ a: Int8, _ b: Int8, _ p: MulQuantParams) -> Int8 {
        let product = (p.input1Offset &+ Int32(a)) &* (p.input2Offset &+ Int32(b))
        let raw = p.outputOffset &+ multiplyByQuantizedMultiplier(product, p.outputMultiplier)
        return Int8(truncatingIfNeeded: min(p.activationMax, max(p.activationMin, raw)))
    }

    /// Applies `f` element-wise with NumPy-style broadcasting of size-1 dimensions
    /// (shapes right-aligned to rank 4, as TFLM's `BroadcastBinaryFunction4DSlow`).
    /// a is `aShape`, b is `bShape`, y is `yShape`.
    public static func broadcastBinary(
        _ a: UnsafeBufferPointer<Int8>, _ aShape: Shape4,
        _ b: UnsafeBufferPointer<Int8>, _ bShape: Shape4,
        _ y: UnsafeMutableBufferPointer<Int8>, _ yShape: Shape4,
        _ f: (Int8, Int8) -> Int8
    ) {
        if aShape == bShape {
            for i in 0..<yShape.count { y[i] = f(a[i], b[i]) }
            return
        }
        func index(_ s: Shape4, _ n: Int, _ h: Int, _ w: Int, _ c: Int) -> Int {
            (((s.n == 1 ? 0 : n) * s.h + (s.h == 1 ? 0 : h)) * s.w + (s.w == 1 ? 0 : w)) * s.c + (s.c == 1 ? 0 : c)
        }
        var o = 0
        for n in 0..<yShape.n {
            for h in 0..<yShape.h {
                for w in 0..<yShape.w {
                    for c in 0..<yShape.c {
                        y[o] = f(a[index(aShape, n, h, w, c)], b[index(bShape, n, h, w, c)])
                        o += 1
                    }
                }
            }
        }
    }

    /// MEAN over `axes` of x (shape `xShape`, any rank ≤ 4 after negative axes are resolved).
    /// TFLM's int8 path: int32 sums of the raw values, minus zero_point·n, then one
    /// requantisation whose multiplier absorbs 1/n: with s = min(⌊log2 n⌋, 32, 31 + shift),
    /// multiplier' = (multiplier << s) / n (truncating), shift' = shift − s.
    /// `multiplier` is QuantizeMultiplier(s_in / s_out).
    public static func mean(
        x: UnsafeBufferPointer<Int8>, xShape: [Int], axes: [Int],
        y: UnsafeMutableBufferPointer<Int8>,
        inputZeroPoint: Int32, outputZeroPoint: Int32, multiplier: QuantizedMultiplier
    ) {
        let rank = xShape.count
        let reduced = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        var outDims = [Int](), outStrides = [Int](repeating: 0, count: rank)
        for d in 0..<rank where !reduced.contains(d) { outDims.append(xShape[d]) }
        var stride = 1
        for d in (0..<rank).reversed() where !reduced.contains(d) {
            outStrides[d] = stride
            stride *= xShape[d]
        }
        let outCount = outDims.reduce(1, *)
        var sums = [Int32](repeating: 0, count: outCount)
        var coord = [Int](repeating: 0, count: rank)
        for i in 0..<x.count {
            var o = 0
            for d in 0..<rank { o += coord[d] * outStrides[d] }
            sums[o] &+= Int32(x[i])
            var d = rank - 1
            while d >= 0 {
                coord[d] += 1
                if coord[d] < xShape[d] { break }
                coord[d] = 0
                d -= 1
            }
        }
        let n = Int64(x.count / outCount)
        var shift = 63 - (UInt64(n)).leadingZeroBitCount
        shift = min(shift, 32)
        shift = min(shift, 31 + multiplier.shift)
        let m = Int32(truncatingIfNeeded: (Int64(multiplier.multiplier) << shift) / n)
        let outShift = multiplier.shift - shift
        for i in 0..<outCount {
            let shifted = Int32(truncatingIfNeeded: Int64(sums[i]) - Int64(inputZeroPoint) * n)
            let v = multiplyByQuantizedMultiplier(shifted, m, outShift) &+ outputZeroPoint
            y[i] = Int8(truncatingIfNeeded: min(max(v, -128), 127))
        }
    }

    /// AVERAGE_POOL_2D. x is (N,H,W,C), y is (N,OH,OW,C); input and output share scale and
    /// zero point. The average counts only in-image taps and rounds half away from zero.
    public static func averagePool2d(
        x: UnsafeBufferPointer<Int8>, xShape: Shape4,
        y: UnsafeMutableBufferPointer<Int8>, yShape: Shape4,
        filterH: Int, filterW: Int, geometry g: ConvGeometry,
        activationMin: Int32, activationMax: Int32
    ) {
        for b in 0..<yShape.n {
            for oy in 0..<yShape.h {
                for ox in 0..<yShape.w {
                    let ix0 = ox * g.strideW - g.padLeft, iy0 = oy * g.strideH - g.padTop
                    let fx0 = max(0, -ix0), fx1 = min(filterW, xShape.w - ix0)
                    let fy0 = max(0, -iy0), fy1 = min(filterH, xShape.h - iy0)
                    for ch in 0..<xShape.c {
                        var acc: Int32 = 0, count: Int32 = 0
                        if fy0 < fy1 && fx0 < fx1 {
                            for fy in fy0..<fy1 {
                                for fx in fx0..<fx1 {
                                    acc += Int32(x[((b * xShape.h + iy0 + fy) * xShape.w + ix0 + fx) * xShape.c + ch])
                                    count += 1
                                }
                            }
                        }
                        if count == 0 { count = 1 }   // TFLM fails the op; validation rejects it first
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count
                        acc = min(max(acc, activationMin), activationMax)
                        y[((b * yShape.h + oy) * yShape.w + ox) * yShape.c + ch] = Int8(truncatingIfNeeded: acc)
                    }
                }
            }
        }
    }
}
