import Foundation

/// Where a worker's time went for one job (`tinyforge worker --stats FILE`, one JSON line per
/// job): the coordination cost of the queue measured from the worker's side, so a benchmark can
/// tell queue round trips (claim, complete, heartbeat) from evaluation and from waiting for work.
///
/// `claimSeconds` is "asking for a job → holding it": the run-status read, the stale-lease
/// sweep and the claim statement of the loop step that got the job (`claimCallSeconds` is the
/// claim statement alone). Time spent before that step with nothing to claim (empty polls, their
/// sleeps and idle heartbeats) is `waitSeconds`: it measures how well the controller keeps the
/// queue filled, not the cost of a claim.
public struct QueueJobTiming: Codable, Sendable, Equatable {
    public var type = "job"
    public var worker: Int64 = 0
    public var job: Int64 = 0
    /// Unix time the job was held.
    public var claimedAt: Double = 0
    public var waitSeconds: Double = 0
    public var emptyPolls: Int = 0
    public var statusSeconds: Double = 0
    public var reclaimSeconds: Double = 0
    public var claimCallSeconds: Double = 0
    public var claimSeconds: Double { statusSeconds + reclaimSeconds + claimCallSeconds }
    /// The evaluator's own time.
    public var evaluateSeconds: Double = 0
    /// From the evaluation's end until the worker noticed it (the heartbeat loop ticks every
    /// 0.1 s): a fixed per-job cost of the worker, independent of the number of workers.
    public var pickupSeconds: Double = 0
    public var heartbeats: Int = 0
    public var heartbeatSeconds: Double = 0
    public var heartbeatMaxSeconds: Double = 0
    public var completeSeconds: Double = 0
    public var accepted = true

    /// Queue round trips this job cost the worker (what scales with the number of workers);
    /// heartbeats overlap the evaluation but are counted in full (they load the database).
    public var coordinationSeconds: Double { claimSeconds + heartbeatSeconds + completeSeconds }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case type, worker, job, accepted, heartbeats
        case claimedAt = "claimed_at", waitSeconds = "wait_s", emptyPolls = "empty_polls"
        case statusSeconds = "status_s", reclaimSeconds = "reclaim_s", claimCallSeconds = "claim_call_s"
        case evaluateSeconds = "evaluate_s", pickupSeconds = "pickup_s", heartbeatSeconds = "heartbeat_s", heartbeatMaxSeconds = "heartbeat_max_s"
        case completeSeconds = "complete_s"
    }

    mutating func addHeartbeat(_ seconds: Double) {
        heartbeats += 1; heartbeatSeconds += seconds; heartbeatMaxSeconds = max(heartbeatMaxSeconds, seconds)
    }
}

/// The worker's last line: its lifetime, so idle share = 1 − Σ evaluate / lifetime.
public struct QueueWorkerTotals: Codable, Sendable, Equatable {
    public var type = "exit"
    public var worker: Int64
    public var lifetimeSeconds: Double
    public var jobs: Int
    public var evaluateSeconds: Double
    public var coordinationSeconds: Double
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case type, worker, jobs, reason
        case lifetimeSeconds = "lifetime_s", evaluateSeconds = "evaluate_s", coordinationSeconds = "coordination_s"
    }
}

/// Writes the records as JSON lines to one file per worker. Absent (nil on the worker) the
/// worker reads no clock and writes nothing, so the instrumentation costs nothing when off.
public final class QueueWorkerStats: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private let encoder: JSONEncoder

    /// Creates (or truncates) `file`; a path that cannot be written is an error naming `--stats`.
    public init(file: URL) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil),
              let h = FileHandle(forWritingAtPath: file.path) else {
            throw SearchError("--stats", "cannot create \(file.path); give a file in an existing, writable directory")
        }
        handle = h
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { try? handle.close() }

    public func record<T: Encodable>(_ value: T) {
        guard var line = try? encoder.encode(value) else { return }
        line.append(0x0A)
        lock.lock(); defer { lock.unlock() }
        handle.write(line)
    }

    /// Seconds `body` took; `body`'s result.
    static func time<T>(_ seconds: inout Double, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        return try body()
    }
}
