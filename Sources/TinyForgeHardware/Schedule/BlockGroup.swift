/// The structure `LayerPlan`'s flat op list leaves implicit, made explicit once: which ops
/// form an expanded layer, its expansion conv, its SE, its shortcut projection and its
/// residual add. The engine builds its SE layer from `squeezeExcite`, the weight names come
/// from the groups, so no module recovers structure from role strings.
public struct BlockGroup: Sendable, Equatable {
    public var stage: Int
    public var layer: Int
    /// Plan ops of the layer, in plan order (contiguous).
    public var ops: ClosedRange<Int>
    /// The layer's input tensor (read by its first op and by an identity shortcut).
    public var input: Int
    /// The layer's output tensor.
    public var output: Int
    /// The expansion conv (mbconv with expansion > 1, fused mbconv); nil when there is none.
    public var expansion: Int?
    /// The main-branch 1×1 projection conv (dsconv, mbconv, fused mbconv).
    public var projection: Int?
    public var squeezeExcite: SqueezeExciteGroup?
    public var residual: ResidualGroup?
}

/// GAP → 1×1 reduce (ReLU) → 1×1 expand (sigmoid) → channel scale: four plan ops the engine
/// trains as one layer and checkpoints as `<block>.se.fc1` / `.fc2`.
public struct SqueezeExciteGroup: Sendable, Equatable {
    public var squeeze: Int
    public var reduce: Int
    public var expand: Int
    public var scale: Int
    /// The feature map being scaled (the scale op's first input).
    public var input: Int
    /// The scaled feature map (the scale op's output).
    public var output: Int
    /// `stages[s].layers[l].se`: prefix of the SE's weight names.
    public var weightPrefix: String
}

/// A residual add and what feeds its shortcut operand.
public struct ResidualGroup: Sendable, Equatable {
    public enum Shortcut: Sendable, Equatable {
        /// The layer input itself.
        case identity
        /// A 1×1 (strided) projection conv, the plan op index.
        case projection(op: Int)
    }
    public var add: Int
    public var shortcut: Shortcut
}

extension BlockGroup {
    /// Groups the stage ops of a plan by layer, from the ops' typed roles.
    static func groups(_ plan: LayerPlan) -> [BlockGroup] {
        var out: [BlockGroup] = []
        for op in plan.ops {
            guard case let .block(s, l, part) = op.opRole else { continue }
            if out.last.map({ $0.stage != s || $0.layer != l }) ?? true {
                out.append(BlockGroup(stage: s, layer: l, ops: op.index...op.index, input: op.inputs[0],
                                      output: op.output, expansion: nil, projection: nil, squeezeExcite: nil,
                                      residual: nil))
            }
            var g = out.removeLast()
            g.ops = g.ops.lowerBound...op.index
            switch part {
            case .expand: g.expansion = op.index
            case .project: g.projection = op.index
            case .seScale:
                // The plan emits squeeze, reduce, expand, scale back to back.
                let i = op.index
                g.squeezeExcite = SqueezeExciteGroup(squeeze: i - 3, reduce: i - 2, expand: i - 1, scale: i,
                                                     input: op.inputs[0], output: op.output,
                                                     weightPrefix: "\(OpRole.blockPath(stage: s, layer: l)).se")
            case .add:
                let shortcutTensor = op.inputs[1]
                let p = plan.tensors[shortcutTensor].producer
                let projected = p >= 0 && plan.ops[p].opRole.part == .shortcut && g.ops.contains(p)
                g.residual = ResidualGroup(add: op.index, shortcut: projected ? .projection(op: p) : .identity)
            case .conv, .conv1, .conv2, .depthwise, .shortcut, .seSqueeze, .seReduce, .seExpand: break
            }
            // The main branch ends at the add when there is one; the shortcut conv comes after it.
            if part != .shortcut { g.output = op.output }
            out.append(g)
        }
        return out
    }
}
