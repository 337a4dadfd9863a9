import Foundation
import TinyForgeSpec

extension RunStore {
    /// Rebuilds the controller's state from the store (resume, or a fresh start).
    public func loadState(objectiveSpace: ObjectiveSpace, recentRejectionLimit: Int = 50) throws -> StoredState {
        try db.read { db in
            guard let run = try db.fetchOne("SELECT status, next_iteration FROM runs WHERE id = ?", [runID]) else {
                throw SearchError("\(location)", "run row \(runID) is missing; the store is damaged")
            }
            var archive = ParetoArchive(objectiveSpace: objectiveSpace)
            let evals = try db.fetchAll("""
                SELECT c.id, c.hash, c.spec_json, c.cost_json, c.proposer, c.parents_json, c.rationale,
                       e.rung, e.status AS estatus, e.reason AS ereason, e.val_accuracy, e.val_loss, e.train_loss, e.epochs, e.seconds, e.extra_json
                FROM evaluations e JOIN candidates c ON c.id = e.candidate_id
                WHERE e.run_id = ? ORDER BY e.eval_index
                """, [runID])
            var rungResults: [RungResult] = [], maxRung: [Int64: Int] = [:]
            for r in evals {
                let st = EvaluationStatus(rawValue: try r["estatus"])
                let status: EvaluationResult.Status = st == .ok ? .ok : st == .diverged ? .diverged : .failed(reason: try r["ereason"] ?? "failed")
                let extra: [String: Double] = decodeStored(try r["extra_json"]) ?? [:]
                let result = EvaluationResult(status: status, valAccuracy: try r["val_accuracy"], valLoss: try r["val_loss"],
                                              trainLoss: try r["train_loss"], epochs: try r["epochs"] ?? 0, seconds: try r["seconds"] ?? 0,
                                              extra: extra)
                let id: Int64 = try r["id"], rung: Int = try r["rung"]
                rungResults.append(RungResult(candidateID: id, rung: rung, accuracy: result.scoredAccuracy))
                maxRung[id] = max(maxRung[id] ?? 0, rung)
                archive.add(EvaluatedCandidate(id: id, hash: try r["hash"], spec: try storedSpec(try r["spec_json"]),
                                               cost: try storedCost(try r["cost_json"]), result: result, proposer: try r["proposer"],
                                               parents: decodeStored(try r["parents_json"]) ?? [], rationale: try r["rationale"], rung: rung))
            }
            var seen: [String: String] = [:]
            for r in try db.fetchAll("SELECT id, hash FROM candidates WHERE run_id = ?", [runID]) {
                let id: Int64 = try r["id"]
                seen[try r["hash"]] = "candidate #\(id)"
            }
            var pending: [PendingCandidate] = []
            for r in try db.fetchAll("""
                SELECT id, hash, spec_json, cost_json, status FROM candidates
                WHERE run_id = ? AND status IN (\(sqlList(CandidateStatus.pending))) ORDER BY id
                """, [runID]) {
                let id: Int64 = try r["id"]
                pending.append(PendingCandidate(id: id, hash: try r["hash"], spec: try storedSpec(try r["spec_json"]),
                                                cost: try storedCost(try r["cost_json"]),
                                                wasInterrupted: CandidateStatus(rawValue: try r["status"]) == .evaluating,
                                                rung: maxRung[id].map { $0 + 1 } ?? 0))
            }
            let rejections = try recentRejections(db, limit: recentRejectionLimit)
            return StoredState(archive: archive, seen: seen, recentRejections: rejections, pending: pending,
                               nextIteration: try run["next_iteration"], evaluationCount: evals.count, status: try run["status"],
                               rungResults: rungResults)
        }
    }

    /// The latest rejections (oldest first), in a fixed order: by iteration, then candidates
    /// before duplicates, then row id. Screened-out proposals are left out: they were valid,
    /// and F−1 of them per slot would push every real rejection out of a proposer's feedback. The controller reloads them after every iteration so a
    /// resumed run feeds proposers exactly what an uninterrupted one would.
    public func recentRejections(limit: Int = 50) throws -> [Rejection] {
        try db.read { try recentRejections($0, limit: limit) }
    }

    /// Candidate ids by hash for one iteration.
    public func candidateIDs(iteration: Int) throws -> [String: Int64] {
        try db.read { db in
            var out: [String: Int64] = [:]
            for r in try db.fetchAll("SELECT id, hash FROM candidates WHERE run_id = ? AND iteration = ?", [runID, iteration]) {
                out[try r["hash"]] = try r["id"]
            }
            return out
        }
    }

    private func recentRejections(_ db: StoreConnection, limit: Int) throws -> [Rejection] {
        let rows = try db.fetchAll("""
            SELECT * FROM (
              SELECT iteration, id, 0 AS dup, rejection_kind AS kind, reason, hash, proposer, spec_json, cost_json
              FROM candidates WHERE run_id = ? AND status = ? AND COALESCE(rejection_kind, '') <> 'screened'
              UNION ALL
              SELECT iteration, id, 1 AS dup, 'duplicate' AS kind, reason, hash, proposer,
                     (SELECT c.spec_json FROM candidates c WHERE c.id = duplicates.duplicate_of), NULL
              FROM duplicates WHERE run_id = ?) AS rejected
            ORDER BY iteration DESC, dup DESC, id DESC LIMIT ?
            """, [runID, CandidateStatus.rejected.rawValue, runID, limit])
        return try rows.reversed().map { r in
            let spec: ArchitectureSpec? = try (try r["spec_json"] as String?).map { try storedSpec($0) }
            let cost: CostSummary? = try (try r["cost_json"] as String?).map { try storedCost($0) }
            return Rejection(kind: Rejection.Kind(rawValue: try r["kind"] ?? "") ?? .decode, reason: try r["reason"] ?? "",
                             hash: try r["hash"], proposer: try r["proposer"], iteration: try r["iteration"], spec: spec, cost: cost)
        }
    }

    /// Completed evaluations (1-based number → hypervolume after it, front size).
    public func hypervolumeHistory() throws -> [(evaluation: Int, hypervolume: Double, frontSize: Int)] {
        try db.read { db in
            try db.fetchAll("SELECT eval_index, hv, front_size FROM hypervolume WHERE run_id = ? ORDER BY eval_index", [runID])
                .map { (try $0["eval_index"], try $0["hv"], try $0["front_size"]) }
        }
    }

    public func evaluationCount() throws -> Int {
        try db.read { try $0.fetchValue("SELECT COUNT(*) FROM evaluations WHERE run_id = ?", [runID]) ?? 0 }
    }

    /// Counts of candidates by status, plus duplicates, for summaries.
    public func statusCounts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for r in try db.fetchAll("SELECT status, COUNT(*) AS n FROM candidates WHERE run_id = ? GROUP BY status", [runID]) {
                out[try r["status"]] = try r["n"]
            }
            out["duplicate"] = try db.fetchValue("SELECT COUNT(*) FROM duplicates WHERE run_id = ?", [runID]) ?? 0
            return out
        }
    }
}

func storedSpec(_ text: String?) throws -> ArchitectureSpec {
    guard let t = text else { throw SearchError("run store", "a candidate without spec_json was expected to have one; the store is damaged") }
    return try ArchitectureSpec.decode(jsonText: t, source: "run store spec_json").spec
}

func storedCost(_ text: String?) throws -> CostSummary {
    guard let t = text, let c = try? JSONDecoder().decode(CostSummary.self, from: Data(t.utf8)) else {
        throw SearchError("run store", "a candidate's cost_json is missing or invalid; the store is damaged")
    }
    return c
}

func decodeStored<T: Decodable>(_ text: String?) -> T? {
    guard let t = text else { return nil }
    return try? JSONDecoder().decode(T.self, from: Data(t.utf8))
}
