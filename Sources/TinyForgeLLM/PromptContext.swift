import TinyForgeSpec
import TinyForgeHardware

/// One evaluated architecture as the prompt shows it.
public struct CandidateSummary: Equatable, Sendable {
    /// Compact architecture JSON (`CandidateFormat.compactJSON`): what the LLM would write.
    public var architecture: JSONValue
    /// Validation top-1 in 0...1 (nil = not trained yet).
    public var valAccuracy: Double?
    public var macs: Int
    public var peakSRAMBytes: Int
    public var flashBytes: Int
    public var params: Int?

    public init(architecture: JSONValue, valAccuracy: Double?, macs: Int, peakSRAMBytes: Int, flashBytes: Int, params: Int? = nil) {
        self.architecture = architecture; self.valAccuracy = valAccuracy; self.macs = macs
        self.peakSRAMBytes = peakSRAMBytes; self.flashBytes = flashBytes; self.params = params
    }

    /// From a spec and its cost report (the usual path in the search loop).
    public init(spec: ArchitectureSpec, format: CandidateFormat, cost: CostReport, valAccuracy: Double?) {
        self.init(architecture: format.compactJSON(spec), valAccuracy: valAccuracy, macs: cost.macs,
                  peakSRAMBytes: cost.peakSRAMBytes, flashBytes: cost.flash.total, params: cost.params)
    }
}

/// A proposal that was not trained, with the exact reason (shown to the LLM so it learns the
/// constraint), e.g. "peak SRAM 412 KB > 320 KB at stages[2].layers[1].expand, output 80×80×96".
public struct RejectedSummary: Equatable, Sendable {
    /// Compact architecture JSON, or the raw item when it did not decode; nil = not shown.
    public var architecture: JSONValue?
    public var reason: String
    public init(architecture: JSONValue?, reason: String) { self.architecture = architecture; self.reason = reason }

    /// Coarse class of the reason, for the aggregate line when rows are omitted.
    var category: String {
        let r = reason.lowercased()
        if r.contains("sram") { return "SRAM" }
        if r.contains("flash") { return "flash" }
        if r.contains("macs") { return "MACs" }
        if r.contains("duplicate") { return "duplicate" }
        if r.contains("is not one of") || r.contains("space") { return "outside the space" }
        return "invalid"
    }
}

/// A proposal of the model that the search repaired to fit (shown so the model learns the edits).
public struct RepairSummary: Equatable, Sendable {
    /// The model's architecture, compact JSON.
    public var architecture: JSONValue
    /// `stages[2].out_channels 48→32, stages[2].repeats 3→2`.
    public var edits: String
    /// What became of the repaired one (`done`, `rejected`, …).
    public var status: String
    public init(architecture: JSONValue, edits: String, status: String) {
        self.architecture = architecture; self.edits = edits; self.status = status
    }
}

/// Everything a prompt is built from: plain values the search loop already has.
public struct PromptContext: Sendable {
    public var task: LLMTask
    public var target: Target
    public var budget: Budget
    public var space: SearchSpace
    /// The Pareto front (accuracy vs cost), any order: the builder sorts by MACs.
    public var front: [CandidateSummary]
    /// Best and worst of the latest evaluations (outside the front), for contrast.
    public var recentBest: [CandidateSummary]
    public var recentWorst: [CandidateSummary]
    /// Rejections, oldest first (the latest are kept when the prompt must shrink).
    public var rejected: [RejectedSummary]
    /// How many candidates to ask for.
    public var k: Int
    /// Architectures evaluated so far (for the header line); nil = not shown.
    public var evaluatedCount: Int?
    /// One target per candidate (budget-targeted slots); empty = K untargeted candidates.
    public var slots: [SlotTarget] = []
    /// Candidates the run still trains, and the front's hypervolume now (search state line).
    public var trialsLeft: Int?
    public var hypervolume: Double?
    /// The model's latest proposals that the search repaired, oldest first.
    public var repaired: [RepairSummary] = []

    public init(task: LLMTask, target: Target, budget: Budget, space: SearchSpace, front: [CandidateSummary] = [],
                recentBest: [CandidateSummary] = [], recentWorst: [CandidateSummary] = [],
                rejected: [RejectedSummary] = [], k: Int = 3, evaluatedCount: Int? = nil, slots: [SlotTarget] = [],
                trialsLeft: Int? = nil, hypervolume: Double? = nil, repaired: [RepairSummary] = []) {
        self.task = task; self.target = target; self.budget = budget; self.space = space; self.front = front
        self.recentBest = recentBest; self.recentWorst = recentWorst; self.rejected = rejected; self.k = k
        self.evaluatedCount = evaluatedCount; self.slots = slots; self.trialsLeft = trialsLeft
        self.hypervolume = hypervolume; self.repaired = repaired
    }
}

/// A finished prompt: messages, the schema to send with them, and what was left out.
public struct BuiltPrompt: Sendable {
    public var messages: [LLMMessage]
    /// Schema of the reply (`CandidateFormat.schema(candidates: k)`).
    public var schema: JSONValue
    /// Estimated prompt tokens (characters / `PromptBuilder.charsPerToken`).
    public var estimatedTokens: Int
    /// 0 = everything shown; higher = more rows summarised (see `PromptBuilder`).
    public var summaryLevel: Int
    /// Still over `maxPromptTokens` at the tightest summary level.
    public var overBudget: Bool

    /// The request to send; give a fresh seed per request unless replaying.
    public func request(seed: UInt64?, maxTokens: Int? = nil) -> LLMRequest {
        LLMRequest(messages: messages, schema: schema, schemaName: "candidates", seed: seed, maxTokens: maxTokens)
    }

    public var characterCount: Int { messages.reduce(0) { $0 + $1.content.count } }
}
