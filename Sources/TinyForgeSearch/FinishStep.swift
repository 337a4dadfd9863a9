import Foundation
import TinyForgeSpec

/// What training one member with the longer schedule produced. A failure (divergence, a layer
/// the trainer cannot handle, ...) is a result, never a thrown error: the other members go on.
public struct FinishOutcome: Sendable, Equatable {
    public var valAccuracy: Double?
    public var valLoss: Double?
    public var epochs: Int
    public var seconds: Double
    public var failureReason: String?

    public init(valAccuracy: Double?, valLoss: Double?, epochs: Int, seconds: Double, failureReason: String? = nil) {
        self.valAccuracy = valAccuracy; self.valLoss = valLoss; self.epochs = epochs; self.seconds = seconds
        self.failureReason = failureReason
    }
}

/// The finish step: picks members of a run's Pareto front, trains each (through a caller-given
/// function, so this module stays free of the training engine) into
/// `RUN/finished/<hash12>/`, records every outcome in the run store and rewrites
/// `RUN/finished.json`.
///
/// Resumable by the store's `finished` rows: a member whose row has the same settings and is
/// `done` (model file present) or `failed` (training is seeded, so it would fail again) is
/// skipped; a row left `training` by an interruption, or trained with other settings, is
/// trained again from scratch (its directory is emptied first, so no stale model survives).
public struct FinishStep {
    public static let directoryName = "finished"
    public static let summaryFileName = "finished.json"
    public static let modelFileName = "model.safetensors"

    public enum Action: String, Sendable { case trained, failed, skipped }

    public let store: RunStore
    public let rule: FinishRule
    public let top: Int
    public let settings: FinishSettings

    public init(store: RunStore, top: Int, rule: FinishRule, settings: FinishSettings) throws {
        guard top >= 1 else { throw SearchError("--top", "\(top) must be at least 1 (the number of front members to finish)") }
        guard settings.epochs >= 1 else { throw SearchError("--epochs", "\(settings.epochs) must be at least 1") }
        self.store = store; self.top = top; self.rule = rule; self.settings = settings
    }

    /// The members this step trains, in pick order (fewer than `top` when the front is smaller).
    public func members() throws -> [EvaluatedCandidate] {
        let config = try store.config()
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        return FinishSelection.select(state.archive.front, k: top, rule: rule, space: state.archive.objectiveSpace)
    }

    public func directory(of hash: String) -> URL {
        store.directory.appendingPathComponent(Self.directoryName).appendingPathComponent(String(hash.prefix(12)))
    }

    /// Whether a stored row already answers this step for the member.
    public func isFinished(_ r: FinishedRecord?) -> Bool {
        guard let r = r, r.settingsJSON == settings.json else { return false }
        switch r.status {
        case .failed: return true
        case .done: return FileManager.default.fileExists(atPath: directory(of: r.hash).appendingPathComponent(Self.modelFileName).path)
        case .training: return false
        }
    }

    /// Trains the selected members one after the other. `train` gets the member and its
    /// (empty) directory and must write `model.safetensors` there when training succeeds.
    @discardableResult
    public func run(onEvent: (String) -> Void = { _ in },
                    train: (EvaluatedCandidate, URL) throws -> FinishOutcome) throws -> [(FinishedRecord, Action)] {
        let picked = try members()
        if picked.count < top {
            onEvent("the front has \(picked.count) scored member(s); finishing all of them instead of \(top)")
        }
        try store.log("finish: \(picked.count) member(s) by \(rule.rawValue), \(settings.epochs) epochs"
                      + (settings.teacher.map { ", distilled from \($0)" } ?? ""))
        var out: [(FinishedRecord, Action)] = []
        for (rank, m) in picked.enumerated() {
            let label = "[\(rank + 1)/\(picked.count)] \(m.hash.prefix(12))"
            if let r = try store.finishedRecord(hash: m.hash), isFinished(r) {
                onEvent("\(label): already finished with these settings (\(r.status.rawValue)); skipped")
                out.append((r, .skipped))
                continue
            }
            let dir = directory(of: m.hash)
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try store.markFinishing(m, settings: settings, selection: rule.rawValue, rank: rank)
            onEvent("\(label): training \(settings.epochs) epoch(s)" + (settings.teacher.map { ", distilled from \($0)" } ?? ""))
            let start = Date()
            var outcome: FinishOutcome
            do {
                outcome = try train(m, dir)
            } catch {
                outcome = FinishOutcome(valAccuracy: nil, valLoss: nil, epochs: 0, seconds: Date().timeIntervalSince(start),
                                        failureReason: "\(error)")
            }
            try store.recordFinished(hash: m.hash, outcome: outcome)
            if let reason = outcome.failureReason { try store.log("finish \(m.hash.prefix(12)) failed: \(reason)", level: "warning") }
            let r = try store.finishedRecord(hash: m.hash)!
            out.append((r, outcome.failureReason == nil ? .trained : .failed))
            onEvent("\(label): " + (outcome.failureReason.map { "FAILED: \($0)" }
                    ?? String(format: "val %.2f%% (proxy %.4f) in %.1f s", (outcome.valAccuracy ?? 0) * 100, m.accuracy ?? 0, outcome.seconds)))
        }
        try Self.writeSummary(store: store)
        return out
    }

    /// `finished.json`: every finished row of the run (see `summaryJSON`).
    @discardableResult
    public static func writeSummary(store: RunStore) throws -> URL {
        let url = store.directory.appendingPathComponent(summaryFileName)
        try AtomicFile.write(try summaryJSON(store: store).prettyText() + "\n", to: url)
        return url
    }

    public static func summaryJSON(store: RunStore) throws -> JSONValue {
        let config = try store.config()
        let proxyKey = config.evaluator == "synthetic" ? "proxy_synthetic_score" : "proxy_val_accuracy"
        let rows: [JSONValue] = try store.finishedRecords().map { r in
            var o: [String: JSONValue] = [
                "hash": .string(r.hash), "status": .string(r.status.rawValue), "selection": .string(r.selection),
                "rank": .number(Double(r.rank)), "epochs": .number(Double(r.epochs)), "distilled": .bool(r.distilled),
                "teacher": r.teacher.map { .string($0) } ?? .null, "macs": .number(Double(r.macs)),
                "params": .number(Double(r.params)), "peak_sram_bytes": .number(Double(r.peakSRAMBytes)),
                "flash_bytes": .number(Double(r.flashBytes)), "attempts": .number(Double(r.attempts)),
                proxyKey: r.proxyScore.map { .number($0) } ?? .null,
                "finished_val_accuracy": r.valAccuracy.map { .number($0) } ?? .null,
                "val_loss": r.valLoss.map { .number($0) } ?? .null,
                "seconds": r.seconds.map { .number($0) } ?? .null,
                "settings": (try? JSONValue.parse(r.settingsJSON)) ?? .string(r.settingsJSON),
            ]
            if r.status == .done { o["model"] = .string("\(r.directory)/\(modelFileName)") }
            if let reason = r.reason { o["reason"] = .string(reason) }
            return .object(o)
        }
        return ["run_dataset": .string(config.task.dataset), "evaluator": .string(config.evaluator),
                "split": "val (finished accuracies are on the validation split; the test split is never used)",
                "models": .array(rows)]
    }
}
