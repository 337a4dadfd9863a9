/// Where the patch stage ends: before a block (its input is the split tensor), or inside a
/// block with SE, before the SE's global pooling (the SE's input is the split tensor). The
/// second is how a block that needs the whole map ends the stage without being run layer by
/// layer entirely: its expansion and depthwise still run tile by tile.
///
/// The same points start a later patch stage (`from`): `.block(b)` at block b's input,
/// `.squeezeExcite(b)` right after the SE's channel scale (the SE runs layer by layer on the
/// whole map; the next stage reads the scaled map in full and tiles the rest of the block).
public enum PatchSplit: Sendable, Hashable, CustomStringConvertible {
    /// Before block `b` (`KernelSchedule.groups[b]`); `groups.count` = before the head.
    case block(Int)
    /// Inside block `b`, before its SE squeeze.
    case squeezeExcite(Int)

    public var block: Int {
        switch self {
        case let .block(b), let .squeezeExcite(b): return b
        }
    }

    /// The `--patch` form after the `@`: `3` or `3.se`.
    public var description: String {
        switch self {
        case let .block(b): return "\(b)"
        case let .squeezeExcite(b): return "\(b).se"
        }
    }

    /// For reports: "the input of block 3" or "block 1's SE".
    public var phrase: String {
        switch self {
        case let .block(b): return "the input of block \(b)"
        case let .squeezeExcite(b): return "block \(b)'s SE"
        }
    }

    /// For reports, as the start of a stage: "the input of block 3" or "after block 1's SE".
    public var startPhrase: String {
        switch self {
        case let .block(b): return "the input of block \(b)"
        case let .squeezeExcite(b): return "after block \(b)'s SE"
        }
    }

    /// `3` or `3.se`; nil for anything else.
    init?(parsing s: Substring) {
        let se = s.hasSuffix(".se")
        guard let b = Int(se ? s.dropLast(3) : s), b >= 0, !s.hasPrefix("+") else { return nil }
        self = se ? .squeezeExcite(b) : .block(b)
    }

    /// The first op of a stage that starts here: the block's first op, or the op after the
    /// SE's scale.
    func startOp(_ plan: LayerPlan, groups: [BlockGroup]) throws -> Int {
        switch self {
        case .block: return try op(plan, groups: groups)
        case let .squeezeExcite(b):
            guard b >= 0, b < groups.count else { throw PatchPlanError.blockOutOfRange(block: b, blocks: groups.count) }
            guard let se = groups[b].squeezeExcite else { throw PatchPlanError.noSqueezeExcite(block: b) }
            return se.scale + 1
        }
    }

    /// The first plan op after the stage.
    func op(_ plan: LayerPlan, groups: [BlockGroup]) throws -> Int {
        guard block >= 0, block <= groups.count, block < groups.count || self == .block(block) else {
            throw PatchPlanError.blockOutOfRange(block: block, blocks: groups.count)
        }
        switch self {
        case let .block(b):
            return b < groups.count ? groups[b].ops.lowerBound
                : plan.ops.first { $0.opRole == .headConv || $0.opRole == .headPool }!.index
        case let .squeezeExcite(b):
            guard let se = groups[b].squeezeExcite else { throw PatchPlanError.noSqueezeExcite(block: b) }
            return se.squeeze
        }
    }
}
