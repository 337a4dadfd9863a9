import Foundation
import TinyForgeHardware
import TinyForgeSpec

/// `tinyforge runs show`: the front as text, `pareto.json` and `candidates.csv`.
public struct RunReport {
    public var config: SearchConfig
    public var state: StoredState
    public var counts: [String: Int]
    public var history: [(evaluation: Int, hypervolume: Double, frontSize: Int)]
    /// Front members trained fully by `tinyforge finish` (empty when it never ran).
    public var finished: [FinishedRecord] = []
    /// Per-origin evidence (who proposed what, what trained, who found the front).
    public var evidence: [ProposerEvidence] = []

    public static let normalisation = "hypervolume of the front in the unit box: accuracy → 1 − accuracy, each cost → cost / its budget limit; reference point = (accuracy 0, every budget limit) = (1, …, 1); 1.0 would be a perfect network at zero cost"

    public init(store: RunStore) throws {
        config = try store.config()
        state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        counts = try store.statusCounts()
        history = try store.hypervolumeHistory()
        finished = try store.finishedRecords()
        evidence = try ProposerEvidence.compute(store: store, archive: state.archive, budget: config.budget)
    }

    /// Stored evaluations per rung (one entry without halving).
    public var evaluationsPerRung: [Int] { HalvingScheduler.counts(state.rungResults, rungs: config.rungs) }

    /// Σ count_r · epochs_r: the training epochs the stored evaluations were configured with.
    public var epochsSpent: Int {
        evaluationsPerRung.enumerated().map { $0.element * config.settings(rung: $0.offset).epochs }.reduce(0, +)
    }

    /// One line on successive halving, nil when it is off.
    public var halvingLine: String? {
        guard let h = config.halving else { return nil }
        let rungs = evaluationsPerRung.enumerated().map { r, n -> String in
            let s = config.settings(rung: r)
            return "rung \(r) (\(s.epochs) ep, subset \(s.subset)): \(n)"
        }
        return "successive halving η=\(h.eta), retrained from scratch per rung: " + rungs.joined(separator: ", ")
            + "; trained \(state.trainedCount)/\(config.trials); the front mixes rungs (each candidate at its highest scored rung)"
    }

    /// The LLM sampling and surrogate screening the run was configured with (none when off).
    public var settingsLines: [String] {
        var l: [String] = []
        if let s = config.llm { l.append("LLM sampling: " + s.summary) }
        if let f = config.screen {
            let by = config.screenBy ?? SurrogateScreen.defaultCriterion
            l.append("surrogate screening: \(f)× candidates per slot, the best by predicted \(by.rawValue) trained "
                     + "(unscreened until \(SurrogateScreen.minimumTrained) candidates are trained)")
        }
        return l
    }

    /// What to call the score: never "accuracy" for the synthetic proxy.
    public var scoreLabel: String { config.evaluator == "synthetic" ? "synthetic score (not an accuracy)" : "val accuracy" }

    public func frontSortedByScore() -> [EvaluatedCandidate] {
        state.archive.front.sorted { ($0.accuracy ?? 0, -$0.id) > ($1.accuracy ?? 0, -$1.id) }
    }

    public func text() -> String {
        var l: [String] = []
        let short = config.evaluator == "synthetic" ? "synth" : "val_acc"
        l.append("run: proposer \(config.proposer), evaluator \(config.evaluator), seed \(config.seed), status \(state.status)")
        l.append("evaluations \(state.evaluationCount)" + (config.halving == nil ? "/\(config.trials)" : " (all rungs)")
                 + ", epochs \(epochsSpent)   done \(counts["done"] ?? 0), failed \(counts["failed"] ?? 0), rejected \(counts["rejected"] ?? 0), duplicates \(counts["duplicate"] ?? 0), pending \(state.pending.count)")
        l.append("objectives \(config.objectives.map(\.rawValue).joined(separator: ", ")); budget SRAM \(Units.formatBytes(config.sramBytes)), flash \(Units.formatBytes(config.flashBytes))" + (config.macs.map { ", MACs \(Units.formatCount($0))" } ?? ""))
        l.append("hypervolume " + String(format: "%.4f", state.archive.hypervolume) + " (\(Self.normalisation))")
        if let h = halvingLine { l.append(h) }
        l += settingsLines
        if config.evaluator == "synthetic" { l.append("NOTE: scores come from the synthetic evaluator, a formula of architecture features; they are not accuracies on \(config.task.dataset).") }
        l.append("")
        l.append("Pareto front (\(state.archive.frontIDs.count)), by \(scoreLabel):")
        let halving = config.halving != nil
        l.append("  #      hash          " + pad(short, 6) + (halving ? "  rung" : "") + "      MACs      SRAM     flash    params  proposer")
        for c in frontSortedByScore() {
            l.append("  " + pad(String(c.id), 6) + " " + String(c.hash.prefix(12)) + "  " + String(format: "%.4f", c.accuracy ?? 0)
                     + (halving ? "  " + lpad(String(c.rung), 4) : "")
                     + "  " + lpad(Units.formatCount(c.cost.macs), 8) + "  " + lpad(Units.formatBytes(c.cost.peakSRAMBytes), 8)
                     + "  " + lpad(Units.formatBytes(c.cost.flashBytes), 8) + "  " + lpad(String(c.cost.params), 8) + "  " + c.proposer)
        }
        if !evidence.isEmpty { l += [""] + ProposerEvidence.table(evidence, score: short) }
        if !finished.isEmpty { l += finishedText() }
        return l.joined(separator: "\n")
    }

    /// The `finished` rows: proxy score → val accuracy after the longer schedule.
    public func finishedText() -> [String] {
        var l = ["", "Finished models (\(finished.count), val split; \(FinishStep.directoryName)/<hash12>/\(FinishStep.modelFileName)):"]
        l.append("  hash          " + pad(config.evaluator == "synthetic" ? "synth" : "proxy", 6) + "    finished  epochs  distilled  status    seconds      MACs      SRAM     flash")
        for r in finished {
            let acc = r.valAccuracy.map { String(format: "%7.2f%%", $0 * 100) } ?? "       -"
            l.append("  " + r.hash12 + "  " + (r.proxyScore.map { String(format: "%.4f", $0) } ?? "     -") + "  → " + acc
                     + "  " + lpad(String(r.epochs), 6) + "  " + pad(r.distilled ? "yes" : "no", 9) + "  " + pad(r.status.rawValue, 8)
                     + "  " + lpad(r.seconds.map { String(format: "%.1f", $0) } ?? "-", 7)
                     + "  " + lpad(Units.formatCount(r.macs), 8) + "  " + lpad(Units.formatBytes(r.peakSRAMBytes), 8)
                     + "  " + lpad(Units.formatBytes(r.flashBytes), 8) + (r.reason.map { "  (\($0))" } ?? ""))
        }
        return l
    }

    public func paretoJSON() -> JSONValue {
        let os = state.archive.objectiveSpace
        let front: [JSONValue] = frontSortedByScore().map { c in
            var o: [String: JSONValue] = [
                "id": .number(Double(c.id)), "hash": .string(c.hash), "proposer": .string(c.proposer),
                "spec": c.spec.jsonValue(), "macs": .number(Double(c.cost.macs)), "params": .number(Double(c.cost.params)),
                "peak_sram_bytes": .number(Double(c.cost.peakSRAMBytes)), "flash_bytes": .number(Double(c.cost.flashBytes)),
                "latency_ms": .number(c.cost.latencyMs), "metrics": WorkerMetrics(result: c.result).jsonValue(),
                "objectives_normalised": .array((os.point(c) ?? []).map { .number($0) }),
                "parents": .array(c.parents.map { .string($0) }),
                "rung": .number(Double(c.rung)), "epochs_trained": .number(Double(config.settings(rung: c.rung).epochs)),
            ]
            o[config.evaluator == "synthetic" ? "synthetic_score" : "val_accuracy"] = .number(c.accuracy ?? 0)
            if let r = c.rationale { o["rationale"] = .string(r) }
            return .object(o)
        }
        return [
            "proposer": .string(config.proposer), "evaluator": .string(config.evaluator),
            "score": .string(scoreLabel), "dataset": .string(config.task.dataset), "seed": .number(Double(config.seed)),
            "status": .string(state.status), "evaluations": .number(Double(state.evaluationCount)),
            "trials": .number(Double(config.trials)),
            "objectives": .array(config.objectives.map { .string($0.rawValue) }),
            "budget": ["sram_bytes": .number(Double(config.sramBytes)), "flash_bytes": .number(Double(config.flashBytes)),
                       "macs": config.macs.map { .number(Double($0)) } ?? .null],
            "hypervolume": .number(state.archive.hypervolume), "hypervolume_normalisation": .string(Self.normalisation),
            "hypervolume_history": .array(history.map { .array([.number(Double($0.evaluation)), .number($0.hypervolume)]) }),
            "counts": .object(counts.mapValues { .number(Double($0)) }),
            "trained": .number(Double(state.trainedCount)), "epochs_spent": .number(Double(epochsSpent)),
            "evaluations_per_rung": .array(evaluationsPerRung.map { .number(Double($0)) }),
            "halving": config.halving.map { h in
                ["epochs": .array(h.epochs.map { .number(Double($0)) }), "eta": .number(Double(h.eta)),
                 "subsets": .array((0..<h.rungs).map { .number(config.settings(rung: $0).subset) }),
                 "note": "each candidate is scored at its highest rung with a score; accuracies from different rungs coexist on the front"]
            } ?? .null,
            "front": .array(front),
            "proposer_evidence": .array(evidence.map(\.jsonValue)),
            "llm_sampling": config.llm?.jsonValue ?? .null,
            "screen_factor": config.screen.map { .number(Double($0)) } ?? .null,
            "screen_by": config.screen == nil ? .null : .string((config.screenBy ?? SurrogateScreen.defaultCriterion).rawValue),
        ]
    }

    /// Every candidate (rejected ones included) with cost, status, reason and metrics: one row
    /// per candidate. With successive halving the metrics are those of the evaluation the archive
    /// uses (highest rung with a score, else the highest rung), `rung` names it and `rungs` lists
    /// every rung's score ("0:0.8123 1:0.8450", "failed" for a failed evaluation).
    public static func candidatesCSV(store: RunStore) throws -> String {
        let (rows, evals) = try store.fetch { db in
            (try db.fetchAll("""
                SELECT id, iteration, hash, status, proposer, rejection_kind, reason, cost_json, parents_json, change, attempts
                FROM candidates WHERE run_id = ? ORDER BY id
                """, [store.runID]),
             try db.fetchAll("""
                SELECT candidate_id, rung, eval_index, status AS estatus, val_accuracy, val_loss, train_loss, epochs, seconds
                FROM evaluations WHERE run_id = ? ORDER BY candidate_id, rung
                """, [store.runID]))
        }
        var byCandidate: [Int64: [StoreRow]] = [:]
        for e in evals { byCandidate[try e["candidate_id"], default: []].append(e) }
        let failed = EvaluationStatus.failed.rawValue
        var out = "id,iteration,hash,status,proposer,rejection_kind,reason,macs,params,peak_sram_bytes,flash_bytes,eval_index,eval_status,val_accuracy,val_loss,train_loss,epochs,seconds,attempts,change,parents,rung,rungs\n"
        func f(_ s: String?) -> String {
            guard let s = s else { return "" }
            return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        for r in rows {
            let cost: CostSummary? = decodeStored(try r["cost_json"])
            let parents: [String] = decodeStored(try r["parents_json"]) ?? []
            let es = byCandidate[try r["id"] as Int64] ?? []
            let e = try es.last { (try $0["estatus"] as String) != failed } ?? es.last
            let rungs = try es.map { x in "\(try x["rung"] as Int):" + ((try x["estatus"] as String) == failed ? failed
                                                                      : String(format: "%.4f", (try x["val_accuracy"] as Double?) ?? 0)) }
            /// A column of the chosen evaluation (nil without one or when NULL).
            func ev<T: StoreColumnValue>(_ column: String) throws -> T? { try e.flatMap { try $0[column] as T? } }
            let num: (Double?) -> String? = { $0.map { String($0) } }
            let cols: [String?] = try [
                String(r["id"] as Int64), String(r["iteration"] as Int), r["hash"], r["status"], r["proposer"], r["rejection_kind"], r["reason"],
                cost.map { String($0.macs) }, cost.map { String($0.params) }, cost.map { String($0.peakSRAMBytes) }, cost.map { String($0.flashBytes) },
                (ev("eval_index") as Int?).map(String.init), ev("estatus"), num(ev("val_accuracy")), num(ev("val_loss")), num(ev("train_loss")),
                (ev("epochs") as Int?).map(String.init), num(ev("seconds")), String(r["attempts"] as Int),
                r["change"], parents.map { String($0.prefix(12)) }.joined(separator: " "),
                (ev("rung") as Int?).map(String.init), rungs.joined(separator: " "),
            ]
            out += cols.map(f).joined(separator: ",") + "\n"
        }
        return out
    }

    /// Writes `pareto.json` and `candidates.csv` into the run directory; returns their paths.
    @discardableResult
    public func writeFiles(store: RunStore) throws -> [String] {
        let p = store.directory.appendingPathComponent("pareto.json"), c = store.directory.appendingPathComponent("candidates.csv")
        try AtomicFile.write(paretoJSON().prettyText() + "\n", to: p)
        try AtomicFile.write(Self.candidatesCSV(store: store), to: c)
        return [p.path, c.path]
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
