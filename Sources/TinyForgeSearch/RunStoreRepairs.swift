import Foundation
import TinyForgeLLM
import TinyForgeSpec

/// A repaired proposal as the next prompt shows it (`LLMSearchProposer` reads them back).
public struct StoredRepair: Sendable, Equatable {
    public var candidateID: Int64
    public var iteration: Int
    public var proposer: String
    public var original: ArchitectureSpec
    public var repaired: ArchitectureSpec
    public var edits: [String]
    public var status: String
}

extension RunStore {
    /// The v4 columns written with every candidate and duplicate row, in this order.
    static let repairSlotColumns = "original_spec_json, repair_edits_json, slot, slot_band_json, slot_hit, slot_note"

    func repairSlotArguments(_ p: Proposal) -> StoreArguments {
        let hit: Int? = p.slot?.hit.map { $0 ? 1 : 0 }
        return [p.repair?.original.jsonText(pretty: false), p.repair.map { encodeJSON($0.edits.map(\.description)) },
                p.slot?.index, p.slot?.band.map(encodeJSON), hit, p.slot?.note]
    }

    /// The latest repaired candidates whose proposer starts with `proposerPrefix` (oldest
    /// first), with both specs and the edits.
    public func recentRepairs(proposerPrefix: String, limit: Int = 4) throws -> [StoredRepair] {
        try db.read { db in
            try db.fetchAll("""
                SELECT id, iteration, proposer, original_spec_json, spec_json, repair_edits_json, status FROM candidates
                WHERE run_id = ? AND original_spec_json IS NOT NULL AND spec_json IS NOT NULL AND proposer LIKE ? || '%'
                ORDER BY id DESC LIMIT ?
                """, [runID, proposerPrefix, limit]).reversed().map { r in
                StoredRepair(candidateID: try r["id"], iteration: try r["iteration"], proposer: try r["proposer"],
                             original: try storedSpec(try r["original_spec_json"]), repaired: try storedSpec(try r["spec_json"]),
                             edits: decodeStored(try r["repair_edits_json"]) ?? [], status: try r["status"])
            }
        }
    }

    /// Slot outcomes of the run: (hits, misses, unchecked) over candidates and duplicates.
    public func slotTally() throws -> (hits: Int, misses: Int, unchecked: Int) {
        try db.read { db in
            let row = try db.fetchOne("""
                SELECT SUM(CASE WHEN slot_hit = 1 THEN 1 ELSE 0 END) AS h, SUM(CASE WHEN slot_hit = 0 THEN 1 ELSE 0 END) AS m,
                       SUM(CASE WHEN slot_hit IS NULL THEN 1 ELSE 0 END) AS u FROM (
                  SELECT slot_hit FROM candidates WHERE run_id = ? AND (slot_band_json IS NOT NULL OR slot_note IS NOT NULL)
                  UNION ALL
                  SELECT slot_hit FROM duplicates WHERE run_id = ? AND (slot_band_json IS NOT NULL OR slot_note IS NOT NULL)) AS slots
                """, [runID, runID])
            // SUM over no rows is NULL: zero.
            func count(_ column: String) throws -> Int { try row.flatMap { try $0[column] as Int? } ?? 0 }
            return (try count("h"), try count("m"), try count("u"))
        }
    }
}
