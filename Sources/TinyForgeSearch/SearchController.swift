import Foundation
import TinyForgeHardware
import TinyForgeSpec

/// One line of progress, after every completed evaluation.
public struct SearchProgress: Sendable {
    /// Completed evaluations in the run (this one included) and the target count.
    public var evaluation: Int
    public var trials: Int
    public var candidate: EvaluatedCandidate
    public var best: EvaluatedCandidate?
    public var hypervolume: Double
    public var frontSize: Int
    public var rejected: Int
    public var elapsedSeconds: Double
    /// Remaining time at the pace of this session, nil before the first evaluation.
    public var etaSeconds: Double?
    /// Successive halving: the rung of this evaluation (0 = proxy) and the candidates trained
    /// so far (rung-0 evaluations, what `trials` counts). Without halving: 0 and `evaluation`.
    public var rung: Int = 0
    public var trained: Int = 0
}

/// What a `run()` did.
public struct SearchSummary: Sendable {
    public var status: String
    /// Why the run stopped before `trials` (a stall names its real cause); nil when done.
    public var stopReason: String?
    public var evaluations: Int
    public var evaluationsThisSession: Int
    public var reEvaluated: Int
    public var rejectedThisSession: Int
    public var hypervolume: Double
    public var front: [EvaluatedCandidate]
    public var wallSeconds: Double
    /// Time in proposers, validation (incl. cost model) and store writes: the loop's own cost.
    public var proposeSeconds: Double
    public var validateSeconds: Double
    public var storeSeconds: Double
    /// Front update + exact hypervolume after each evaluation.
    public var archiveSeconds: Double
    /// Stored evaluations per rung (one entry without halving) and the training epochs they
    /// were configured with in total (Σ count_r · epochs_r), the budget halving spends.
    public var evaluationsPerRung: [Int] = []
    public var epochsSpent: Int = 0
    /// Queue executors only: iterations of the in-flight loop, and those that enqueued new
    /// candidates (the controller's proposal rate per step, for the coordination benchmark).
    public var loopSteps: Int = 0
    public var proposalSteps: Int = 0
    /// Rung-0 evaluations: candidates trained (what `trials` counts).
    public var trained: Int { evaluationsPerRung.first ?? evaluations }
    public var controllerSecondsPerTrial: Double {
        evaluationsThisSession == 0 ? 0
            : (proposeSeconds + validateSeconds + storeSeconds + archiveSeconds) / Double(evaluationsThisSession)
    }
}

/// The search loop: propose → validate (space, duplicates, budget) → record → evaluate
/// (`workers` at once) → archive + hypervolume → record, until `trials` candidates are trained.
///
/// Iterations are synchronous batches and iteration i draws from
/// `SeededGenerator(seed: config.seed, stream: i)`, so a resumed run proposes exactly what an
/// uninterrupted one would (for deterministic proposers and evaluators).
///
/// With successive halving (`config.halving`), after every batch the promotions due
/// (`HalvingScheduler`) are stored and evaluated as a batch of their own, before any new
/// proposal, until none is due; after the last proposal batch the rungs are drained the same
/// way. Batch boundaries make the rule see the same evaluations whatever order workers finish in.
public final class SearchController {
    public let store: RunStore
    public let config: SearchConfig
    public let proposer: Proposer
    public let evaluator: Evaluator
    public var onProgress: ((SearchProgress) -> Void)?
    public var onEvent: ((String) -> Void)?
    /// Stop after this many evaluations in this session (tests simulate a crash with it).
    public var stopAfterEvaluations: Int?
    /// Queue executors (`config.usesQueue`): the queue (default: the run store's SQLite
    /// queue), the workers to start (`--executor workers`: local, `slurm`: a job array), the identity workers must
    /// match (binary version, dataset fingerprint; nil = not checked) and the poll period.
    public var queue: WorkQueue?
    public var workerPool: WorkerPool?
    public var identity: RunIdentity?
    public var queuePollSeconds = 0.2

    public init(store: RunStore, config: SearchConfig, proposer: Proposer, evaluator: Evaluator) {
        self.store = store; self.config = config; self.proposer = proposer; self.evaluator = evaluator
    }

    public func run() async throws -> SearchSummary {
        try config.validate()
        return try await SearchSession(controller: self).run()
    }
}
