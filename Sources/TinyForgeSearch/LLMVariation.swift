import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSpec

/// The LLM as evolution's variation operator (EvoPrompting, Chen et al. 2023; LLMatic, Nasir
/// et al. 2023): `evolution+llm` and `nsga2+llm` select parents as usual, and a model writes the
/// children from the parents' architectures, measured accuracy and cost (`VariationPrompt`).
///
/// One exchange per round for all its children (`batchesRequests`), at most
/// `maxRequestsPerIteration` rounds per iteration (`ProposalContext.llmRequests`): a 135M local
/// model needs tens of seconds per answer.
///
/// Never fewer children than the classic operator: when the model's child for a request is
/// unusable — no answer (timeout, refused, HTTP error), garbage, missing, outside the space, a
/// duplicate, over budget — it is still returned (as text or spec) so the controller records it
/// with its reason, and `fallback` (classic) makes that request's child. `Proposal.change` names
/// the maker: `llm mutation: stages[2].kernel 3→5` or `classic fallback: stages[2].kernel 3→5`;
/// the fallback's rationale says why the model's child was not used.
///
/// Deterministic given the iteration's RNG: the request seed is drawn from `context.rng`, so a
/// deterministic server (or a replay) gives a resumed run the proposals of an uninterrupted one.
public struct LLMVariation: VariationOperator {
    public var name: String { "llm" }
    public var batchesRequests: Bool { true }
    /// Client, parser and parse retries (each retry is one more exchange).
    public var llm: LLMProposer
    public var prompt: VariationPrompt
    /// Model name stored with each exchange.
    public var model: String
    public var fallback: VariationOperator
    public var maxRequestsPerIteration: Int
    /// Classic draws per request before giving up (each rejected draw is recorded too).
    public var fallbackAttempts: Int
    /// Latest rejections shown in the prompt (each is a full architecture, ~150 tokens: the
    /// prompt's evaluation time on a CPU grows with it).
    public var rejectionsShown: Int
    /// The model's over-budget or out-of-space children are repaired (`SpecRepair`, origin
    /// `llm+repair`) before the classic fallback is asked.
    public var repair: Bool

    public init(llm: LLMProposer, model: String, prompt: VariationPrompt = VariationPrompt(),
                fallback: VariationOperator = ClassicVariation(), maxRequestsPerIteration: Int = 1,
                fallbackAttempts: Int = 10, rejectionsShown: Int = 4, repair: Bool = true) {
        self.llm = llm; self.model = model; self.prompt = prompt; self.fallback = fallback
        self.maxRequestsPerIteration = maxRequestsPerIteration; self.fallbackAttempts = max(1, fallbackAttempts)
        self.rejectionsShown = rejectionsShown; self.repair = repair
    }

    /// Single-request form for other callers: the request's last proposal (its child, or the
    /// last rejected attempt). Rejected attempts before it are not returned: use `vary`.
    /// A `spec` that is not the evaluated parent itself has no measurements to show the model,
    /// so it goes to the fallback operator directly.
    public func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String,
                       context: inout ProposalContext) async throws -> Proposal? {
        guard let p = parents.first, p.hash == spec.canonicalHash else {
            return try await fallback.mutate(spec, parents: parents, proposer: proposer, context: &context)
        }
        return try await vary([.mutation(p)], proposer: proposer, context: &context).first?.proposals.last
    }

    public func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String,
                          context: inout ProposalContext) async throws -> Proposal? {
        try await vary([.crossover(a, b)], proposer: proposer, context: &context).first?.proposals.last
    }

    public func vary(_ requests: [VariationRequest], proposer: String,
                     context: inout ProposalContext) async throws -> [VariationOutcome] {
        guard !requests.isEmpty else { return [] }
        guard context.llmRequests < maxRequestsPerIteration else {
            let why = "this iteration's \(maxRequestsPerIteration) LLM request(s) are spent"
            var out: [VariationOutcome] = []
            for r in requests { out.append(try await fallbackChild(r, why: why, proposer: proposer, context: &context)) }
            return out
        }
        context.llmRequests += 1
        let format = CandidateFormat(space: context.space)
        let vctx = Self.variationContext(requests, context: context, format: format, rejections: rejectionsShown)
        let built = prompt.build(vctx)
        let seed = context.rng.next()
        let answer = await llm.ask(built, space: context.space, task: vctx.task, known: [], seed: seed)
        var exchanges = answer.exchanges.map { ExchangeRecord($0, model: model) }
        /// Attaches the round's exchanges to the first proposal made, so they are stored once.
        func attach(_ p: inout Proposal) { if !exchanges.isEmpty { p.exchanges = exchanges; exchanges = [] } }

        var out: [VariationOutcome] = []
        for (i, r) in requests.enumerated() {
            var o = VariationOutcome()
            let why: String
            let lineage = r.parents.map(\.hash)
            if answer.candidates.isEmpty {
                let failure = answer.failure ?? ("LLM reply unusable: " + answer.parseErrors.map(\.message).joined(separator: "; "))
                why = failure
                if i == 0 {
                    // One record of the failed round, with its exchanges and reason.
                    var p = Proposal.failedLLMRound(LLMFailure(cause: failure, requestFailed: answer.requestFailed), proposer: proposer,
                                                    parents: lineage, change: "llm \(r.kind.rawValue) failed: \(failure)")
                    attach(&p)
                    o.proposals.append(p)
                }
            } else if i >= answer.candidates.count {
                why = "the LLM reply had \(answer.candidates.count) item(s), none for child \(i + 1)"
            } else {
                let c = answer.candidates[i]
                if let s = c.spec ?? c.decoded {
                    // Over budget or outside the space: repaired (origin llm+repair) before the
                    // classic fallback is asked; a duplicate stays a duplicate.
                    var p = Proposal(.spec(s), proposer: proposer, rationale: c.rationale, parents: lineage,
                                     change: "llm \(r.kind.rawValue): " + Self.describe(s, from: r, format: format))
                    if repair { p = context.repaired(p, origin: "llm+repair") }
                    attach(&p)
                    o.proposals.append(p)
                    let child = p.spec ?? s
                    let check = context.check(child)
                    context.reserve(child)
                    if check.isAccepted { o.hasChild = true; out.append(o); continue }
                    if case let .rejected(kind, reason, _, _) = check {
                        why = "LLM child rejected (\(kind.rawValue)): \(reason)" + (p.repairFailure.map { "; repair failed: \($0)" } ?? "")
                    } else { why = "" }
                } else {
                    // Decoder rejection (outside the space, bad field): stored as text so the
                    // validator decodes it again and records its own reason.
                    let reason = c.rejection ?? "not decodable"
                    var p = Proposal(.text((c.expanded ?? c.raw).canonicalText()), proposer: proposer, rationale: c.rationale,
                                     parents: lineage, change: "llm \(r.kind.rawValue) rejected before validation: \(reason)")
                    attach(&p)
                    o.proposals.append(p)
                    why = "LLM child rejected: \(reason)"
                }
            }
            let f = try await fallbackChild(r, why: why, proposer: proposer, context: &context)
            o.proposals += f.proposals
            o.hasChild = f.hasChild
            out.append(o)
        }
        if !exchanges.isEmpty, let k = out.firstIndex(where: { !$0.proposals.isEmpty }) {
            attach(&out[k].proposals[0])  // every item unusable and the fallback made the first proposal
        }
        return out
    }

    /// Classic children of `r` until one is acceptable (up to `fallbackAttempts` draws; the
    /// rejected ones are returned too), each marked as a fallback with the reason.
    func fallbackChild(_ r: VariationRequest, why: String, proposer: String,
                       context: inout ProposalContext) async throws -> VariationOutcome {
        var o = VariationOutcome()
        for _ in 0..<fallbackAttempts {
            let child: Proposal?
            switch r.kind {
            case .mutation: child = try await fallback.mutate(r.parents[0].spec, parents: r.parents, proposer: proposer, context: &context)
            case .crossover: child = try await fallback.crossover(r.parents[0], r.parents[1], proposer: proposer, context: &context)
            }
            guard var p = child else { continue }
            p.change = "classic fallback: " + (p.change ?? r.kind.rawValue)
            p.rationale = clipped(why, 300)
            o.proposals.append(p)
            if context.take(p) { o.hasChild = true; break }
        }
        return o
    }

    /// The prompt's inputs: distinct parents in first-seen order, one ask per request.
    static func variationContext(_ requests: [VariationRequest], context c: ProposalContext, format: CandidateFormat,
                                 rejections: Int) -> VariationContext {
        var index: [String: Int] = [:]
        var parents: [CandidateSummary] = []
        func idx(_ e: EvaluatedCandidate) -> Int {
            if let i = index[e.hash] { return i }
            index[e.hash] = parents.count
            parents.append(CandidateSummary(architecture: format.compactJSON(e.spec), valAccuracy: e.accuracy, macs: e.cost.macs,
                                            peakSRAMBytes: e.cost.peakSRAMBytes, flashBytes: e.cost.flashBytes, params: e.cost.params))
            return parents.count - 1
        }
        let asks = requests.map { r in
            r.kind == .mutation ? VariationAsk.mutation(idx(r.parents[0])) : VariationAsk.crossover(idx(r.parents[0]), idx(r.parents[1]))
        }
        let side = c.space.resolutions.first ?? 32
        let task = LLMTask(dataset: c.task.dataset, numClasses: c.task.numClasses,
                           input: InputShape(height: side, width: side, channels: c.space.inputChannels))
        // Surplus proposals were valid, and failed rounds teach nothing: neither is shown to the model.
        let rejected = c.recentRejections.filter { $0.kind != .surplus && $0.kind != .llm }.suffix(rejections).map { r in
            RejectedSummary(architecture: r.spec.map { format.compactJSON($0) }, reason: r.reason)
        }
        return VariationContext(task: task, target: c.target, budget: c.budget, space: c.space, parents: parents,
                                asks: asks, rejected: Array(rejected), trialsLeft: c.trialsLeft, hypervolume: c.archive.hypervolume)
    }

    /// What the model changed, in the compact form: `stages[2].kernel 3→5, stages[1].out_channels 16→24`
    /// against the (first) parent; a crossover also counts the fields that differ from the second.
    static func describe(_ child: ArchitectureSpec, from r: VariationRequest, format: CandidateFormat) -> String {
        let c = format.compactJSON(child)
        let d = diff(format.compactJSON(r.parents[0].spec), c, path: "")
        var text = d.isEmpty ? "no change (a copy of the parent)"
            : d.prefix(4).joined(separator: ", ") + (d.count > 4 ? " (+\(d.count - 4) more)" : "")
        if r.kind == .crossover {
            let d2 = diff(format.compactJSON(r.parents[1].spec), c, path: "")
            text = "\(d.count) field(s) differ from the first parent (\(d.isEmpty ? "none" : text)), \(d2.count) from the second"
        }
        return text
    }

    /// Leaf differences `path a→b` between two JSON values (whole values where shapes differ).
    static func diff(_ a: JSONValue, _ b: JSONValue, path: String) -> [String] {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return Set(x.keys).union(y.keys).sorted().flatMap { k in
                diff(x[k] ?? .null, y[k] ?? .null, path: path.isEmpty ? k : "\(path).\(k)")
            }
        case (.array(let x), .array(let y)) where x.count == y.count:
            return x.indices.flatMap { diff(x[$0], y[$0], path: "\(path)[\($0)]") }
        case (.array(let x), .array(let y)):
            return ["\(path) \(x.count)→\(y.count) items"] + zip(x, y).enumerated().flatMap { diff($1.0, $1.1, path: "\(path)[\($0)]") }
        default:
            return a == b ? [] : ["\(path) \(brief(a))→\(brief(b))"]
        }
    }

    static func brief(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        if case .null = v { return "none" }
        return v.canonicalText()
    }
}

func clipped(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

extension ExchangeRecord {
    /// The store's record of one HTTP attempt (no credentials: `LLMExchange` never holds them).
    public init(_ e: LLMExchange, model: String) {
        self.init(model: model, prompt: e.requestBody, response: e.responseText ?? "", latencyMs: e.latencyMs,
                  promptTokens: e.promptTokens, completionTokens: e.completionTokens, error: e.error)
    }
}
