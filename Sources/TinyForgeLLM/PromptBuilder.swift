import TinyForgeSpec
import TinyForgeHardware

/// Builds the proposal prompt. Layout, fixed text first and growing rows last, because
/// llama.cpp's server reuses only the prefix it shares with the previous prompt:
///
/// 1. system: the role ("a neural architecture design algorithm that outputs only JSON");
/// 2. user: task, hard budget in numbers, the space (one line per field), the output format
///    with a one-shot example sampled from the space, then the archive as memory — Pareto
///    front, recent best / worst, latest rejections with their exact reasons — and last the
///    request for K new distinct candidates.
///
/// Size is bounded: tokens are estimated as characters / `charsPerToken`. 4 is the usual
/// figure for English prose; this prompt is dense JSON and symbols, and SmolLM2's tokenizer
/// gave 3.2 characters per token on it (2,560 characters → 807 prompt tokens, measured), so
/// the default is 3.2: an estimate that errs on the safe side for most tokenizers.
/// Over `maxPromptTokens`, rows are summarised level by level: fewer rejections (the latest
/// kept), fewer recent best/worst, then the front thinned evenly along MACs; every omitted group becomes one aggregate line (count, ranges, reasons).
public struct PromptBuilder: Sendable {
    public var maxPromptTokens: Int
    public var charsPerToken: Double
    /// Seed of the one-shot example's sample (fixed, so the prompt prefix stays stable).
    public var exampleSeed: UInt64

    public init(maxPromptTokens: Int = 3000, charsPerToken: Double = 3.2, exampleSeed: UInt64 = 1) {
        self.maxPromptTokens = maxPromptTokens; self.charsPerToken = charsPerToken; self.exampleSeed = exampleSeed
    }

    public static let role = "You are a neural architecture design algorithm that outputs only JSON. You design small int8 convolutional networks for microcontrollers. You answer with exactly one JSON object and nothing else."

    /// Row limits per summary level: (front, recent best, recent worst, rejections).
    static let levels: [(front: Int, best: Int, worst: Int, rejected: Int)] = [
        (.max, .max, .max, .max), (.max, 5, 5, 8), (20, 3, 3, 4), (10, 2, 2, 2), (5, 1, 1, 1), (3, 0, 0, 1),
    ]

    public func build(_ ctx: PromptContext) -> BuiltPrompt {
        let format = CandidateFormat(space: ctx.space)
        let fixed = fixedText(ctx, format: format)
        var last = BuiltPrompt(messages: [], schema: format.schema(candidates: ctx.k, slots: ctx.slots.count), estimatedTokens: 0,
                               summaryLevel: 0, overBudget: false)
        for (level, limits) in Self.levels.enumerated() {
            let user = fixed + memoryText(ctx, limits: limits) + slotText(ctx) + askText(ctx)
            let messages = [LLMMessage.system(Self.role), LLMMessage.user(user)]
            last.messages = messages
            last.estimatedTokens = estimateTokens(messages)
            last.summaryLevel = level
            if last.estimatedTokens <= maxPromptTokens { return last }
        }
        last.overBudget = true
        return last
    }

    /// Characters / `charsPerToken`, plus a few tokens of chat-template overhead per message.
    public func estimateTokens(_ messages: [LLMMessage]) -> Int {
        messages.reduce(0) { $0 + Int((Double($1.content.count) / charsPerToken).rounded(.up)) + 4 }
    }

    // MARK: fixed part

    func fixedText(_ ctx: PromptContext, format: CandidateFormat) -> String {
        let t = ctx.task, b = ctx.budget, s = ctx.space
        var out = "TASK\nImage classification on \(t.dataset): \(t.numClasses) classes, input \(t.input.height)×\(t.input.width)×\(t.input.channels) (height×width×channels).\n\n"
        out += "HARD BUDGET on \(ctx.target.name) (\(ctx.target.core.rawValue), \(formatNumber(ctx.target.clockMHz)) MHz); a candidate that exceeds any limit is rejected untrained:\n"
        out += "- peak SRAM (int8 activations) ≤ \(Units.formatBytes(b.sramBytes)) (\(grouped(b.sramBytes)) B)\n"
        out += "- flash (int8 weights) ≤ \(Units.formatBytes(b.flashBytes)) (\(grouped(b.flashBytes)) B)\n"
        out += b.macs.map { "- MACs ≤ \(Units.formatCount($0)) (\(grouped($0)))\n" } ?? "- MACs: no limit (fewer is still better)\n"
        out += "Goal: the highest validation accuracy within the budget; at equal accuracy, fewer MACs and less SRAM.\n\n"
        out += "SEARCH SPACE \"\(s.name)\": write only these fields with only these values.\n"
        let counts = s.numStages.sorted()
        out += "stages: a list of \(counts.count == 1 ? "\(counts[0])" : counts.map(String.init).joined(separator: ", ")) stage objects, applied in order; each stage has\n"
        for f in format.stageFields {
            out += "  \(f): \(format.stageValues(f, stage: nil).map(show).joined(separator: " | "))\n"
        }
        for (i, o) in s.stageOverrides.enumerated() where o != StageChoices.Override() {
            let fields = format.stageFields.filter { f in format.stageValues(f, stage: i) != format.stageValues(f, stage: nil) }
            if !fields.isEmpty {
                out += "  stage \(i) only: " + fields.map { "\($0) \(format.stageValues($0, stage: i).map(show).joined(separator: " | "))" }.joined(separator: "; ") + "\n"
            }
        }
        if let stem = s.stem {
            if !format.stemFields.isEmpty {
                out += "stem (a conv before the stages): " + format.stemFields.map { "\($0) \(format.stemValues($0).map(show).joined(separator: " | "))" }.joined(separator: "; ") + "\n"
            }
            out += "Fixed: stem kernel \(stem.kernel.map(String.init).joined(separator: "/")), activation \(stem.activation.map(\.rawValue).joined(separator: "/")); "
        } else {
            out += "Fixed: no stem; "
        }
        if format.choosesResolution { out += "\nresolution: \(s.resolutions.map(String.init).joined(separator: " | "))\n" }
        if format.choosesHead { out += "\nhead_conv_channels: \(s.headConvChannels.map(String.init).joined(separator: " | "))\n" }
        out += "input and classes come from the task; the head is global average pooling + a linear classifier.\n"
        out += "Meaning: stride 2 halves the feature map (only a stage's first layer strides); expansion widens mbconv/fused_mbconv blocks (ignored by others); se_ratio 0 = no squeeze-excitation; skip residual adds a shortcut on stride-1 layers. Peak SRAM grows with feature-map size × channels × expansion, so early stages at full resolution are the usual SRAM bottleneck.\n\n"
        out += "OUTPUT FORMAT (an example of the format only, not a recommendation):\n"
        out += exampleJSON(ctx, format: format).canonicalText() + "\n\n"
        return out
    }

    /// One candidate sampled from the space (the first of a few seeded samples that fits the
    /// budget, else the cheapest), in the reply format.
    func exampleJSON(_ ctx: PromptContext, format: CandidateFormat) -> JSONValue {
        var rng = SeededGenerator(seed: exampleSeed)
        var best: (ArchitectureSpec, Int)?
        for _ in 0..<40 {
            guard let spec = try? ctx.space.sample(numClasses: ctx.task.numClasses, using: &rng) else { break }
            let cost = CostModel.evaluate(spec, target: ctx.target, budget: ctx.budget)
            if cost.fits { best = (spec, 0); break }
            if best == nil || cost.peakSRAMBytes < best!.1 { best = (spec, cost.peakSRAMBytes) }
        }
        guard let spec = best?.0, case .object(var item) = format.compactJSON(spec) else {
            return ["candidates": []]
        }
        item["rationale"] = "Example only; give your own reason in one line."
        if !ctx.slots.isEmpty { item["slot"] = 1 }
        return ["candidates": [.object(item)]]
    }

    // MARK: growing part

    func memoryText(_ ctx: PromptContext, limits: (front: Int, best: Int, worst: Int, rejected: Int)) -> String {
        if ctx.front.isEmpty && ctx.recentBest.isEmpty && ctx.recentWorst.isEmpty && ctx.rejected.isEmpty && ctx.repaired.isEmpty {
            return stateLine(ctx) + "MEMORY\nNothing evaluated yet: start with diverse designs that fit the budget.\n\n"
        }
        var out = stateLine(ctx) + "MEMORY" + (ctx.evaluatedCount.map { " (\($0) architectures evaluated so far)" } ?? "")
            + "; acc = validation top-1, SRAM = peak int8 activations.\n"
        let front = ctx.front.sorted { ($0.macs, $0.peakSRAMBytes) < ($1.macs, $1.peakSRAMBytes) }
        if !front.isEmpty {
            out += "Pareto front (best accuracy for its cost), by MACs:\n"
            let kept = thin(front, to: limits.front)
            out += kept.map(row).joined()
            out += omittedLine(front.count - kept.count, "front members", Array(front.filter { f in !kept.contains(f) }))
        }
        for (title, rows, limit) in [("Recent best:", ctx.recentBest, limits.best), ("Recent worst:", ctx.recentWorst, limits.worst)] where !rows.isEmpty {
            out += title + "\n"
            out += rows.prefix(limit).map(row).joined()
            out += omittedLine(rows.count - min(limit, rows.count), "rows", Array(rows.dropFirst(limit)))
        }
        if !ctx.rejected.isEmpty {
            out += "Rejected proposals (do not repeat them), latest last:\n"
            let keep = min(limits.rejected, ctx.rejected.count)
            let dropped = ctx.rejected.dropLast(keep)
            if !dropped.isEmpty {
                var cats: [String: Int] = [:]
                for r in dropped { cats[r.category, default: 0] += 1 }
                out += "(\(dropped.count) older rejections not shown: " + cats.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                    .map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")\n"
            }
            for r in ctx.rejected.suffix(keep) {
                out += "- " + (r.architecture.map { $0.canonicalText() + " → " } ?? "") + clip(r.reason, 240) + "\n"
            }
        }
        out += repairedText(ctx, limit: min(limits.rejected, 3))
        return out + "\n"
    }

    func askText(_ ctx: PromptContext) -> String {
        if !ctx.slots.isEmpty { return slotAskText(ctx) }
        return "Propose \(ctx.k) new architectures: distinct from each other and from every one listed above, inside the space, within the budget. "
            + "Each gets a rationale of one short line (letters, digits and , . ; : ( ) % + / _ - only). "
            + "Reply with only the JSON object {\"candidates\": [...]} holding exactly \(ctx.k) items."
    }

    func row(_ c: CandidateSummary) -> String {
        let acc = c.valAccuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a"
        return "acc \(acc) | MACs \(Units.formatCount(c.macs)) | SRAM \(Units.formatBytes(c.peakSRAMBytes)) | flash \(Units.formatBytes(c.flashBytes)) | \(c.architecture.canonicalText())\n"
    }

    /// Keeps `n` rows spread evenly over the list (first and last included).
    func thin(_ rows: [CandidateSummary], to n: Int) -> [CandidateSummary] {
        guard rows.count > n else { return rows }
        if n <= 1 { return Array(rows.prefix(n)) }
        return (0..<n).map { rows[Int((Double($0) * Double(rows.count - 1) / Double(n - 1)).rounded())] }
    }

    func omittedLine(_ count: Int, _ what: String, _ rows: [CandidateSummary]) -> String {
        guard count > 0, !rows.isEmpty else { return "" }
        let accs = rows.compactMap(\.valAccuracy)
        let macs = rows.map(\.macs)
        var s = "(\(count) more \(what) not shown"
        if let lo = accs.min(), let hi = accs.max() { s += String(format: ": acc %.1f–%.1f%%", lo * 100, hi * 100) }
        s += ", MACs \(Units.formatCount(macs.min()!))–\(Units.formatCount(macs.max()!)))\n"
        return s
    }
}

func show(_ v: JSONValue) -> String {
    if case .string(let s) = v { return s }
    return v.canonicalText()
}

func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

/// 327680 → "327,680".
func grouped(_ n: Int) -> String {
    let d = String(n.magnitude)
    var out = ""
    for (i, ch) in d.enumerated() {
        if i > 0 && (d.count - i) % 3 == 0 { out += "," }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}
