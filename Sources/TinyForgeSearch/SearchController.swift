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

    public init(store: RunStore, config: SearchConfig, proposer: Proposer, evaluator: Evaluator) {
        self.store = store; self.config = config; self.proposer = proposer; self.evaluator = evaluator
    }

    public func run() async throws -> SearchSummary {
        try config.validate()
        let space = try config.space(), target = try config.resolvedTarget()
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        var archive = state.archive
        var validator = CandidateValidator(space: space, task: config.task, target: target, budget: config.budget, seen: state.seen)
        var rejections = state.recentRejections
        var rungResults = state.rungResults
        let start = Date()
        var s = SearchSummary(status: "running", evaluations: state.evaluationCount, evaluationsThisSession: 0, reEvaluated: 0,
                              rejectedThisSession: 0, hypervolume: archive.hypervolume, front: archive.front, wallSeconds: 0,
                              proposeSeconds: 0, validateSeconds: 0, storeSeconds: 0, archiveSeconds: 0)
        func timed<T>(_ acc: inout Double, _ body: () throws -> T) rethrows -> T {
            let t = Date(); defer { acc += Date().timeIntervalSince(t) }
            return try body()
        }
        func event(_ m: String, level: String = "info") throws {
            try timed(&s.storeSeconds) { try store.log(m, level: level) }
            onEvent?(m)
        }
        try store.setStatus("running")
        for m in evaluator.reapLeftovers() { try event(m, level: "warning") }

        func tally() {
            s.evaluationsPerRung = HalvingScheduler.counts(rungResults, rungs: config.rungs)
            s.epochsSpent = s.evaluationsPerRung.enumerated().map { $0.element * config.settings(rung: $0.offset).epochs }.reduce(0, +)
        }
        tally()
        let plannedEpochs = config.halving?.plannedEpochs(trials: config.trials) ?? config.trials * config.settings.epochs
        var epochsThisSession = 0

        func evaluate(_ batch: [PendingCandidate]) async throws -> Bool {
            try timed(&s.storeSeconds) { try store.markEvaluating(batch.map(\.id)) }
            let jobs = batch.map { EvaluationJob(candidateID: $0.id, hash: $0.hash, spec: $0.spec, cost: $0.cost,
                                                 settings: config.settings(rung: $0.rung), rung: $0.rung) }
            let byID = Dictionary(uniqueKeysWithValues: batch.map { ($0.id, $0) })
            let proposals = try timed(&s.storeSeconds) { try store.proposalInfo(ids: batch.map(\.id)) }
            var next = 0
            return try await withThrowingTaskGroup(of: (Int64, EvaluationResult).self) { group in
                let evaluator = self.evaluator
                while next < min(config.workers, jobs.count) {
                    let job = jobs[next]; next += 1
                    group.addTask { (job.candidateID, await evaluator.evaluate(job)) }
                }
                while let (id, result) = try await group.next() {
                    let p = byID[id]!, info = proposals[id]
                    let c = EvaluatedCandidate(id: id, hash: p.hash, spec: p.spec, cost: p.cost, result: result,
                                               proposer: info?.proposer ?? proposer.name, parents: info?.parents ?? [],
                                               rationale: info?.rationale, rung: p.rung)
                    timed(&s.archiveSeconds) { archive.add(c) }
                    let n = try timed(&s.storeSeconds) {
                        try store.recordEvaluation(candidateID: id, result: result, hypervolume: archive.hypervolume,
                                                   frontSize: archive.frontIDs.count, rung: p.rung)
                    }
                    let at = config.halving == nil ? "" : " at rung \(p.rung)"
                    if let why = result.failureReason { try event("evaluation of #\(id) \(p.hash.prefix(12))\(at) failed: \(why)", level: "warning") }
                    rungResults.append(RungResult(candidateID: id, rung: p.rung, accuracy: result.scoredAccuracy))
                    tally()
                    epochsThisSession += config.settings(rung: p.rung).epochs
                    s.evaluations = n; s.evaluationsThisSession += 1
                    let elapsed = Date().timeIntervalSince(start)
                    // Remaining time by epochs: higher rungs cost more than proxy evaluations.
                    let eta = elapsed / Double(epochsThisSession) * Double(max(0, plannedEpochs - s.epochsSpent))
                    onProgress?(SearchProgress(
                        evaluation: n, trials: config.trials, candidate: c, best: archive.best, hypervolume: archive.hypervolume,
                        frontSize: archive.frontIDs.count, rejected: s.rejectedThisSession, elapsedSeconds: elapsed,
                        etaSeconds: eta, rung: p.rung, trained: s.trained))
                    if let stop = stopAfterEvaluations, s.evaluationsThisSession >= stop {
                        group.cancelAll()
                        return false
                    }
                    if next < jobs.count {
                        let job = jobs[next]; next += 1
                        group.addTask { (job.candidateID, await evaluator.evaluate(job)) }
                    }
                }
                return true
            }
        }

        if !state.pending.isEmpty {
            let interrupted = state.pending.filter(\.wasInterrupted).count
            let promoted = state.pending.filter { $0.rung > 0 }.count
            try event("resume: \(state.pending.count) candidate(s) without a completed evaluation (\(interrupted) interrupted mid-evaluation"
                      + (promoted > 0 ? ", \(promoted) promoted to a higher rung" : "") + ") are evaluated again")
            s.reEvaluated = state.pending.count
            if try await !evaluate(state.pending) { return finish(&s, archive, start, status: "interrupted") }
        }
        /// Stores and evaluates the promotions due now; false when the session stopped.
        func promote(_ due: [HalvingScheduler.Promotion]) async throws -> Bool {
            let byID = Dictionary(uniqueKeysWithValues: archive.evaluated.map { ($0.id, $0) })
            let batch = due.map { d -> PendingCandidate in
                let c = byID[d.candidateID]!
                return PendingCandidate(id: c.id, hash: c.hash, spec: c.spec, cost: c.cost, wasInterrupted: false, rung: d.toRung)
            }
            try timed(&s.storeSeconds) { try store.promote(due) }
            let rungs = Dictionary(grouping: due, by: \.toRung).sorted { $0.key < $1.key }
                .map { "\($0.value.count) to rung \($0.key) (\(config.settings(rung: $0.key).epochs) epochs)" }.joined(separator: ", ")
            try event("successive halving: promoting \(rungs): " + due.map { "#\($0.candidateID)" }.joined(separator: " "))
            return try await evaluate(batch)
        }
        var iteration = state.nextIteration
        var stall = StallWatch(maxBarrenIterations: config.maxBarrenIterations)
        var proposerFailures = 0
        while true {
            if let h = config.halving {
                let due = HalvingScheduler.promotions(rungResults, eta: h.eta, rungs: h.rungs)
                if !due.isEmpty {
                    if try await !promote(due) { return finish(&s, archive, start, status: "interrupted") }
                    continue
                }
            }
            guard s.trained < config.trials else { break }
            let need = min(config.batch, config.trials - s.trained)
            // Surrogate screening asks for F× the free slots once the archive can fit a surrogate.
            let ask = SurrogateScreen.ask(need: need, factor: config.screen, archive: archive)
            var ctx = ProposalContext(space: space, task: config.task, target: target, budget: config.budget, archive: archive,
                                      recentRejections: rejections, iteration: iteration,
                                      rng: SeededGenerator(seed: config.seed, stream: UInt64(iteration)), validator: validator)
            ctx.trialsLeft = config.trials - s.trained
            ctx.recentRepairs = try timed(&s.storeSeconds) { try store.recentRepairs(proposerPrefix: "llm") }
            let t0 = Date()
            let proposals: [Proposal]
            do {
                proposals = try await proposer.propose(count: ask, context: &ctx)
                s.proposeSeconds += Date().timeIntervalSince(t0)
                proposerFailures = 0
            } catch {
                s.proposeSeconds += Date().timeIntervalSince(t0)
                proposerFailures += 1
                try event("iteration \(iteration): proposer \(proposer.name) failed: \(error)", level: "error")
                try timed(&s.storeSeconds) { _ = try store.recordIteration(iteration, outcomes: []) }
                iteration += 1
                if proposerFailures >= 5 {
                    _ = finish(&s, archive, start, status: "failed")
                    try store.setStatus("failed")
                    throw SearchError("proposer \(proposer.name)", "failed 5 iterations in a row; last error: \(error)")
                }
                continue
            }
            var outcomes: [ProposalOutcome] = []
            timed(&s.validateSeconds) {
                var valid = 0
                for p in proposals {
                    switch validator.validate(p, iteration: iteration) {
                    case .success(let a) where valid < ask:
                        valid += 1
                        outcomes.append(.accepted(a))
                    case .success(let a):
                        let r = Rejection(kind: .surplus, reason: "valid, but this iteration's batch of \(ask) was already full",
                                          hash: a.hash, proposer: p.proposer, iteration: iteration, spec: a.spec, cost: CostSummary(a.cost))
                        outcomes.append(.rejected(p, r))
                    case .failure(let r):
                        outcomes.append(.rejected(p, r))
                    }
                }
                if ask > need {
                    outcomes = SurrogateScreen.screen(outcomes, keep: need, archive: archive, iteration: iteration,
                                                      criterion: config.screenBy ?? SurrogateScreen.defaultCriterion)
                }
            }
            var accepted: [PendingCandidate] = outcomes.compactMap { o in
                guard case .accepted(let a) = o else { return nil }
                return PendingCandidate(id: 0, hash: a.hash, spec: a.spec, cost: CostSummary(a.cost), wasInterrupted: false)
            }
            let ids = try timed(&s.storeSeconds) { () throws -> [Int64] in
                let ids = try store.recordIteration(iteration, outcomes: outcomes)
                // Same descriptions and rejection list as `loadState` gives a resumed run.
                for (hash, id) in try store.candidateIDs(iteration: iteration) { validator.describeSeen(hash, as: "candidate #\(id)") }
                rejections = try store.recentRejections(limit: 50)
                return ids
            }
            for i in accepted.indices { accepted[i].id = ids[i] }
            let rejectedNow = outcomes.count - accepted.count
            s.rejectedThisSession += rejectedNow
            if rejectedNow > 0 {
                let kinds = Dictionary(grouping: outcomes.compactMap { o -> String? in
                    if case .rejected(_, let r) = o { return r.kind.rawValue }; return nil
                }, by: { $0 }).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
                try event("iteration \(iteration): \(accepted.count) accepted, \(rejectedNow) rejected (\(kinds))")
            }
            if let line = Self.repairSlotEvent(proposals) { try event("iteration \(iteration): " + line) }
            // One line per failed LLM round, with its cause (refused, HTTP status, timeout, unparsable).
            let failures = proposals.compactMap(\.llmFailure)
            for f in failures { try event("iteration \(iteration): \(f.cause)", level: "warning") }
            iteration += 1
            let rejectedThis = outcomes.compactMap { o -> Rejection? in if case .rejected(_, let r) = o { return r }; return nil }
            if let why = stall.record(accepted: accepted.count, rejections: rejectedThis, llmFailures: failures) {
                try event(why, level: "error")
                var r = finish(&s, archive, start, status: "stalled")
                r.stopReason = why
                try store.setStatus("stalled")
                return r
            }
            if accepted.isEmpty { continue }
            if try await !evaluate(accepted) { return finish(&s, archive, start, status: "interrupted") }
        }
        if config.halving != nil {
            try event("successive halving done: \(s.trained) candidates trained in \(s.evaluations) evaluations (per rung "
                      + s.evaluationsPerRung.map(String.init).joined(separator: "/") + "), \(s.epochsSpent) training epochs")
        }
        try store.setStatus("done")
        return finish(&s, archive, start, status: "done")
    }

    private func finish(_ s: inout SearchSummary, _ archive: ParetoArchive, _ start: Date, status: String) -> SearchSummary {
        s.status = status
        s.hypervolume = archive.hypervolume
        s.front = archive.front
        s.wallSeconds = Date().timeIntervalSince(start)
        return s
    }
}
