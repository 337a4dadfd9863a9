import Foundation
import TinyForgeSpec

/// A stage reference found in a clause, with its position (so properties can bind to the
/// nearest one).
struct ScopeMention {
    var start: Int
    var end: Int
    var scope: ClaimScope
}

/// Reads stage references. Natural-language numbers are 1-based ("stage 2" = `stages[1]`, as
/// people and LLMs count); JSON paths (`stages[1]`) are 0-based as in the spec. "Early" and
/// "late" are the first and last ⌈n/3⌉ stages, "middle" the rest.
struct ScopeParser {
    let stageCount: Int
    /// Block of each stage, for scopes named by block ("the MBConv stages").
    var blocks: [BlockType] = []

    var earlyCount: Int { max(1, (stageCount + 2) / 3) }

    func mentions(in clause: String) -> [ScopeMention] {
        var out: [ScopeMention] = []
        var taken: [(Int, Int)] = []
        func add(_ m: TextMatch, _ stages: [Int]?, _ label: String) {
            guard !taken.contains(where: { m.start < $0.1 && $0.0 < m.end }) else { return }
            taken.append((m.start, m.end))
            out.append(ScopeMention(start: m.start, end: m.end, scope: ClaimScope(stages: stages, label: label)))
        }
        let n = stageCount
        let all = Array(0..<n)
        // "the MBConv stages", "depthwise blocks" (plural: the stages of that kind).
        for m in Pattern(#"\b(?:the|all|both|in|of)\s+(fused[- ]?mbconv|mbconv|depthwise[- ]separable|depthwise|dsconv)\s+(?:stages|blocks|layers)\b"#).matches(clause) where !blocks.isEmpty {
            let w = m.groups[0]!.lowercased()
            let kind: BlockType = w.hasPrefix("fused") ? .fusedMBConv : w == "mbconv" ? .mbconv : .dsconv
            add(m, blocks.indices.filter { blocks[$0] == kind }, m.text)
        }
        // JSON paths: stages[3] (0-based).
        for m in Pattern(#"\bstages?\s*\[(\d+)\]"#).matches(clause) {
            let i = Int(m.groups[0]!)!
            add(m, [i], "stages[\(i)]")
        }
        // "the first two stages", "last 3 stages".
        for m in Pattern("\\b(first|last|final|initial)\\s+(\\d|\(numberWordPattern))\\s+(?:stages|blocks)\\b").matches(clause) {
            let k = min(parseCount(m.groups[1]!) ?? 1, n)
            let fromStart = m.groups[0]!.lowercased() == "first" || m.groups[0]!.lowercased() == "initial"
            add(m, fromStart ? Array(0..<k) : Array((n - k)..<n), m.text)
        }
        // "the first and last stages", "second stage", "penultimate block".
        let ord = "(?:\(ordinalPattern)|last|final|penultimate|second[- ]to[- ]last)"
        for m in Pattern("\\b\(ord)(?:\\s*(?:,|and|&)\\s*\(ord))*\\s+(?:stages?|blocks?)\\b").matches(clause) {
            // "the final stages" is a region (handled below), not one stage.
            if Pattern(#"^(?:the\s+)?(?:last|final)\s+stages$"#).firstMatch(m.text) != nil { continue }
            var idx: [Int] = []
            for w in Pattern(ord).matches(m.text) {
                let t = w.text.lowercased()
                if t == "last" || t == "final" { idx.append(n - 1) }
                else if t == "penultimate" || t.hasPrefix("second") && t.hasSuffix("last") { idx.append(n - 2) }
                else if let o = ordinals[t] { idx.append(o - 1) }
            }
            add(m, idx, m.text)
        }
        // "stage 2", "stages 2 and 3", "stages 2-4", "blocks 1, 2 and 5", "3rd stage".
        let numTok = "(?:\\d+|\(numberWordPattern))"
        for m in Pattern("\\b(?:stages?|blocks?)\\s+(\(numTok)(?:\\s*(?:,|and|&|or|-|–|to|through)\\s*\(numTok))*)\\b").matches(clause) {
            add(m, parseList(m.groups[0]!).map { $0 - 1 }, m.text)
        }
        // Coarse regions.
        let layerWord = "(?:stages?|layers?|blocks?|part of the network)"
        for m in Pattern("\\b(?:early|earlier|initial|shallow|shallower|first few|first|beginning)\\s+\(layerWord)").matches(clause) {
            add(m, Array(0..<min(earlyCount, n)), m.text)
        }
        for m in Pattern("\\b(?:later|late|deeper|deep|final|last few|last|latter|subsequent|higher)\\s+\(layerWord)").matches(clause) {
            add(m, Array(max(0, n - earlyCount)..<n), m.text)
        }
        for m in Pattern("\\b(?:middle|intermediate|mid-level)\\s+\(layerWord)").matches(clause) {
            let mid = Array(min(earlyCount, n)..<max(min(earlyCount, n), n - earlyCount))
            add(m, mid.isEmpty ? [n / 2] : mid, m.text)
        }
        for m in Pattern(#"\b(?:all|every|each)\s+(?:of\s+the\s+|the\s+)?(?:\w+\s+)?(?:stages?|blocks?|layers?)\b|\bthroughout(?:\s+the\s+(?:network|model|architecture))?\b|\bper[- ]stage\b|\bacross\s+(?:all\s+)?(?:the\s+)?(?:stages|blocks|network)\b"#).matches(clause) {
            add(m, all, m.text)
        }
        return out.sorted { $0.start < $1.start }
    }

    /// "2, 3 and 5" → [2, 3, 5]; "2-4" / "2 to 4" → [2, 3, 4].
    func parseList(_ s: String) -> [Int] {
        var out: [Int] = []
        let tokens = Pattern("\\d+|\(numberWordPattern)|-|–|\\bto\\b|through").matches(s).map(\.text)
        var i = 0
        while i < tokens.count {
            if let a = parseCount(tokens[i]) {
                if i + 2 < tokens.count, ["-", "–", "to", "through"].contains(tokens[i + 1]), let b = parseCount(tokens[i + 2]), b >= a, b - a < 64 {
                    out += Array(a...b); i += 3; continue
                }
                out.append(a)
            }
            i += 1
        }
        return out
    }
}
