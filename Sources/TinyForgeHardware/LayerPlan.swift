import TinyForgeSpec

/// A network lowered once into a flat list of inference ops. The cost model, the memory
/// planner, the engine's model builder and the code generators all walk this list; nobody
/// re-derives layers from the spec.
///
/// Ops are at the granularity an int8 runtime executes them: batch norm is folded into the
/// conv (`batchNorm` says it was there during training) and the activation is fused.
public struct LayerPlan: Sendable {
    public var spec: ArchitectureSpec
    public var tensors: [PlanTensor]
    public var ops: [PlanOp]
    public var inputTensor: Int
    public var outputTensor: Int

    // Overflow-checked even in -Ounchecked builds: validation bounds these totals, and a
    // network that slipped past it stops with a message instead of reporting a wrapped number.
    public var macs: Int { Checked.total(ops.lazy.map(\.macs), of: "the MAC total") }
    public var params: Int { Checked.total(ops.lazy.map(\.params), of: "the parameter total") }
    public var paramsDeployed: Int { Checked.total(ops.lazy.map(\.paramsDeployed), of: "the deployed parameter total") }
}

/// An activation tensor (NHWC, batch 1). Bytes are int8 bytes (one per element).
public struct PlanTensor: Sendable, Equatable {
    public var id: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    /// Op that writes it (-1 for the network input).
    public var producer: Int
    /// Ops that read it, in schedule order.
    public var consumers: [Int]
    public var elements: Int { height * width * channels }
    public var shape: [Int] { [height, width, channels] }
}

public enum OpKind: String, Sendable, CaseIterable {
    /// Full k×k convolution (1×1 = pointwise).
    case conv2d
    /// Depthwise k×k convolution, depth multiplier 1.
    case depthwiseConv2d = "depthwise_conv2d"
    /// Element-wise add of two same-shape tensors (residual), optionally activated.
    case add
    /// Mean over H and W (global average pooling, the SE squeeze).
    case globalAvgPool = "global_avg_pool"
    /// Channel-wise scale: x (H,W,C) × g (1,1,C) (the SE excite).
    case mul
    /// Fully connected layer on a flattened 1×1×C tensor (the classifier).
    case fullyConnected = "fully_connected"
}

/// Activations as ops fuse them. `sigmoid` only appears as the SE gate.
public enum PlanActivation: String, Sendable {
    case relu, relu6
    case leakyRelu = "leaky_relu"
    case swish, hswish, sigmoid

    public init(_ a: Activation) {
        switch a {
        case .relu: self = .relu
        case .relu6: self = .relu6
        case .leakyRelu: self = .leakyRelu
        case .swish: self = .swish
        case .hswish: self = .hswish
        }
    }
}

public struct PlanOp: Sendable, Equatable {
    public var index: Int
    public var kind: OpKind
    public var inputs: [Int]
    public var output: Int
    public var kernel: Int
    public var stride: Int
    public var inChannels: Int
    public var outChannels: Int
    /// Bias parameters in the trained network (before BN folding).
    public var bias: Bool
    /// A batch norm follows the op in training (folded away at deployment).
    public var batchNorm: Bool
    public var activation: PlanActivation?
    /// Dropout before this op during training (the classifier), 0 = none.
    public var dropout: Double
    /// Where the op comes from (typed: other modules branch on it, never on `role`).
    public var opRole: OpRole
    /// `opRole` as text, e.g. `stages[2].layers[1].expand` (reports, checkpoint names).
    public var role: String { opRole.name }
    public var stage: Int?
    public var layer: Int?
    /// Multiply-accumulates (conv and fully connected only; 0 for element-wise ops).
    public var macs: Int
    /// Trainable parameters as PyTorch counts them (weights, biases, BN γ and β).
    public var params: Int
    /// Parameters after folding BN into weights and biases (what is deployed).
    public var paramsDeployed: Int
    /// Weight elements (int8 at deployment).
    public var weightCount: Int
    /// Output channels carrying a bias at deployment (int32 each; BN folding adds one).
    public var deployedBiasCount: Int
}
