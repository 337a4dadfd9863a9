import Foundation
import TinyForgeSpec

/// The controller loop of the queue executors (`--executor workers|external|slurm`): up to `batch`
/// jobs in flight; whenever results arrive it records them and proposes for the free slots.
///
/// Steps, in loop order: `collect` (finished jobs since the cursor) → `record` (archive, store:
/// the same `recordResult` as the local loop, so an evaluation row is written exactly once and
/// `evaluations` stays UNIQUE(candidate_id, rung)) → `reclaim` (stale leases) → `propose`
/// (session's propose / validate / record / endIteration) → `enqueue`.
///
/// Resume: candidates left `proposed` / `evaluating` are enqueued again (a no-op for those that
/// already have a job) and put in flight; jobs finished while the controller was down are in
/// the first `collect` (cursor 0), and results of candidates already recorded are skipped.
/// Proposals depend on the order results arrive, so unlike the local loop a queue run is not
/// a pure function of the seed.
final class InFlightLoop {
    let session: SearchSession
    let queue: WorkQueue
    let pool: WorkerPool?
    var inFlight: [Int64: PendingCandidate] = [:]
    var cursor: Int64 = 0
    var config: SearchConfig { session.config }

    init(session: SearchSession, queue: WorkQueue, pool: WorkerPool?) {
        self.session = session; self.queue = queue; self.pool = pool
    }

    func run() async throws -> SearchSummary {
        try start()
        defer { pool?.stop(settle: 0) }
        while true {
            session.s.loopSteps += 1
            let finished = try collect()
            if try !record(finished) { return session.summary("interrupted") }
            try reclaim()
            if session.s.trained >= config.trials && inFlight.isEmpty { break }
            if let stalled = try await propose() { return stalled }
            switch try pool?.check(workRemains: !inFlight.isEmpty) ?? .fine {
            case .fine: break
            case let .note(line): try session.event(line)
            case let .failed(dead):
                try session.event(dead, level: "error")
                try session.store.setStatus(.failed)
                throw SearchError("--executor \(config.executor ?? "workers")", dead)
            }
            if finished.isEmpty { try await Task.sleep(nanoseconds: UInt64(session.controller.queuePollSeconds * 1e9)) }
        }
        try session.store.setStatus(.done)
        if let failed = pool?.stop(settle: 2) { try session.event(failed, level: "warning") }   // idle workers see `done` within a poll and exit with that reason
        return session.summary("done")
    }

    /// Checks and records the run's identity, re-enqueues what a crash left pending, starts local workers.
    func start() throws {
        if let mine = session.controller.identity {
            let stored = try queue.recordIdentity(mine, now: Date())
            try stored.check(worker: mine, run: session.store.directory.path)
        }
        if !session.pending.isEmpty {
            try enqueue(session.pending)
            session.s.reEvaluated = session.pending.count
            try session.event("resume: \(session.pending.count) candidate(s) without a recorded evaluation are in flight again "
                              + "(queue: " + (try queue.counts()).sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
        }
        if let pool { try session.event(try pool.start()) }
    }

    /// Finished jobs since the cursor that belong to candidates in flight.
    func collect() throws -> [FinishedJob] {
        let all = try session.timed(\.storeSeconds) { try queue.results(since: cursor) }
        if let last = all.last { cursor = last.sequence }
        return all.filter { inFlight[$0.candidateID]?.rung == $0.rung }
    }

    /// Records each result once; false when `stopAfterEvaluations` ends the session.
    func record(_ finished: [FinishedJob]) throws -> Bool {
        guard !finished.isEmpty else { return true }
        let info = try session.timed(\.storeSeconds) { try session.store.proposalInfo(ids: finished.map(\.candidateID)) }
        for f in finished {
            guard let p = inFlight.removeValue(forKey: f.candidateID) else { continue }
            try session.recordResult(f.result, of: p, info: info[f.candidateID])
            if let stop = session.controller.stopAfterEvaluations, session.s.evaluationsThisSession >= stop { return false }
        }
        return true
    }

    /// Stale leases back to the queue (or failed after the attempt limit), one event each.
    func reclaim() throws {
        let grace = config.leaseGraceSeconds ?? SearchConfig.defaultLeaseGraceSeconds
        let max = config.maxJobAttempts ?? SearchConfig.defaultMaxJobAttempts
        for r in try session.timed(\.storeSeconds, { try queue.reclaimStale(grace: grace, maxAttempts: max, now: Date()) }) {
            try session.event("job \(r.jobID) (candidate #\(r.candidateID)): worker #\(r.previousOwner ?? 0) stopped heartbeating; "
                              + (r.failed ? "failed after \(r.attempts) lost leases" : "queued again (lost lease \(r.attempts) of \(max))"),
                              level: "warning")
        }
    }

    /// Proposes for the free slots and enqueues the accepted; the final summary when the run stalled.
    func propose() async throws -> SearchSummary? {
        let need = min(config.batch - inFlight.count, config.trials - session.s.trained - inFlight.count)
        guard need > 0 else { return nil }
        let ask = SurrogateScreen.ask(need: need, factor: config.screen, archive: session.archive)
        guard let proposals = try await session.propose(ask: ask) else { return nil }
        let outcomes = session.validate(proposals, ask: ask, need: need)
        let accepted = try session.record(outcomes)
        if let stopped = try session.endIteration(proposals, outcomes: outcomes, accepted: accepted.count) { return stopped }
        try enqueue(accepted)
        if !accepted.isEmpty { session.s.proposalSteps += 1 }
        return nil
    }

    /// Marks the candidates evaluating, inserts their jobs (UNIQUE: a repeat is a no-op), tracks them.
    func enqueue(_ batch: [PendingCandidate]) throws {
        guard !batch.isEmpty else { return }
        try session.timed(\.storeSeconds) {
            try session.store.markEvaluating(batch.map(\.id))
            try queue.enqueue(batch.map { QueueJobRequest(candidateID: $0.id, rung: $0.rung, settings: config.settings(rung: $0.rung)) },
                              now: Date())
        }
        for p in batch { inFlight[p.id] = p }
    }
}
