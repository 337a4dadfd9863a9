/// The int8 graph that a lowered network becomes: tensors (shapes, quantisation, constant
/// data) plus a flat, topologically ordered list of ops that reference tensors by index.
///
/// One value feeds every back end: `Int8Interpreter` (bit-exact with TFLM's reference
/// kernels), `TFLiteWriter` (.tflite for TFLM/LiteRT) and, later, the C code generator.
/// Tensor indices are the .tflite tensor indices, one for one, so a tensor named in an error,
/// a memory plan or a generated C array is the same tensor everywhere. Layout is NHWC.
public typealias TensorID = Int

public enum TensorType: String, Sendable, Codable {
    case int8, int32

    public var byteSize: Int { self == .int8 ? 1 : 4 }
}

/// Constant tensor contents (weights, biases, axis lists).
public enum TensorData: Equatable, Sendable {
    case int8([Int8])
    case int32([Int32])

    public var count: Int {
        switch self {
        case let .int8(v): return v.count
        case let .int32(v): return v.count
        }
    }

    /// Little-endian bytes, as stored in a .tflite buffer.
    public var littleEndianBytes: [UInt8] {
        switch self {
        case let .int8(v): return v.map { UInt8(bitPattern: $0) }
        case let .int32(v):
            var out = [UInt8]()
            out.reserveCapacity(v.count * 4)
            for x in v { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
            return out
        }
    }
}

public struct QTensor: Equatable, Sendable {
    public var name: String
    /// NHWC for activations; (O,KH,KW,I) conv filters; (1,KH,KW,C) depthwise filters;
    /// (O,I) fully-connected weights.
    public var shape: [Int]
    public var type: TensorType
    public var quant: QuantParams?
    /// Non-nil for constants (weights, biases, axes); nil for activations.
    public var data: TensorData?

    public init(name: String, shape: [Int], type: TensorType, quant: QuantParams?, data: TensorData? = nil) {
        self.name = name
        self.shape = shape
        self.type = type
        self.quant = quant
        self.data = data
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var isConstant: Bool { data != nil }
}

public enum Padding: String, Sendable, Codable {
    /// TFLite SAME: output = ceil(in / stride); total padding split with the extra pixel at
    /// the bottom/right.
    case same
    /// No padding: output = (in − k) / stride + 1.
    case valid

    public func outputSize(input: Int, kernel: Int, stride: Int) -> Int {
        switch self {
        case .same: return (input + stride - 1) / stride
        case .valid: return (input - kernel + stride) / stride
        }
    }

    /// Padding before the first pixel (TFLite `ComputePadding`, dilation 1).
    public func before(input: Int, kernel: Int, stride: Int, output: Int) -> Int {
        guard self == .same else { return 0 }
        return max(0, (output - 1) * stride + kernel - input) / 2
    }
}

public struct Conv2DOp: Equatable, Sendable {
    public var input: TensorID, filter: TensorID, bias: TensorID?, output: TensorID
    public var strideH: Int, strideW: Int
    public var padding: Padding
    public var activation: FusedActivation
    public init(input: TensorID, filter: TensorID, bias: TensorID?, output: TensorID,
                strideH: Int, strideW: Int, padding: Padding, activation: FusedActivation) {
        self.input = input; self.filter = filter; self.bias = bias; self.output = output
        self.strideH = strideH; self.strideW = strideW; self.padding = padding; self.activation = activation
    }
}

/// Depthwise convolution with depth multiplier 1 (the only one the networks use).
public typealias DepthwiseConv2DOp = Conv2DOp

public struct BinaryOp: Equatable, Sendable {
    public var lhs: TensorID, rhs: TensorID, output: TensorID
    public var activation: FusedActivation
    public init(lhs: TensorID, rhs: TensorID, output: TensorID, activation: FusedActivation = .none) {
        self.lhs = lhs; self.rhs = rhs; self.output = output; self.activation = activation
    }
}

public struct MeanOp: Equatable, Sendable {
    /// `axis` is a constant int32 tensor (TFLite reads the axes from a tensor, not options).
    public var input: TensorID, axis: TensorID, output: TensorID
    public var keepDims: Bool
    public init(input: TensorID, axis: TensorID, output: TensorID, keepDims: Bool) {
        self.input = input; self.axis = axis; self.output = output; self.keepDims = keepDims
    }
}

public struct FullyConnectedOp: Equatable, Sendable {
    /// `weights` is (O, I); the input is read as (batches, I).
    public var input: TensorID, weights: TensorID, bias: TensorID?, output: TensorID
    public var activation: FusedActivation
    /// TFLite `keep_num_dims`: output keeps the input's rank (e.g. (1,1,1,O) after a MEAN).
    public var keepNumDims: Bool
    public init(input: TensorID, weights: TensorID, bias: TensorID?, output: TensorID,
                activation: FusedActivation, keepNumDims: Bool) {
        self.input = input; self.weights = weights; self.bias = bias; self.output = output
        self.activation = activation; self.keepNumDims = keepNumDims
    }
}

public struct UnaryOp: Equatable, Sendable {
    public var input: TensorID, output: TensorID
    public init(input: TensorID, output: TensorID) { self.input = input; self.output = output }
}

public struct LeakyReluOp: Equatable, Sendable {
    public var input: TensorID, output: TensorID
    public var alpha: Float
    public init(input: TensorID, output: TensorID, alpha: Float) {
        self.input = input; self.output = output; self.alpha = alpha
    }
}

public struct Pool2DOp: Equatable, Sendable {
    public var input: TensorID, output: TensorID
    public var filterH: Int, filterW: Int, strideH: Int, strideW: Int
    public var padding: Padding
    public var activation: FusedActivation
    public init(input: TensorID, output: TensorID, filterH: Int, filterW: Int, strideH: Int,
                strideW: Int, padding: Padding, activation: FusedActivation = .none) {
        self.input = input; self.output = output; self.filterH = filterH; self.filterW = filterW
        self.strideH = strideH; self.strideW = strideW; self.padding = padding; self.activation = activation
    }
}

public struct SoftmaxOp: Equatable, Sendable {
    public var input: TensorID, output: TensorID
    public var beta: Float
    public init(input: TensorID, output: TensorID, beta: Float = 1) {
        self.input = input; self.output = output; self.beta = beta
    }
}

public enum QuantizedOp: Equatable, Sendable {
    case conv2d(Conv2DOp)
    case depthwiseConv2d(DepthwiseConv2DOp)
    case add(BinaryOp)
    case mul(BinaryOp)
    case mean(MeanOp)
    case fullyConnected(FullyConnectedOp)
    case logistic(UnaryOp)
    case hardSwish(UnaryOp)
    case leakyRelu(LeakyReluOp)
    case averagePool2d(Pool2DOp)
    case softmax(SoftmaxOp)

    /// Short name used in errors and reports (TFLite's builtin operator name).
    public var kind: String {
        switch self {
        case .conv2d: return "CONV_2D"
        case .depthwiseConv2d: return "DEPTHWISE_CONV_2D"
        case .add: return "ADD"
        case .mul: return "MUL"
        case .mean: return "MEAN"
        case .fullyConnected: return "FULLY_CONNECTED"
        case .logistic: return "LOGISTIC"
        case .hardSwish: return "HARD_SWISH"
        case .leakyRelu: return "LEAKY_RELU"
        case .averagePool2d: return "AVERAGE_POOL_2D"
        case .softmax: return "SOFTMAX"
        }
    }

    /// Inputs in TFLite operand order; nil marks an omitted optional input (written as −1).
    public var inputs: [TensorID?] {
        switch self {
        case let .conv2d(o), let .depthwiseConv2d(o): return [o.input, o.filter, o.bias]
        case let .add(o), let .mul(o): return [o.lhs, o.rhs]
        case let .mean(o): return [o.input, o.axis]
        case let .fullyConnected(o): return [o.input, o.weights, o.bias]
        case let .logistic(o), let .hardSwish(o): return [o.input]
        case let .leakyRelu(o): return [o.input]
        case let .averagePool2d(o): return [o.input]
        case let .softmax(o): return [o.input]
        }
    }

    public var outputs: [TensorID] {
        switch self {
        case let .conv2d(o), let .depthwiseConv2d(o): return [o.output]
        case let .add(o), let .mul(o): return [o.output]
        case let .mean(o): return [o.output]
        case let .fullyConnected(o): return [o.output]
        case let .logistic(o), let .hardSwish(o): return [o.output]
        case let .leakyRelu(o): return [o.output]
        case let .averagePool2d(o): return [o.output]
        case let .softmax(o): return [o.output]
        }
    }
}

public struct QuantizedModel: Equatable, Sendable {
    public var name: String
    public var tensors: [QTensor]
    /// Topologically ordered: every op's inputs are graph inputs, constants or earlier outputs.
    public var ops: [QuantizedOp]
    public var inputs: [TensorID]
    public var outputs: [TensorID]

    public init(name: String, tensors: [QTensor], ops: [QuantizedOp], inputs: [TensorID], outputs: [TensorID]) {
        self.name = name; self.tensors = tensors; self.ops = ops; self.inputs = inputs; self.outputs = outputs
    }

    /// Structural checks shared by every back end: indices in range, activations int8 with
    /// per-tensor quantisation, constants sized like their shapes, ops in topological order.
    /// Op-specific shape/quantisation rules are checked by `Int8Interpreter.init`.
    public func validate() throws {
        for (i, t) in tensors.enumerated() {
            if t.shape.contains(where: { $0 <= 0 }) {
                throw DeployError.invalidTensor(tensor: t.name, reason: "shape \(t.shape) has a non-positive dimension")
            }
            if let d = t.data, d.count != t.elementCount {
                throw DeployError.invalidTensor(tensor: t.name, reason: "constant data has \(d.count) elements, shape \(t.shape) needs \(t.elementCount)")
            }
            if let q = t.quant {
                if q.scales.isEmpty || q.scales.count != q.zeroPoints.count {
                    throw DeployError.invalidTensor(tensor: t.name, reason: "quantisation needs as many zero points as scales (≥ 1), got \(q.scales.count) scales, \(q.zeroPoints.count) zero points")
                }
                if q.scales.contains(where: { !($0 > 0) || !$0.isFinite }) {
                    throw DeployError.invalidTensor(tensor: t.name, reason: "scales must be positive and finite")
                }
                if q.isPerChannel && (q.quantizedDimension >= t.shape.count || t.shape[q.quantizedDimension] != q.scales.count) {
                    throw DeployError.invalidTensor(tensor: t.name, reason: "\(q.scales.count) per-channel scales do not match dimension \(q.quantizedDimension) of shape \(t.shape)")
                }
            }
            if t.data == nil && t.type == .int8 && t.quant == nil {
                throw DeployError.invalidTensor(tensor: "\(t.name) (#\(i))", reason: "int8 activation needs quantisation parameters")
            }
        }
        var available = Set<TensorID>(inputs)
        for (i, t) in tensors.enumerated() where t.isConstant { available.insert(i) }
        for id in inputs + outputs where id < 0 || id >= tensors.count {
            throw DeployError.invalidTensorIndex(op: -1, field: "model inputs/outputs", index: id, tensorCount: tensors.count)
        }
        for (n, op) in ops.enumerated() {
            for case let id? in op.inputs {
                guard id >= 0 && id < tensors.count else {
                    throw DeployError.invalidTensorIndex(op: n, field: "inputs", index: id, tensorCount: tensors.count)
                }
                guard available.contains(id) else {
                    throw DeployError.unsupported(op: n, kind: op.kind, reason: "input tensor '\(tensors[id].name)' is neither a model input, a constant nor produced by an earlier op; order ops topologically")
                }
            }
            for id in op.outputs {
                guard id >= 0 && id < tensors.count else {
                    throw DeployError.invalidTensorIndex(op: n, field: "outputs", index: id, tensorCount: tensors.count)
                }
                available.insert(id)
            }
        }
        for id in outputs where !available.contains(id) {
            throw DeployError.inputMismatch(reason: "output tensor '\(tensors[id].name)' is never produced")
        }
    }
}
