import GRDB
import TinyForgeSpec

/// What `tinyforge explain` reads from and writes to a run.
public struct StoredCandidateRow: Sendable {
    public var hash: String
    public var spec: ArchitectureSpec?
    public var proposer: String
    public var rationale: String?
    public var status: String
    public var reason: String?
}

extension RunStore {
    /// Candidates with a decodable spec and a given status (e.g. rejected ones for the report).
    public func candidates(status: String) throws -> [StoredCandidateRow] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT hash, spec_json, proposer, rationale, status, reason FROM candidates WHERE run_id = ? AND status = ? ORDER BY id",
                             arguments: [runID, status]).map { r in
                let text: String? = r["spec_json"]
                return StoredCandidateRow(hash: r["hash"], spec: text.flatMap { try? ArchitectureSpec.decode(jsonText: $0).spec },
                                          proposer: r["proposer"], rationale: r["rationale"], status: r["status"], reason: r["reason"])
            }
        }
    }

    /// Replaces the stored explanation of each candidate (one transaction).
    public func saveExplanations(_ items: [(hash: String, json: JSONValue)]) throws {
        try db.write { db in
            for (h, j) in items {
                try db.execute(sql: "INSERT OR REPLACE INTO explanations(run_id, hash, json) VALUES (?, ?, ?)",
                               arguments: [runID, h, j.canonicalText()])
            }
        }
    }

    /// The stored explanation of one candidate (nil when `tinyforge explain` has not written
    /// one). The chosen model's carries the LLM's fact-checked text under `llm_explanation`.
    public func storedExplanation(hash: String) throws -> JSONValue? {
        let text: String? = try read { db in
            try String.fetchOne(db, sql: "SELECT json FROM explanations WHERE run_id = ? AND hash = ?", arguments: [runID, hash])
        }
        return try text.map { try JSONValue.parse($0, source: "explanations[\(hash.prefix(12))]") }
    }

    public func explanationCount() throws -> Int {
        guard hasTable("explanations") else { return 0 }
        return try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM explanations WHERE run_id = ?", arguments: [runID]) ?? 0 }
    }
}
