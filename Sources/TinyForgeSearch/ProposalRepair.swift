import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSpec

/// The spec a proposer made before `SpecRepair` changed it, and the edits. Stored with the
/// candidate (`original_spec_json`, `repair_edits_json`) so the run keeps both specs.
public struct RepairRecord: Sendable, Equatable {
    public var original: ArchitectureSpec
    public var edits: [RepairEdit]
    /// Who proposed the original (`llm`, `evolution`, …): its exchanges keep this name.
    public var originalProposer: String
    public init(original: ArchitectureSpec, edits: [RepairEdit], originalProposer: String) {
        self.original = original; self.edits = edits; self.originalProposer = originalProposer
    }
    /// `stages[2].out_channels 48→32, stages[2].repeats 3→2`.
    public var editList: String { edits.map(\.description).joined(separator: ", ") }
}

/// One LLM slot's target and how the model's own spec (before any repair) met it. Stored
/// with the candidate (`slot`, `slot_band_json`, `slot_hit`, `slot_note`).
public struct SlotRecord: Sendable, Equatable {
    /// 1-based slot the reply named; nil when it named none or an invalid one.
    public var index: Int?
    public var band: CostBand?
    /// nil = not checkable (no slot, or no architecture to measure).
    public var hit: Bool?
    /// Why it missed or could not be checked, e.g. `MACs 4.1 M above the band 0–1.7 M`.
    public var note: String?
    public init(index: Int?, band: CostBand?, hit: Bool?, note: String?) {
        self.index = index; self.band = band; self.hit = hit; self.note = note
    }
}

extension ProposalContext {
    /// `p` as it should be recorded: a spec over the budget or outside the space is repaired
    /// (`SpecRepair`) and relabelled `origin` (e.g. `llm+repair`, `mutation+repair`) with the
    /// original spec and the edits attached; `change` gets `; repaired: <edits>`. A repair
    /// that cannot fit leaves the proposal as it was with `repairFailure` set (the validator
    /// rejects it and appends the reason). Anything else (accepted, duplicate, wrong task,
    /// text) is returned unchanged: duplicates are never repaired into something new.
    public func repaired(_ p: Proposal, origin: String) -> Proposal {
        guard let spec = p.spec, case let .rejected(kind, _, _, _) = check(spec), kind == .budget || kind == .space else { return p }
        var out = p
        switch SpecRepair(space: space, target: target, budget: budget).repair(spec) {
        case .unchanged: return p
        case .failed(let reason): out.repairFailure = reason
        case let .repaired(fixed, edits):
            out.content = .spec(fixed)
            out.proposer = origin
            out.repair = RepairRecord(original: spec, edits: edits, originalProposer: p.proposer)
            out.change = (p.change.map { $0 + "; " } ?? "") + "repaired: " + edits.map(\.description).joined(separator: ", ")
        }
        return out
    }
}

extension SearchController {
    /// One event line per iteration on repairs and LLM slots, e.g. `2 repaired (llm+repair);
    /// slots 1/3 hit (slot 2: MACs 4.1 M above 0–1.7 M; slot 3: the reply named no slot)`.
    static func repairSlotEvent(_ proposals: [Proposal]) -> String? {
        var parts: [String] = []
        let repaired = proposals.filter { $0.repair != nil }
        if !repaired.isEmpty {
            parts.append("\(repaired.count) repaired (" + Set(repaired.map(\.proposer)).sorted().joined(separator: ", ") + ")")
        }
        let failed = proposals.filter { $0.repairFailure != nil }.count
        if failed > 0 { parts.append("\(failed) could not be repaired") }
        let slots = proposals.compactMap(\.slot)
        if !slots.isEmpty {
            let misses = slots.filter { $0.hit != true }.map { "slot \($0.index.map(String.init) ?? "?"): \($0.note ?? "not checked")" }
            parts.append("slots \(slots.filter { $0.hit == true }.count)/\(slots.count) hit" + (misses.isEmpty ? "" : " (" + misses.joined(separator: "; ") + ")"))
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
