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
        try db.read { db in
            try db.fetchAll("SELECT hash, spec_json, proposer, rationale, status, reason FROM candidates WHERE run_id = ? AND status = ? ORDER BY id",
                            [runID, status]).map { r in
                let text: String? = try r["spec_json"]
                return StoredCandidateRow(hash: try r["hash"], spec: text.flatMap { try? ArchitectureSpec.decode(jsonText: $0).spec },
                                          proposer: try r["proposer"], rationale: try r["rationale"], status: try r["status"],
                                          reason: try r["reason"])
            }
        }
    }

    /// Candidates with a given status (typed form).
    public func candidates(status: CandidateStatus) throws -> [StoredCandidateRow] {
        try candidates(status: status.rawValue)
    }

    /// Replaces the stored explanation of each candidate (one transaction).
    public func saveExplanations(_ items: [(hash: String, json: JSONValue)]) throws {
        try db.write { db in
            for (h, j) in items {
                // Replacing the row resets created_at, as SQLite's former INSERT OR REPLACE did.
                try db.execute("""
                    INSERT INTO explanations(run_id, hash, json) VALUES (?, ?, ?)
                    ON CONFLICT(run_id, hash) DO UPDATE SET json = excluded.json, created_at = excluded.created_at
                    """, [runID, h, j.canonicalText()])
            }
        }
    }

    /// The stored explanation of one candidate (nil when `tinyforge explain` has not written
    /// one). The chosen model's carries the LLM's fact-checked text under `llm_explanation`.
    public func storedExplanation(hash: String) throws -> JSONValue? {
        let text: String? = try db.read { db in
            try db.fetchValue("SELECT json FROM explanations WHERE run_id = ? AND hash = ?", [runID, hash])
        }
        return try text.map { try JSONValue.parse($0, source: "explanations[\(hash.prefix(12))]") }
    }

    public func explanationCount() throws -> Int {
        guard hasTable("explanations") else { return 0 }
        return try db.read { db in try db.fetchValue("SELECT COUNT(*) FROM explanations WHERE run_id = ?", [runID]) ?? 0 }
    }
}
