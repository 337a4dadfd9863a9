// gemmlowp's fixed-point transcendental functions, as TFLM's int8 LOGISTIC uses them.
//
// A value is a raw Int32 with `integerBits` integer bits (gemmlowp `FixedPoint<int32_t,
// integerBits>`): real = raw / 2^(31 − integerBits). `+`, `-`, `&` on FixedPoint are plain
// (wrapping) int32 operations; `*` is `SaturatingRoundingDoublingHighMul` and adds the
// integer bits of both operands; `ExactMulByPot` only relabels the integer bits, the raw
// value is unchanged; `Rescale<dst>` is `SaturatingRoundingMultiplyByPOT<src − dst>`.
// The constants are gemmlowp's (they are the Q-format encodings of exp(−1/8), 1/3, 48/17,
// −32/17, exp(−2^k)), so the results are bit-exact with TFLM's reference LOGISTIC.
enum GemmlowpMath {
    /// Q0 `One()` is INT32_MAX (1.0 is not representable).
    static let oneQ0 = Int32.max

    /// exp(a) for a in [−1/4, 0), a and result in Q0 (0 integer bits).
    static func expOnIntervalBetweenNegativeOneQuarterAnd0Excl(_ a: Int32) -> Int32 {
        let constantTerm: Int32 = 1_895_147_668   // exp(-1/8)
        let oneThird: Int32 = 715_827_883          // 1/3
        let x = a &+ (1 << 28)                     // a + 1/8 (Taylor expansion around -1/8)
        let x2 = saturatingRoundingDoublingHighMul(x, x)
        let x3 = saturatingRoundingDoublingHighMul(x2, x)
        let x4 = saturatingRoundingDoublingHighMul(x2, x2)
        let x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2)
        let poly = saturatingRoundingMultiplyByPOT(
            saturatingRoundingDoublingHighMul(x4Over4 &+ x3, oneThird) &+ x2, -1)
        return constantTerm &+ saturatingRoundingDoublingHighMul(constantTerm, x &+ poly)
    }

    /// exp(a) for a <= 0; `a` has `integerBits` integer bits, the result is Q0.
    static func expOnNegativeValues(_ a: Int32, integerBits: Int) -> Int32 {
        let fractionalBits = 31 - integerBits
        let oneQuarter = Int32(1) << (fractionalBits - 2)
        let mask = oneQuarter - 1
        let aModQuarterMinusOneQuarter = (a & mask) &- oneQuarter
        var result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(
            saturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits))
        let remainder = aModQuarterMinusOneQuarter &- a
        // Barrel shifter: multiply by exp(-2^k) for every bit k set in the remainder.
        let table: [(exponent: Int, multiplier: Int32)] = [
            (-2, 1_672_461_947), (-1, 1_302_514_674), (0, 790_015_084), (1, 290_630_308),
            (2, 39_332_535), (3, 720_401), (4, 242),
        ]
        for entry in table where integerBits > entry.exponent {
            let shiftAmount = fractionalBits + entry.exponent
            if remainder & (Int32(1) << shiftAmount) != 0 {
                result = saturatingRoundingDoublingHighMul(result, entry.multiplier)
            }
        }
        if integerBits > 5 {
            let clampB = 36 - integerBits
            if a < -(Int32(1) << clampB) { result = 0 }
        }
        if a == 0 { result = oneQ0 }
        return result
    }

    /// 1 / (1 + a) for a in (0, 1), Q0 in and out; Newton–Raphson division in Q2.
    static func oneOverOnePlusXForXIn01(_ a: Int32) -> Int32 {
        let halfDenominator = roundingHalfSum(a, oneQ0)
        let c48Over17: Int32 = 1_515_870_810
        let cNeg32Over17: Int32 = -1_010_580_540
        let oneQ2: Int32 = 1 << 29
        var x = c48Over17 &+ saturatingRoundingDoublingHighMul(halfDenominator, cNeg32Over17)
        for _ in 0..<3 {
            let halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x)
            let oneMinus = oneQ2 &- halfDenominatorTimesX
            x = x &+ saturatingRoundingMultiplyByPOT(saturatingRoundingDoublingHighMul(x, oneMinus), 2)
        }
        // ExactMulByPot<-1> relabels Q2 as Q1; Rescale<0> then shifts left by 1.
        return saturatingRoundingMultiplyByPOT(x, 1)
    }

    /// logistic(a) = 1 / (1 + exp(−a)); `a` has `integerBits` integer bits, result is Q0.
    static func logistic(_ a: Int32, integerBits: Int) -> Int32 {
        if a == 0 { return 1 << 30 }
        let absInput = a > 0 ? a : 0 &- a
        let resultIfPositive = oneOverOnePlusXForXIn01(
            expOnNegativeValues(0 &- absInput, integerBits: integerBits))
        return a > 0 ? resultIfPositive : oneQ0 &- resultIfPositive
    }
}
