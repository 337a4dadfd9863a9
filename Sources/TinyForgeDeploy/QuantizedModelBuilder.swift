/// Builds a `QuantizedModel` from float weights and calibrated activation ranges — the API a
/// network lowering calls op by op. It quantises weights (per-channel symmetric int8) and
/// biases (int32, scale s_in·s_w[c]) per the TFLite spec, infers output shapes, and keeps
/// tensor indices stable (they become .tflite tensor indices).
///
/// Layouts: conv weights (O,KH,KW,I), depthwise weights (1,KH,KW,C), fully-connected
/// weights (O,I); activations NHWC.
public struct QuantizedModelBuilder {
    public private(set) var tensors: [QTensor] = []
    public private(set) var ops: [QuantizedOp] = []
    public private(set) var inputs: [TensorID] = []
    public var name: String

    public init(name: String) { self.name = name }

    /// The fixed output quantisation TFLM requires for int8 LOGISTIC and SOFTMAX.
    public static let unitIntervalOutput = QuantParams.perTensor(scale: 1.0 / 256, zeroPoint: -128)

    public func tensor(_ id: TensorID) -> QTensor { tensors[id] }

    public mutating func addTensor(_ t: QTensor) -> TensorID {
        tensors.append(t)
        return tensors.count - 1
    }

    public mutating func addInput(name: String, shape: [Int], quant: QuantParams) -> TensorID {
        let id = addTensor(QTensor(name: name, shape: shape, type: .int8, quant: quant))
        inputs.append(id)
        return id
    }

    private mutating func activation(_ name: String, _ shape: [Int], _ q: QuantParams) -> TensorID {
        addTensor(QTensor(name: name, shape: shape, type: .int8, quant: q))
    }

    private mutating func weightsAndBias(
        _ name: String, weights: [Float], shape: [Int], axis: Int, bias: [Float]?, input: TensorID, perChannel: Bool
    ) throws -> (TensorID, TensorID?) {
        var (wq, wp) = try Quantizer.symmetricPerChannel(weights, shape: shape, axis: axis)
        if !perChannel {
            (wq, wp) = try Quantizer.symmetricPerChannel(weights, shape: [1, weights.count], axis: 0)
            wp.quantizedDimension = 0
        }
        let w = addTensor(QTensor(name: "\(name)/weights", shape: shape, type: .int8, quant: wp, data: .int8(wq)))
        guard let bias else { return (w, nil) }
        guard bias.count == shape[axis] else {
            throw DeployError.shapeMismatch(what: "\(name) bias", expected: [shape[axis]], got: [bias.count])
        }
        let (bq, bp) = try Quantizer.bias(bias, inputScale: tensors[input].quant!.scale, weightScales: wp.scales)
        let b = addTensor(QTensor(name: "\(name)/bias", shape: [bias.count], type: .int32, quant: bp, data: .int32(bq)))
        return (w, b)
    }

    private func nhwc(_ id: TensorID, _ op: String) throws -> [Int] {
        let s = tensors[id].shape
        guard s.count == 4 else {
            throw DeployError.shapeMismatch(what: "\(op) input '\(tensors[id].name)'", expected: [4], got: [s.count])
        }
        return s
    }

    public mutating func conv2d(
        _ x: TensorID, weights: [Float], weightShape: [Int], bias: [Float]?, strideH: Int = 1, strideW: Int = 1,
        padding: Padding = .same, activation: FusedActivation = .none, output: QuantParams, name: String
    ) throws -> TensorID {
        let s = try nhwc(x, name)
        guard weightShape.count == 4, weightShape[3] == s[3] else {
            throw DeployError.shapeMismatch(what: "\(name) weights (O,KH,KW,I)", expected: [-1, -1, -1, s[3]], got: weightShape)
        }
        let (w, b) = try weightsAndBias(name, weights: weights, shape: weightShape, axis: 0, bias: bias, input: x, perChannel: true)
        let y = self.activation(name, [s[0], padding.outputSize(input: s[1], kernel: weightShape[1], stride: strideH),
                                      padding.outputSize(input: s[2], kernel: weightShape[2], stride: strideW), weightShape[0]], output)
        ops.append(.conv2d(Conv2DOp(input: x, filter: w, bias: b, output: y, strideH: strideH, strideW: strideW,
                                    padding: padding, activation: activation)))
        return y
    }

    public mutating func depthwiseConv2d(
        _ x: TensorID, weights: [Float], kernelH: Int, kernelW: Int, bias: [Float]?, strideH: Int = 1, strideW: Int = 1,
        padding: Padding = .same, activation: FusedActivation = .none, output: QuantParams, name: String
    ) throws -> TensorID {
        let s = try nhwc(x, name)
        let shape = [1, kernelH, kernelW, s[3]]
        let (w, b) = try weightsAndBias(name, weights: weights, shape: shape, axis: 3, bias: bias, input: x, perChannel: true)
        let y = self.activation(name, [s[0], padding.outputSize(input: s[1], kernel: kernelH, stride: strideH),
                                      padding.outputSize(input: s[2], kernel: kernelW, stride: strideW), s[3]], output)
        ops.append(.depthwiseConv2d(Conv2DOp(input: x, filter: w, bias: b, output: y, strideH: strideH, strideW: strideW,
                                             padding: padding, activation: activation)))
        return y
    }

    /// `weights` is (O, I). With `keepNumDims` the output keeps the input's leading dims
    /// (e.g. (1,1,1,O) after a keep-dims MEAN), otherwise it is (batches, O).
    public mutating func fullyConnected(
        _ x: TensorID, weights: [Float], outputs o: Int, bias: [Float]?, activation: FusedActivation = .none,
        perChannel: Bool = true, keepNumDims: Bool = false, output: QuantParams, name: String
    ) throws -> TensorID {
        let inShape = tensors[x].shape
        guard o > 0, weights.count % o == 0, tensors[x].elementCount % (weights.count / o) == 0 else {
            throw DeployError.shapeMismatch(what: "\(name) weights (O,I)", expected: [o, inShape.last ?? 0], got: [weights.count])
        }
        let depth = weights.count / o
        let (w, b) = try weightsAndBias(name, weights: weights, shape: [o, depth], axis: 0, bias: bias, input: x, perChannel: perChannel)
        let outShape = keepNumDims ? Array(inShape.dropLast()) + [o] : [tensors[x].elementCount / depth, o]
        let y = self.activation(name, outShape, output)
        ops.append(.fullyConnected(FullyConnectedOp(input: x, weights: w, bias: b, output: y, activation: activation,
                                                    keepNumDims: keepNumDims)))
        return y
    }

    private func broadcastShape(_ a: [Int], _ b: [Int], _ name: String) throws -> [Int] {
        let r = max(a.count, b.count)
        let pa = Array(repeating: 1, count: r - a.count) + a, pb = Array(repeating: 1, count: r - b.count) + b
        return try zip(pa, pb).map { da, db in
            guard da == db || da == 1 || db == 1 else {
                throw DeployError.shapeMismatch(what: "\(name) operands", expected: a, got: b)
            }
            return max(da, db)
        }
    }

    public mutating func add(_ a: TensorID, _ b: TensorID, activation: FusedActivation = .none, output: QuantParams, name: String) throws -> TensorID {
        let y = self.activation(name, try broadcastShape(tensors[a].shape, tensors[b].shape, name), output)
        ops.append(.add(BinaryOp(lhs: a, rhs: b, output: y, activation: activation)))
        return y
    }

    public mutating func mul(_ a: TensorID, _ b: TensorID, activation: FusedActivation = .none, output: QuantParams, name: String) throws -> TensorID {
        let y = self.activation(name, try broadcastShape(tensors[a].shape, tensors[b].shape, name), output)
        ops.append(.mul(BinaryOp(lhs: a, rhs: b, output: y, activation: activation)))
        return y
    }

    public mutating func mean(_ x: TensorID, axes: [Int], keepDims: Bool, output: QuantParams, name: String) throws -> TensorID {
        let s = tensors[x].shape
        var outShape = [Int]()
        for (d, n) in s.enumerated() {
            if !axes.contains(d) { outShape.append(n) } else if keepDims { outShape.append(1) }
        }
        let axis = addTensor(QTensor(name: "\(name)/axis", shape: [axes.count], type: .int32, quant: nil,
                                     data: .int32(axes.map { Int32($0) })))
        let y = self.activation(name, outShape, output)
        ops.append(.mean(MeanOp(input: x, axis: axis, output: y, keepDims: keepDims)))
        return y
    }

    public mutating func logistic(_ x: TensorID, name: String) -> TensorID {
        let y = self.activation(name, tensors[x].shape, Self.unitIntervalOutput)
        ops.append(.logistic(UnaryOp(input: x, output: y)))
        return y
    }

    public mutating func hardSwish(_ x: TensorID, output: QuantParams, name: String) -> TensorID {
        let y = self.activation(name, tensors[x].shape, output)
        ops.append(.hardSwish(UnaryOp(input: x, output: y)))
        return y
    }

    public mutating func leakyRelu(_ x: TensorID, alpha: Float, output: QuantParams, name: String) -> TensorID {
        let y = self.activation(name, tensors[x].shape, output)
        ops.append(.leakyRelu(LeakyReluOp(input: x, output: y, alpha: alpha)))
        return y
    }

    /// Output shares the input's quantisation (TFLM requires it).
    public mutating func averagePool2d(
        _ x: TensorID, filterH: Int, filterW: Int, strideH: Int, strideW: Int, padding: Padding = .valid,
        activation: FusedActivation = .none, name: String
    ) throws -> TensorID {
        let s = try nhwc(x, name)
        let y = self.activation(name, [s[0], padding.outputSize(input: s[1], kernel: filterH, stride: strideH),
                                       padding.outputSize(input: s[2], kernel: filterW, stride: strideW), s[3]], tensors[x].quant!)
        ops.append(.averagePool2d(Pool2DOp(input: x, output: y, filterH: filterH, filterW: filterW, strideH: strideH,
                                           strideW: strideW, padding: padding, activation: activation)))
        return y
    }

    public mutating func softmax(_ x: TensorID, beta: Float = 1, name: String) -> TensorID {
        let y = self.activation(name, tensors[x].shape, Self.unitIntervalOutput)
        ops.append(.softmax(SoftmaxOp(input: x, output: y, beta: beta)))
        return y
    }

    public func build(outputs: [TensorID]) throws -> QuantizedModel {
        let m = QuantizedModel(name: name, tensors: tensors, ops: ops, inputs: inputs, outputs: outputs)
        try m.validate()
        return m
    }
}
