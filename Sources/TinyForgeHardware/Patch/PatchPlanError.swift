/// Why a patch setting or plan was refused. Each message names the option and the fix.
public enum PatchPlanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `--patch` text that is none of the accepted forms.
    case badSetting(String)
    /// `--patch-max-overhead` that is not a number ≥ 0.
    case badOverhead(String)
    /// The split block is past the last block (`blocks` blocks, the head counts as `blocks`).
    case blockOutOfRange(block: Int, blocks: Int)
    /// Block 0 with no stem: nothing would run patch by patch.
    case emptyStage
    /// An op before the split needs its whole input map (SE or global pooling).
    case wholeMapOp(split: String, block: Int, role: String)
    /// `B.se` on a block without SE.
    case noSqueezeExcite(block: Int)
    /// A tensor besides the split tensor is read after the split (an identity shortcut
    /// around an SE split).
    case sharedInput(split: String, role: String)
    /// A later stage that reads a tensor from before its start besides its input (a residual
    /// shortcut around an SE start).
    case sharedStart(from: String, role: String)
    /// A stage whose start is not before its end.
    case emptyRange(from: String, to: String)
    /// Stages out of order or overlapping (stage `index` starts before stage `index − 1` ends).
    case stagesOverlap(index: Int, stage: String, previous: String)
    /// More tiles per side than the stage output has pixels.
    case gridTooFine(grid: Int, height: Int, width: Int)

    static let forms = "accepted: auto, off, or patch stages joined by '+', each PxP@TO or PxP@FROM..TO with TO and FROM a block B or B.se (e.g. 4x4@3: a 4×4 grid over the input of block 3, the stem and blocks 0–2 tile by tile; 4x4@1.se: up to block 1's SE; 2x2@1.se+2x2@1.se..3: then that SE layer by layer and a second stage from after it up to block 3's input)"

    public var description: String {
        switch self {
        case let .badSetting(s):
            return "--patch '\(s)': \(Self.forms)"
        case let .badOverhead(s):
            return "--patch-max-overhead '\(s)': expected a fraction ≥ 0 of the network's MACs (0.2 = at most 20 % extra MACs)"
        case let .blockOutOfRange(b, n):
            return "--patch …@\(b): the network has \(n) blocks; the split must be a block index 0…\(n) (\(n) = before the head)"
        case .emptyStage:
            return "--patch …@0: the network has no stem, so a split at block 0 leaves nothing to run patch by patch; use block 1 or later"
        case let .wholeMapOp(split, b, role):
            return "--patch …@\(split): \(role) needs the whole feature map (global pooling), so the patch stage must end at or before block \(b) (…@\(b), or …@\(b).se to end it at that SE)"
        case let .noSqueezeExcite(b):
            return "--patch …@\(b).se: block \(b) has no SE; use …@\(b) to split before the block"
        case let .sharedInput(split, role):
            return "--patch …@\(split): \(role) reads a tensor from before the split besides the split tensor; split before the block instead"
        case let .sharedStart(from, role):
            return "--patch …@\(from)..: \(role) reads a tensor from before the stage start besides the stage input (a shortcut around the start); start the stage at a block input instead"
        case let .emptyRange(from, to):
            return "--patch …@\(from)..\(to): the stage holds no op; its end must come after its start"
        case let .stagesOverlap(i, stage, previous):
            return "--patch …+\(stage): patch stage \(i + 1) starts before stage \(i) (\(previous)) ends; list the stages in network order, each from at or after the previous one's end"
        case let .gridTooFine(g, h, w):
            return "--patch \(g)x\(g)@…: the split tensor is only \(h)×\(w) pixels; use a grid of at most \(min(h, w))x\(min(h, w)) or an earlier block"
        }
    }
}
