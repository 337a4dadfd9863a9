import Foundation
import GRDB
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

    func repairSlotArguments(_ p: Proposal) -> StatementArguments {
        let hit: Int? = p.slot?.hit.map { $0 ? 1 : 0 }
        return [p.repair?.original.jsonText(pretty: false), p.repair.map { encodeJSON($0.edits.map(\.description)) },
                p.slot?.index, p.slot?.band.map(encodeJSON), hit, p.slot?.note]
    }

    /// The latest repaired candidates whose proposer starts with `proposerPrefix` (oldest
    /// first), with both specs and the edits.
    public func recentRepairs(proposerPrefix: String, limit: Int = 4) throws -> [StoredRepair] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, iteration, proposer, original_spec_json, spec_json, repair_edits_json, status FROM candidates
                WHERE run_id = ? AND original_spec_json IS NOT NULL AND spec_json IS NOT NULL AND proposer LIKE ? || '%'
                ORDER BY id DESC LIMIT ?
                """, arguments: [runID, proposerPrefix, limit]).reversed().map { r in
                StoredRepair(candidateID: r["id"], iteration: r["iteration"], proposer: r["proposer"],
                             original: try storedSpec(r["original_spec_json"]), repaired: try storedSpec(r["spec_json"]),
                             edits: decodeStored(r["repair_edits_json"]) ?? [], status: r["status"])
            }
        }
    }

    /// Slot outcomes of the run: (hits, misses, unchecked) over candidates and duplicates.
    public func slotTally() throws -> (hits: Int, misses: Int, unchecked: Int) {
        try db.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT SUM(slot_hit = 1) AS h, SUM(slot_hit = 0) AS m, SUM(slot_hit IS NULL) AS u FROM (
                  SELECT slot_hit FROM candidates WHERE run_id = ? AND (slot_band_json IS NOT NULL OR slot_note IS NOT NULL)
                  UNION ALL
                  SELECT slot_hit FROM duplicates WHERE run_id = ? AND (slot_band_json IS NOT NULL OR slot_note IS NOT NULL))
                """, arguments: [runID, runID])
            return (row?["h"] ?? 0, row?["m"] ?? 0, row?["u"] ?? 0)
        }
    }
}
