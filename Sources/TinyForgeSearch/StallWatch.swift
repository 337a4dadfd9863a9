/// Decides when a search that makes no progress stops, and words the reason after the real
/// cause: a budget that excludes most of the space reads differently from an LLM that was
/// never reached (before this, both said "the budget may exclude most of the space").
///
/// Two rules, checked after every iteration that accepted nothing:
/// 1. `maxLLMFailureIterations` iterations in a row in which every LLM request failed
///    (refused, timeout, HTTP error, unparsable body) and nothing else was proposed: the next
///    request would fail the same way, so the run stops now rather than after
///    `maxBarrenIterations` more timeouts.
/// 2. `maxBarrenIterations` iterations in a row without an accepted proposal, whatever the
///    reasons; the message breaks them down by kind.
public struct StallWatch {
    public let maxBarrenIterations: Int
    public let maxLLMFailureIterations: Int
    public private(set) var barren = 0
    public private(set) var llmFailedIterations = 0
    private var kinds: [Rejection.Kind: Int] = [:]
    private var latestLLMFailure: String?
    private var latestReason: String?

    public init(maxBarrenIterations: Int, maxLLMFailureIterations: Int = 3) {
        self.maxBarrenIterations = maxBarrenIterations
        self.maxLLMFailureIterations = maxLLMFailureIterations
    }

    /// Records one iteration; returns the stop message when the run should stop.
    public mutating func record(accepted: Int, rejections: [Rejection], llmFailures: [LLMFailure]) -> String? {
        if accepted > 0 { self = StallWatch(maxBarrenIterations: maxBarrenIterations, maxLLMFailureIterations: maxLLMFailureIterations); return nil }
        barren += 1
        for r in rejections { kinds[r.kind, default: 0] += 1 }
        if let f = llmFailures.last { latestLLMFailure = f.cause }
        if let r = rejections.last { latestReason = r.reason }
        let onlyFailedRequests = !llmFailures.isEmpty && llmFailures.allSatisfy(\.requestFailed)
            && rejections.allSatisfy { $0.kind == .llm }
        llmFailedIterations = onlyFailedRequests ? llmFailedIterations + 1 : 0
        if llmFailedIterations >= maxLLMFailureIterations {
            return "stopping: the LLM request failed in \(llmFailedIterations) iterations in a row, so nothing was proposed "
                + "(the budget is not the cause); \(latestLLMFailure ?? "no cause recorded")"
        }
        guard barren >= maxBarrenIterations else { return nil }
        let total = kinds.values.reduce(0, +)
        let sorted = kinds.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) }
        let breakdown = sorted.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
        let head = "stopping: \(barren) iterations in a row without an acceptable proposal (rejected: \(breakdown.isEmpty ? "none" : breakdown))"
        if let llm = kinds[.llm], llm == total {
            return head + "; every LLM round failed, the budget is not the cause; latest: \(latestLLMFailure ?? "?")"
        }
        let top = sorted.first?.key
        var text = head + (top == .budget ? "; the budget may exclude most of the space" : "")
        if let f = latestLLMFailure { text += "; latest LLM failure: \(f)" }
        return text + " (latest reason: \(latestReason ?? "none"))"
    }
}
