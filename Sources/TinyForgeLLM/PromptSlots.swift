import TinyForgeHardware
import TinyForgeSpec

/// The parts of the proposal prompt that steer and inform the model beyond the archive:
/// the search state (trials left, hypervolume), what the search repaired, and the
/// budget-targeted slots (issue 11). All in the growing part, after the fixed text.
extension PromptBuilder {
    /// `SEARCH STATE: 12 candidates left to train; front hypervolume 0.4312 …`; empty when unknown.
    func stateLine(_ ctx: PromptContext) -> String { Self.stateText(trialsLeft: ctx.trialsLeft, hypervolume: ctx.hypervolume) }

    /// The state line for any prompt (`VariationPrompt` too).
    static func stateText(trialsLeft: Int?, hypervolume: Double?) -> String {
        var parts: [String] = []
        if let t = trialsLeft { parts.append("\(t) candidate\(t == 1 ? "" : "s") left to train") }
        if let hv = hypervolume {
            parts.append(String(format: "front hypervolume %.4f (0 = nothing found yet, 1 = perfect accuracy at zero cost; it grows only when a candidate joins the front)", hv))
        }
        return parts.isEmpty ? "" : "SEARCH STATE: " + parts.joined(separator: "; ") + ".\n\n"
    }

    /// Proposals of the model that did not fit and were repaired by the search, with the edits.
    func repairedText(_ ctx: PromptContext, limit: Int) -> String {
        guard !ctx.repaired.isEmpty, limit > 0 else { return "" }
        var out = "Repaired by the search (your design did not fit; these edits made it fit — next time design it within the budget yourself):\n"
        for r in ctx.repaired.suffix(limit) {
            out += "- \(r.architecture.canonicalText()) → edits: \(clip(r.edits, 200)) (\(r.status))\n"
        }
        return out
    }

    /// One paragraph per slot: its band, how full it is, the nearest archive member as a worked
    /// example with measured numbers, and what to change to move that member into the band.
    func slotText(_ ctx: PromptContext) -> String {
        guard !ctx.slots.isEmpty else { return "" }
        var out = "TARGETS: each candidate aims at its own cost band (a niche where the Pareto front is sparse); write the slot number in \"slot\".\n"
        for t in ctx.slots {
            let fill = t.frontCount == 0 ? "no front member there yet" : "\(t.frontCount) front member\(t.frontCount == 1 ? "" : "s") there"
            out += "slot \(t.index): MACs \(t.band.macsText), peak SRAM \(t.band.sramText) (\(fill)).\n"
            if let e = t.example {
                let inBand = t.band.contains(macs: e.macs, sram: e.peakSRAMBytes)
                out += "  \(inBand ? "Best archive member in it" : "Nearest archive member"): " + row(e)
            }
            out += "  " + t.advice + "\n"
        }
        return out + "\n"
    }

    func slotAskText(_ ctx: PromptContext) -> String {
        "Propose \(ctx.k) new architectures, one per slot: item i aims at slot i's MACs and SRAM bands and writes \"slot\": i. "
            + "They must be distinct from each other and from every one listed above, inside the space, within the budget. "
            + "Each gets a rationale of one short line (letters, digits and , . ; : ( ) % + / _ - only). "
            + "Reply with only the JSON object {\"candidates\": [...]} holding exactly \(ctx.k) items."
    }
}
