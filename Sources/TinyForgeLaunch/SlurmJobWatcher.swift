import Foundation

/// Follows one job array by polling: `squeue --array --states=all` for the tasks slurmctld still
/// holds (running ones and, for MinJobAge seconds, ended ones), `sacct` for the tasks squeue no
/// longer lists (on clusters with accounting). The last state seen of every task is kept, so a
/// task that ended and was purged between polls keeps its final state; one never seen and no
/// longer reported becomes `.unknown`.
public struct SlurmJobWatcher: Sendable {
    public let job: SlurmJob
    let tools: SlurmTools
    private var lastKnown: [Int: SlurmTaskState] = [:]
    private var reasons: [Int: String] = [:]

    init(job: SlurmJob, tools: SlurmTools) {
        self.job = job
        self.tools = tools
    }

    public mutating func poll() throws -> SlurmArrayStatus {
        let listed = try tools.squeue(jobID: job.jobID)
        reasons = [:]
        for (index, entry) in listed where index < job.arraySize {
            lastKnown[index] = entry.state
            if entry.state == .pending, let reason = entry.reason { reasons[index] = reason }
        }
        let missing = (0..<job.arraySize).filter { listed[$0] == nil }
        if !missing.isEmpty, let accounted = tools.sacct(jobID: job.jobID) {
            for index in missing { if let s = accounted[index] { lastKnown[index] = s } }
        }
        for index in missing where lastKnown[index] == nil { lastKnown[index] = .unknown }
        return SlurmArrayStatus(jobID: job.jobID, arraySize: job.arraySize, tasks: lastKnown, pendingReasons: reasons)
    }

    /// Polls every `pollInterval` seconds until every task has ended; `onChange` sees each status
    /// that differs from the previous one (progress lines). Throws `watchTimedOut` after `timeout`
    /// seconds (the job keeps running: the caller decides whether to cancel it).
    public mutating func waitUntilFinished(timeout: Double, pollInterval: Double = 5,
                                           onChange: (SlurmArrayStatus) -> Void = { _ in }) throws -> SlurmArrayStatus {
        let start = Date()
        var previous: SlurmArrayStatus?
        while true {
            let status = try poll()
            if status != previous { onChange(status) }
            previous = status
            if status.isFinished { return status }
            if Date().timeIntervalSince(start) >= timeout {
                throw SlurmLaunchError.watchTimedOut(jobID: job.jobID, seconds: timeout, summary: status.summary)
            }
            if pollInterval > 0 { Thread.sleep(forTimeInterval: pollInterval) }
        }
    }
}
