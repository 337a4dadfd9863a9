/// What `--patch` asks for: no patch stage, the best one within a MAC budget, or a fixed one.
public enum PatchSetting: Sendable, Equatable, CustomStringConvertible {
    case off
    case auto
    /// A `grid`×`grid` tiling of the split tensor of `split`.
    case fixed(grid: Int, split: PatchSplit)

    /// Parses `auto`, `off`, `PxP@BLOCK` or `PxP@BLOCK.se` (e.g. `4x4@3`, `2x2@1.se`; `×` also
    /// accepted). Grids are square.
    /// - Throws: `PatchPlanError.badSetting` naming the option and the accepted forms.
    public init(parsing text: String) throws {
        let s = String(text.lowercased().map { $0 == "×" ? "x" : $0 })
        switch s {
        case "off": self = .off; return
        case "auto": self = .auto; return
        default: break
        }
        let at = s.split(separator: "@", omittingEmptySubsequences: false)
        guard at.count == 2, let split = PatchSplit(parsing: at[1]) else { throw PatchPlanError.badSetting(text) }
        let sides = at[0].split(separator: "x", omittingEmptySubsequences: false)
        guard sides.count == 2, let p = Int(sides[0]), let q = Int(sides[1]), p == q, p >= 1 else {
            throw PatchPlanError.badSetting(text)
        }
        self = .fixed(grid: p, split: split)
    }

    /// Parses `--patch-max-overhead`: a fraction ≥ 0 (0.2 = 20 % extra MACs).
    public static func parseOverhead(_ text: String) throws -> Double {
        guard let v = Double(text), v.isFinite, v >= 0 else { throw PatchPlanError.badOverhead(text) }
        return v
    }

    public var description: String {
        switch self {
        case .off: return "off"
        case .auto: return "auto"
        case let .fixed(g, split): return "\(g)x\(g)@\(split)"
        }
    }
}
