/// Serialises a `QuantizedModel` as a TensorFlow Lite flatbuffer (schema v3, file identifier
/// "TFL3"), readable by TFLM and LiteRT. Field ids and defaults follow
/// tensorflow/compiler/mlir/lite/schema/schema.fbs.
///
/// Layout choices: buffer 0 is the empty sentinel; every constant tensor gets its own buffer
/// (data aligned to 16 bytes, as the schema's `force_align: 16` asks); activation tensors
/// point at buffer 0. Tensor indices are the model's indices. One subgraph ("main") and a
/// `serving_default` signature mapping input/output tensor names to indices.
public enum TFLiteWriter {
    /// TFLite `BuiltinOperator` codes and the op versions written (the int8 versions the
    /// TFLite converter emits for these ops; TFLM ignores versions, LiteRT resolves by them).
    static func code(_ op: QuantizedOp) -> (builtin: Int32, version: Int32) {
        switch op {
        case .add: return (0, 2)
        case .averagePool2d: return (1, 2)
        case .conv2d: return (3, 3)
        case .depthwiseConv2d: return (4, 3)
        case .fullyConnected: return (9, 4)
        case .logistic: return (14, 2)
        case .mul: return (18, 2)
        case .softmax: return (25, 2)
        case .mean: return (40, 2)
        case .leakyRelu: return (98, 2)
        case .hardSwish: return (117, 1)
        }
    }

    static func tensorType(_ t: TensorType) -> Int8 { t == .int8 ? 9 : 2 }   // INT8 = 9, INT32 = 2
    static func padding(_ p: Padding) -> Int8 { p == .same ? 0 : 1 }
    static func activation(_ a: FusedActivation) -> Int8 {
        switch a {
        case .none: return 0
        case .relu: return 1
        case .relu6: return 3
        }
    }

    public static func serialize(_ model: QuantizedModel, description: String = "TinyForge int8 export") throws -> [UInt8] {
        try model.validate()
        var b = FlatBufferBuilder(initialCapacity: 1 << 16)
        // The write order below fixes the file's bytes (tests compare them): keep it.
        let (bufferOffsets, bufferIndex) = writeBuffers(model, &b)
        let tensorOffsets = writeTensors(model, bufferIndex: bufferIndex, &b)
        let codes = operatorCodes(model)
        let opOffsets = writeOperators(model, codes: codes, &b)
        let subgraph = writeSubgraph(model, tensors: tensorOffsets, ops: opOffsets, &b)
        var codeOffsets = [FlatBufferBuilder.Offset]()
        for c in codes.list {
            b.startTable()
            // Codes above 127 live in `builtin_code`; the deprecated byte holds 127
            // (PLACEHOLDER_FOR_GREATER_OP_CODES), as the converter writes it.
            b.add(0, Int8(min(c.builtin, 127)), default: 0)
            b.add(2, c.version, default: 1)
            b.add(3, c.builtin, default: 0)
            codeOffsets.append(b.endTable())
        }
        let signature = writeSignature(model, &b)
        let codesVec = b.createVector(offsets: codeOffsets)
        let subgraphsVec = b.createVector(offsets: [subgraph])
        let desc = b.createString(description)
        let buffersVec = b.createVector(offsets: bufferOffsets)
        let sigVec = b.createVector(offsets: [signature])
        b.startTable()
        b.add(0, UInt32(3), default: 0)
        b.add(1, offset: codesVec)
        b.add(2, offset: subgraphsVec)
        b.add(3, offset: desc)
        b.add(4, offset: buffersVec)
        b.add(7, offset: sigVec)
        let root = b.endTable()
        return b.finish(root: root, fileIdentifier: "TFL3")
    }

    /// Buffers: 0 = empty, then one per constant tensor; returns them and each tensor's buffer index.
    static func writeBuffers(_ model: QuantizedModel, _ b: inout FlatBufferBuilder) -> ([FlatBufferBuilder.Offset], [Int]) {
        var bufferOffsets = [FlatBufferBuilder.Offset]()
        b.startTable()
        bufferOffsets.append(b.endTable())
        var bufferIndex = [Int](repeating: 0, count: model.tensors.count)
        for (i, t) in model.tensors.enumerated() {
            guard let data = t.data else { continue }
            let bytes = b.createVector(data.littleEndianBytes, alignment: 16)
            b.startTable()
            b.add(0, offset: bytes)
            bufferIndex[i] = bufferOffsets.count
            bufferOffsets.append(b.endTable())
        }
        return (bufferOffsets, bufferIndex)
    }

    static func writeTensors(_ model: QuantizedModel, bufferIndex: [Int], _ b: inout FlatBufferBuilder) -> [FlatBufferBuilder.Offset] {
        var tensorOffsets = [FlatBufferBuilder.Offset]()
        for (i, t) in model.tensors.enumerated() {
            let name = b.createString(t.name)
            let shape = b.createVector(t.shape.map { Int32($0) })
            var quant: FlatBufferBuilder.Offset? = nil
            if let q = t.quant {
                let scales = b.createVector(q.scales)
                let zps = b.createVector(q.zeroPoints)
                b.startTable()
                b.add(2, offset: scales)
                b.add(3, offset: zps)
                b.add(6, Int32(q.quantizedDimension), default: 0)
                quant = b.endTable()
            }
            b.startTable()
            b.add(0, offset: shape)
            b.add(1, tensorType(t.type), default: 0)
            b.add(2, UInt32(bufferIndex[i]), default: 0)
            b.add(3, offset: name)
            b.add(4, offset: quant)
            tensorOffsets.append(b.endTable())
        }
        return tensorOffsets
    }

    /// Operator codes in order of first use, and each builtin's index among them.
    static func operatorCodes(_ model: QuantizedModel) -> (index: [Int32: Int], list: [(builtin: Int32, version: Int32)]) {
        var codeIndex = [Int32: Int](), codes = [(builtin: Int32, version: Int32)]()
        for op in model.ops {
            let c = code(op)
            if codeIndex[c.builtin] == nil {
                codeIndex[c.builtin] = codes.count
                codes.append(c)
            }
        }
        return (codeIndex, codes)
    }

    static func writeOperators(_ model: QuantizedModel, codes: (index: [Int32: Int], list: [(builtin: Int32, version: Int32)]),
                               _ b: inout FlatBufferBuilder) -> [FlatBufferBuilder.Offset] {
        var opOffsets = [FlatBufferBuilder.Offset]()
        for op in model.ops {
            let inputs = b.createVector(op.inputs.map { Int32($0 ?? -1) })
            let outputs = b.createVector(op.outputs.map { Int32($0) })
            let (optionsType, options) = writeOptions(op, &b)
            b.startTable()
            b.add(0, UInt32(codes.index[code(op).builtin]!), default: 0)
            b.add(1, offset: inputs)
            b.add(2, offset: outputs)
            b.add(3, optionsType, default: 0)
            b.add(4, offset: options)
            opOffsets.append(b.endTable())
        }
        return opOffsets
    }

    static func writeSubgraph(_ model: QuantizedModel, tensors: [FlatBufferBuilder.Offset], ops: [FlatBufferBuilder.Offset],
                              _ b: inout FlatBufferBuilder) -> FlatBufferBuilder.Offset {
        let tensorsVec = b.createVector(offsets: tensors)
        let sgInputs = b.createVector(model.inputs.map { Int32($0) })
        let sgOutputs = b.createVector(model.outputs.map { Int32($0) })
        let opsVec = b.createVector(offsets: ops)
        let sgName = b.createString("main")
        b.startTable()
        b.add(0, offset: tensorsVec)
        b.add(1, offset: sgInputs)
        b.add(2, offset: sgOutputs)
        b.add(3, offset: opsVec)
        b.add(4, offset: sgName)
        return b.endTable()
    }

    /// The `serving_default` signature naming the model's inputs and outputs.
    static func writeSignature(_ model: QuantizedModel, _ b: inout FlatBufferBuilder) -> FlatBufferBuilder.Offset {
        func tensorMaps(_ ids: [TensorID]) -> FlatBufferBuilder.Offset {
            var maps = [FlatBufferBuilder.Offset]()
            for id in ids {
                let n = b.createString(model.tensors[id].name)
                b.startTable()
                b.add(0, offset: n)
                b.add(1, UInt32(id), default: 0)
                maps.append(b.endTable())
            }
            return b.createVector(offsets: maps)
        }
        let sigInputs = tensorMaps(model.inputs)
        let sigOutputs = tensorMaps(model.outputs)
        let sigKey = b.createString("serving_default")
        b.startTable()
        b.add(0, offset: sigInputs)
        b.add(1, offset: sigOutputs)
        b.add(2, offset: sigKey)
        b.add(4, UInt32(0), default: 0)
        return b.endTable()
    }

    /// Writes the op's builtin options table; returns (BuiltinOptions union type, table).
    static func writeOptions(_ op: QuantizedOp, _ b: inout FlatBufferBuilder) -> (UInt8, FlatBufferBuilder.Offset?) {
        switch op {
        case let .conv2d(o):                                    // Conv2DOptions = 1
            b.startTable()
            b.add(0, padding(o.padding), default: 0)
            b.add(1, Int32(o.strideW), default: 0)
            b.add(2, Int32(o.strideH), default: 0)
            b.add(3, activation(o.activation), default: 0)
            return (1, b.endTable())
        case let .depthwiseConv2d(o):                           // DepthwiseConv2DOptions = 2
            b.startTable()
            b.add(0, padding(o.padding), default: 0)
            b.add(1, Int32(o.strideW), default: 0)
            b.add(2, Int32(o.strideH), default: 0)
            b.add(3, Int32(1), default: 0)
            b.add(4, activation(o.activation), default: 0)
            return (2, b.endTable())
        case let .averagePool2d(o):                             // Pool2DOptions = 5
            b.startTable()
            b.add(0, padding(o.padding), default: 0)
            b.add(1, Int32(o.strideW), default: 0)
            b.add(2, Int32(o.strideH), default: 0)
            b.add(3, Int32(o.filterW), default: 0)
            b.add(4, Int32(o.filterH), default: 0)
            b.add(5, activation(o.activation), default: 0)
            return (5, b.endTable())
        case let .fullyConnected(o):                            // FullyConnectedOptions = 8
            b.startTable()
            b.add(0, activation(o.activation), default: 0)
            b.add(2, o.keepNumDims, default: false)
            return (8, b.endTable())
        case let .softmax(o):                                   // SoftmaxOptions = 9
            b.startTable()
            b.add(0, o.beta, default: 0)
            return (9, b.endTable())
        case let .add(o):                                       // AddOptions = 11
            b.startTable()
            b.add(0, activation(o.activation), default: 0)
            return (11, b.endTable())
        case let .mul(o):                                       // MulOptions = 21
            b.startTable()
            b.add(0, activation(o.activation), default: 0)
            return (21, b.endTable())
        case let .mean(o):                                      // ReducerOptions = 27
            b.startTable()
            b.add(0, o.keepDims, default: false)
            return (27, b.endTable())
        case let .leakyRelu(o):                                 // LeakyReluOptions = 75
            b.startTable()
            b.add(0, o.alpha, default: 0)
            return (75, b.endTable())
        case .hardSwish:                                        // HardSwishOptions = 91
            b.startTable()
            return (91, b.endTable())
        case .logistic:
            return (0, nil)
        }
    }
}
