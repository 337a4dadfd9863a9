import TinyForgeSpec

/// One field that differs between two specs, with the spec's own field path
/// (`stages[3].kernel 5→7`), so a reader can find it in the JSON.
public struct FieldChange: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// nil = the field does not exist on that side (stage added or removed).
    public var from: String?
    public var to: String?

    public init(path: String, from: String?, to: String?) {
        self.path = path; self.from = from; self.to = to
    }

    public var description: String {
        switch (from, to) {
        case let (f?, t?): return "\(path) \(f)→\(t)"
        case let (nil, t?): return "\(path) added (\(t))"
        case let (f?, nil): return "\(path) removed (\(f))"
        case (nil, nil): return path
        }
    }

    public var jsonValue: JSONValue {
        ["path": .string(path), "from": from.map { .string($0) } ?? .null, "to": to.map { .string($0) } ?? .null,
         "text": .string(description)]
    }
}

/// Structural diff of two architectures, field by field, stage by stage (stages are compared
/// by index: that is how mutation and crossover change them). Specs are compared in their
/// canonical form so settings a block ignores (expansion of a dsconv) do not show as changes.
public enum SpecDiff {
    public static func changes(from a: ArchitectureSpec, to b: ArchitectureSpec) -> [FieldChange] {
        let a = a.canonical(), b = b.canonical()
        var out: [FieldChange] = []
        func cmp<T: Equatable>(_ path: String, _ x: T, _ y: T, _ show: (T) -> String) {
            if x != y { out.append(FieldChange(path: path, from: show(x), to: show(y))) }
        }
        let res: (InputShape) -> String = { "\($0.height)×\($0.width)×\($0.channels)" }
        cmp("input", a.input, b.input, res)
        cmp("num_classes", a.numClasses, b.numClasses, String.init)
        switch (a.stem, b.stem) {
        case let (x?, y?):
            cmp("stem.out_channels", x.outChannels, y.outChannels, String.init)
            cmp("stem.kernel", x.kernel, y.kernel, String.init)
            cmp("stem.stride", x.stride, y.stride, String.init)
            cmp("stem.activation", x.activation, y.activation, { $0.rawValue })
        case let (nil, y?): out.append(FieldChange(path: "stem", from: nil, to: describe(y)))
        case let (x?, nil): out.append(FieldChange(path: "stem", from: describe(x), to: nil))
        case (nil, nil): break
        }
        for i in 0..<max(a.stages.count, b.stages.count) {
            let p = "stages[\(i)]"
            guard i < a.stages.count else { out.append(FieldChange(path: p, from: nil, to: describe(b.stages[i]))); continue }
            guard i < b.stages.count else { out.append(FieldChange(path: p, from: describe(a.stages[i]), to: nil)); continue }
            let x = a.stages[i], y = b.stages[i]
            cmp(p + ".block", x.block, y.block, { $0.rawValue })
            cmp(p + ".repeats", x.repeats, y.repeats, String.init)
            cmp(p + ".out_channels", x.outChannels, y.outChannels, String.init)
            cmp(p + ".kernel", x.kernel, y.kernel, String.init)
            cmp(p + ".stride", x.stride, y.stride, String.init)
            cmp(p + ".expansion", x.expansion, y.expansion, String.init)
            cmp(p + ".se_ratio", x.seRatio, y.seRatio, formatRatio)
            cmp(p + ".activation", x.activation, y.activation, { $0.rawValue })
            cmp(p + ".skip", x.skip, y.skip, { $0.rawValue })
            cmp(p + ".post_activation", x.effectivePostActivation, y.effectivePostActivation, { String($0) })
        }
        cmp("head.conv_channels", a.head.convChannels, b.head.convChannels, String.init)
        cmp("head.activation", a.head.activation, b.head.activation, { $0.rawValue })
        cmp("head.dropout", a.head.dropout, b.head.dropout, formatRatio)
        return out
    }

    /// Number of differing fields; a stage present on one side only counts as one change per
    /// field it carries (9), so adding a stage is "far" and tweaking a kernel is "near".
    public static func distance(_ a: ArchitectureSpec, _ b: ArchitectureSpec) -> Int {
        changes(from: a, to: b).reduce(0) { $0 + (($1.from == nil || $1.to == nil) ? 9 : 1) }
    }

    static func describe(_ s: StageSpec) -> String {
        var t = "\(s.block.rawValue) ×\(s.repeats) c\(s.outChannels) k\(s.kernel) s\(s.stride)"
        if s.usesExpansion { t += " e\(s.expansion)" }
        if s.seRatio > 0 { t += " se\(formatRatio(s.seRatio))" }
        return t + " \(s.activation.rawValue) \(s.skip.rawValue)"
    }

    static func describe(_ s: StemSpec) -> String {
        "conv c\(s.outChannels) k\(s.kernel) s\(s.stride) \(s.activation.rawValue)"
    }
}

/// 0.25 → "0.25", 0 → "0", 0.1 → "0.1": short, exact for the values the spaces use.
func formatRatio(_ x: Double) -> String {
    if x == x.rounded() { return String(Int(x)) }
    var s = String(format: "%.4f", x)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}
