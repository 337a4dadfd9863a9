import TinyForgeDeploy
import XCTest

/// Hand-computed kernel results and the interpreter's validation errors (pure Swift).
final class InterpreterTests: XCTestCase {
    func testAveragePoolRoundsHalfAwayFromZero() throws {
        let q = QuantParams.perTensor(scale: 0.1, zeroPoint: 0)
        var b = QuantizedModelBuilder(name: "pool")
        let x = b.addInput(name: "x", shape: [1, 2, 2, 2], quant: q)
        let y = try b.averagePool2d(x, filterH: 2, filterW: 2, strideH: 2, strideW: 2, name: "pool")
        let out = try Int8Interpreter(model: b.build(outputs: [y])).run(inputs: [[1, -1, 2, -2, 1, -1, 1, -1]])
        // channel 0: (1+2+1+1)/4 = 1.25 → 1; channel 1: −5/4 = −1.25 → −1.
        XCTAssertEqual(out[0], [1, -1])
        let out2 = try Int8Interpreter(model: b.build(outputs: [y])).run(inputs: [[1, -1, 2, -2, 2, -2, 1, -1]])
        // 6/4 = 1.5 → 2; −6/4 → −2.
        XCTAssertEqual(out2[0], [2, -2])
    }

    func testMeanHandComputed() throws {
        // Same scale in and out: mean of raw values minus zero point, requantised.
        let q = QuantParams.perTensor(scale: 0.5, zeroPoint: 10)
        var b = QuantizedModelBuilder(name: "mean")
        let x = b.addInput(name: "x", shape: [1, 3, 1, 1], quant: q)
        let y = try b.mean(x, axes: [1, 2], keepDims: true, output: q, name: "mean")
        let out = try Int8Interpreter(model: b.build(outputs: [y])).run(inputs: [[10, 11, 13]])
        // (0 + 1 + 3)/3 = 1.33 → 1, + zp 10.
        XCTAssertEqual(out[0], [11])
    }

    func testConvMatchesIntegerArithmetic() throws {
        // 1×1 conv, one channel, weight 1 (scale 1/127 after symmetric quantisation of 1.0),
        // input scale 1, output scale 1/127: y = x exactly.
        var b = QuantizedModelBuilder(name: "id")
        let x = b.addInput(name: "x", shape: [1, 1, 3, 1], quant: .perTensor(scale: 1, zeroPoint: 0))
        let y = try b.conv2d(x, weights: [1], weightShape: [1, 1, 1, 1], bias: nil,
                             output: .perTensor(scale: 1, zeroPoint: 0), name: "c")
        XCTAssertEqual(try Int8Interpreter(model: b.build(outputs: [y])).run(inputs: [[-5, 0, 100]])[0], [-5, 0, 100])
    }

    func testSamePaddingGeometry() {
        XCTAssertEqual(Padding.same.outputSize(input: 10, kernel: 3, stride: 2), 5)
        // total padding (5−1)·2 + 3 − 10 = 1 → 0 before, 1 after.
        XCTAssertEqual(Padding.same.before(input: 10, kernel: 3, stride: 2, output: 5), 0)
        XCTAssertEqual(Padding.same.before(input: 9, kernel: 3, stride: 1, output: 9), 1)
        XCTAssertEqual(Padding.valid.outputSize(input: 11, kernel: 5, stride: 2), 4)
    }

    func testValidationErrorsNameTheProblem() throws {
        var b = QuantizedModelBuilder(name: "bad")
        let x = b.addInput(name: "x", shape: [1, 4], quant: .perTensor(scale: 0.1, zeroPoint: 0))
        _ = b.addTensor(QTensor(name: "gate", shape: [1, 4], type: .int8, quant: .perTensor(scale: 1.0 / 256, zeroPoint: 0)))
        var m = try b.build(outputs: [x])
        m.ops = [.logistic(UnaryOp(input: x, output: 1))]
        m.outputs = [1]
        XCTAssertThrowsError(try Int8Interpreter(model: m)) { e in
            XCTAssertTrue("\(e)".contains("zero point to be -128"), "\(e)")
        }
        m.ops = [.logistic(UnaryOp(input: 7, output: 1))]
        XCTAssertThrowsError(try Int8Interpreter(model: m)) { e in
            XCTAssertTrue("\(e)".contains("refers to tensor 7"), "\(e)")
        }
        m.ops = []
        XCTAssertThrowsError(try Int8Interpreter(model: m)) { e in
            XCTAssertTrue("\(e)".contains("never produced"), "\(e)")
        }
        let ok = try b.build(outputs: [x])
        XCTAssertThrowsError(try Int8Interpreter(model: ok).run(inputs: [[1, 2]])) { e in
            XCTAssertTrue("\(e)".contains("needs 4 values"), "\(e)")
        }
    }

    func testLogisticAgreesWithFloatSigmoid() throws {
        // Not a bit-exactness check (TFLMInteropTests does that): the fixed-point pipeline
        // must stay within one output step of the real sigmoid.
        let inQ = QuantParams.perTensor(scale: 0.05, zeroPoint: -3)
        let p = LogisticParams(input: inQ)
        for v in -128...127 {
            let x = Int8(v)
            let real = 1 / (1 + exp(-Double(inQ.scale) * Double(Int32(x) - inQ.zeroPoint)))
            let expected = max(-128, min(127, (real * 256).rounded() - 128))
            XCTAssertLessThanOrEqual(abs(Double(Int8Kernels.logistic(x, p)) - expected), 1, "x=\(x)")
        }
    }
}
