/// Runs a `QuantizedModel` with the int8 reference kernels, bit-exact with TensorFlow Lite
/// Micro's reference kernels (see FixedPoint.swift for the TFLM version followed).
///
/// `init` plays the role of TFLM's Prepare: it validates every op (shapes, types, the
/// quantisation constraints TFLM enforces) and precomputes the fixed-point multipliers once;
/// `run` only executes kernels. Activations live in one array per tensor — memory planning
/// is the planner's job, not the interpreter's.
public struct Int8Interpreter: Sendable {
    public let model: QuantizedModel
    /// One entry per `model.ops[i]`: the validated op with the fixed-point parameters TFLM's
    /// Prepare would compute (multipliers, shifts, offsets, clamp bounds, padding). The C code
    /// generator emits exactly these numbers.
    public let prepared: [PreparedOp]

    public enum PreparedOp: Sendable {
        case conv(Conv2DOp, ConvGeometry, ConvQuantParams, depthwise: Bool)
        case fullyConnected(FullyConnectedOp, batches: Int, inputDepth: Int, outputDepth: Int, ConvQuantParams)
        case add(BinaryOp, AddQuantParams)
        case mul(BinaryOp, MulQuantParams)
        case mean(MeanOp, axes: [Int], multiplier: QuantizedMultiplier)
        case logistic(UnaryOp, LogisticParams)
        case hardSwish(UnaryOp, HardSwishParams)
        case leakyRelu(LeakyReluOp, LeakyReluParams)
        case averagePool(Pool2DOp, ConvGeometry, min: Int32, max: Int32)
        case softmax(SoftmaxOp, SoftmaxParams, depth: Int)
    }

    public init(model: QuantizedModel) throws {
        try model.validate()
        self.model = model
        var prepared = [PreparedOp]()
        for (n, op) in model.ops.enumerated() {
            prepared.append(try Self.prepare(op, index: n, model: model))
        }
        self.prepared = prepared
    }

    /// Runs the model. `inputs[i]` holds the int8 values of `model.inputs[i]` in NHWC order.
    /// Returns the int8 values of `model.outputs`, in order.
    public func run(inputs: [[Int8]]) throws -> [[Int8]] {
        let all = try runAll(inputs: inputs)
        return model.outputs.map { all[$0]! }
    }

    /// Like `run`, but returns every activation tensor (for layer-by-layer comparisons).
    public func runAll(inputs: [[Int8]]) throws -> [TensorID: [Int8]] {
        var values = try inputValues(inputs)
        for (n, op) in prepared.enumerated() {
            let out = model.ops[n].outputs[0]
            values[out] = execute(op, values)
        }
        return values
    }

    /// The model inputs by tensor, checked for count and size.
    func inputValues(_ inputs: [[Int8]]) throws -> [TensorID: [Int8]] {
        guard inputs.count == model.inputs.count else {
            throw DeployError.inputMismatch(reason: "expected \(model.inputs.count) input arrays, got \(inputs.count)")
        }
        var values = [TensorID: [Int8]]()
        for (k, id) in model.inputs.enumerated() {
            guard inputs[k].count == model.tensors[id].elementCount else {
                throw DeployError.inputMismatch(reason: "input \(k) ('\(model.tensors[id].name)') needs \(model.tensors[id].elementCount) values for shape \(model.tensors[id].shape), got \(inputs[k].count)")
            }
            values[id] = inputs[k]
        }
        return values
    }

    // MARK: - Execution

    func int8(_ id: TensorID, _ values: [TensorID: [Int8]]) -> [Int8] {
        if let v = values[id] { return v }
        if case let .int8(d)? = model.tensors[id].data { return d }
        fatalError("tensor \(id) has no value (validated in init)")
    }

    func int32(_ id: TensorID?) -> [Int32]? {
        guard let id, case let .int32(d)? = model.tensors[id].data else { return nil }
        return d
    }

    func shape4(_ id: TensorID) -> Shape4 { Shape4(extending: model.tensors[id].shape) }

    func execute(_ op: PreparedOp, _ values: [TensorID: [Int8]]) -> [Int8] {
        switch op {
        case let .conv(o, g, q, depthwise):
            let x = int8(o.input, values), f = int8(o.filter, values), bias = int32(o.bias)
            let yShape = shape4(o.output)
            var y = [Int8](repeating: 0, count: yShape.count)
            x.withUnsafeBufferPointer { xp in
                f.withUnsafeBufferPointer { fp in
                    y.withUnsafeMutableBufferPointer { ypInout in
                        let yp = ypInout
                        let run = { (bp: UnsafeBufferPointer<Int32>?) in
                            if depthwise {
                                Int8Kernels.depthwiseConv2d(x: xp, xShape: shape4(o.input), filter: fp, filterShape: shape4(o.filter), bias: bp, y: yp, yShape: yShape, geometry: g, quant: q)
                            } else {
                                Int8Kernels.conv2d(x: xp, xShape: shape4(o.input), filter: fp, filterShape: shape4(o.filter), bias: bp, y: yp, yShape: yShape, geometry: g, quant: q)
                            }
                        }
                        if let bias { bias.withUnsafeBufferPointer { run($0) } } else { run(nil) }
                    }
                }
            }
            return y
        case let .fullyConnected(o, batches, inputDepth, outputDepth, q):
            let x = int8(o.input, values), w = int8(o.weights, values), bias = int32(o.bias)
            var y = [Int8](repeating: 0, count: batches * outputDepth)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { ypInout in
                        let yp = ypInout
                        let run = { (bp: UnsafeBufferPointer<Int32>?) in
                            Int8Kernels.fullyConnected(x: xp, batches: batches, inputDepth: inputDepth, weights: wp, outputDepth: outputDepth, bias: bp, y: yp, quant: q)
                        }
                        if let bias { bias.withUnsafeBufferPointer { run($0) } } else { run(nil) }
                    }
                }
            }
            return y
        case let .add(o, p):
            return binary(o, values) { Int8Kernels.add($0, $1, p) }
        case let .mul(o, p):
            return binary(o, values) { Int8Kernels.mul($0, $1, p) }
        case let .mean(o, axes, m):
            let x = int8(o.input, values), inQ = model.tensors[o.input].quant!, outQ = model.tensors[o.output].quant!
            var y = [Int8](repeating: 0, count: model.tensors[o.output].elementCount)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Int8Kernels.mean(x: xp, xShape: model.tensors[o.input].shape, axes: axes, y: yp,
                                     inputZeroPoint: inQ.zeroPoint, outputZeroPoint: outQ.zeroPoint, multiplier: m)
                }
            }
            return y
        case let .logistic(o, p):
            return int8(o.input, values).map { Int8Kernels.logistic($0, p) }
        case let .hardSwish(o, p):
            return int8(o.input, values).map { Int8Kernels.hardSwish($0, p) }
        case let .leakyRelu(o, p):
            return int8(o.input, values).map { Int8Kernels.leakyRelu($0, p) }
        case let .averagePool(o, g, lo, hi):
            let x = int8(o.input, values), yShape = shape4(o.output)
            var y = [Int8](repeating: 0, count: yShape.count)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Int8Kernels.averagePool2d(x: xp, xShape: shape4(o.input), y: yp, yShape: yShape, filterH: o.filterH, filterW: o.filterW, geometry: g, activationMin: lo, activationMax: hi)
                }
            }
            return y
        case let .softmax(o, p, depth):
            let x = int8(o.input, values)
            var y = [Int8](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in Int8Kernels.softmax(x: xp, y: yp, depth: depth, p) }
            }
            return y
        }
    }

    private func binary(_ o: BinaryOp, _ values: [TensorID: [Int8]], _ f: (Int8, Int8) -> Int8) -> [Int8] {
        let a = int8(o.lhs, values), b = int8(o.rhs, values), yShape = shape4(o.output)
        var y = [Int8](repeating: 0, count: yShape.count)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in
                    Int8Kernels.broadcastBinary(ap, shape4(o.lhs), bp, shape4(o.rhs), yp, yShape, f)
                }
            }
        }
        return y
    }
}
