/// The one description of a network. The cost model, the engine's model builder, the
/// exporters and the LLM prompt all read this value; nobody re-derives layers elsewhere
/// (`expandedLayers()` is the single place where stages become layers).
///
/// Semantics follow the published LLM-NAS code (no stem, five stages, GAP, linear) and extend
/// it so reference networks (MobileNetV1/V2, MLPerf Tiny ResNet-8) can be written too.
public struct ArchitectureSpec: Equatable, Sendable {
    public var name: String?
    public var input: InputShape
    public var numClasses: Int
    /// Optional k×k conv-BN-act before the first stage (absent in the paper's networks).
    public var stem: StemSpec?
    public var stages: [StageSpec]
    public var head: HeadSpec
    /// Keras-style networks put a bias on every conv (and still a BN after it). Default false,
    /// as in the paper's PyTorch code (bias only in SE and the classifier).
    public var convBias: Bool

    public init(name: String? = nil, input: InputShape, numClasses: Int, stem: StemSpec? = nil,
                stages: [StageSpec], head: HeadSpec = HeadSpec(), convBias: Bool = false) {
        self.name = name
        self.input = input
        self.numClasses = numClasses
        self.stem = stem
        self.stages = stages
        self.head = head
        self.convBias = convBias
    }
}

public struct InputShape: Equatable, Hashable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public init(height: Int, width: Int, channels: Int) {
        self.height = height; self.width = width; self.channels = channels
    }
}

public struct StemSpec: Equatable, Sendable {
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    public var activation: Activation
    public init(outChannels: Int, kernel: Int = 3, stride: Int = 2, activation: Activation = .relu6) {
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.activation = activation
    }
}

/// A stage: `repeats` layers sharing every setting; only the first layer applies the stride
/// and the channel change.
public struct StageSpec: Equatable, Sendable {
    public var block: BlockType
    public var repeats: Int
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    /// Width multiplier of the expanded tensor (mbconv, fused_mbconv). Ignored by the others.
    public var expansion: Int
    /// Squeeze-excitation ratio of the SE input width; 0 = no SE.
    public var seRatio: Double
    public var activation: Activation
    public var skip: SkipType
    /// Apply the activation once more after the block's last BN (after the residual add).
    /// nil = the block's default (true for `basic`, false otherwise). MobileNetV1 = dsconv + true.
    public var postActivation: Bool?
    /// Batch norm after a shortcut projection conv (PyTorch ResNets: yes; Keras MLPerf ResNet-8: no).
    public var shortcutBatchNorm: Bool

    public init(block: BlockType, repeats: Int = 1, outChannels: Int, kernel: Int = 3, stride: Int = 1,
                expansion: Int = 1, seRatio: Double = 0, activation: Activation = .relu6,
                skip: SkipType = .none, postActivation: Bool? = nil, shortcutBatchNorm: Bool = true) {
        self.block = block; self.repeats = repeats; self.outChannels = outChannels; self.kernel = kernel
        self.stride = stride; self.expansion = expansion; self.seRatio = seRatio; self.activation = activation
        self.skip = skip; self.postActivation = postActivation; self.shortcutBatchNorm = shortcutBatchNorm
    }

    public var effectivePostActivation: Bool { postActivation ?? (block == .basic) }
    /// Whether `expansion` changes the network for this block type.
    public var usesExpansion: Bool { block == .mbconv || block == .fusedMBConv }
}

public struct HeadSpec: Equatable, Sendable {
    /// 1×1 conv-BN-act before pooling (MobileNetV2's 1280); 0 = none (the paper).
    public var convChannels: Int
    public var activation: Activation
    /// Dropout before the classifier (training only).
    public var dropout: Double
    public init(convChannels: Int = 0, activation: Activation = .relu6, dropout: Double = 0.2) {
        self.convChannels = convChannels; self.activation = activation; self.dropout = dropout
    }
}

public enum BlockType: String, CaseIterable, Sendable {
    /// k×k conv → BN → act.
    case conv
    /// The paper's `depthwise`: dw k×k → BN → act → [SE] → 1×1 → BN.
    case dsconv
    /// 1×1 expand → BN → act → dw k×k → BN → act → [SE] → 1×1 project → BN.
    case mbconv
    /// k×k expand → BN → act → [SE] → 1×1 project → BN (EfficientNetV2).
    case fusedMBConv = "fused_mbconv"
    /// ResNet basic block: k×k → BN → act → k×k → BN, shortcut, act after the add.
    case basic
}

public enum SkipType: String, CaseIterable, Sendable {
    /// No shortcut (the paper's `identity`).
    case none
    /// The paper's `residual`: a shortcut only on stride-1 layers, through a 1×1 conv+BN
    /// projection when channels differ.
    case residual
    /// MobileNetV2's rule: a shortcut only where input and output shapes already match.
    case residualSame = "residual_same"
    /// ResNet's rule: a shortcut on every layer, through a strided 1×1 projection when the
    /// shape changes.
    case residualFull = "residual_full"
}

public enum Activation: String, CaseIterable, Sendable {
    case relu, relu6
    case leakyRelu = "leaky_relu"
    case swish, hswish
}

/// How one layer's input reaches its output add.
public enum ShortcutKind: String, Sendable, Equatable {
    case none, identity, projection
}

/// One layer of a stage after expansion: everything needed to build it, with channels resolved.
public struct LayerConfig: Equatable, Sendable {
    public var stageIndex: Int
    public var layerIndex: Int
    public var block: BlockType
    public var inChannels: Int
    public var outChannels: Int
    /// Width of the depthwise / expanded tensor (mbconv: in·e; dsconv: in; fused: in·e).
    public var midChannels: Int
    public var kernel: Int
    public var stride: Int
    /// Channels of the SE bottleneck, max(1, int(width·ratio)); 0 = no SE.
    public var seChannels: Int
    public var activation: Activation
    public var shortcut: ShortcutKind
    public var shortcutBatchNorm: Bool
    public var postActivation: Bool
}

extension ArchitectureSpec {
    /// Stages expanded to layers exactly as the paper's code builds them: only the first layer
    /// of a stage strides and changes channels.
    public func expandedLayers() -> [LayerConfig] {
        var layers: [LayerConfig] = []
        var cin = stem?.outChannels ?? input.channels
        for (si, st) in stages.enumerated() {
            for li in 0..<max(st.repeats, 0) {
                let stride = li == 0 ? st.stride : 1
                let mid: Int
                switch st.block {
                case .mbconv, .fusedMBConv: mid = cin * st.expansion
                case .dsconv: mid = cin
                case .conv, .basic: mid = st.outChannels
                }
                let seWidth = st.block == .dsconv ? cin : mid
                let se = (st.seRatio > 0 && st.block != .conv && st.block != .basic)
                    ? max(1, Int(Double(seWidth) * st.seRatio)) : 0
                let shortcut: ShortcutKind
                switch st.skip {
                case .none: shortcut = .none
                case .residual:
                    shortcut = stride != 1 ? .none : (cin == st.outChannels ? .identity : .projection)
                case .residualSame:
                    shortcut = (stride == 1 && cin == st.outChannels) ? .identity : .none
                case .residualFull:
                    shortcut = (stride == 1 && cin == st.outChannels) ? .identity : .projection
                }
                layers.append(LayerConfig(
                    stageIndex: si, layerIndex: li, block: st.block, inChannels: cin, outChannels: st.outChannels,
                    midChannels: mid, kernel: st.kernel, stride: stride, seChannels: se, activation: st.activation,
                    shortcut: shortcut, shortcutBatchNorm: st.shortcutBatchNorm,
                    postActivation: st.effectivePostActivation))
                cin = st.outChannels
            }
        }
        return layers
    }

    /// Channels entering the head (after the last stage).
    public var lastStageChannels: Int { stages.last?.outChannels ?? stem?.outChannels ?? input.channels }
}
