import Foundation

/// What a finish run trains with. `json` is the canonical text of everything that changes the
/// trained weights (recipe, epochs, dataset and split, teacher, seed): two finishes of the same
/// member are "the same" exactly when their `json` texts are equal, which is how a resumed
/// finish recognises work it has already done.
public struct FinishSettings: Sendable, Equatable {
    public var epochs: Int
    /// Description of the teacher (checkpoint or logits file) when distilling, else nil.
    public var teacher: String?
    public var json: String

    public init(epochs: Int, teacher: String?, json: String) {
        self.epochs = epochs; self.teacher = teacher; self.json = json
    }

    public var distilled: Bool { teacher != nil }
}

/// One row of the `finished` table: a front member trained with the longer schedule.
public struct FinishedRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable { case training, done, failed }

    public var hash: String
    public var candidateID: Int64?
    public var status: Status
    public var settingsJSON: String
    /// Selection rule and rank (0 = picked first) of the finish that trained it.
    public var selection: String
    public var rank: Int
    /// The search's score of the member (proxy val accuracy, or the synthetic score).
    public var proxyScore: Double?
    public var valAccuracy: Double?
    public var valLoss: Double?
    public var epochs: Int
    public var distilled: Bool
    public var teacher: String?
    public var seconds: Double?
    /// Why it failed (diverged, unsupported layer, ...).
    public var reason: String?
    public var macs: Int
    public var params: Int
    public var peakSRAMBytes: Int
    public var flashBytes: Int
    /// Trainings started for this row (> 1 after an interruption or a settings change).
    public var attempts: Int

    public var hash12: String { String(hash.prefix(12)) }

    /// The model directory relative to the run directory.
    public var directory: String { "\(FinishStep.directoryName)/\(hash12)" }
}

extension RunStore {
    /// Every finished row of the run, best finished accuracy first (failed and interrupted
    /// rows last), ties by selection rank.
    public func finishedRecords() throws -> [FinishedRecord] {
        guard hasTable("finished") else { return [] } // read-only store of a run older than v3
        return try db.read { db in
            try db.fetchAll("""
                SELECT * FROM finished WHERE run_id = ?
                ORDER BY CASE WHEN status = ? THEN 1 ELSE 0 END DESC, val_accuracy DESC NULLS LAST, rank, id
                """, [runID, FinishedRecord.Status.done.rawValue]).map(Self.finishedRecord)
        }
    }

    public func finishedRecord(hash: String) throws -> FinishedRecord? {
        guard hasTable("finished") else { return nil }
        return try db.read { db in
            try db.fetchOne("SELECT * FROM finished WHERE run_id = ? AND hash = ?", [runID, hash]).map(Self.finishedRecord)
        }
    }

    /// Marks a member as being trained (inserting or replacing its row) before work starts, so
    /// an interruption leaves status `training`, which the next finish retrains.
    public func markFinishing(_ member: EvaluatedCandidate, settings: FinishSettings, selection: String, rank: Int) throws {
        let training = FinishedRecord.Status.training.rawValue
        try db.write { db in
            try db.execute("""
                INSERT INTO finished(run_id, candidate_id, hash, status, settings_json, selection, rank, proxy_score, epochs,
                                     distilled, teacher, macs, params, peak_sram_bytes, flash_bytes, attempts)
                VALUES (?,?,?,'\(training)',?,?,?,?,?,?,?,?,?,?,?,1)
                ON CONFLICT(run_id, hash) DO UPDATE SET
                  status = '\(training)', settings_json = excluded.settings_json, selection = excluded.selection,
                  rank = excluded.rank, proxy_score = excluded.proxy_score, epochs = excluded.epochs,
                  distilled = excluded.distilled, teacher = excluded.teacher, val_accuracy = NULL, val_loss = NULL,
                  seconds = NULL, reason = NULL, attempts = finished.attempts + 1,
                  updated_at = \(db.dialect.now)
                """, [runID, member.id, member.hash, settings.json, selection, rank, member.accuracy, settings.epochs,
                                 settings.distilled, settings.teacher, member.cost.macs, member.cost.params,
                                 member.cost.peakSRAMBytes, member.cost.flashBytes])
        }
    }

    /// Stores the outcome of a member's training (after its files are written).
    public func recordFinished(hash: String, outcome: FinishOutcome) throws {
        try db.write { db in
            let status: FinishedRecord.Status = outcome.failureReason == nil ? .done : .failed
            try db.execute("""
                UPDATE finished SET status = ?, val_accuracy = ?, val_loss = ?, epochs = ?, seconds = ?, reason = ?,
                  updated_at = \(db.dialect.now)
                WHERE run_id = ? AND hash = ?
                """, [status.rawValue, outcome.valAccuracy, outcome.valLoss,
                                 outcome.epochs, outcome.seconds, outcome.failureReason, runID, hash])
        }
    }

    static func finishedRecord(_ r: StoreRow) throws -> FinishedRecord {
        try FinishedRecord(hash: r["hash"], candidateID: r["candidate_id"], status: FinishedRecord.Status(rawValue: r["status"]) ?? .failed,
                           settingsJSON: r["settings_json"], selection: r["selection"], rank: r["rank"], proxyScore: r["proxy_score"],
                           valAccuracy: r["val_accuracy"], valLoss: r["val_loss"], epochs: r["epochs"], distilled: r["distilled"],
                           teacher: r["teacher"], seconds: r["seconds"], reason: r["reason"], macs: r["macs"], params: r["params"],
                           peakSRAMBytes: r["peak_sram_bytes"], flashBytes: r["flash_bytes"], attempts: r["attempts"])
    }
}
