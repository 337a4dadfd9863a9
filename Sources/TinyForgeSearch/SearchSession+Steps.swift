import Foundation
import TinyForgeSpec

/// The steps of a search iteration, in loop order.
extension SearchSession {
    /// Asks the proposer for `ask` proposals; nil when it failed this iteration (recorded, the
    /// iteration counted). Five failures in a row end the run as failed.
    func propose(ask: Int) async throws -> [Proposal]? {
        let proposer = controller.proposer
        var ctx = ProposalContext(space: space, task: config.task, target: target, budget: config.budget, archive: archive,
                                  recentRejections: rejections, iteration: iteration,
                                  rng: SeededGenerator(seed: config.seed, stream: UInt64(iteration)), validator: validator)
        ctx.trialsLeft = config.trials - s.trained
        ctx.recentRepairs = try timed(\.storeSeconds) { try store.recentRepairs(proposerPrefix: "llm") }
        let t0 = Date()
        do {
            let proposals = try await proposer.propose(count: ask, context: &ctx)
            s.proposeSeconds += Date().timeIntervalSince(t0)
            proposerFailures = 0
            return proposals
        } catch {
            s.proposeSeconds += Date().timeIntervalSince(t0)
            proposerFailures += 1
            try event("iteration \(iteration): proposer \(proposer.name) failed: \(error)", level: "error")
            try timed(\.storeSeconds) { _ = try store.recordIteration(iteration, outcomes: []) }
            iteration += 1
            if proposerFailures >= 5 {
                _ = summary("failed")
                try store.setStatus(.failed)
                throw SearchError("proposer \(proposer.name)", "failed 5 iterations in a row; last error: \(error)")
            }
            return nil
        }
    }

    /// Validates in order, accepting at most `ask` (the rest are surplus), then screens down to
    /// `need` when the surrogate asked for more.
    func validate(_ proposals: [Proposal], ask: Int, need: Int) -> [ProposalOutcome] {
        timed(\.validateSeconds) {
            var outcomes: [ProposalOutcome] = []
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
            return outcomes
        }
    }

    /// Stores the iteration's outcomes; returns the accepted candidates with their ids.
    func record(_ outcomes: [ProposalOutcome]) throws -> [PendingCandidate] {
        var accepted: [PendingCandidate] = outcomes.compactMap { o in
            guard case .accepted(let a) = o else { return nil }
            return PendingCandidate(id: 0, hash: a.hash, spec: a.spec, cost: CostSummary(a.cost), wasInterrupted: false)
        }
        let ids = try timed(\.storeSeconds) { () throws -> [Int64] in
            let ids = try store.recordIteration(iteration, outcomes: outcomes)
            // Same descriptions and rejection list as `loadState` gives a resumed run.
            for (hash, id) in try store.candidateIDs(iteration: iteration) { validator.describeSeen(hash, as: "candidate #\(id)") }
            rejections = try store.recentRejections(limit: 50)
            return ids
        }
        for i in accepted.indices { accepted[i].id = ids[i] }
        return accepted
    }

    /// Logs the iteration (rejections by kind, repairs and slots, failed LLM rounds), counts
    /// it, and asks the stall watch; returns the final summary when the run stalled.
    func endIteration(_ proposals: [Proposal], outcomes: [ProposalOutcome], accepted: Int) throws -> SearchSummary? {
        let rejectedNow = outcomes.count - accepted
        s.rejectedThisSession += rejectedNow
        if rejectedNow > 0 {
            let kinds = Dictionary(grouping: outcomes.compactMap { o -> String? in
                if case .rejected(_, let r) = o { return r.kind.rawValue }; return nil
            }, by: { $0 }).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
            try event("iteration \(iteration): \(accepted) accepted, \(rejectedNow) rejected (\(kinds))")
        }
        if let line = SearchController.repairSlotEvent(proposals) { try event("iteration \(iteration): " + line) }
        // One line per failed LLM round, with its cause (refused, HTTP status, timeout, unparsable).
        let failures = proposals.compactMap(\.llmFailure)
        for f in failures { try event("iteration \(iteration): \(f.cause)", level: "warning") }
        iteration += 1
        let rejectedThis = outcomes.compactMap { o -> Rejection? in if case .rejected(_, let r) = o { return r }; return nil }
        guard let why = stall.record(accepted: accepted, rejections: rejectedThis, llmFailures: failures) else { return nil }
        try event(why, level: "error")
        var r = summary("stalled")
        r.stopReason = why
        try store.setStatus(.stalled)
        return r
    }

    /// Stores and evaluates the promotions due now; false when the session stopped.
    func promote(_ due: [HalvingScheduler.Promotion]) async throws -> Bool {
        let byID = Dictionary(uniqueKeysWithValues: archive.evaluated.map { ($0.id, $0) })
        let batch = due.map { d -> PendingCandidate in
            let c = byID[d.candidateID]!
            return PendingCandidate(id: c.id, hash: c.hash, spec: c.spec, cost: c.cost, wasInterrupted: false, rung: d.toRung)
        }
        try timed(\.storeSeconds) { try store.promote(due) }
        let rungs = Dictionary(grouping: due, by: \.toRung).sorted { $0.key < $1.key }
            .map { "\($0.value.count) to rung \($0.key) (\(config.settings(rung: $0.key).epochs) epochs)" }.joined(separator: ", ")
        try event("successive halving: promoting \(rungs): " + due.map { "#\($0.candidateID)" }.joined(separator: " "))
        return try await evaluate(batch)
    }
}
