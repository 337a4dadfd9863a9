import Foundation

/// Reads a `.tflite` back into a `QuantizedModel`: the int8 subset `TFLiteWriter` writes (one
/// subgraph; CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, MEAN, FULLY_CONNECTED, LOGISTIC,
/// HARD_SWISH, LEAKY_RELU, AVERAGE_POOL_2D, SOFTMAX), so `tinyforge predict` can run an
/// exported model on the Swift int8 interpreter. Anything else is a `DeployError` naming the
/// op or tensor, never a crash (every read is bounds-checked by `FlatBufferReader`).
public enum TFLiteReader {
    public static func read(path: String) throws -> QuantizedModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DeployError.invalidFlatBuffer(reason: "\(path) cannot be read")
        }
        return try read([UInt8](data), name: (path as NSString).lastPathComponent)
    }

    public static func read(_ bytes: [UInt8], name: String = "model") throws -> QuantizedModel {
        let r = try FlatBufferReader(bytes)
        guard r.fileIdentifier == "TFL3" else {
            throw DeployError.invalidFlatBuffer(reason: "file identifier is '\(r.fileIdentifier)', not TFL3 (not a .tflite file)")
        }
        let root = try r.root()
        let subgraphs = try r.tables(root, 2)
        guard subgraphs.count == 1, let g = subgraphs.first else {
            throw DeployError.invalidFlatBuffer(reason: "\(subgraphs.count) subgraphs; only single-subgraph models are supported")
        }
        let buffers = try r.tables(root, 4)
        let codes = try r.tables(root, 1).map { c -> Int32 in
            let deprecated = Int32(try r.field(c, 0, default: Int8(0)))
            return max(deprecated, try r.field(c, 3, default: Int32(0)))
        }
        let tensors = try r.tables(g, 0).enumerated().map { i, t in try tensor(r, t, index: i, buffers: buffers) }
        let ops = try r.tables(g, 3).enumerated().map { i, o -> QuantizedOp in
            let index = Int(try r.field(o, 0, default: UInt32(0)))
            guard index < codes.count else {
                throw DeployError.invalidTensorIndex(op: i, field: "opcode_index", index: index, tensorCount: codes.count)
            }
            let ins = try r.scalars(o, 1, as: Int32.self) ?? [], outs = try r.scalars(o, 2, as: Int32.self) ?? []
            return try op(r, o, code: codes[index], inputs: ins.map(Int.init), outputs: outs.map(Int.init), index: i)
        }
        let model = QuantizedModel(name: name, tensors: tensors, ops: ops,
                                   inputs: (try r.scalars(g, 1, as: Int32.self) ?? []).map(Int.init),
                                   outputs: (try r.scalars(g, 2, as: Int32.self) ?? []).map(Int.init))
        try model.validate()
        return model
    }

    static func tensor(_ r: FlatBufferReader, _ t: FlatBufferReader.Table, index: Int, buffers: [FlatBufferReader.Table]) throws -> QTensor {
        let name = try r.string(t, 3) ?? "tensor\(index)"
        let shape = (try r.scalars(t, 0, as: Int32.self) ?? []).map(Int.init)
        let type: TensorType
        switch try r.field(t, 1, default: Int8(0)) {
        case 9: type = .int8
        case 2: type = .int32
        case let other: throw DeployError.invalidTensor(tensor: name, reason: "type \(other) is not INT8 (9) or INT32 (2)")
        }
        var quant: QuantParams?
        if let q = try r.table(t, 4), let scales = try r.floats(q, 2), !scales.isEmpty {
            quant = QuantParams(scales: scales, zeroPoints: try r.scalars(q, 3, as: Int64.self) ?? [Int64](repeating: 0, count: scales.count),
                                quantizedDimension: Int(try r.field(q, 6, default: Int32(0))))
        }
        var data: TensorData?
        let b = Int(try r.field(t, 2, default: UInt32(0)))
        guard b < buffers.count else { throw DeployError.invalidTensor(tensor: name, reason: "buffer \(b) of \(buffers.count) does not exist") }
        if b > 0, let bytes = try r.scalars(buffers[b], 0, as: UInt8.self), !bytes.isEmpty {
            let n = shape.reduce(1, *)
            guard bytes.count == n * type.byteSize else {
                throw DeployError.invalidTensor(tensor: name, reason: "buffer holds \(bytes.count) bytes, shape \(shape) needs \(n * type.byteSize)")
            }
            if type == .int8 {
                data = .int8(bytes.map { Int8(bitPattern: $0) })
            } else {
                data = .int32((0..<n).map { i in Int32(bitPattern: UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24) })
            }
        }
        return QTensor(name: name, shape: shape, type: type, quant: quant, data: data)
    }

    static func op(_ r: FlatBufferReader, _ o: FlatBufferReader.Table, code: Int32, inputs: [Int], outputs: [Int], index: Int) throws -> QuantizedOp {
        let opt = try r.table(o, 4)
        func field<T: FixedWidthInteger>(_ id: Int, _ def: T) throws -> T { try opt.map { try r.field($0, id, default: def) } ?? def }
        func act(_ id: Int) throws -> FusedActivation {
            switch try field(id, Int8(0)) {
            case 0: return .none
            case 1: return .relu
            case 3: return .relu6
            case let a: throw DeployError.unsupported(op: index, kind: "code \(code)", reason: "fused activation \(a) is not NONE, RELU or RELU6")
            }
        }
        func pad() throws -> Padding { try field(0, Int8(0)) == 0 ? .same : .valid }
        func input(_ k: Int) throws -> Int {
            guard k < inputs.count, inputs[k] >= 0 else { throw DeployError.unsupported(op: index, kind: "code \(code)", reason: "input \(k) is missing") }
            return inputs[k]
        }
        func optional(_ k: Int) -> Int? { k < inputs.count && inputs[k] >= 0 ? inputs[k] : nil }
        guard outputs.count == 1 else { throw DeployError.unsupported(op: index, kind: "code \(code)", reason: "\(outputs.count) outputs; one expected") }
        let out = outputs[0]
        switch code {
        case 3, 4:
            let c = Conv2DOp(input: try input(0), filter: try input(1), bias: optional(2), output: out,
                             strideH: Int(try field(2, Int32(1))), strideW: Int(try field(1, Int32(1))), padding: try pad(),
                             activation: try act(code == 3 ? 3 : 4))
            return code == 3 ? .conv2d(c) : .depthwiseConv2d(c)
        case 0: return .add(BinaryOp(lhs: try input(0), rhs: try input(1), output: out, activation: try act(0)))
        case 18: return .mul(BinaryOp(lhs: try input(0), rhs: try input(1), output: out, activation: try act(0)))
        case 40: return .mean(MeanOp(input: try input(0), axis: try input(1), output: out, keepDims: try field(0, UInt8(0)) != 0))
        case 9:
            return .fullyConnected(FullyConnectedOp(input: try input(0), weights: try input(1), bias: optional(2), output: out,
                                                    activation: try act(0), keepNumDims: try field(2, UInt8(0)) != 0))
        case 14: return .logistic(UnaryOp(input: try input(0), output: out))
        case 117: return .hardSwish(UnaryOp(input: try input(0), output: out))
        case 98:
            let alpha = try opt.map { try r.floatField($0, 0, default: 0) } ?? 0
            return .leakyRelu(LeakyReluOp(input: try input(0), output: out, alpha: alpha))
        case 1:
            return .averagePool2d(Pool2DOp(input: try input(0), output: out, filterH: Int(try field(4, Int32(1))), filterW: Int(try field(3, Int32(1))),
                                           strideH: Int(try field(2, Int32(1))), strideW: Int(try field(1, Int32(1))), padding: try pad(),
                                           activation: try act(5)))
        case 25:
            let beta = try opt.map { try r.floatField($0, 0, default: 0) } ?? 0
            return .softmax(SoftmaxOp(input: try input(0), output: out, beta: beta))
        default:
            throw DeployError.unsupported(op: index, kind: "builtin \(code)", reason: "not one of the ops TinyForge exports; predict runs TinyForge-exported models only")
        }
    }
}
