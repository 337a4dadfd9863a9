import Foundation
import TinyForgeSpec

/// How to train a candidate (the proxy training of the search).
public struct EvaluationSettings: Sendable, Equatable, Codable {
    /// Data set source as given on the command line (`fashion-mnist:DIR`, `cifar10:DIR`, ...).
    public var dataset: String
    public var epochs: Int
    /// Fraction of the training split used (0 < subset ≤ 1).
    public var subset: Double
    public var seed: UInt64
    /// Passed through verbatim to the worker command.
    public var extraArgs: [String]

    public init(dataset: String, epochs: Int, subset: Double = 1, seed: UInt64 = 0, extraArgs: [String] = []) {
        self.dataset = dataset; self.epochs = epochs; self.subset = subset; self.seed = seed; self.extraArgs = extraArgs
    }
}

/// One candidate to evaluate.
public struct EvaluationJob: Sendable {
    public var candidateID: Int64
    public var hash: String
    public var spec: ArchitectureSpec
    public var cost: CostSummary
    public var settings: EvaluationSettings
    /// Successive-halving rung (0 = the proxy); `settings` already holds this rung's epochs.
    public var rung: Int

    public init(candidateID: Int64, hash: String, spec: ArchitectureSpec, cost: CostSummary, settings: EvaluationSettings,
                rung: Int = 0) {
        self.candidateID = candidateID; self.hash = hash; self.spec = spec; self.cost = cost; self.settings = settings
        self.rung = rung
    }
}

/// Turns a candidate into an `EvaluationResult`. Must never throw or crash the search: every
/// failure becomes `.failed(reason:)`. Must be safe to call concurrently (the controller runs
/// up to `workers` evaluations at once).
public protocol Evaluator: Sendable {
    var name: String { get }
    /// True when the score is not an accuracy on a real data set (synthetic proxy); reports
    /// then say "synthetic score", never "accuracy".
    var isSynthetic: Bool { get }
    func evaluate(_ job: EvaluationJob) async -> EvaluationResult
    /// Called once before a (resumed) run evaluates anything: cleans up what a killed earlier
    /// session left running. Returns one line per action taken, for the run's event log.
    func reapLeftovers() -> [String]
}

extension Evaluator {
    public func reapLeftovers() -> [String] { [] }
}
