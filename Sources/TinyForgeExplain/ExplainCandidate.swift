import TinyForgeSpec
import TinyForgeHardware

/// One evaluated (or rejected) architecture as the explainer sees it. Plain values only, so
/// the run store, a test or a JSON file can all build one; nothing here reads a database.
public struct ExplainCandidate: Sendable, Equatable {
    /// `ArchitectureSpec.canonicalHash` (or any unique id the run store uses).
    public var hash: String
    public var spec: ArchitectureSpec
    /// Who proposed it: "llm:qwen2.5-3b", "evolution", "random", "nsga2", ...
    public var proposer: String
    /// The proposer's free-text reason (LLM proposals), checked by `RationaleChecker`.
    public var rationale: String?
    public var parentHash: String?
    /// Validation accuracy in [0, 1]; nil when not trained (rejected, failed, pending).
    public var valAccuracy: Double?
    public var status: Status
    /// Order of evaluation in the run (x axis of progress plots); nil = unknown.
    public var evaluationIndex: Int?

    public enum Status: String, Sendable, Equatable, CaseIterable {
        case trained
        /// Over budget: never trained.
        case rejected
        case failed
        case pending
    }

    public init(hash: String? = nil, spec: ArchitectureSpec, proposer: String, rationale: String? = nil,
                parentHash: String? = nil, valAccuracy: Double? = nil, status: Status = .trained,
                evaluationIndex: Int? = nil) {
        self.hash = hash ?? spec.canonicalHash
        self.spec = spec
        self.proposer = proposer
        self.rationale = rationale
        self.parentHash = parentHash
        self.valAccuracy = valAccuracy
        self.status = status
        self.evaluationIndex = evaluationIndex
    }

    /// Display form of the hash (12 hex digits).
    public var shortHash: String { String(hash.prefix(12)) }
}

/// The limits an explanation measures usage against: the hardware budget plus an optional
/// latency limit (the cost model estimates latency but `Budget` has no field for it).
public struct ExplainLimits: Sendable, Equatable {
    public var target: Target
    public var budget: Budget
    public var latencyMs: Double?

    public init(target: Target, budget: Budget? = nil, latencyMs: Double? = nil) {
        self.target = target
        self.budget = budget ?? Budget(target: target)
        self.latencyMs = latencyMs
    }
}

/// Bad input to the explainer. Messages name the field and say how to fix it.
public enum ExplainError: Error, Equatable, CustomStringConvertible, Sendable {
    case tooFewSamples(target: String, have: Int, need: Int)
    case heatmapSize(values: Int, width: Int, height: Int)
    case overlaySize(pixels: Int, width: Int, height: Int)
    case invalidLimit(field: String, value: Double)
    case nonFiniteTarget(target: String, row: Int)

    public var description: String {
        switch self {
        case let .tooFewSamples(t, have, need):
            return "surrogate for \(t): \(have) candidates with a value, need at least \(need); run more evaluations or drop this target"
        case let .heatmapSize(v, w, h):
            return "Heatmap.values: \(v) values for a \(w)×\(h) image (needs \(w * h), row-major); pass width and height of the saliency map"
        case let .overlaySize(p, w, h):
            return "Heatmap.overlay: \(p) grey pixels for a \(w)×\(h) image (needs \(w * h)); resize the image to the saliency map first"
        case let .invalidLimit(f, v):
            return "\(f): \(v) is not a positive limit; pass nil for no limit"
        case let .nonFiniteTarget(t, row):
            return "surrogate for \(t): value of row \(row) is NaN or infinite; drop that candidate or fix its metric"
        }
    }
}
