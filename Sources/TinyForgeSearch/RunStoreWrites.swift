import Foundation
import TinyForgeSpec

/// The search's writes. Each public method is one transaction (see `RunStore`'s crash-safety notes).
extension RunStore {
    public func setStatus(_ status: RunStatus) throws {
        try db.write { c in
            try c.execute("UPDATE runs SET status = ?, updated_at = \(c.dialect.now) WHERE id = ?", [status.rawValue, runID])
        }
    }

    public func log(_ message: String, level: String = "info") throws {
        try db.write { try $0.execute("INSERT INTO events(run_id, level, message) VALUES (?,?,?)", [runID, level, message]) }
    }

    /// Records one iteration's proposals in proposal order and advances `next_iteration`, in one
    /// transaction. Returns the candidate ids of the accepted ones, in order.
    @discardableResult
    public func recordIteration(_ iteration: Int, outcomes: [ProposalOutcome]) throws -> [Int64] {
        try db.write { c in
            var accepted: [Int64] = []
            for o in outcomes {
                switch o {
                case .accepted(let a):
                    let id = try insertCandidate(c, iteration, a.proposal, hash: a.hash, spec: a.spec, cost: CostSummary(a.cost),
                                                 status: .proposed, rejection: nil)
                    accepted.append(id)
                    try insertExchanges(c, iteration, a.proposal, candidate: id, duplicate: nil)
                case let .rejected(p, r) where r.kind == .duplicate:
                    let of: Int64? = try c.fetchValue("SELECT id FROM candidates WHERE run_id = ? AND hash = ?", [runID, r.hash])
                    var args: StoreArguments = [runID, iteration, r.hash, of, p.proposer, p.rationale, p.change, jsonList(p.parents), r.reason]
                    args += repairSlotArguments(p)
                    let id = try c.insertReturningID("""
                        INSERT INTO duplicates(run_id, iteration, hash, duplicate_of, proposer, rationale, change, parents_json, reason,
                                               \(Self.repairSlotColumns))
                        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                        """, args)
                    try insertExchanges(c, iteration, p, candidate: nil, duplicate: id)
                case let .rejected(p, r):
                    let id = try insertCandidate(c, iteration, p, hash: r.hash, spec: r.spec, cost: r.cost, status: .rejected, rejection: r)
                    try insertExchanges(c, iteration, p, candidate: id, duplicate: nil)
                }
            }
            try c.execute("UPDATE runs SET next_iteration = \(c.dialect.greatest)(next_iteration, ?), status = ? WHERE id = ?",
                          [iteration + 1, RunStatus.running.rawValue, runID])
            return accepted
        }
    }

    private func insertCandidate(_ c: StoreConnection, _ iteration: Int, _ p: Proposal, hash: String, spec: ArchitectureSpec?,
                                 cost: CostSummary?, status: CandidateStatus, rejection: Rejection?) throws -> Int64 {
        var raw: String?
        if case .text(let t) = p.content { raw = t }
        var args: StoreArguments = [runID, iteration, hash, spec?.jsonText(pretty: false), raw, cost.map(encodeJSON), p.proposer,
                                    p.rationale, p.change, jsonList(p.parents), status.rawValue, rejection?.kind.rawValue, rejection?.reason]
        args += repairSlotArguments(p)
        return try c.insertReturningID("""
            INSERT INTO candidates(run_id, iteration, hash, spec_json, raw_text, cost_json, proposer, rationale, change,
                                   parents_json, status, rejection_kind, reason, \(Self.repairSlotColumns))
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, args)
    }

    private func insertExchanges(_ c: StoreConnection, _ iteration: Int, _ p: Proposal, candidate: Int64?, duplicate: Int64?) throws {
        for e in p.exchanges {
            try c.execute("""
                INSERT INTO exchanges(run_id, iteration, candidate_id, duplicate_id, proposer, model, prompt, response,
                                      latency_ms, prompt_tokens, completion_tokens, error)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """, [runID, iteration, candidate, duplicate, p.repair?.originalProposer ?? p.proposer, e.model, e.prompt, e.response,
                      e.latencyMs, e.promptTokens, e.completionTokens, e.error])
        }
    }

    /// Flags candidates as being evaluated (so a crash leaves a visible trace) and counts attempts.
    public func markEvaluating(_ ids: [Int64]) throws {
        try db.write { c in
            for id in ids {
                try c.execute("""
                    UPDATE candidates SET status = ?, attempts = attempts + 1, updated_at = \(c.dialect.now)
                    WHERE id = ? AND status IN (\(sqlList(CandidateStatus.pending)))
                    """, [CandidateStatus.evaluating.rawValue, id])
            }
        }
    }

    /// Stores a completed evaluation, its candidate's final status and the hypervolume after it,
    /// atomically. Returns the evaluation number (1-based).
    ///
    /// `rung` > 0 (successive halving): the candidate already has a score from a lower rung, so
    /// it stays `done` even when this evaluation failed; the failure is kept in the evaluation
    /// row and in the candidate's `reason` ("rung r evaluation failed: …").
    @discardableResult
    public func recordEvaluation(candidateID: Int64, result: EvaluationResult, hypervolume: Double, frontSize: Int,
                                 rung: Int = 0) throws -> Int {
        try db.write { c in
            let last: Int = try c.fetchValue("SELECT COALESCE(MAX(eval_index), 0) FROM evaluations WHERE run_id = ?", [runID]) ?? 0
            let n = last + 1
            try c.execute("""
                INSERT INTO evaluations(run_id, candidate_id, rung, eval_index, status, reason, val_accuracy, val_loss, train_loss,
                                        epochs, seconds, extra_json)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """, [runID, candidateID, rung, n, result.status.stored.rawValue, result.failureReason, result.valAccuracy, result.valLoss,
                      result.trainLoss, result.epochs, result.seconds, encodeJSON(result.extra)])
            let status: CandidateStatus = result.failureReason == nil || rung > 0 ? .done : .failed
            let reason = rung > 0 ? result.failureReason.map { "rung \(rung) evaluation failed: \($0)" } : result.failureReason
            try c.execute("UPDATE candidates SET status = ?, reason = ?, updated_at = \(c.dialect.now) WHERE id = ?",
                          [status.rawValue, reason, candidateID])
            try c.execute("INSERT INTO hypervolume(run_id, eval_index, candidate_id, hv, front_size) VALUES (?,?,?,?,?)",
                          [runID, n, candidateID, hypervolume, frontSize])
            return n
        }
    }

    /// Queues successive-halving promotions: the candidates go back to `proposed` (their next
    /// evaluation is pending) in one transaction. `loadState` then lists them as pending at the
    /// rung after their highest stored one, so a crash from here on re-runs exactly these.
    public func promote(_ promotions: [HalvingScheduler.Promotion]) throws {
        guard !promotions.isEmpty else { return }
        try db.write { c in
            for p in promotions {
                try c.execute("""
                    UPDATE candidates SET status = ?, updated_at = \(c.dialect.now) WHERE id = ? AND run_id = ? AND status = ?
                    """, [CandidateStatus.proposed.rawValue, p.candidateID, runID, CandidateStatus.done.rawValue])
            }
        }
    }
}

/// `'a','b'` for an IN list of status constants (raw values of our own enums, never user text).
func sqlList<S: RawRepresentable>(_ values: [S]) -> String where S.RawValue == String {
    values.map { "'\($0.rawValue)'" }.joined(separator: ",")
}
