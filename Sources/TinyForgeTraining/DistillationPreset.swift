/// Named distillation recipes, so a published setting is one flag instead of numbers to copy.
public enum DistillationPreset: String, CaseIterable, Sendable {
    /// The paper's recipe: α (weight of the label loss) moved linearly from 0.4 to 0.8 over
    /// training, temperature 10 — the soft targets dominate early and the labels late.
    case paper
    /// The best setting measured here (bench/RESULTS-distill.md, Fashion-MNIST, a teacher
    /// trained without label smoothing): α 0.5, temperature 4, and no label smoothing in the
    /// student's label loss — stacked on the soft targets, smoothing cost the smallest student.
    case tuned

    public var config: DistillationConfig {
        switch self {
        case .paper: return DistillationConfig(alphaStart: 0.4, alphaEnd: 0.8, temperature: 10)
        case .tuned: return DistillationConfig(alphaStart: 0.5, alphaEnd: 0.5, temperature: 4, labelSmoothing: 0)
        }
    }

    /// The preset's recipe in words, derived from `config` so help texts cannot drift from it.
    public var summary: String {
        let c = config
        func n(_ v: Float) -> String { v == v.rounded() ? "\(Int(v))" : "\(v)" }
        var s = "\(rawValue): alpha \(n(c.alphaStart))" + (c.alphaEnd == c.alphaStart ? "" : "→\(n(c.alphaEnd))")
            + ", temperature \(n(c.temperature))"
        if let ls = c.labelSmoothing { s += ls == 0 ? ", no label smoothing while distilling" : ", label smoothing \(n(ls)) while distilling" }
        return s
    }

    /// Every preset's summary, for help texts.
    public static var summary: String { allCases.map(\.summary).joined(separator: "; ") }

    /// Parses a `--kd-preset` value, naming the accepted ones when it is not one of them.
    public static func parse(_ text: String) throws -> DistillationPreset {
        guard let p = DistillationPreset(rawValue: text) else {
            throw TrainingError.invalidOption("--kd-preset", "\"\(text)\" is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return p
    }
}
