import Foundation
import TinyForgeSpec

extension SearchSession {
    /// Evaluates `batch` with `workers` evaluations at once, recording each result, the archive
    /// and the progress as it arrives; false when the session stopped (`stopAfterEvaluations`).
    func evaluate(_ batch: [PendingCandidate]) async throws -> Bool {
        try timed(\.storeSeconds) { try store.markEvaluating(batch.map(\.id)) }
        let jobs = batch.map { EvaluationJob(candidateID: $0.id, hash: $0.hash, spec: $0.spec, cost: $0.cost,
                                             settings: config.settings(rung: $0.rung), rung: $0.rung) }
        let byID = Dictionary(uniqueKeysWithValues: batch.map { ($0.id, $0) })
        let proposals = try timed(\.storeSeconds) { try store.proposalInfo(ids: batch.map(\.id)) }
        var next = 0
        return try await withThrowingTaskGroup(of: (Int64, EvaluationResult).self) { group in
            let evaluator = controller.evaluator
            while next < min(config.workers, jobs.count) {
                let job = jobs[next]; next += 1
                group.addTask { (job.candidateID, await evaluator.evaluate(job)) }
            }
            while let (id, result) = try await group.next() {
                try recordResult(result, of: byID[id]!, info: proposals[id])
                if let stop = controller.stopAfterEvaluations, s.evaluationsThisSession >= stop {
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

    /// One finished evaluation: archive, store, event on failure, rung tally, progress line.
    func recordResult(_ result: EvaluationResult, of p: PendingCandidate,
                      info: (proposer: String, parents: [String], rationale: String?)?) throws {
        let id = p.id
        let c = EvaluatedCandidate(id: id, hash: p.hash, spec: p.spec, cost: p.cost, result: result,
                                   proposer: info?.proposer ?? controller.proposer.name, parents: info?.parents ?? [],
                                   rationale: info?.rationale, rung: p.rung)
        timed(\.archiveSeconds) { archive.add(c) }
        let n = try timed(\.storeSeconds) {
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
        controller.onProgress?(SearchProgress(
            evaluation: n, trials: config.trials, candidate: c, best: archive.best, hypervolume: archive.hypervolume,
            frontSize: archive.frontIDs.count, rejected: s.rejectedThisSession, elapsedSeconds: elapsed,
            etaSeconds: eta, rung: p.rung, trained: s.trained))
    }
}
