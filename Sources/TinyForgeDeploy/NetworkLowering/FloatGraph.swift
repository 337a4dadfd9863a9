/// A trained network as the float graph an int8 converter sees: BN folded into the conv
/// weights and biases, activations split into the ops TFLite has (RELU/RELU6 fused,
/// LEAKY_RELU, HARD_SWISH, swish = LOGISTIC + MUL, the SE gate = LOGISTIC), one node per
/// future `QuantizedOp`, tensor for tensor.
///
/// Why a separate float graph and not the engine's `Network`: calibration needs the range of
/// every tensor the int8 model will hold, including ones the engine never materialises
/// (the pre-activation of a swish, the SE's squeeze and hidden vectors). Running this graph
/// in float (`FloatGraphExecutor`) gives exactly those tensors, and the same graph is then
/// quantised node by node (`FloatGraph.quantize`), so the calibrated tensor and the int8
/// tensor are the same object by construction. A test holds the graph's float output equal
/// to the engine's eval-mode logits, which checks BN folding and the op mapping at once.
///
/// Shapes are per sample with a leading batch of 1 (NHWC `[1,H,W,C]`, vectors `[1,C]`);
/// the executor runs N samples at once.
public struct FloatGraph: Sendable {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        /// Set for tensors whose quantisation TFLM fixes (LOGISTIC / SOFTMAX outputs): they are
        /// not calibrated.
        public var fixedQuant: QuantParams?
        public var elementsPerSample: Int { shape.dropFirst().reduce(1, *) }
    }

    /// Convolution parameters after BN folding. Weights are HWIO `[kh, kw, cin, cout]` (the
    /// engine's layout) for a full conv and `[kh, kw, C]` for a depthwise one.
    public struct Conv: Sendable {
        public var kernelH: Int, kernelW: Int
        public var stride: Int
        /// TFLite SAME padding before the first row / column (the executor pads the same way).
        public var padTop: Int, padLeft: Int
        public var inChannels: Int, outChannels: Int
        public var weights: [Float]
        public var bias: [Float]
        public var activation: FusedActivation
    }

    public enum Op: Sendable {
        case conv2d(Conv)
        case depthwiseConv2d(Conv)
        /// Weights `(in, out)` as the engine stores them (TFLite wants `(out, in)`).
        case fullyConnected(weights: [Float], bias: [Float], inFeatures: Int, outFeatures: Int, activation: FusedActivation)
        case add(FusedActivation)
        /// Element-wise product, the right operand broadcast over H and W when it is (1,1,1,C).
        case mul
        /// Mean over H and W.
        case mean(keepDims: Bool)
        case logistic
        case hardSwish
        case leakyRelu(alpha: Float)
        case softmax

        public var kind: String {
            switch self {
            case .conv2d: return "CONV_2D"
            case .depthwiseConv2d: return "DEPTHWISE_CONV_2D"
            case .fullyConnected: return "FULLY_CONNECTED"
            case .add: return "ADD"
            case .mul: return "MUL"
            case .mean: return "MEAN"
            case .logistic: return "LOGISTIC"
            case .hardSwish: return "HARD_SWISH"
            case .leakyRelu: return "LEAKY_RELU"
            case .softmax: return "SOFTMAX"
            }
        }
    }

    public struct Node: Sendable {
        public var op: Op
        public var inputs: [Int]
        public var output: Int
        /// The LayerPlan op this node comes from (`stages[1].layers[0].dw`), for errors.
        public var role: String
    }

    public var name: String
    public var tensors: [Tensor]
    public var nodes: [Node]
    public var input: Int
    public var output: Int

    public init(name: String, tensors: [Tensor], nodes: [Node], input: Int, output: Int) {
        self.name = name; self.tensors = tensors; self.nodes = nodes; self.input = input; self.output = output
    }

    /// Multiply-accumulates per sample of the conv / FC nodes as exported (a kernel widened to
    /// emulate PyTorch padding counts its zero taps too).
    public var macs: Int {
        nodes.reduce(0) { sum, n in
            let out = tensors[n.output].elementsPerSample
            switch n.op {
            case let .conv2d(c): return sum + out * c.kernelH * c.kernelW * c.inChannels
            case let .depthwiseConv2d(c): return sum + out * c.kernelH * c.kernelW
            case let .fullyConnected(_, _, i, o, _): return sum + i * o
            default: return sum
            }
        }
    }

    /// Index of the last node reading each tensor (-1: never read); the graph output lives on.
    var lastUse: [Int] {
        var last = [Int](repeating: -1, count: tensors.count)
        for (i, n) in nodes.enumerated() { for t in n.inputs { last[t] = i } }
        last[output] = nodes.count
        return last
    }
}

/// Why a network could not be turned into an int8 model. Every case names the layer (the
/// LayerPlan role) or the weight tensor and says what would make it work.
public enum NetworkQuantizationError: Error, Equatable, CustomStringConvertible {
    /// An op of the plan has no int8 form, or its quantisation failed.
    case layer(role: String, reason: String)
    /// A weight tensor is missing, mis-shaped or holds non-finite values.
    case weights(name: String, reason: String)
    /// Calibration data or ranges are unusable.
    case calibration(reason: String)

    public var description: String {
        switch self {
        case let .layer(role, reason): return "layer \(role): cannot be quantised to int8: \(reason)"
        case let .weights(name, reason): return "weight tensor '\(name)': \(reason)"
        case let .calibration(reason): return "calibration: \(reason)"
        }
    }
}
