import Foundation

// int8 LOGISTIC, HARD_SWISH, LEAKY_RELU and SOFTMAX, bit-exact with TFLM's reference kernels.
// Each `...Params` mirrors the op data TFLM's Prepare computes, including where TFLM computes
// in float before widening to double (the rounding of those floats matters for bit-exactness).

/// TFLM int8 LOGISTIC (`reference_integer_ops::Logistic`): not a lookup table but gemmlowp's
/// fixed-point logistic. The input is rescaled to Q4.27 (4 integer bits), inputs beyond
/// ±radius saturate to −128/127, the Q0.31 result is shifted to Q8 and offset by −128.
/// The output must be quantised with zero point −128 (TFLM checks it) and scale 1/256.
public struct LogisticParams: Equatable, Sendable {
    public var inputZeroPoint: Int32
    public var inputRangeRadius: Int32
    public var inputMultiplier: Int32
    public var inputLeftShift: Int

    public init(input: QuantParams) {
        let inputIntegerBits = 4
        let real = Double(input.scale) * Double(1 << (31 - inputIntegerBits))
        let parts = signedFrexp(real)
        inputZeroPoint = input.zeroPoint
        inputLeftShift = parts.1
        inputMultiplier = Int32(truncatingIfNeeded: Int64((parts.0 * 2_147_483_648.0).rounded(.toNearestOrAwayFromZero)))
        inputRangeRadius = calculateInputRadius(integerBits: inputIntegerBits, leftShift: inputLeftShift)
    }
}

/// TFLM int8 HARD_SWISH (`reference_ops::HardSwish`): int16 fixed point with a "hi-res" input
/// (×128), a ReLU6-ish gate on scale 3/32768 and an int16 output multiplier.
public struct HardSwishParams: Equatable, Sendable {
    public var inputZeroPoint: Int32, outputZeroPoint: Int32
    public var outputMultiplier: Int16, outputMultiplierExponent: Int
    public var reluishMultiplier: Int16, reluishMultiplierExponent: Int

    public init(input: QuantParams, output: QuantParams) {
        inputZeroPoint = input.zeroPoint
        outputZeroPoint = output.zeroPoint
        let hiresInputScale: Float = (1.0 / 128.0) * input.scale
        let reluishScale: Float = 3.0 / 32768.0
        let om = QuantizedMultiplier(Double(hiresInputScale / output.scale))
        outputMultiplier = downScaleInt32ToInt16Multiplier(om.multiplier)
        outputMultiplierExponent = om.shift
        let rm = QuantizedMultiplier(Double(hiresInputScale / reluishScale))
        reluishMultiplier = downScaleInt32ToInt16Multiplier(rm.multiplier)
        reluishMultiplierExponent = rm.shift
    }
}

/// TFLM int8 LEAKY_RELU: identity branch s_in/s_out, negative branch s_in·alpha/s_out (both
/// computed in float, then quantised).
public struct LeakyReluParams: Equatable, Sendable {
    public var inputZeroPoint: Int32, outputZeroPoint: Int32
    public var alphaMultiplier: QuantizedMultiplier
    public var identityMultiplier: QuantizedMultiplier

    public init(input: QuantParams, output: QuantParams, alpha: Float) {
        inputZeroPoint = input.zeroPoint
        outputZeroPoint = output.zeroPoint
        alphaMultiplier = QuantizedMultiplier(Double(input.scale * alpha / output.scale))
        identityMultiplier = QuantizedMultiplier(Double(input.scale / output.scale))
    }
}

/// TFLM int8→int8 SOFTMAX (`reference_ops::Softmax`): differences to the row maximum are
/// scaled by beta·s_in into Q5.26, exponentiated with gemmlowp's `exp_on_negative_values`,
/// summed in Q12.19 and normalised with a fixed-point reciprocal. Output zero point −128 and
/// scale exactly 1/256 (TFLM checks both).
public struct SoftmaxParams: Equatable, Sendable {
    public var inputMultiplier: Int32
    public var inputLeftShift: Int
    public var diffMin: Int32

    public init(input: QuantParams, beta: Float) {
        let scaledDiffIntegerBits = 5
        let maxReal = Double((Int64(1) << 31) - 1)
        let real = min(Double(beta) * Double(input.scale) * Double(1 << (31 - scaledDiffIntegerBits)), maxReal)
        let m = QuantizedMultiplier(real)
        inputMultiplier = m.multiplier
        inputLeftShift = m.shift
        diffMin = -calculateInputRadius(integerBits: scaledDiffIntegerBits, leftShift: m.shift)
    }
}

extension Int8Kernels {
    public static func logistic(_ x: Int8, _ p: LogisticParams) -> Int8 {
        let input = Int32(x) - p.inputZeroPoint
        if input <= -p.inputRangeRadius { return Int8.min }
        if input >= p.inputRangeRadius { return Int8.max }
        let inputQ4 = multiplyByQuantizedMultiplier(input, p.inputMultiplier, p.inputLeftShift)
        let outputQ0 = GemmlowpMath.logistic(inputQ4, integerBits: 4)
        let outputQ8 = roundingDivideByPOT(outputQ0, 31 - 8) - 128
        return Int8(min(max(outputQ8, -128), 127))
    }

    public static func hardSwish(_ x: Int8, _ p: HardSwishParams) -> Int8 {
        func saturatingLeftShift(_ v: Int16, _ amount: Int) -> Int16 {
            Int16(clamping: Int64(v) * Int64(1 << amount))
        }
        /// Non-rounding doubling high multiply (TFLite's local `SaturatingDoublingHighMul`).
        func doublingHighMul(_ a: Int16, _ b: Int16) -> Int16 {
            if a == b && a == Int16.min { return Int16.max }
            return Int16(truncatingIfNeeded: (Int32(a) * Int32(b)) / (1 << 15))
        }
        let inputValue = Int16(truncatingIfNeeded: Int32(x) - p.inputZeroPoint)
        let hires = inputValue &* (1 << 7)
        let preshiftOutputScale = saturatingRoundingDoublingHighMul(hires, p.outputMultiplier)
        var reluish = hires
        if p.reluishMultiplierExponent > 0 {
            reluish = saturatingLeftShift(reluish, p.reluishMultiplierExponent - 1)
        }
        reluish = saturatingRoundingDoublingHighMul(reluish, p.reluishMultiplier)
        if p.reluishMultiplierExponent > 0 { reluish = saturatingLeftShift(reluish, 1) }
        if p.reluishMultiplierExponent < 0 {
            reluish = roundingDivideByPOT(reluish, -p.reluishMultiplierExponent)
        }
        reluish = Int16(truncatingIfNeeded: (Int32(reluish) + (1 << 15)) >> 1)
        let preshiftOutput = doublingHighMul(reluish, preshiftOutputScale)
        var out = roundingDivideByPOT(preshiftOutput, -p.outputMultiplierExponent)
        out = out &+ Int16(truncatingIfNeeded: p.outputZeroPoint)
        return Int8(min(max(out, -128), 127))
    }

    public static func leakyRelu(_ x: Int8, _ p: LeakyReluParams) -> Int8 {
        let input = Int32(x) - p.inputZeroPoint
        var out = p.outputZeroPoint
        if input >= 0 {
            out &+= multiplyByQuantizedMultiplier(input, p.identityMultiplier)
        } else {
            let negative = p.alphaMultiplier.multiplier < 0
            let safe = negative ? 0 &- p.alphaMultiplier.multiplier : p.alphaMultiplier.multiplier
            let scaled = multiplyByQuantizedMultiplier(input, safe, p.alphaMultiplier.shift)
            out &+= negative ? 0 &- scaled : scaled
        }
        return Int8(min(max(out, -128), 127))
    }

    /// SOFTMAX over the last dimension. x and y are (rows, depth).
    public static func softmax(
        x: UnsafeBufferPointer<Int8>, y: UnsafeMutableBufferPointer<Int8>, depth: Int, _ p: SoftmaxParams
    ) {
        let rows = x.count / depth
        func scaledDiff(_ diff: Int32) -> Int32 {
            // MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM(x · 2^left, m).
            saturatingRoundingDoublingHighMul(diff &* Int32(truncatingIfNeeded: Int64(1) << p.inputLeftShift), p.inputMultiplier)
        }
        for r in 0..<rows {
            var maxInRow = Int8.min
            for c in 0..<depth { maxInRow = max(maxInRow, x[r * depth + c]) }
            var sumOfExps: Int32 = 0   // Q12.19
            for c in 0..<depth {
                let diff = Int32(x[r * depth + c]) - Int32(maxInRow)
                if diff >= p.diffMin {
                    let e = GemmlowpMath.expOnNegativeValues(scaledDiff(diff), integerBits: 5)
                    sumOfExps &+= roundingDivideByPOT(e, 12)   // Rescale<12> from Q0
                }
            }
            // GetReciprocal(sum, 12): normalise to (1, 2], take 1/(1 + x) in Q0.
            let headroomPlusOne = UInt32(bitPattern: sumOfExps).leadingZeroBitCount
            let numBitsOverUnit = 12 - headroomPlusOne
            let shiftedSumMinusOne = Int32(bitPattern: (UInt32(bitPattern: sumOfExps) << UInt32(headroomPlusOne)) &- (UInt32(1) << 31))
            let shiftedScale = GemmlowpMath.oneOverOnePlusXForXIn01(shiftedSumMinusOne)
            let exponent = numBitsOverUnit + 31 - 8
            for c in 0..<depth {
                let diff = Int32(x[r * depth + c]) - Int32(maxInRow)
                if diff >= p.diffMin {
                    let e = GemmlowpMath.expOnNegativeValues(scaledDiff(diff), integerBits: 5)
                    let unsat = roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftedScale, e), exponent)
                    y[r * depth + c] = Int8(min(max(unsat - 128, -128), 127))
                } else {
                    y[r * depth + c] = Int8.min
                }
            }
        }
    }
}
