import TinyForgeSpec
import TinyForgeHardware

/// One child to ask for: a mutation of one parent or a crossover of two, by index into
/// `VariationContext.parents`.
public struct VariationAsk: Equatable, Sendable {
    public enum Kind: String, Sendable { case mutation, crossover }
    public var kind: Kind
    /// One index (mutation) or two (crossover).
    public var parents: [Int]
    public init(kind: Kind, parents: [Int]) { self.kind = kind; self.parents = parents }
    public static func mutation(_ p: Int) -> VariationAsk { VariationAsk(kind: .mutation, parents: [p]) }
    public static func crossover(_ a: Int, _ b: Int) -> VariationAsk { VariationAsk(kind: .crossover, parents: [a, b]) }
}

/// What a variation prompt is built from: the distinct parents with their measurements, the
/// children wanted (in reply order), and the latest rejections with their exact reasons.
public struct VariationContext: Sendable {
    public var task: LLMTask
    public var target: Target
    public var budget: Budget
    public var space: SearchSpace
    /// Distinct parents (`architecture` in `CandidateFormat.compactJSON` form, measured accuracy and cost).
    public var parents: [CandidateSummary]
    /// One entry per child, in the order the reply must list them.
    public var asks: [VariationAsk]
    /// Rejections, oldest first; the latest are kept when the prompt must shrink.
    public var rejected: [RejectedSummary]
    /// Candidates the run still trains and the front's hypervolume (the search state line).
    public var trialsLeft: Int?
    public var hypervolume: Double?

    public init(task: LLMTask, target: Target, budget: Budget, space: SearchSpace, parents: [CandidateSummary],
                asks: [VariationAsk], rejected: [RejectedSummary] = [], trialsLeft: Int? = nil, hypervolume: Double? = nil) {
        self.task = task; self.target = target; self.budget = budget; self.space = space
        self.parents = parents; self.asks = asks; self.rejected = rejected
        self.trialsLeft = trialsLeft; self.hypervolume = hypervolume
    }
}

/// The prompt of the LLM variation operator (EvoPrompting / LLMatic style): instead of a
/// random one-field mutation, the model sees the parents with their measured accuracy and
/// cost — and which budget limit each one is closest to — and writes one child per ask.
/// All children of an evolution iteration come from ONE request: a 135M local model takes
/// tens of seconds per answer, so a call per child would dominate the search's wall time.
///
/// Layout: the role, then task + hard budget + space (fixed text, a cacheable prefix), then the
/// parents, the rejections and the numbered asks. The reply is `{"candidates": [K items]}` in
/// the parents' own compact form plus a one-line rationale (`CandidateFormat.schema`), parsed
/// by the same `ResponseParser` as the `llm` proposer's.
///
/// Size is bounded like `PromptBuilder`'s (characters / `charsPerToken`): rejections are cut
/// first (latest kept, the rest counted in one line), then their reasons are clipped shorter;
/// parents and asks are never dropped (the caller bounds them by the batch size).
/// This prompt is mostly architecture JSON, which tokenizes denser than the proposal prompt:
/// SmolLM2 counted 2,538 prompt tokens for 6,862 characters (3 parents, 6 rejections;
/// measured), 2.7 characters per token, so the default estimate is 2.6.
public struct VariationPrompt: Sendable {
    public var maxPromptTokens: Int
    public var charsPerToken: Double

    public init(maxPromptTokens: Int = 2500, charsPerToken: Double = 2.6) {
        self.maxPromptTokens = maxPromptTokens; self.charsPerToken = charsPerToken
    }

    /// (rejections shown, characters per reason) per summary level.
    static let levels: [(rejected: Int, reasonChars: Int)] = [(8, 240), (4, 200), (2, 160), (1, 120), (0, 0)]

    public func build(_ ctx: VariationContext) -> BuiltPrompt {
        let format = CandidateFormat(space: ctx.space)
        let head = fixedText(ctx, format: format) + PromptBuilder.stateText(trialsLeft: ctx.trialsLeft, hypervolume: ctx.hypervolume)
            + parentsText(ctx)
        let ask = askText(ctx)
        var last = BuiltPrompt(messages: [], schema: format.schema(candidates: ctx.asks.count), estimatedTokens: 0,
                               summaryLevel: 0, overBudget: false)
        for (level, l) in Self.levels.enumerated() {
            let messages = [LLMMessage.system(PromptBuilder.role),
                            LLMMessage.user(head + rejectedText(ctx, keep: l.rejected, reasonChars: l.reasonChars) + ask)]
            last.messages = messages
            last.summaryLevel = level
            last.estimatedTokens = PromptBuilder(charsPerToken: charsPerToken).estimateTokens(messages)
            if last.estimatedTokens <= maxPromptTokens { return last }
        }
        last.overBudget = true
        return last
    }

    func fixedText(_ ctx: VariationContext, format: CandidateFormat) -> String {
        let t = ctx.task, b = ctx.budget
        var out = "TASK: image classification on \(t.dataset), \(t.numClasses) classes, input \(t.input.height)×\(t.input.width)×\(t.input.channels).\n"
        out += "HARD BUDGET on \(ctx.target.name) (a child over any limit is rejected untrained): "
        out += "peak SRAM ≤ \(grouped(b.sramBytes)) B, flash ≤ \(grouped(b.flashBytes)) B, "
        out += b.macs.map { "MACs ≤ \(grouped($0)).\n" } ?? "MACs unlimited.\n"
        out += "SPACE: only these fields and values.\n"
        let counts = ctx.space.numStages.sorted().map(String.init).joined(separator: " | ")
        out += "stages: \(counts) stage objects; per stage " + format.stageFields.map { f in
            "\(f) \(format.stageValues(f, stage: nil).map(show).joined(separator: "|"))"
        }.joined(separator: "; ") + "\n"
        for (i, o) in ctx.space.stageOverrides.enumerated() where o != StageChoices.Override() {
            let fields = format.stageFields.filter { format.stageValues($0, stage: i) != format.stageValues($0, stage: nil) }
            if !fields.isEmpty {
                out += "stage \(i) only: " + fields.map { "\($0) \(format.stageValues($0, stage: i).map(show).joined(separator: "|"))" }.joined(separator: "; ") + "\n"
            }
        }
        if !format.stemFields.isEmpty {
            out += "stem: " + format.stemFields.map { "\($0) \(format.stemValues($0).map(show).joined(separator: "|"))" }.joined(separator: "; ") + "\n"
        }
        if format.choosesResolution { out += "resolution: \(ctx.space.resolutions.map(String.init).joined(separator: "|"))\n" }
        if format.choosesHead { out += "head_conv_channels: \(ctx.space.headConvChannels.map(String.init).joined(separator: "|"))\n" }
        out += "Peak SRAM grows with feature-map size × channels × expansion (stride 2 halves the map); flash with weights (channels², kernel²); MACs with both.\n\n"
        return out
    }

    func parentsText(_ ctx: VariationContext) -> String {
        var out = "PARENTS (measured; acc = validation top-1, % = share of the budget limit):\n"
        for (i, p) in ctx.parents.enumerated() {
            let acc = p.valAccuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a"
            out += "P\(i + 1): acc \(acc) | " + Self.usage(p, budget: ctx.budget) + " | \(p.architecture.canonicalText())\n"
        }
        return out
    }

    /// "MACs 2.1M (42%) | SRAM 41 KB (64%) | flash 120 KB (12%) | binding: SRAM": the limit the
    /// parent is closest to is the one a child must not grow.
    public static func usage(_ p: CandidateSummary, budget b: Budget) -> String {
        func pct(_ v: Int, _ limit: Int) -> Double { limit > 0 ? Double(v) / Double(limit) * 100 : 0 }
        var parts: [(String, Double?)] = [
            ("MACs \(Units.formatCount(p.macs))", b.macs.map { pct(p.macs, $0) }),
            ("SRAM \(Units.formatBytes(p.peakSRAMBytes))", pct(p.peakSRAMBytes, b.sramBytes)),
            ("flash \(Units.formatBytes(p.flashBytes))", pct(p.flashBytes, b.flashBytes)),
        ]
        let names = ["MACs", "SRAM", "flash"]
        let binding = parts.indices.filter { parts[$0].1 != nil }.max { parts[$0].1! < parts[$1].1! }
        parts = parts.map { ($0.0 + ($0.1.map { String(format: " (%.0f%%)", $0) } ?? ""), $0.1) }
        let tail = binding.map { i in
            let share = parts[i].1!
            return share > 100 ? "OVER the \(names[i]) limit" : "binding: \(names[i])"
        } ?? ""
        return parts.map(\.0).joined(separator: " | ") + (tail.isEmpty ? "" : " | " + tail)
    }

    func rejectedText(_ ctx: VariationContext, keep: Int, reasonChars: Int) -> String {
        guard !ctx.rejected.isEmpty else { return "" }
        var out = "\nRECENTLY REJECTED (do not repeat), latest last:\n"
        let n = min(keep, ctx.rejected.count)
        let dropped = ctx.rejected.count - n
        if dropped > 0 {
            var cats: [String: Int] = [:]
            for r in ctx.rejected.dropLast(n) { cats[r.category, default: 0] += 1 }
            out += "(\(dropped) not shown: " + cats.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                .map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")\n"
        }
        for r in ctx.rejected.suffix(n) {
            out += "- " + (r.architecture.map { $0.canonicalText() + " → " } ?? "") + clip(r.reason, reasonChars) + "\n"
        }
        return out
    }

    func askText(_ ctx: VariationContext) -> String {
        var out = "\nWrite \(ctx.asks.count) child architecture\(ctx.asks.count == 1 ? "" : "s"), in this order:\n"
        for (i, a) in ctx.asks.enumerated() {
            switch a.kind {
            case .mutation:
                let p = "P\(a.parents[0] + 1)"
                out += "\(i + 1). mutation of \(p): copy \(p) and change 1 to 3 fields so accuracy rises or the binding resource shrinks, staying within every limit.\n"
            case .crossover:
                let p = "P\(a.parents[0] + 1)", q = "P\(a.parents[1] + 1)"
                out += "\(i + 1). crossover of \(p) and \(q): take each stage from \(p) or \(q) to combine their strengths, staying within every limit.\n"
            }
        }
        out += "Every child must differ from its parents and from the rejected ones. Each item has the parents' fields plus \"rationale\": one short line (letters, digits and , . ; : ( ) % + / _ - only) saying what changed and why. "
        out += "Reply with only the JSON object {\"candidates\": [...]} holding exactly \(ctx.asks.count) item\(ctx.asks.count == 1 ? "" : "s")."
        return out
    }
}
