import Foundation
import TinyForgeHardware

/// What one origin of candidates (llm, llm-variation, random, mutation, crossover, llm+repair,
/// …) did in a run: how many proposals it made, why the rejected ones never trained, how good
/// its trained candidates were and how much of the final front it found.
///
/// Derived from the run store alone (candidates, duplicates, rung-0 evaluations, the rebuilt
/// archive), never from extra bookkeeping, so runs recorded before this existed report it too.
/// Origins are open strings: a proposer or rejection kind added later shows up as itself.
public struct ProposerEvidence: Sendable, Equatable {
    public var origin: String
    /// Every proposal of this origin: candidates of any status plus duplicates.
    public var proposals: Int
    /// Rejections by `Rejection.Kind` raw value (decode, space, structure, task, duplicate,
    /// budget, surplus, screened, or any kind a later version records).
    public var rejectedByKind: [String: Int]
    /// Budget rejections per violated constraint (`sram`, `flash`, `macs`), from the stored cost
    /// against the run's budget; one proposal over two limits counts under both.
    public var overBudgetBy: [String: Int]
    /// Passed validation and was queued for training (any status but rejected).
    public var accepted: Int
    /// Accepted candidates with a scored rung-0 (proxy) evaluation (ok or diverged).
    public var trained: Int
    /// Accepted candidates whose proxy evaluation broke (crash, timeout).
    public var failedTraining: Int
    /// Proxy (rung-0) val accuracy of its trained candidates; nil when none trained.
    public var meanProxyAccuracy: Double?
    public var medianProxyAccuracy: Double?
    /// Members of the run's final Pareto front.
    public var frontMembers: Int
    /// Exclusive hypervolume contribution: the front's hypervolume minus the hypervolume of the
    /// front without this origin's members (same normalisation and reference point as the
    /// run's). The volume only this origin's finds dominate; 0 when it has no front member.
    public var hypervolumeContribution: Double

    public var parseFailures: Int { rejectedByKind[Rejection.Kind.decode.rawValue] ?? 0 }
    public var outOfSpace: Int { rejectedByKind[Rejection.Kind.space.rawValue] ?? 0 }
    /// Decodes but is not a buildable network or does not match the task.
    public var invalid: Int { (rejectedByKind[Rejection.Kind.structure.rawValue] ?? 0) + (rejectedByKind[Rejection.Kind.task.rawValue] ?? 0) }
    public var duplicates: Int { rejectedByKind[Rejection.Kind.duplicate.rawValue] ?? 0 }
    public var overBudget: Int { rejectedByKind[Rejection.Kind.budget.rawValue] ?? 0 }
    public var surplus: Int { rejectedByKind[Rejection.Kind.surplus.rawValue] ?? 0 }
    public var screenedOut: Int { rejectedByKind[Rejection.Kind.screened.rawValue] ?? 0 }

    public init(origin: String) {
        self.origin = origin; proposals = 0; rejectedByKind = [:]; overBudgetBy = [:]; accepted = 0; trained = 0
        failedTraining = 0; frontMembers = 0; hypervolumeContribution = 0
    }

    /// The origin of a stored proposal. The `proposer` column names the run's proposer for
    /// evolution / NSGA-II children, so those are told apart by `change`: "random initial
    /// sample" → random, "llm mutation: …" / "llm crossover: …" → llm-variation, a classic child
    /// (fallback or not) → crossover (two parents or a "crossover" change) or mutation.
    /// Any other proposer name (llm, random, llm+repair, …) is its own origin.
    public static func origin(proposer: String, change: String?, parentCount: Int) -> String {
        let c = change ?? ""
        guard ["evolution", "nsga2", "evolution+llm", "nsga2+llm"].contains(proposer) else { return proposer }
        if c.hasPrefix("llm+repair") { return "llm+repair" }
        if c.hasPrefix("random initial sample") { return "random" }
        if c.hasPrefix("llm ") { return "llm-variation" }
        let body = c.hasPrefix("classic fallback: ") ? String(c.dropFirst("classic fallback: ".count)) : c
        if body.hasPrefix("crossover") || parentCount >= 2 { return "crossover" }
        return parentCount == 1 ? "mutation" : proposer
    }

    /// The evidence of every origin in the store's run, sorted by origin name. `archive` is the
    /// run's rebuilt archive (`loadState`), whose front and hypervolume are the final ones.
    public static func compute(store: RunStore, archive: ParetoArchive, budget: Budget) throws -> [ProposerEvidence] {
        let (candidates, duplicates, proxy) = try store.fetch { db in
            (try db.fetchAll("SELECT id, proposer, change, parents_json, status, rejection_kind, cost_json FROM candidates WHERE run_id = ?",
                             [store.runID]),
             try db.fetchAll("SELECT proposer, change, parents_json FROM duplicates WHERE run_id = ?", [store.runID]),
             try db.fetchAll("SELECT candidate_id, status, val_accuracy FROM evaluations WHERE run_id = ? AND rung = 0", [store.runID]))
        }
        var byOrigin: [String: ProposerEvidence] = [:]
        var originOf: [Int64: String] = [:]
        func originOfRow(_ r: StoreRow) throws -> String {
            let parents: [String] = decodeStored(try r["parents_json"]) ?? []
            return origin(proposer: try r["proposer"], change: try r["change"], parentCount: parents.count)
        }
        for r in candidates {
            let o = try originOfRow(r), id: Int64 = try r["id"], status = CandidateStatus(rawValue: try r["status"])
            originOf[id] = o
            var e = byOrigin[o] ?? ProposerEvidence(origin: o)
            e.proposals += 1
            if status == .rejected {
                let kind: String = try r["rejection_kind"] ?? Rejection.Kind.decode.rawValue
                e.rejectedByKind[kind, default: 0] += 1
                if kind == Rejection.Kind.budget.rawValue, let cost: CostSummary = decodeStored(try r["cost_json"]) {
                    for k in violatedConstraints(cost, budget: budget) { e.overBudgetBy[k, default: 0] += 1 }
                }
            } else {
                e.accepted += 1
            }
            byOrigin[o] = e
        }
        for r in duplicates {
            let o = try originOfRow(r)
            var e = byOrigin[o] ?? ProposerEvidence(origin: o)
            e.proposals += 1
            e.rejectedByKind[Rejection.Kind.duplicate.rawValue, default: 0] += 1
            byOrigin[o] = e
        }
        var scores: [String: [Double]] = [:]
        for r in proxy {
            guard let o = originOf[try r["candidate_id"]] else { continue }
            if EvaluationStatus(rawValue: try r["status"]) == .failed { byOrigin[o]?.failedTraining += 1; continue }
            byOrigin[o]?.trained += 1
            scores[o, default: []].append((try r["val_accuracy"] as Double?) ?? 0)
        }
        for (o, xs) in scores {
            byOrigin[o]?.meanProxyAccuracy = xs.reduce(0, +) / Double(xs.count)
            byOrigin[o]?.medianProxyAccuracy = median(xs)
        }
        let front = archive.front.compactMap { c in archive.point(c).map { (originOf[c.id] ?? c.proposer, $0) } }
        let reference = archive.objectiveSpace.reference
        for (o, _) in front where byOrigin[o] != nil && byOrigin[o]!.frontMembers == 0 {
            byOrigin[o]!.frontMembers = front.filter { $0.0 == o }.count
            let without = Hypervolume.exact(front.filter { $0.0 != o }.map(\.1), reference: reference)
            byOrigin[o]!.hypervolumeContribution = max(0, archive.hypervolume - without)
        }
        return byOrigin.values.sorted { $0.origin < $1.origin }
    }

    /// The budget limits a stored cost exceeds.
    static func violatedConstraints(_ c: CostSummary, budget: Budget) -> [String] {
        var out: [String] = []
        if c.peakSRAMBytes > budget.sramBytes { out.append("sram") }
        if c.flashBytes > budget.flashBytes { out.append("flash") }
        if let m = budget.macs, c.macs > m { out.append("macs") }
        return out
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
