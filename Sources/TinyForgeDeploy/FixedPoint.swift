import Foundation

// Fixed-point primitives of TFLite's integer kernels.
//
// Semantics follow TensorFlow Lite Micro (tflite-micro at commit 90b983c, 2026-08, verified
// against the `tflite-micro` wheel 0.dev20261023182759-g8f6596d) built WITHOUT
// `TFLITE_SINGLE_ROUNDING`, which is TFLM's default: `MultiplyByQuantizedMultiplier` is the
// gemmlowp "double rounding" form (a rounding doubling high multiply, then a rounding right
// shift). CMSIS-NN's default requantisation (`arm_nn_requantize` without
// `CMSIS_NN_USE_SINGLE_ROUNDING`) is the same, so Cortex-M builds agree bit for bit.
//
// All arithmetic that wraps in C (int32 `x * (1 << shift)`) wraps here too (`&*`), so the
// results match the C code even outside the documented input ranges.

/// A real multiplier `m` encoded as `multiplier · 2^(shift − 31)` with `multiplier` in
/// [2^30, 2^31) (or 0). `shift > 0` is a left shift, `shift < 0` a right shift, as in TFLite.
public struct QuantizedMultiplier: Equatable, Hashable, Sendable, Codable {
    public var multiplier: Int32
    public var shift: Int
    public init(multiplier: Int32, shift: Int) {
        self.multiplier = multiplier
        self.shift = shift
    }

    /// TFLite's `QuantizeMultiplier(double, int32*, int*)`.
    ///
    /// `frexp` splits `m = q · 2^shift` with |q| in [0.5, 1); `q` is rounded (half away from
    /// zero) to Q31. Edge cases, as in TFLite: `m == 0` gives (0, 0); when rounding reaches
    /// 2^31 the multiplier is halved and the shift incremented; a shift below −31 flushes
    /// the multiplier to zero (all bits would be shifted out anyway). Negative `m` gives a
    /// negative multiplier (used by LEAKY_RELU with negative alpha).
    public init(_ realMultiplier: Double) {
        precondition(realMultiplier.isFinite, "QuantizedMultiplier: multiplier must be finite")
        if realMultiplier == 0 {
            self.init(multiplier: 0, shift: 0)
            return
        }
        let parts = signedFrexp(realMultiplier)
        var shift = parts.1
        var qFixed = Int64((parts.0 * 2_147_483_648.0).rounded(.toNearestOrAwayFromZero))
        precondition(qFixed <= (1 << 31))
        if qFixed == (1 << 31) {
            qFixed /= 2
            shift += 1
        }
        precondition(qFixed <= Int64(Int32.max))
        if shift < -31 {
            shift = 0
            qFixed = 0
        }
        self.init(multiplier: Int32(qFixed), shift: shift)
    }
}

/// C `frexp`: x = q · 2^e with |q| in [0.5, 1) and q carrying the sign of x.
/// (Swift's generic `frexp` overlay returns |q| for negative x, which would drop the sign of a
/// negative LEAKY_RELU alpha multiplier.)
func signedFrexp(_ x: Double) -> (Double, Int) {
    let parts = frexp(abs(x))
    return (x < 0 ? -parts.0 : parts.0, parts.1)
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` (int32): `round(a·b / 2^31)`, rounding half
/// away from zero, saturating the single overflow case `INT32_MIN · INT32_MIN`.
@inline(__always)
public func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
    if a == b && a == Int32.min { return Int32.max }
    let ab = Int64(a) * Int64(b)
    let nudge: Int64 = ab >= 0 ? (1 << 30) : (1 - (1 << 30))
    // Swift's `/` truncates toward zero, like C's.
    return Int32(truncatingIfNeeded: (ab + nudge) / (1 << 31))
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` (int16).
@inline(__always)
public func saturatingRoundingDoublingHighMul(_ a: Int16, _ b: Int16) -> Int16 {
    if a == b && a == Int16.min { return Int16.max }
    let ab = Int32(a) * Int32(b)
    // C stores the nudge in an int16_t: 1 - (1 << 14) = -16383 fits.
    let nudge: Int32 = ab >= 0 ? (1 << 14) : (1 - (1 << 14))
    return Int16(truncatingIfNeeded: (ab + nudge) / (1 << 15))
}

/// gemmlowp `RoundingDivideByPOT`: arithmetic right shift by `exponent` (0…31) rounding to
/// nearest, ties away from zero.
@inline(__always)
public func roundingDivideByPOT(_ x: Int32, _ exponent: Int) -> Int32 {
    let mask = Int32(truncatingIfNeeded: (Int64(1) << exponent) - 1)
    let remainder = x & mask
    let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
    return (x >> exponent) + (remainder > threshold ? 1 : 0)
}

/// gemmlowp `RoundingDivideByPOT` on int16 (HARD_SWISH).
@inline(__always)
public func roundingDivideByPOT(_ x: Int16, _ exponent: Int) -> Int16 {
    let mask = Int16(truncatingIfNeeded: (Int32(1) << exponent) - 1)
    let remainder = x & mask
    let threshold = (mask >> 1) &+ (x < 0 ? 1 : 0)
    return (x >> exponent) &+ (remainder > threshold ? 1 : 0)
}

/// TFLite `MultiplyByQuantizedMultiplier(int32 x, multiplier, shift)`, double rounding:
/// `RoundingDivideByPOT(SRDHM(x · 2^left, multiplier), right)`.
@inline(__always)
public func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Int32, _ shift: Int) -> Int32 {
    let leftShift = shift > 0 ? shift : 0
    let rightShift = shift > 0 ? 0 : -shift
    let shifted = x &* Int32(truncatingIfNeeded: Int64(1) << leftShift)
    return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), rightShift)
}

@inline(__always)
public func multiplyByQuantizedMultiplier(_ x: Int32, _ m: QuantizedMultiplier) -> Int32 {
    multiplyByQuantizedMultiplier(x, m.multiplier, m.shift)
}

/// TFLite `MultiplyByQuantizedMultiplierSmallerThanOneExp` (ADD): `shift <= 0` only.
@inline(__always)
public func multiplyByQuantizedMultiplierSmallerThanOne(_ x: Int32, _ m: QuantizedMultiplier) -> Int32 {
    roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, m.multiplier), -m.shift)
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>`: a saturating left shift for
/// positive exponents, a rounding right shift for negative ones.
@inline(__always)
func saturatingRoundingMultiplyByPOT(_ x: Int32, _ exponent: Int) -> Int32 {
    if exponent == 0 { return x }
    if exponent < 0 { return roundingDivideByPOT(x, -exponent) }
    let threshold = Int32((1 << (31 - exponent)) - 1)
    if x > threshold { return Int32.max }
    if x < -threshold { return Int32.min }
    return x << exponent
}

/// gemmlowp `RoundingHalfSum` (int32): (a + b) / 2 rounded half away from zero.
@inline(__always)
func roundingHalfSum(_ a: Int32, _ b: Int32) -> Int32 {
    let sum = Int64(a) + Int64(b)
    let sign: Int64 = sum >= 0 ? 1 : -1
    return Int32(truncatingIfNeeded: (sum + sign) / 2)
}

/// TFLite `DownScaleInt32ToInt16Multiplier` (HARD_SWISH).
func downScaleInt32ToInt16Multiplier(_ m: Int32) -> Int16 {
    let rounding: Int32 = 1 << 15
    if m >= Int32.max - rounding { return Int16.max }
    return Int16(truncatingIfNeeded: (m + rounding) >> 16)
}

/// TFLite `CalculateInputRadius` (LOGISTIC): the largest |input − zero_point| that does not
/// saturate the Q(integerBits) fixed-point input after scaling.
func calculateInputRadius(integerBits: Int, leftShift: Int, totalSignedBits: Int = 31) -> Int32 {
    let maxInputRescaled = 1.0 * Double((1 << integerBits) - 1)
        * Double(Int64(1) << (totalSignedBits - integerBits)) / Double(Int64(1) << leftShift)
    return Int32(maxInputRescaled.rounded(.down))
}
