import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSpec

/// The `llm` proposer: builds a prompt from the archive (the Pareto front, the best and worst
/// recent candidates with measured accuracy and cost, the latest rejections with their exact
/// reasons), asks the LLM for K candidates with rationales, and hands back every answer —
/// decoded or not — so the validator records each acceptance or rejection with its reason.
/// Every HTTP exchange is attached for the run store (API keys never appear in them).
public struct LLMSearchProposer: Proposer {
    public var name: String { fallback == nil ? "llm" : "llm+\(fallback!.name)" }
    public var proposer: LLMProposer
    public var model: String
    /// Optional second proposer whose proposals are appended after the LLM's. The controller
    /// evaluates accepted proposals in order, so they are used only when the LLM's own
    /// candidates are rejected (a small model repeating itself or ignoring the budget); each
    /// keeps its own proposer name in the store, so the report shows who proposed what.
    public var fallback: Proposer?
    /// Budget-targeted slots: each of the K candidates gets its own cost niche (`SlotPlanner`);
    /// nil = K untargeted candidates (the prompt before issue 11).
    public var slots: SlotPlanner?
    /// Over-budget or out-of-space answers are repaired (`SpecRepair`, origin `llm+repair`)
    /// instead of rejected.
    public var repair: Bool

    public init(proposer: LLMProposer, model: String, fallback: Proposer? = nil, slots: SlotPlanner? = SlotPlanner(),
                repair: Bool = true) {
        self.proposer = proposer
        self.model = model
        self.fallback = fallback
        self.slots = slots
        self.repair = repair
    }

    public func propose(count: Int, context: inout ProposalContext) async throws -> [Proposal] {
        let format = CandidateFormat(space: context.space)
        var ctx = Self.promptContext(context, format: format, k: count)
        ctx.slots = slots?.plan(k: count, archive: context.archive, budget: context.budget, format: format) ?? []
        let known = Set(context.archive.evaluated.map(\.hash))
        let seed = context.rng.next()
        let answer = await proposer.propose(ctx, known: known, seed: seed)
        var exchanges = answer.exchanges.map { ExchangeRecord($0, model: model) }
        var out: [Proposal] = []
        for c in answer.candidates {
            // Out-of-space and duplicate items still carry their decoded spec: the validator
            // then records the duplicate with its spec, and the repair can snap the rest.
            let content: Proposal.Content
            if let s = c.spec ?? c.decoded {
                content = .spec(s)
            } else {
                // Did not decode: keep the expanded text so the validator stores it and records
                // the decoder's reason.
                content = .text((c.expanded ?? c.raw).canonicalText())
            }
            var p = Proposal(content, proposer: "llm", rationale: c.rationale, exchanges: out.isEmpty ? exchanges : [])
            if out.isEmpty { exchanges = [] }
            if let r = c.rejection, c.spec == nil { p.change = "llm candidate rejected before validation: \(r)" }
            if !ctx.slots.isEmpty {
                p.slot = SlotPlanner.record(slot: c.slot, slots: ctx.slots, spec: c.decoded, target: context.target, budget: context.budget)
            }
            if repair { p = context.repaired(p, origin: "llm+repair") }
            out.append(p)
        }
        if out.isEmpty {
            // No usable answer: record the exchange and the failure as a rejected text proposal so
            // the reason reaches the store and the next prompt.
            let why = answer.failure ?? ("LLM reply unusable: " + answer.parseErrors.map(\.message).joined(separator: "; "))
            out.append(.failedLLMRound(LLMFailure(cause: why, requestFailed: answer.requestFailed), proposer: "llm",
                                       exchanges: exchanges))
        }
        if let f = fallback {
            out += try await f.propose(count: count, context: &context)
        }
        return out
    }

    /// The archive as the prompt's memory: front, best and worst of the last 20 evaluations,
    /// and the latest rejections with their reasons.
    static func promptContext(_ c: ProposalContext, format: CandidateFormat, k: Int) -> PromptContext {
        func summary(_ e: EvaluatedCandidate) -> CandidateSummary {
            CandidateSummary(architecture: format.compactJSON(e.spec), valAccuracy: e.accuracy, macs: e.cost.macs,
                             peakSRAMBytes: e.cost.peakSRAMBytes, flashBytes: e.cost.flashBytes, params: e.cost.params)
        }
        let recent = c.archive.scored.suffix(20).sorted { ($0.accuracy ?? 0) > ($1.accuracy ?? 0) }
        let input = InputShape(height: c.space.resolutions.first ?? 32, width: c.space.resolutions.first ?? 32,
                               channels: c.space.inputChannels)
        return PromptContext(
            task: LLMTask(dataset: c.task.dataset, numClasses: c.task.numClasses, input: input),
            target: c.target, budget: c.budget, space: c.space,
            front: c.archive.front.map(summary),
            recentBest: recent.prefix(3).map(summary),
            recentWorst: recent.suffix(2).map(summary),
            // Failed rounds are not shown: "connection refused" teaches the model nothing.
            rejected: ownRejections(c.recentRejections).suffix(8).map { r in
                RejectedSummary(architecture: r.spec.map { format.compactJSON($0) }, reason: r.reason)
            },
            k: k, evaluatedCount: c.archive.evaluated.count,
            trialsLeft: c.trialsLeft, hypervolume: c.archive.hypervolume,
            repaired: c.recentRepairs.map { r in
                RepairSummary(architecture: format.compactJSON(r.original), edits: r.edits.joined(separator: ", "), status: r.status)
            })
    }

    /// Clean feedback: only the LLM's own rejections (proposer `llm`, `llm+repair`), never a
    /// fallback proposer's, never `surplus` (valid proposals beyond the batch are not the
    /// model's mistake) and never `llm` (a failed request: "connection refused" teaches nothing).
    static func ownRejections(_ rs: [Rejection]) -> [Rejection] {
        rs.filter { ($0.proposer == "llm" || $0.proposer.hasPrefix("llm+")) && $0.kind != .surplus && $0.kind != .llm }
    }
}
