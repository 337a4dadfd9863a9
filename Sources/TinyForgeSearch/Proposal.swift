import TinyForgeHardware
import TinyForgeSpec

/// One round trip to a language model (or any remote proposer), stored verbatim in the run
/// store for audit. API keys never go in here: the client keeps them.
public struct ExchangeRecord: Sendable, Equatable {
    public var model: String?
    public var prompt: String
    public var response: String
    public var latencyMs: Double
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// Transport or API error, when the exchange failed.
    public var error: String?

    public init(model: String? = nil, prompt: String, response: String, latencyMs: Double,
                promptTokens: Int? = nil, completionTokens: Int? = nil, error: String? = nil) {
        self.model = model; self.prompt = prompt; self.response = response; self.latencyMs = latencyMs
        self.promptTokens = promptTokens; self.completionTokens = completionTokens; self.error = error
    }
}

/// A proposed architecture, before validation.
public struct Proposal: Sendable {
    public enum Content: Sendable {
        /// A decoded architecture (classic proposers, or an LLM answer already parsed).
        case spec(ArchitectureSpec)
        /// Raw text the validator decodes (ours or the paper's JSON); when it does not decode the
        /// proposal is rejected with the decoder's message and the text is stored.
        case text(String)
    }

    public var content: Content
    public var rationale: String?
    public var proposer: String
    /// Canonical hashes of the parents (mutation: one, crossover: two; none for fresh samples).
    public var parents: [String]
    /// What the variation changed, e.g. `stages[3].kernel 5→7` or `crossover`.
    public var change: String?
    /// Exchanges that produced this proposal. When one exchange yields several proposals,
    /// attach it to the first only so it is stored once.
    public var exchanges: [ExchangeRecord]
    /// Set when `SpecRepair` changed the proposal: the spec as proposed and the edits (both
    /// specs are stored, see `ProposalContext.repaired`).
    public var repair: RepairRecord?
    /// A repair was tried and nothing fits: appended to the rejection's reason.
    public var repairFailure: String?
    /// The cost niche an LLM slot asked for and whether the model's own spec landed in it.
    public var slot: SlotRecord?
    /// Set on the record of an LLM round that produced nothing: the validator rejects it as
    /// `Rejection.Kind.llm` with the cause, instead of trying to decode it.
    public var llmFailure: LLMFailure?

    public init(_ content: Content, proposer: String, rationale: String? = nil, parents: [String] = [],
                change: String? = nil, exchanges: [ExchangeRecord] = []) {
        self.content = content; self.proposer = proposer; self.rationale = rationale
        self.parents = parents; self.change = change; self.exchanges = exchanges
    }

    public var spec: ArchitectureSpec? {
        if case .spec(let s) = content { return s }
        return nil
    }

    /// The record of a failed LLM round (stored as `{"llm_failure": cause}` text, with the
    /// round's exchanges and the cause as its rejection reason).
    public static func failedLLMRound(_ failure: LLMFailure, proposer: String, parents: [String] = [], change: String? = nil,
                                      exchanges: [ExchangeRecord] = []) -> Proposal {
        var p = Proposal(.text("{\"llm_failure\": \(JSONValue.string(failure.cause).canonicalText())}"), proposer: proposer,
                         parents: parents, change: change ?? failure.cause, exchanges: exchanges)
        p.llmFailure = failure
        return p
    }
}

/// Why an LLM round gave no architecture, for the console, the store and the stop rule.
public struct LLMFailure: Sendable, Equatable {
    /// One line that starts with the cause: "LLM request failed: connection refused: …",
    /// "LLM request failed: HTTP 401 from …: …", "LLM request failed: timeout after 30 s: …",
    /// "LLM reply unusable: reply no_json: …".
    public var cause: String
    /// The request itself failed (no chat reply at all); false when the model answered with
    /// text that held no usable JSON.
    public var requestFailed: Bool

    public init(cause: String, requestFailed: Bool) { self.cause = cause; self.requestFailed = requestFailed }
}

/// What the search is for: the data set (as given on the command line) and its class count.
public struct TaskInfo: Sendable, Equatable, Codable {
    public var dataset: String
    public var numClasses: Int
    public init(dataset: String, numClasses: Int) { self.dataset = dataset; self.numClasses = numClasses }
}

/// Everything a proposer may look at. Built fresh by the controller for each iteration from the
/// run store's state, so a resumed run hands proposers exactly what an uninterrupted one would.
public struct ProposalContext {
    public var space: SearchSpace
    public var task: TaskInfo
    public var target: Target
    public var budget: Budget
    /// Front, every evaluated candidate (in proposal order) and the hypervolume.
    public var archive: ParetoArchive
    /// The most recent rejections (oldest first) with their exact reasons.
    public var recentRejections: [Rejection]
    /// 0-based iteration number (one proposer call per iteration).
    public var iteration: Int
    /// This iteration's random stream: `SeededGenerator(seed: runSeed, stream: iteration)`.
    public var rng: SeededGenerator
    /// The same checks the controller applies, for proposers that resample what would be
    /// rejected. Knows every hash seen in the run.
    public var validator: CandidateValidator
    /// LLM requests made so far in this proposer call (the controller builds a fresh context
    /// per iteration, so this counts per iteration, resumed runs included). LLM variation
    /// operators bound their calls with it.
    public var llmRequests: Int = 0
    /// Candidates still to train in the run, this iteration's included (the LLM prompt states
    /// it); nil when the caller does not know.
    public var trialsLeft: Int?
    /// The latest repaired LLM proposals (oldest first), for the next prompt.
    public var recentRepairs: [StoredRepair] = []

    public init(space: SearchSpace, task: TaskInfo, target: Target, budget: Budget, archive: ParetoArchive,
                recentRejections: [Rejection], iteration: Int, rng: SeededGenerator, validator: CandidateValidator) {
        self.space = space; self.task = task; self.target = target; self.budget = budget; self.archive = archive
        self.recentRejections = recentRejections; self.iteration = iteration; self.rng = rng; self.validator = validator
    }

    /// Would `spec` be accepted now? Proposers call this to resample; returning the rejected
    /// attempts too lets the controller record them.
    public func check(_ spec: ArchitectureSpec) -> CandidateCheck { validator.check(spec) }

    /// Marks `spec` as taken for the rest of this proposer call (so a batch has no duplicates).
    public mutating func reserve(_ spec: ArchitectureSpec) { validator.markSeen(spec.canonicalHash) }
}

/// Proposes architectures. `random`, `evolution` and `nsga2` live here; an LLM proposer is the
/// same protocol with `Proposal.Content.text` answers and `ExchangeRecord`s.
///
/// Contract: return at least `count` proposals when possible. Extra proposals (e.g. rejected
/// attempts of a budget-aware sampler) are welcome: the controller validates every one, records
/// every rejection, and evaluates the first `count` accepted ones.
public protocol Proposer {
    var name: String { get }
    func propose(count: Int, context: inout ProposalContext) async throws -> [Proposal]
}
