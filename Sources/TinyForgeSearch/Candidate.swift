import TinyForgeHardware
import TinyForgeSpec

/// The cost figures the search ranks by, copied from a `CostReport` (never re-derived here):
/// with `--patch auto` the patch plan's arena and the MACs including its recomputed halos.
public struct CostSummary: Sendable, Equatable, Codable {
    public var macs: Int
    public var params: Int
    public var peakSRAMBytes: Int
    public var flashBytes: Int
    public var latencyMs: Double

    public init(macs: Int, params: Int, peakSRAMBytes: Int, flashBytes: Int, latencyMs: Double) {
        self.macs = macs; self.params = params; self.peakSRAMBytes = peakSRAMBytes
        self.flashBytes = flashBytes; self.latencyMs = latencyMs
    }

    public init(_ r: CostReport) {
        self.init(macs: r.executedMACs, params: r.params, peakSRAMBytes: r.peakSRAMBytes, flashBytes: r.flash.total,
                  latencyMs: r.latency.milliseconds)
    }

    enum CodingKeys: String, CodingKey {
        case macs, params
        case peakSRAMBytes = "peak_sram_bytes"
        case flashBytes = "flash_bytes"
        case latencyMs = "latency_ms"
    }
}

/// What one evaluation (short training run, or the synthetic proxy) produced.
public struct EvaluationResult: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        /// Trained to the end; `valAccuracy` is meaningful.
        case ok
        /// Training diverged (NaN / exploding loss): a property of the architecture, so it
        /// stays in the archive (with accuracy `valAccuracy ?? 0`) and is simply dominated.
        case diverged
        /// The evaluation itself broke (crash, timeout, bad metrics file). Not scored.
        case failed(reason: String)

        public var name: String {
            switch self {
            case .ok: return "ok"
            case .diverged: return "diverged"
            case .failed: return "failed"
            }
        }
    }

    public var status: Status
    public var valAccuracy: Double?
    public var valLoss: Double?
    public var trainLoss: Double?
    public var epochs: Int
    public var seconds: Double
    /// Anything else the evaluator measured (`images_per_second`, ...).
    public var extra: [String: Double]

    public init(status: Status, valAccuracy: Double? = nil, valLoss: Double? = nil, trainLoss: Double? = nil,
                epochs: Int = 0, seconds: Double = 0, extra: [String: Double] = [:]) {
        self.status = status; self.valAccuracy = valAccuracy; self.valLoss = valLoss; self.trainLoss = trainLoss
        self.epochs = epochs; self.seconds = seconds; self.extra = extra
    }

    public static func failed(_ reason: String, seconds: Double = 0) -> EvaluationResult {
        EvaluationResult(status: .failed(reason: reason), seconds: seconds)
    }

    /// The accuracy the archive ranks by: nil when the evaluation failed.
    public var scoredAccuracy: Double? {
        switch status {
        case .ok: return valAccuracy ?? 0
        case .diverged: return valAccuracy ?? 0
        case .failed: return nil
        }
    }

    public var failureReason: String? {
        if case .failed(let r) = status { return r }
        return nil
    }
}

/// A candidate that went through evaluation: what the archive and the proposers see.
public struct EvaluatedCandidate: Sendable {
    /// Row id in the run store; also the proposal order (smaller = proposed earlier).
    public var id: Int64
    public var hash: String
    public var spec: ArchitectureSpec
    public var cost: CostSummary
    public var result: EvaluationResult
    public var proposer: String
    public var parents: [String]
    public var rationale: String?
    /// The successive-halving rung `result` comes from (0 = the proxy; always 0 without halving).
    /// The archive keeps each candidate's highest rung with a score.
    public var rung: Int

    public init(id: Int64, hash: String, spec: ArchitectureSpec, cost: CostSummary, result: EvaluationResult,
                proposer: String, parents: [String] = [], rationale: String? = nil, rung: Int = 0) {
        self.id = id; self.hash = hash; self.spec = spec; self.cost = cost; self.result = result
        self.proposer = proposer; self.parents = parents; self.rationale = rationale; self.rung = rung
    }

    public var accuracy: Double? { result.scoredAccuracy }
}

/// Why a proposal never reached training. `reason` is the exact text fed back to proposers
/// (for budget violations: the `CostReport` violation messages, joined by "; ").
public struct Rejection: Error, Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Text that is not a decodable architecture.
        case decode
        /// Decodes but is not a buildable network (spatial collapse, SE on a conv block...).
        case structure
        /// Does not match the task (classes, input shape).
        case task
        /// Outside the search space (`SearchSpace.violations`).
        case space
        /// Same canonical hash as something already proposed in this run.
        case duplicate
        /// Over the SRAM / flash / MAC budget.
        case budget
        /// Valid, but the batch was already full.
        case surplus
        /// Valid, but surrogate screening (`--screen F`) predicted a lower proxy accuracy for it
        /// than for the candidates trained in its place.
        case screened
        /// No architecture to check: the LLM request failed (connection refused, HTTP error,
        /// timeout, unparsable body) or its reply held no usable JSON. `reason` names the cause.
        case llm
    }

    public var kind: Kind
    public var reason: String
    public var hash: String
    public var proposer: String
    public var iteration: Int
    /// The spec when it decoded (for feedback such as "this one was too big").
    public var spec: ArchitectureSpec?
    /// Its cost when the cost model ran (budget rejections).
    public var cost: CostSummary?

    public init(kind: Kind, reason: String, hash: String, proposer: String, iteration: Int,
                spec: ArchitectureSpec? = nil, cost: CostSummary? = nil) {
        self.kind = kind; self.reason = reason; self.hash = hash; self.proposer = proposer
        self.iteration = iteration; self.spec = spec; self.cost = cost
    }
}
