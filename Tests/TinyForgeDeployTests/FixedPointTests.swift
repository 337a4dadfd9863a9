import TinyForgeDeploy
import XCTest

/// Hand-computed values for TFLite's fixed-point requantisation (no Python needed).
final class FixedPointTests: XCTestCase {
    func testQuantizeMultiplierEdgeCases() {
        XCTAssertEqual(QuantizedMultiplier(0), QuantizedMultiplier(multiplier: 0, shift: 0))
        // 0.5 = 0.5 · 2^0 → Q31 0.5 = 2^30.
        XCTAssertEqual(QuantizedMultiplier(0.5), QuantizedMultiplier(multiplier: 1 << 30, shift: 0))
        // 1.0 = 0.5 · 2^1.
        XCTAssertEqual(QuantizedMultiplier(1.0), QuantizedMultiplier(multiplier: 1 << 30, shift: 1))
        // 0.75 · 2^31 = 0x6000_0000.
        XCTAssertEqual(QuantizedMultiplier(0.75), QuantizedMultiplier(multiplier: 0x6000_0000, shift: 0))
        // 0.1 = 0.8 · 2^-3; 0.8 · 2^31 = 1717986918.4 → 1717986918.
        XCTAssertEqual(QuantizedMultiplier(0.1), QuantizedMultiplier(multiplier: 1_717_986_918, shift: -3))
        // q just below 1 rounds to 2^31: halved, shift incremented.
        XCTAssertEqual(QuantizedMultiplier(1 - 0x1p-40), QuantizedMultiplier(multiplier: 1 << 30, shift: 1))
        // Below 2^-32 the shift would be < -31: flushed to zero.
        XCTAssertEqual(QuantizedMultiplier(0x1p-40), QuantizedMultiplier(multiplier: 0, shift: 0))
        XCTAssertEqual(QuantizedMultiplier(0x1p-32), QuantizedMultiplier(multiplier: 1 << 30, shift: -31))
        // Negative multipliers keep their sign (C frexp semantics).
        XCTAssertEqual(QuantizedMultiplier(-0.5), QuantizedMultiplier(multiplier: -(1 << 30), shift: 0))
        XCTAssertEqual(QuantizedMultiplier(-0.75), QuantizedMultiplier(multiplier: -0x6000_0000, shift: 0))
    }

    func testSaturatingRoundingDoublingHighMul() {
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int32.min, Int32.min), Int32.max)
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int32(1 << 30), Int32(1 << 30)), 1 << 29)
        // 3 · 0.5 = 1.5 → 2; −3 · 0.5 = −1.5 → −1 (gemmlowp's nudge rounds ties upwards).
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int32(3), Int32(1 << 30)), 2)
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int32(-3), Int32(1 << 30)), -1)
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int32(-5), Int32(1 << 30)), -2)
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int16.min, Int16.min), Int16.max)
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int16(3), Int16(1 << 14)), 2)
    }

    func testRoundingDivideByPOT() {
        XCTAssertEqual(roundingDivideByPOT(Int32(5), 1), 3)     // 2.5 → 3
        XCTAssertEqual(roundingDivideByPOT(Int32(-5), 1), -3)   // −2.5 → −3 (away from zero)
        XCTAssertEqual(roundingDivideByPOT(Int32(7), 2), 2)     // 1.75 → 2
        XCTAssertEqual(roundingDivideByPOT(Int32(-6), 2), -2)   // −1.5 → −2
        XCTAssertEqual(roundingDivideByPOT(Int32(-5), 2), -1)   // −1.25 → −1
        XCTAssertEqual(roundingDivideByPOT(Int32(123), 0), 123)
        XCTAssertEqual(roundingDivideByPOT(Int32.max, 31), 1)
        XCTAssertEqual(roundingDivideByPOT(Int16(-6), 2), -2)
    }

    func testMultiplyByQuantizedMultiplier() {
        let half = QuantizedMultiplier(0.5), two = QuantizedMultiplier(2.0), tenth = QuantizedMultiplier(0.1)
        XCTAssertEqual(multiplyByQuantizedMultiplier(100, half), 50)
        XCTAssertEqual(multiplyByQuantizedMultiplier(3, half), 2)
        XCTAssertEqual(multiplyByQuantizedMultiplier(-3, half), -1)   // double rounding artefact
        XCTAssertEqual(multiplyByQuantizedMultiplier(1000, two), 2000)
        // 1234 · 0.1: SRDHM(1234, 1717986918) = 987 (987.2), then /8 → 123.375 → 123.
        XCTAssertEqual(multiplyByQuantizedMultiplier(1234, tenth), 123)
        // Double rounding: 1235 · 0.1 = 123.5 exactly in reals, but SRDHM gives 988 (987.99…)
        // and 988/8 = 123.5 → 124.
        XCTAssertEqual(multiplyByQuantizedMultiplier(1235, tenth), 124)
        XCTAssertEqual(multiplyByQuantizedMultiplier(-1235, tenth), -124)
    }

    func testActivationRangeQuantisation() throws {
        let q = try Quantizer.activationParams(min: -1, max: 1)
        XCTAssertEqual(q.scale, Float(2.0 / 255.0), accuracy: 1e-9)
        XCTAssertEqual(q.zeroPoint, -1)                 // −0.5 rounds away from zero
        let relu6 = try Quantizer.activationParams(min: 0, max: 6)
        XCTAssertEqual(relu6.zeroPoint, -128)
        XCTAssertEqual(FusedActivation.relu6.int8Range(output: relu6).min, -128)
        XCTAssertEqual(FusedActivation.relu6.int8Range(output: relu6).max, 127)
        // The range is widened to contain 0.
        XCTAssertEqual(try Quantizer.activationParams(min: 2, max: 3).zeroPoint, -128)
        XCTAssertEqual(try Quantizer.activationParams(min: -4, max: -1).zeroPoint, 127)
        // ReLU6 on a wider range clamps at q(6): scale 12/255, zp −128 → 6/scale = 127.5 → 128 → 0.
        let wide = try Quantizer.activationParams(min: 0, max: 12)
        XCTAssertEqual(FusedActivation.relu6.int8Range(output: wide).max, 0)
        XCTAssertThrowsError(try Quantizer.activationParams(min: 1, max: -1))
        XCTAssertThrowsError(try Quantizer.activationParams(min: .nan, max: 1))
    }

    func testPerChannelWeightsAndBias() throws {
        // Two output channels of two weights each, axis 0.
        let (w, p) = try Quantizer.symmetricPerChannel([1, -2, 0.5, 0.25], shape: [2, 2], axis: 0)
        XCTAssertEqual(p.scales, [2 / 127, 0.5 / 127])
        XCTAssertEqual(p.zeroPoints, [0, 0])
        XCTAssertEqual(w, [64, -127, 127, 64])          // 63.5 rounds to 64
        let (z, zp) = try Quantizer.symmetricPerChannel([0, 0], shape: [1, 2], axis: 0)
        XCTAssertEqual(z, [0, 0])
        XCTAssertEqual(zp.scales, [1])
        // Depthwise layout (1,1,1,C), axis 3.
        let (d, dp) = try Quantizer.symmetricPerChannel([0.5, -4], shape: [1, 1, 1, 2], axis: 3)
        XCTAssertEqual(d, [127, -127])
        XCTAssertEqual(dp.quantizedDimension, 3)
        let (b, bp) = try Quantizer.bias([0.1, -0.3], inputScale: 0.5, weightScales: [0.01, 0.02])
        XCTAssertEqual(b, [20, -30])
        XCTAssertEqual(bp.scales, [0.005, 0.01])
        XCTAssertThrowsError(try Quantizer.bias([1, 2, 3], inputScale: 1, weightScales: [1, 1]))
    }

    func testLogisticParams() {
        // scale 1/16: real multiplier 2^-4 · 2^27 = 2^23 → frexp = 0.5 · 2^24.
        let p = LogisticParams(input: .perTensor(scale: 1.0 / 16, zeroPoint: 3))
        XCTAssertEqual(p.inputMultiplier, 1 << 30)
        XCTAssertEqual(p.inputLeftShift, 24)
        // radius = floor(15 · 2^27 / 2^24) = 120.
        XCTAssertEqual(p.inputRangeRadius, 120)
        // x = zero point → logistic(0) = 0.5 → Q8 128 − 128 = 0.
        XCTAssertEqual(Int8Kernels.logistic(3, p), 0)
        XCTAssertEqual(Int8Kernels.logistic(127, p), 127)      // saturates (124 > radius)
        XCTAssertEqual(Int8Kernels.logistic(-128, p), -128)
    }
}
