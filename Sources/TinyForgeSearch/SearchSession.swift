import Foundation
import TinyForgeHardware
import TinyForgeSpec

/// The state of one `SearchController.run()` session (archive, validator, rung results, the
/// summary being built, the iteration counter) and the steps of its loop: resume, promote,
/// propose, validate, record, evaluate. One session per `run()` call; not shared.
final class SearchSession {
    let controller: SearchController
    let store: RunStore
    let config: SearchConfig
    let space: SearchSpace
    let target: Target
    let pending: [PendingCandidate]
    var archive: ParetoArchive
    var validator: CandidateValidator
    var rejections: [Rejection]
    var rungResults: [RungResult]
    /// When the session started (after loading the stored state), for wall time and ETA.
    let start: Date
    var s: SearchSummary
    /// Epochs the whole run is configured to spend (ETA) and those this session spent.
    let plannedEpochs: Int
    var epochsThisSession = 0
    var iteration: Int
    var stall: StallWatch
    var proposerFailures = 0

    init(controller: SearchController) throws {
        let config = controller.config, store = controller.store
        let space = try config.space(), target = try config.resolvedTarget()
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        self.controller = controller; self.store = store; self.config = config; self.space = space; self.target = target
        start = Date()
        pending = state.pending
        archive = state.archive
        validator = CandidateValidator(space: space, task: config.task, target: target, budget: config.budget, seen: state.seen)
        rejections = state.recentRejections
        rungResults = state.rungResults
        s = SearchSummary(status: "running", evaluations: state.evaluationCount, evaluationsThisSession: 0, reEvaluated: 0,
                          rejectedThisSession: 0, hypervolume: state.archive.hypervolume, front: state.archive.front, wallSeconds: 0,
                          proposeSeconds: 0, validateSeconds: 0, storeSeconds: 0, archiveSeconds: 0)
        plannedEpochs = config.halving?.plannedEpochs(trials: config.trials) ?? config.trials * config.settings.epochs
        iteration = state.nextIteration
        stall = StallWatch(maxBarrenIterations: config.maxBarrenIterations)
    }

    /// Adds the time `body` takes to the summary's `which` (the loop's own cost, by kind).
    func timed<T>(_ which: WritableKeyPath<SearchSummary, Double>, _ body: () throws -> T) rethrows -> T {
        let t = Date()
        defer { s[keyPath: which] += Date().timeIntervalSince(t) }
        return try body()
    }

    func event(_ m: String, level: String = "info") throws {
        try timed(\.storeSeconds) { try store.log(m, level: level) }
        controller.onEvent?(m)
    }

    func tally() {
        s.evaluationsPerRung = HalvingScheduler.counts(rungResults, rungs: config.rungs)
        s.epochsSpent = s.evaluationsPerRung.enumerated().map { $0.element * config.settings(rung: $0.offset).epochs }.reduce(0, +)
    }

    func summary(_ status: String) -> SearchSummary {
        s.status = status
        s.hypervolume = archive.hypervolume
        s.front = archive.front
        s.wallSeconds = Date().timeIntervalSince(start)
        return s
    }

    func run() async throws -> SearchSummary {
        try store.setStatus(.running)
        for m in controller.evaluator.reapLeftovers() { try event(m, level: "warning") }
        tally()
        if config.usesQueue {
            return try await InFlightLoop(session: self, queue: try (controller.queue ?? store.workQueue()),
                                          pool: controller.workerPool).run()
        }
        if !pending.isEmpty {
            let interrupted = pending.filter(\.wasInterrupted).count
            let promoted = pending.filter { $0.rung > 0 }.count
            try event("resume: \(pending.count) candidate(s) without a completed evaluation (\(interrupted) interrupted mid-evaluation"
                      + (promoted > 0 ? ", \(promoted) promoted to a higher rung" : "") + ") are evaluated again")
            s.reEvaluated = pending.count
            if try await !evaluate(pending) { return summary("interrupted") }
        }
        while true {
            if let h = config.halving {
                let due = HalvingScheduler.promotions(rungResults, eta: h.eta, rungs: h.rungs)
                if !due.isEmpty {
                    if try await !promote(due) { return summary("interrupted") }
                    continue
                }
            }
            guard s.trained < config.trials else { break }
            let need = min(config.batch, config.trials - s.trained)
            // Surrogate screening asks for F× the free slots once the archive can fit a surrogate.
            let ask = SurrogateScreen.ask(need: need, factor: config.screen, archive: archive)
            guard let proposals = try await propose(ask: ask) else { continue }
            let outcomes = validate(proposals, ask: ask, need: need)
            let accepted = try record(outcomes)
            if let stopped = try endIteration(proposals, outcomes: outcomes, accepted: accepted.count) { return stopped }
            if accepted.isEmpty { continue }
            if try await !evaluate(accepted) { return summary("interrupted") }
        }
        if config.halving != nil {
            try event("successive halving done: \(s.trained) candidates trained in \(s.evaluations) evaluations (per rung "
                      + s.evaluationsPerRung.map(String.init).joined(separator: "/") + "), \(s.epochsSpent) training epochs")
        }
        try store.setStatus(.done)
        return summary("done")
    }
}
