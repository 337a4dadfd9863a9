import TinyForgeSpec
import TinyForgeHardware

/// Architecture features for the surrogate: one row per candidate, one column per design
/// choice per stage (`stages[2].kernel`) plus network totals. Categorical choices (block,
/// activation) are coded as their index in the enum's `allCases`, which trees split like any
/// ordered value; `categories` keeps the labels for the charts. A stage the network does not
/// have is coded -1 in all its columns.
public struct FeatureTable: Sendable, Equatable {
    public var names: [String]
    /// The design choice a column belongs to ("kernel", "expansion", ..., "macs"): SHAP
    /// values are also summed per group.
    public var groups: [String]
    /// Labels of the codes of categorical columns.
    public var categories: [Int: [String]]
    /// rows[candidate][feature].
    public var rows: [[Double]]

    public init(names: [String], groups: [String], categories: [Int: [String]] = [:], rows: [[Double]]) {
        self.names = names; self.groups = groups; self.categories = categories; self.rows = rows
    }

    public static let stageChoices = ["block", "kernel", "expansion", "se_ratio", "skip", "activation", "repeats",
                                      "width", "stride"]
    public static let totals = ["macs", "params", "depth", "resolution"]

    /// Builds the table; `macs` and `params` come from the cost model (one per spec).
    public static func build(specs: [ArchitectureSpec], macs: [Int], params: [Int]) -> FeatureTable {
        let maxStages = specs.map(\.stages.count).max() ?? 0
        var names: [String] = [], groups: [String] = [], cats: [Int: [String]] = [:]
        for i in 0..<maxStages {
            for c in stageChoices {
                if c == "block" { cats[names.count] = BlockType.allCases.map(\.rawValue) }
                if c == "activation" { cats[names.count] = Activation.allCases.map(\.rawValue) }
                if c == "skip" { cats[names.count] = ["none", "shortcut"] }
                names.append("stages[\(i)].\(c)"); groups.append(c)
            }
        }
        for t in totals { names.append(t); groups.append(t) }
        let rows: [[Double]] = specs.indices.map { r in
            let s = specs[r]
            var row: [Double] = []
            for i in 0..<maxStages {
                guard i < s.stages.count else { row += Array(repeating: -1, count: stageChoices.count); continue }
                let st = s.stages[i]
                let hasSE = st.seRatio > 0 && st.block != .conv && st.block != .basic
                row += [Double(BlockType.allCases.firstIndex(of: st.block)!), Double(st.kernel),
                        Double(st.usesExpansion ? st.expansion : 1), hasSE ? st.seRatio : 0,
                        st.skip == .none ? 0 : 1, Double(Activation.allCases.firstIndex(of: st.activation)!),
                        Double(st.repeats), Double(st.outChannels), Double(st.stride)]
            }
            let depth = s.stages.reduce(0) { $0 + $1.repeats } + (s.stem == nil ? 0 : 1) + (s.head.convChannels > 0 ? 1 : 0)
            row += [Double(macs[r]), Double(params[r]), Double(depth), Double(s.input.height)]
            return row
        }
        return FeatureTable(names: names, groups: groups, categories: cats, rows: rows)
    }

    /// The table restricted to `keep` columns (in that order).
    public func selecting(_ keep: [Int]) -> FeatureTable {
        var cats: [Int: [String]] = [:]
        for (n, j) in keep.enumerated() { if let c = categories[j] { cats[n] = c } }
        return FeatureTable(names: keep.map { names[$0] }, groups: keep.map { groups[$0] }, categories: cats,
                            rows: rows.map { r in keep.map { r[$0] } })
    }

    /// Columns that take more than one value (constant columns explain nothing).
    public var varyingColumns: [Int] {
        names.indices.filter { j in Set(rows.map { $0[j] }).count > 1 }
    }

    /// "kernel 7", "block mbconv", "stage absent" for a value of column `j`.
    public func label(_ j: Int, _ v: Double) -> String {
        if v == -1 && names[j].hasPrefix("stages[") { return "absent" }
        if names[j] == "macs" || names[j] == "params" { return Units.formatCount(Int(v)).replacingOccurrences(of: " ", with: "") }
        if let c = categories[j], v >= 0, Int(v) < c.count, v == v.rounded() { return c[Int(v)] }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return formatRatio((v * 1000).rounded() / 1000)
    }
}
