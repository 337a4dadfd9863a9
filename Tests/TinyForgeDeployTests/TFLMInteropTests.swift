import Foundation
import TinyForgeDeploy
import XCTest

/// Bit-exactness of the Swift int8 interpreter against the real TensorFlow Lite Micro
/// interpreter (pip `tflite-micro`), one-op and multi-op models with seeded random weights and
/// quantisation. Skips when the Python packages are absent.
/// Run alone with: swift test --filter TFLMInteropTests
final class TFLMInteropTests: XCTestCase {
    override func setUpWithError() throws { try TFLMHarness.skipIfUnavailable() }

    /// Runs `model` in Swift and in TFLM and asserts byte-identical outputs.
    func assertBitExact(_ model: QuantizedModel, seed: UInt64, tag: String,
                        minDistinct: Int = 2, file: StaticString = #filePath, line: UInt = #line) throws {
        var src = RandomModelSource(seed: seed &+ 1000)
        let inputs = model.inputs.map { src.input(model.tensors[$0].elementCount) }
        let swift = try Int8Interpreter(model: model).run(inputs: inputs).flatMap { $0 }
        let r = try TFLMHarness.run(model, inputs: inputs, tag: tag)
        XCTAssertEqual(r.tflm.count, swift.count, "\(tag): output size", file: file, line: line)
        let mismatches = zip(r.tflm, swift).filter { $0 != $1 }.count
        XCTAssertEqual(mismatches, 0, "\(tag): \(mismatches) of \(swift.count) outputs differ from TFLM", file: file, line: line)
        // Guard against vacuous passes (e.g. everything saturated).
        XCTAssertGreaterThanOrEqual(Set(swift).count, minDistinct, "\(tag): output is degenerate", file: file, line: line)
        func diff(_ o: [Int8]?) -> String {
            guard let o, o.count == swift.count else { return "n/a" }
            let d = zip(o, swift).map { abs(Int($0) - Int($1)) }
            return "\(d.filter { $0 != 0 }.count) differ, max |Δ| \(d.max() ?? 0)"
        }
        print("TFLM-INTEROP \(tag): \(swift.count) outputs bit-exact=\(mismatches == 0) arena_total=\(r.arenaTotal.map(String.init) ?? "?") LiteRT[\(diff(r.litert))] LiteRT-ref[\(diff(r.litertRef))]")
    }

    func testConv2D() throws {
        let configs: [(k: Int, s: Int, pad: Padding, act: FusedActivation, h: Int, cin: Int, cout: Int)] = [
            (3, 1, .same, .relu6, 9, 3, 8), (3, 2, .same, .none, 10, 4, 6), (1, 1, .valid, .relu, 7, 16, 12),
            (5, 2, .valid, .none, 11, 3, 5), (7, 2, .same, .relu6, 12, 2, 4),
        ]
        for (i, c) in configs.enumerated() {
            var src = RandomModelSource(seed: UInt64(10 + i))
            var b = QuantizedModelBuilder(name: "conv\(i)")
            let x = b.addInput(name: "x", shape: [1, c.h, c.h + 1, c.cin], quant: try src.range(magnitude: 3))
            let w = src.weights(count: c.cout * c.k * c.k * c.cin, fanIn: c.k * c.k * c.cin, channels: c.cout, channelStride: c.k * c.k * c.cin)
            let y = try b.conv2d(x, weights: w, weightShape: [c.cout, c.k, c.k, c.cin], bias: src.bias(c.cout),
                                 strideH: c.s, strideW: c.s, padding: c.pad, activation: c.act,
                                 output: try src.range(magnitude: 4), name: "conv")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "conv2d k\(c.k) s\(c.s) \(c.pad) \(c.act)")
        }
    }

    func testDepthwiseConv2D() throws {
        let configs: [(k: Int, s: Int, pad: Padding, act: FusedActivation, h: Int, c: Int)] = [
            (3, 1, .same, .relu6, 9, 8), (3, 2, .same, .none, 10, 5), (5, 1, .same, .relu, 8, 6), (7, 2, .valid, .none, 13, 3),
        ]
        for (i, c) in configs.enumerated() {
            var src = RandomModelSource(seed: UInt64(20 + i))
            var b = QuantizedModelBuilder(name: "dw\(i)")
            let x = b.addInput(name: "x", shape: [1, c.h, c.h, c.c], quant: try src.range(magnitude: 3))
            let w = src.weights(count: c.k * c.k * c.c, fanIn: c.k * c.k, channels: c.c, channelStride: 1)
            let y = try b.depthwiseConv2d(x, weights: w, kernelH: c.k, kernelW: c.k, bias: src.bias(c.c), strideH: c.s, strideW: c.s,
                                          padding: c.pad, activation: c.act, output: try src.range(magnitude: 4), name: "dw")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "depthwise k\(c.k) s\(c.s) \(c.pad) \(c.act)")
        }
    }

    func testAdd() throws {
        for (i, act) in [FusedActivation.none, .relu6, .relu].enumerated() {
            var src = RandomModelSource(seed: UInt64(30 + i))
            var b = QuantizedModelBuilder(name: "add\(i)")
            let x1 = b.addInput(name: "a", shape: [1, 5, 6, 7], quant: try src.range(magnitude: 2))
            let x2 = b.addInput(name: "b", shape: [1, 5, 6, 7], quant: try src.range(magnitude: 5))
            let y = try b.add(x1, x2, activation: act, output: try src.range(magnitude: 6), name: "add")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "add \(act)")
        }
    }

    func testMulBroadcast() throws {
        var src = RandomModelSource(seed: 40)
        var b = QuantizedModelBuilder(name: "mul")
        let x = b.addInput(name: "x", shape: [1, 6, 5, 8], quant: try src.range(magnitude: 4))
        let s = b.addInput(name: "gate", shape: [1, 1, 1, 8], quant: QuantizedModelBuilder.unitIntervalOutput)
        let y = try b.mul(x, s, output: try src.range(magnitude: 3), name: "mul")
        try assertBitExact(try b.build(outputs: [y]), seed: 1, tag: "mul broadcast (1,6,5,8)x(1,1,1,8)")
        var b2 = QuantizedModelBuilder(name: "mul2")
        let u = b2.addInput(name: "u", shape: [1, 4, 4, 3], quant: try src.range(magnitude: 2))
        let v = b2.addInput(name: "v", shape: [1, 4, 4, 3], quant: try src.range(magnitude: 2))
        let z = try b2.mul(u, v, activation: .relu6, output: try src.range(magnitude: 3), name: "mul")
        try assertBitExact(try b2.build(outputs: [z]), seed: 2, tag: "mul elementwise relu6")
    }

    func testMean() throws {
        for (i, hw) in [(7, 7), (5, 3), (16, 16), (1, 1)].enumerated() {
            var src = RandomModelSource(seed: UInt64(50 + i))
            var b = QuantizedModelBuilder(name: "mean\(i)")
            let x = b.addInput(name: "x", shape: [1, hw.0, hw.1, 10], quant: try src.range(magnitude: 4))
            let y = try b.mean(x, axes: [1, 2], keepDims: i != 1, output: try src.range(magnitude: 2), name: "mean")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "mean \(hw.0)x\(hw.1) keep_dims=\(i != 1)")
        }
    }

    func testFullyConnected() throws {
        for (i, perChannel) in [true, false].enumerated() {
            for act in [FusedActivation.none, .relu] {
                var src = RandomModelSource(seed: UInt64(60 + i * 2 + (act == .none ? 0 : 1)))
                var b = QuantizedModelBuilder(name: "fc")
                let x = b.addInput(name: "x", shape: [4, 144], quant: try src.range(magnitude: 3))
                let w = src.weights(count: 64 * 144, fanIn: 144, channels: 64, channelStride: 144)
                let y = try b.fullyConnected(x, weights: w, outputs: 64, bias: src.bias(64), activation: act, perChannel: perChannel,
                                             output: try src.range(magnitude: 5), name: "fc")
                try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "fully_connected per_channel=\(perChannel) \(act)")
            }
        }
    }

    func testLogistic() throws {
        for (i, mag) in [Float(1), 4, 12].enumerated() {
            var src = RandomModelSource(seed: UInt64(70 + i))
            var b = QuantizedModelBuilder(name: "logistic")
            let x = b.addInput(name: "x", shape: [1, 16, 16], quant: try src.range(magnitude: mag))
            let y = b.logistic(x, name: "sigmoid")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "logistic |x|<=\(mag)")
        }
    }

    func testHardSwish() throws {
        for (i, mag) in [Float(1), 4, 10].enumerated() {
            var src = RandomModelSource(seed: UInt64(80 + i))
            var b = QuantizedModelBuilder(name: "hswish")
            let x = b.addInput(name: "x", shape: [1, 16, 16], quant: try src.range(magnitude: mag))
            let y = b.hardSwish(x, output: try src.range(magnitude: mag), name: "hswish")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "hard_swish |x|<=\(mag)")
        }
    }

    func testLeakyRelu() throws {
        for (i, alpha) in [Float(0.01), 0.2, -0.5].enumerated() {
            var src = RandomModelSource(seed: UInt64(90 + i))
            var b = QuantizedModelBuilder(name: "leaky")
            let x = b.addInput(name: "x", shape: [1, 16, 16], quant: try src.range(magnitude: 4))
            let y = b.leakyRelu(x, alpha: alpha, output: try src.range(magnitude: 4), name: "leaky")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "leaky_relu alpha=\(alpha)")
        }
    }

    func testAveragePool() throws {
        let configs: [(f: Int, s: Int, pad: Padding, h: Int)] = [(2, 2, .valid, 8), (3, 1, .same, 7), (3, 2, .same, 9), (7, 7, .valid, 7)]
        for (i, c) in configs.enumerated() {
            var src = RandomModelSource(seed: UInt64(100 + i))
            var b = QuantizedModelBuilder(name: "pool")
            let x = b.addInput(name: "x", shape: [1, c.h, c.h, 6], quant: try src.range(magnitude: 3))
            let y = try b.averagePool2d(x, filterH: c.f, filterW: c.f, strideH: c.s, strideW: c.s, padding: c.pad, name: "pool")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "average_pool f\(c.f) s\(c.s) \(c.pad)")
        }
    }

    func testSoftmax() throws {
        for (i, beta) in [Float(1), 0.5, 2].enumerated() {
            var src = RandomModelSource(seed: UInt64(110 + i))
            var b = QuantizedModelBuilder(name: "softmax")
            let x = b.addInput(name: "x", shape: [3, 100], quant: try src.range(magnitude: Float(4 + 4 * i)))
            let y = b.softmax(x, beta: beta, name: "softmax")
            try assertBitExact(try b.build(outputs: [y]), seed: UInt64(i), tag: "softmax beta=\(beta)")
        }
    }

    // MARK: - Multi-op models

    func testConvDepthwiseConvChain() throws {
        var src = RandomModelSource(seed: 200)
        var b = QuantizedModelBuilder(name: "chain")
        let x = b.addInput(name: "image", shape: [1, 12, 12, 3], quant: try src.range(magnitude: 1))
        let c1 = try b.conv2d(x, weights: src.weights(count: 8 * 9 * 3, fanIn: 27, channels: 8, channelStride: 27),
                              weightShape: [8, 3, 3, 3], bias: src.bias(8), strideH: 2, strideW: 2, activation: .relu6,
                              output: try Quantizer.activationParams(min: 0, max: 6), name: "stem")
        let d = try b.depthwiseConv2d(c1, weights: src.weights(count: 9 * 8, fanIn: 9, channels: 8, channelStride: 1),
                                      kernelH: 3, kernelW: 3, bias: src.bias(8), activation: .relu6,
                                      output: try Quantizer.activationParams(min: 0, max: 6), name: "dw")
        let c2 = try b.conv2d(d, weights: src.weights(count: 16 * 8, fanIn: 8, channels: 16, channelStride: 8),
                              weightShape: [16, 1, 1, 8], bias: src.bias(16), output: try src.range(magnitude: 8), name: "project")
        try assertBitExact(try b.build(outputs: [c2]), seed: 200, tag: "conv->dw->conv")
    }

    func testResidualAdd() throws {
        var src = RandomModelSource(seed: 210)
        var b = QuantizedModelBuilder(name: "residual")
        let x = b.addInput(name: "x", shape: [1, 8, 8, 8], quant: try src.range(magnitude: 3))
        let e = try b.conv2d(x, weights: src.weights(count: 24 * 8, fanIn: 8, channels: 24, channelStride: 8),
                             weightShape: [24, 1, 1, 8], bias: src.bias(24), activation: .relu6,
                             output: try Quantizer.activationParams(min: 0, max: 6), name: "expand")
        let d = try b.depthwiseConv2d(e, weights: src.weights(count: 9 * 24, fanIn: 9, channels: 24, channelStride: 1),
                                      kernelH: 3, kernelW: 3, bias: src.bias(24), activation: .relu6,
                                      output: try Quantizer.activationParams(min: 0, max: 6), name: "dw")
        let p = try b.conv2d(d, weights: src.weights(count: 8 * 24, fanIn: 24, channels: 8, channelStride: 24),
                             weightShape: [8, 1, 1, 24], bias: src.bias(8), output: try src.range(magnitude: 6), name: "project")
        let y = try b.add(p, x, output: try src.range(magnitude: 8), name: "residual")
        try assertBitExact(try b.build(outputs: [y]), seed: 210, tag: "mbconv residual add")
    }

    func testSqueezeExcitation() throws {
        var src = RandomModelSource(seed: 220)
        var b = QuantizedModelBuilder(name: "se")
        let c = 16, r = 4
        let x = b.addInput(name: "x", shape: [1, 6, 6, c], quant: try src.range(magnitude: 4))
        let m = try b.mean(x, axes: [1, 2], keepDims: true, output: try src.range(magnitude: 2), name: "se/squeeze")
        let f1 = try b.fullyConnected(m, weights: src.weights(count: r * c, fanIn: c, channels: r, channelStride: c), outputs: r,
                                      bias: src.bias(r), activation: .relu, keepNumDims: true,
                                      output: try Quantizer.activationParams(min: 0, max: 3), name: "se/reduce")
        let f2 = try b.fullyConnected(f1, weights: src.weights(count: c * r, fanIn: r, channels: c, channelStride: r), outputs: c,
                                      bias: src.bias(c), keepNumDims: true, output: try src.range(magnitude: 4), name: "se/expand")
        let g = b.logistic(f2, name: "se/gate")
        let y = try b.mul(x, g, output: try src.range(magnitude: 4), name: "se/scale")
        try assertBitExact(try b.build(outputs: [y]), seed: 220, tag: "SE mean->fc->fc->logistic->mul")
    }

    /// A realistic MBConv block (40×40×24, expansion 6, SE 0.25, residual) in two activation
    /// variants; besides bit-exactness this reports the TFLM arena each needs: a separate
    /// LEAKY_RELU op keeps two copies of the expanded tensor alive where a fused ReLU6 does not.
    func testMBConvBlockArena() throws {
        for leaky in [false, true] {
            var src = RandomModelSource(seed: 300)
            var b = QuantizedModelBuilder(name: "mbconv")
            let c = 24, e = 144, s = 36, hw = 40
            let x = b.addInput(name: "x", shape: [1, hw, hw, c], quant: try src.range(magnitude: 3))
            func act(_ t: TensorID, _ name: String) throws -> TensorID {
                leaky ? b.leakyRelu(t, alpha: 0.01, output: try src.range(magnitude: 6), name: name) : t
            }
            let fused: FusedActivation = leaky ? .none : .relu6
            var t = try b.conv2d(x, weights: src.weights(count: e * c, fanIn: c, channels: e, channelStride: c), weightShape: [e, 1, 1, c],
                                 bias: src.bias(e), activation: fused, output: try src.range(magnitude: 6), name: "expand")
            t = try act(t, "expand/act")
            t = try b.depthwiseConv2d(t, weights: src.weights(count: 9 * e, fanIn: 9, channels: e, channelStride: 1), kernelH: 3, kernelW: 3,
                                      bias: src.bias(e), activation: fused, output: try src.range(magnitude: 6), name: "dw")
            t = try act(t, "dw/act")
            let m = try b.mean(t, axes: [1, 2], keepDims: true, output: try src.range(magnitude: 3), name: "se/squeeze")
            let r = try b.fullyConnected(m, weights: src.weights(count: s * e, fanIn: e, channels: s, channelStride: e), outputs: s,
                                         bias: src.bias(s), activation: .relu, keepNumDims: true,
                                         output: try Quantizer.activationParams(min: 0, max: 3), name: "se/reduce")
            let g = b.logistic(try b.fullyConnected(r, weights: src.weights(count: e * s, fanIn: s, channels: e, channelStride: s), outputs: e,
                                                    bias: src.bias(e), keepNumDims: true, output: try src.range(magnitude: 4), name: "se/expand"),
                               name: "se/gate")
            t = try b.mul(t, g, output: try src.range(magnitude: 6), name: "se/scale")
            t = try b.conv2d(t, weights: src.weights(count: c * e, fanIn: e, channels: c, channelStride: e), weightShape: [c, 1, 1, e],
                             bias: src.bias(c), output: try src.range(magnitude: 4), name: "project")
            let y = try b.add(t, x, output: try src.range(magnitude: 5), name: "residual")
            try assertBitExact(try b.build(outputs: [y]), seed: 300, tag: "MBConv 40x40x24 e6 SE residual (\(leaky ? "separate LEAKY_RELU" : "fused RELU6"))",
                               minDistinct: 16)
        }
    }
}
