import Foundation
import TinyForgeSpec

/// A flag another thread (a SIGTERM handler) sets to ask the worker to stop.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.lock(); value = true; lock.unlock() }
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// When a worker stops on its own.
public struct QueueWorkerOptions: Sendable {
    /// Exit after this many completed jobs; nil = no limit.
    public var maxJobs: Int?
    /// Exit after this many seconds without a claimable job; nil = wait until the run ends.
    public var idleExitSeconds: Double?
    /// Heartbeat period while a job runs (and while idle).
    public var heartbeatSeconds: Double = 10
    /// How soon an idle worker looks for a job again after its first empty poll; each further
    /// empty poll doubles the wait up to `maxPollSeconds` (±25 % jitter), and a claim resets it.
    /// A fixed 0.5 s made 256 idle workers poll ~1,500 statements/s, which starved the
    /// controller's first batch insert for over a minute (bench/RESULTS-scale.md).
    public var pollSeconds: Double = 0.5
    public var maxPollSeconds: Double = 5
    /// The run's lease grace and attempt limit (stored in its config): a worker reclaims stale
    /// leases before it claims, so jobs of a dead worker move on even while the controller is down.
    public var leaseGraceSeconds: Double = SearchConfig.defaultLeaseGraceSeconds
    public var maxAttempts: Int = SearchConfig.defaultMaxJobAttempts

    public init(maxJobs: Int? = nil, idleExitSeconds: Double? = nil) {
        self.maxJobs = maxJobs; self.idleExitSeconds = idleExitSeconds
    }
}

/// How a worker ended: the one line it prints, and what it did.
public struct QueueWorkerExit: Sendable, Equatable {
    public var workerID: Int64
    public var reason: String
    public var completed: Int
    public var refused: Int
}

/// The worker loop of `tinyforge worker`: register, then claim → evaluate (heartbeating) →
/// complete, until a stop condition. The evaluator is the run's own (`SearchConfig.makeEvaluator`),
/// so a queued evaluation is exactly what the local executor would have run.
public final class QueueWorker: @unchecked Sendable {
    let queue: WorkQueue
    let evaluator: Evaluator
    let info: WorkerInfo
    let options: QueueWorkerOptions
    let stop: StopFlag
    /// One line per job (claimed, completed, refused), for the worker's log.
    public var onEvent: (@Sendable (String) -> Void)?
    /// Per-job timings (`--stats FILE`); nil = no clock reads, nothing written.
    public var stats: QueueWorkerStats?

    public init(queue: WorkQueue, evaluator: Evaluator, info: WorkerInfo, options: QueueWorkerOptions, stop: StopFlag = StopFlag()) {
        self.queue = queue; self.evaluator = evaluator; self.info = info; self.options = options; self.stop = stop
    }

    public func run() async throws -> QueueWorkerExit {
        let started = Date()
        let id = try queue.registerWorker(info, now: Date())
        var exit = QueueWorkerExit(workerID: id, reason: "", completed: 0, refused: 0)
        do {
            exit.reason = try await loop(id, &exit)
        } catch {
            try? queue.stopWorker(id, reason: "error: \(error)", now: Date())
            throw error
        }
        try queue.stopWorker(id, reason: exit.reason, now: Date())
        stats?.record(QueueWorkerTotals(worker: id, lifetimeSeconds: Date().timeIntervalSince(started), jobs: exit.completed + exit.refused,
                                        evaluateSeconds: evaluateTotal, coordinationSeconds: coordinationTotal, reason: exit.reason))
        return exit
    }

    /// Sums over the jobs of `stats` (only kept when stats are on).
    var evaluateTotal = 0.0, coordinationTotal = 0.0

    /// `body`, its duration added to `seconds` when stats are on (no clock read otherwise).
    func timed<T>(_ seconds: inout Double, _ body: () throws -> T) rethrows -> T {
        stats == nil ? try body() : try QueueWorkerStats.time(&seconds, body)
    }

    /// Writes the job's timing line and adds it to the totals.
    func report(_ t: QueueJobTiming) {
        guard let stats else { return }
        evaluateTotal += t.evaluateSeconds; coordinationTotal += t.coordinationSeconds
        stats.record(t)
    }

    /// Claims and evaluates until a stop condition; returns why it stopped.
    func loop(_ id: Int64, _ exit: inout QueueWorkerExit) async throws -> String {
        var idleSince = Date(), lastBeat = Date()
        var t = QueueJobTiming(), waitFrom = stats == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        while true {
            if stop.isSet { return "stopped by SIGTERM" }
            if let n = options.maxJobs, exit.completed + exit.refused >= n { return "done \(n) job(s) (--max-jobs)" }
            let stepFrom = stats == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            t.statusSeconds = 0; t.reclaimSeconds = 0; t.claimCallSeconds = 0
            guard let status = try timed(&t.statusSeconds, { try queue.runStatus() }) else { return "the run is unknown (no run row)" }
            if ["done", "stalled", "failed"].contains(status) { return "the run is \(status)" }
            _ = try timed(&t.reclaimSeconds) { try queue.reclaimStale(grace: options.leaseGraceSeconds, maxAttempts: options.maxAttempts, now: Date()) }
            guard let job = try timed(&t.claimCallSeconds, { try queue.claim(worker: id, now: Date()) }) else {
                t.emptyPolls += 1
                if let s = options.idleExitSeconds, Date().timeIntervalSince(idleSince) >= s { return "idle for \(Int(s)) s (--idle-exit)" }
                if Date().timeIntervalSince(lastBeat) >= options.heartbeatSeconds {
                    try queue.heartbeat(worker: id, job: nil, now: Date()); lastBeat = Date()
                }
                var wait = Self.idleWait(emptyPolls: t.emptyPolls, options)
                if let s = options.idleExitSeconds { wait = min(wait, max(0.05, s - Date().timeIntervalSince(idleSince))) }
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                continue
            }
            if stats != nil {
                t.worker = id; t.job = job.jobID; t.claimedAt = Date().timeIntervalSince1970
                t.waitSeconds = Double(stepFrom - waitFrom) / 1e9
            }
            onEvent?("claimed job \(job.jobID): candidate #\(job.evaluation.candidateID) rung \(job.evaluation.rung) (attempt \(job.attempts + 1))")
            let evalFrom = stats == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            guard let result = try await evaluate(job, worker: id, timing: &t) else {
                try queue.release(job: job.jobID, worker: id, now: Date())
                return "stopped by SIGTERM (job \(job.jobID) given back)"
            }
            if stats != nil { t.pickupSeconds = Double(DispatchTime.now().uptimeNanoseconds - evalFrom) / 1e9 - t.evaluateSeconds }
            let outcome = try timed(&t.completeSeconds) { try queue.complete(job: job.jobID, worker: id, result: result, now: Date()) }
            t.accepted = outcome == .accepted
            report(t)
            t = QueueJobTiming(); waitFrom = stats == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            switch outcome {
            case .accepted:
                exit.completed += 1
                onEvent?("completed job \(job.jobID): " + (result.failureReason.map { "failed: \($0)" } ?? "score \(result.valAccuracy ?? 0)"))
            case .refused(let why):
                exit.refused += 1
                onEvent?("result of job \(job.jobID) refused: \(why)")
            }
            idleSince = Date(); lastBeat = Date()
        }
    }

    /// The sleep after the `emptyPolls`-th empty poll in a row: exponential backoff from
    /// `pollSeconds` to `maxPollSeconds`, jittered ±25 % so workers started together drift apart.
    static func idleWait(emptyPolls: Int, _ o: QueueWorkerOptions, jitter: Double = Double.random(in: 0.75...1.25)) -> Double {
        let base = o.pollSeconds * pow(2, Double(min(max(emptyPolls - 1, 0), 16)))
        return min(base, max(o.maxPollSeconds, o.pollSeconds)) * jitter
    }

    /// Runs the evaluation while heartbeating every `heartbeatSeconds`; nil when asked to stop first.
    func evaluate(_ job: ClaimedJob, worker: Int64, timing: inout QueueJobTiming) async throws -> EvaluationResult? {
        let box = ResultSlot()
        let evaluator = self.evaluator, evaluation = job.evaluation
        let task = Task {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = await evaluator.evaluate(evaluation)
            box.put(r, seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        var lastBeat = Date()
        let tick = min(0.1, options.heartbeatSeconds)
        while true {
            if let r = box.value { timing.evaluateSeconds = box.seconds; return r }
            if stop.isSet { task.cancel(); return nil }
            if Date().timeIntervalSince(lastBeat) >= options.heartbeatSeconds {
                var rtt = 0.0
                let held = try timed(&rtt) { try queue.heartbeat(worker: worker, job: job.jobID, now: Date()) }
                if stats != nil { timing.addHeartbeat(rtt) }
                if !held {
                    onEvent?("job \(job.jobID): lease lost while evaluating (reclaimed); finishing anyway, the result will be refused")
                }
                lastBeat = Date()
            }
            try await Task.sleep(nanoseconds: UInt64(tick * 1e9))
        }
    }
}

/// The evaluation's result, handed from its task to the heartbeat loop.
final class ResultSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var result: EvaluationResult?
    private var duration = 0.0
    func put(_ r: EvaluationResult, seconds: Double) { lock.lock(); result = r; duration = seconds; lock.unlock() }
    var value: EvaluationResult? { lock.lock(); defer { lock.unlock() }; return result }
    /// How long the evaluator itself took (without the heartbeat loop's polling).
    var seconds: Double { lock.lock(); defer { lock.unlock() }; return duration }
}
