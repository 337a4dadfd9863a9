import TinyForgeDeploy
import XCTest

/// Reads the written .tflite back with `FlatBufferReader` and checks it against the schema
/// (field ids from tensorflow/compiler/mlir/lite/schema/schema.fbs).
final class TFLiteWriterTests: XCTestCase {
    func makeModel() throws -> QuantizedModel {
        var b = QuantizedModelBuilder(name: "t")
        let x = b.addInput(name: "image", shape: [1, 4, 4, 2], quant: try Quantizer.activationParams(min: -1, max: 1))
        let c = try b.conv2d(x, weights: (0..<24).map { Float($0 % 5) - 2 }, weightShape: [3, 2, 2, 2], bias: [0.1, 0.2, -0.3],
                             strideH: 2, strideW: 2, activation: .relu6, output: try Quantizer.activationParams(min: 0, max: 6), name: "conv")
        let h = b.hardSwish(c, output: try Quantizer.activationParams(min: -0.5, max: 6), name: "hswish")
        let m = try b.mean(h, axes: [1, 2], keepDims: false, output: try Quantizer.activationParams(min: -0.5, max: 6), name: "gap")
        let f = try b.fullyConnected(m, weights: (0..<15).map { Float($0) / 10 - 0.7 }, outputs: 5, bias: nil,
                                     output: try Quantizer.activationParams(min: -4, max: 4), name: "fc")
        return try b.build(outputs: [f])
    }

    func testModelStructure() throws {
        let model = try makeModel()
        let bytes = try TFLiteWriter.serialize(model, description: "unit test")
        let r = try FlatBufferReader(bytes)
        XCTAssertEqual(r.fileIdentifier, "TFL3")
        let root = try r.root()
        XCTAssertEqual(try r.field(root, 0, default: UInt32(0)), 3, "schema version")
        XCTAssertEqual(try r.string(root, 3), "unit test")

        // Operator codes in first-use order: CONV_2D, HARD_SWISH, MEAN, FULLY_CONNECTED (all ≤ 127,
        // so the deprecated byte equals builtin_code).
        let codes = try r.tables(root, 1)
        let builtin = try codes.map { try r.field($0, 3, default: Int32(0)) }
        let deprecated = try codes.map { try r.field($0, 0, default: Int8(0)) }
        XCTAssertEqual(builtin, [3, 117, 40, 9])
        XCTAssertEqual(deprecated, [3, 117, 40, 9])

        let buffers = try r.tables(root, 4)
        XCTAssertNil(try r.vector(buffers[0], 0), "buffer 0 is the empty sentinel")
        let sg = try XCTUnwrap(try r.tables(root, 2).first)
        XCTAssertEqual(try r.string(sg, 4), "main")
        XCTAssertEqual(try r.scalars(sg, 1, as: Int32.self), model.inputs.map(Int32.init))
        XCTAssertEqual(try r.scalars(sg, 2, as: Int32.self), model.outputs.map(Int32.init))

        let tensors = try r.tables(sg, 0)
        XCTAssertEqual(tensors.count, model.tensors.count)
        for (t, q) in zip(tensors, model.tensors) {
            XCTAssertEqual(try r.string(t, 3), q.name)
            XCTAssertEqual(try r.scalars(t, 0, as: Int32.self), q.shape.map(Int32.init))
            XCTAssertEqual(try r.field(t, 1, default: Int8(0)), q.type == .int8 ? 9 : 2)
            let bufferIndex = Int(try r.field(t, 2, default: UInt32(0)))
            if let data = q.data {
                XCTAssertGreaterThan(bufferIndex, 0)
                let v = try XCTUnwrap(try r.vector(buffers[bufferIndex], 0))
                XCTAssertEqual(v.start % 16, 0, "constant data 16-byte aligned")
                XCTAssertEqual(try r.scalars(buffers[bufferIndex], 0, as: UInt8.self), data.littleEndianBytes)
            } else {
                XCTAssertEqual(bufferIndex, 0)
            }
            if let qp = q.quant {
                let qt = try XCTUnwrap(try r.table(t, 4))
                XCTAssertEqual(try r.floats(qt, 2), qp.scales)
                XCTAssertEqual(try r.scalars(qt, 3, as: Int64.self), qp.zeroPoints)
                XCTAssertEqual(try r.field(qt, 6, default: Int32(0)), Int32(qp.quantizedDimension))
            } else {
                XCTAssertNil(try r.table(t, 4))
            }
        }

        let ops = try r.tables(sg, 3)
        XCTAssertEqual(ops.count, 4)
        // CONV_2D: opcode 0, Conv2DOptions (union type 1) with SAME, stride 2, RELU6.
        XCTAssertEqual(try r.field(ops[0], 3, default: UInt8(0)), 1)
        let conv = try XCTUnwrap(try r.table(ops[0], 4))
        XCTAssertEqual(try r.field(conv, 0, default: Int8(0)), 0)
        XCTAssertEqual(try r.field(conv, 1, default: Int32(0)), 2)
        XCTAssertEqual(try r.field(conv, 2, default: Int32(0)), 2)
        XCTAssertEqual(try r.field(conv, 3, default: Int8(0)), 3)
        // HARD_SWISH: HardSwishOptions (91). MEAN: ReducerOptions (27), keep_dims false.
        XCTAssertEqual(try r.field(ops[1], 3, default: UInt8(0)), 91)
        XCTAssertEqual(try r.field(ops[2], 3, default: UInt8(0)), 27)
        // FULLY_CONNECTED without bias: inputs end in -1.
        XCTAssertEqual(try r.field(ops[3], 0, default: UInt32(0)), 3)
        XCTAssertEqual(try r.scalars(ops[3], 1, as: Int32.self)?.last, -1)
        XCTAssertEqual(try r.field(ops[3], 3, default: UInt8(0)), 8)

        // serving_default signature.
        let sig = try XCTUnwrap(try r.tables(root, 7).first)
        XCTAssertEqual(try r.string(sig, 2), "serving_default")
        let sigIn = try r.tables(sig, 0)
        XCTAssertEqual(try sigIn.map { try r.string($0, 0) }, ["image"])
        XCTAssertEqual(try r.field(sigIn[0], 1, default: UInt32(0)), UInt32(model.inputs[0]))
        let sigOut = try r.tables(sig, 1)
        XCTAssertEqual(try r.field(sigOut[0], 1, default: UInt32(0)), UInt32(model.outputs[0]))
    }

    func testSerialisationIsDeterministic() throws {
        let m = try makeModel()
        XCTAssertEqual(try TFLiteWriter.serialize(m), try TFLiteWriter.serialize(m))
    }
}
