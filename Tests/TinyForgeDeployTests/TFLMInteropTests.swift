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
}
