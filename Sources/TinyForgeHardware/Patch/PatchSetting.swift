/// What `--patch` asks for: no patch stage, the best plan within a MAC budget, or fixed stages.
public enum PatchSetting: Sendable, Equatable, CustomStringConvertible {
    case off
    case auto
    /// A `grid`×`grid` tiling of the split tensor of `split`, from the network input.
    case fixed(grid: Int, split: PatchSplit)
    /// Several patch stages (or one that starts after the network input), in network order.
    case stages([PatchStageSetting])

    /// Parses `auto`, `off`, or stages joined by `+`, each `PxP@TO` or `PxP@FROM..TO` with
    /// `TO` / `FROM` a block `B` or `B.se` (e.g. `4x4@3`, `2x2@1.se`,
    /// `4x4@1.se+3x3@3..5`; `×` also accepted). Grids are square. One stage from the
    /// network input is `.fixed`.
    /// - Throws: `PatchPlanError.badSetting` naming the option and the accepted forms.
    public init(parsing text: String) throws {
        let s = String(text.lowercased().map { $0 == "×" ? "x" : $0 })
        switch s {
        case "off": self = .off; return
        case "auto": self = .auto; return
        default: break
        }
        let parts = try s.split(separator: "+", omittingEmptySubsequences: false).map { part in
            guard let st = PatchStageSetting(parsing: part) else { throw PatchPlanError.badSetting(text) }
            return st
        }
        if parts.count == 1, parts[0].from == nil {
            self = .fixed(grid: parts[0].grid, split: parts[0].to)
        } else {
            self = .stages(parts)
        }
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
        case let .stages(s): return s.map(\.description).joined(separator: "+")
        }
    }
}

/// One stage of a `--patch` value: a `grid`×`grid` tiling from `from` (nil: the network
/// input) up to `to`.
public struct PatchStageSetting: Sendable, Equatable, CustomStringConvertible {
    public var grid: Int
    public var from: PatchSplit?
    public var to: PatchSplit

    public init(grid: Int, from: PatchSplit? = nil, to: PatchSplit) {
        self.grid = grid; self.from = from; self.to = to
    }

    /// `PxP@TO` or `PxP@FROM..TO`; nil for anything else.
    init?(parsing s: Substring) {
        let at = s.split(separator: "@", omittingEmptySubsequences: false)
        guard at.count == 2 else { return nil }
        let sides = at[0].split(separator: "x", omittingEmptySubsequences: false)
        guard sides.count == 2, let p = Int(sides[0]), let q = Int(sides[1]), p == q, p >= 1 else { return nil }
        if let r = at[1].firstRange(of: "..") {
            guard let from = PatchSplit(parsing: at[1][..<r.lowerBound]), let to = PatchSplit(parsing: at[1][r.upperBound...]) else { return nil }
            self.init(grid: p, from: from, to: to)
        } else {
            guard let to = PatchSplit(parsing: at[1]) else { return nil }
            self.init(grid: p, to: to)
        }
    }

    public var description: String { "\(grid)x\(grid)@" + (from.map { "\($0).." } ?? "") + to.description }
}
