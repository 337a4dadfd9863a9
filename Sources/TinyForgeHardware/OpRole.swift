/// Where a plan op sits in the network, as a value instead of a string. Other modules branch
/// on it (the engine's SE layer, the weight names, the head pool's shape) without parsing
/// role strings back; `name` is the string form checkpoints and reports use.
public enum OpRole: Sendable, Hashable {
    case stem
    case block(stage: Int, layer: Int, part: BlockPart)
    case headConv
    case headPool
    case classifier

    /// E.g. `stem`, `stages[2].layers[1].expand`, `stages[0].layers[0].se.reduce`, `head.pool`.
    public var name: String {
        switch self {
        case .stem: return "stem"
        case let .block(s, l, part): return "\(Self.blockPath(stage: s, layer: l)).\(part.rawValue)"
        case .headConv: return "head.conv"
        case .headPool: return "head.pool"
        case .classifier: return "head.classifier"
        }
    }

    /// `stages[s].layers[l]`: the prefix shared by a block's ops and its SE weights.
    public static func blockPath(stage: Int, layer: Int) -> String { "stages[\(stage)].layers[\(layer)]" }

    /// The block part, nil outside stages.
    public var part: BlockPart? {
        if case let .block(_, _, p) = self { return p }
        return nil
    }

    /// The op belongs to the stem (not a stage, not the head).
    public var isStem: Bool { self == .stem }
}

/// An op's part inside one expanded layer (raw value = the role suffix).
public enum BlockPart: String, Sendable, Hashable, CaseIterable {
    /// `conv` block: its only conv.
    case conv
    /// `basic` block: first and second k×k conv.
    case conv1, conv2
    /// mbconv 1×1 / fused-mbconv k×k expansion conv.
    case expand
    /// The block's depthwise conv.
    case depthwise = "dw"
    /// The 1×1 projection back to the output width (main branch).
    case project
    /// The 1×1 projection on the shortcut branch.
    case shortcut
    /// The residual add.
    case add
    /// The four SE ops: GAP, 1×1 reduce (ReLU), 1×1 expand (sigmoid), channel scale.
    case seSqueeze = "se.squeeze", seReduce = "se.reduce", seExpand = "se.expand", seScale = "se.scale"

    public var isSqueezeExcite: Bool { [.seSqueeze, .seReduce, .seExpand, .seScale].contains(self) }
}
