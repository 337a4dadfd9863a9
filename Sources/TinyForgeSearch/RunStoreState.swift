import Foundation
import GRDB
import TinyForgeSpec

extension RunStore {
    /// Rebuilds the controller's state from the store (resume, or a fresh start).
    public func loadState(objectiveSpace: ObjectiveSpace, recentRejectionLimit: Int = 50) throws -> StoredState {
        try db.read { db in
            let run = try Row.fetchOne(db, sql: "SELECT status, next_iteration FROM runs WHERE id = ?", arguments: [runID])!
            var archive = ParetoArchive(objectiveSpace: objectiveSpace)
            let evals = try Row.fetchAll(db, sql: """
                SELECT c.id, c.hash, c.spec_json, c.cost_json, c.proposer, c.parents_json, c.rationale,
                       e.rung, e.status AS estatus, e.reason AS ereason, e.val_accuracy, e.val_loss, e.train_loss, e.epochs, e.seconds, e.extra_json
                FROM evaluations e JOIN candidates c ON c.id = e.candidate_id
                WHERE e.run_id = ? ORDER BY e.eval_index
                """, arguments: [runID])
            var rungResults: [RungResult] = [], maxRung: [Int64: Int] = [:]
            for r in evals {
                let st: String = r["estatus"]
                let status: EvaluationResult.Status = st == "ok" ? .ok : st == "diverged" ? .diverged : .failed(reason: r["ereason"] ?? "failed")
                let extra: [String: Double] = decodeStored(r["extra_json"]) ?? [:]
                let result = EvaluationResult(status: status, valAccuracy: r["val_accuracy"], valLoss: r["val_loss"],
                                              trainLoss: r["train_loss"], epochs: r["epochs"] ?? 0, seconds: r["seconds"] ?? 0, extra: extra)
                let id: Int64 = r["id"], rung: Int = r["rung"]
                rungResults.append(RungResult(candidateID: id, rung: rung, accuracy: result.scoredAccuracy))
                maxRung[id] = max(maxRung[id] ?? 0, rung)
                archive.add(EvaluatedCandidate(id: id, hash: r["hash"], spec: try storedSpec(r["spec_json"]),
                                               cost: try storedCost(r["cost_json"]), result: result, proposer: r["proposer"],
                                               parents: decodeStored(r["parents_json"]) ?? [], rationale: r["rationale"], rung: rung))
            }
            var seen: [String: String] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, hash FROM candidates WHERE run_id = ?", arguments: [runID]) {
                let id: Int64 = r["id"]
                seen[r["hash"]] = "candidate #\(id)"
            }
            var pending: [PendingCandidate] = []
            for r in try Row.fetchAll(db, sql: "SELECT id, hash, spec_json, cost_json, status FROM candidates WHERE run_id = ? AND status IN ('proposed','evaluating') ORDER BY id",
                                      arguments: [runID]) {
                let id: Int64 = r["id"]
                pending.append(PendingCandidate(id: id, hash: r["hash"], spec: try storedSpec(r["spec_json"]),
                                                cost: try storedCost(r["cost_json"]), wasInterrupted: (r["status"] as String) == "evaluating",
                                                rung: maxRung[id].map { $0 + 1 } ?? 0))
            }
            let rejections = try recentRejections(db, limit: recentRejectionLimit)
            return StoredState(archive: archive, seen: seen, recentRejections: rejections, pending: pending,
                               nextIteration: run["next_iteration"], evaluationCount: evals.count, status: run["status"],
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
            for r in try Row.fetchAll(db, sql: "SELECT id, hash FROM candidates WHERE run_id = ? AND iteration = ?", arguments: [runID, iteration]) {
                out[r["hash"]] = r["id"]
            }
            return out
        }
    }

    private func recentRejections(_ db: Database, limit: Int) throws -> [Rejection] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM (
              SELECT iteration, id, 0 AS dup, rejection_kind AS kind, reason, hash, proposer, spec_json, cost_json
              FROM candidates WHERE run_id = ? AND status = 'rejected' AND COALESCE(rejection_kind, '') <> 'screened'
              UNION ALL
              SELECT iteration, id, 1 AS dup, 'duplicate' AS kind, reason, hash, proposer,
                     (SELECT c.spec_json FROM candidates c WHERE c.id = duplicates.duplicate_of), NULL
              FROM duplicates WHERE run_id = ?)
            ORDER BY iteration DESC, dup DESC, id DESC LIMIT ?
            """, arguments: [runID, runID, limit])
        return try rows.reversed().map { r in
            let spec: ArchitectureSpec? = try (r["spec_json"] as String?).map { try storedSpec($0) }
            let cost: CostSummary? = try (r["cost_json"] as String?).map { try storedCost($0) }
            return Rejection(kind: Rejection.Kind(rawValue: r["kind"] ?? "") ?? .decode, reason: r["reason"] ?? "",
                             hash: r["hash"], proposer: r["proposer"], iteration: r["iteration"], spec: spec, cost: cost)
        }
    }

    /// Completed evaluations (1-based number → hypervolume after it, front size).
    public func hypervolumeHistory() throws -> [(evaluation: Int, hypervolume: Double, frontSize: Int)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT eval_index, hv, front_size FROM hypervolume WHERE run_id = ? ORDER BY eval_index",
                             arguments: [runID]).map { ($0["eval_index"], $0["hv"], $0["front_size"]) }
        }
    }

    public func evaluationCount() throws -> Int {
        try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM evaluations WHERE run_id = ?", arguments: [runID]) ?? 0 }
    }

    /// Counts of candidates by status, plus duplicates, for summaries.
    public func statusCounts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM candidates WHERE run_id = ? GROUP BY status", arguments: [runID]) {
                out[r["status"]] = r["n"]
            }
            out["duplicate"] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM duplicates WHERE run_id = ?", arguments: [runID]) ?? 0
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
