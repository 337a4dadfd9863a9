import Dispatch
import Foundation
import TinyForgeLaunch
#if canImport(Glibc)
import Glibc
#endif

/// `--executor slurm`: the search's workers run as one Slurm job array (`SlurmLauncher`), one
/// `tinyforge worker --store RUN` per array task, all on the run directory's shared filesystem.
///
/// - `start` first cancels every array an earlier controller of this run submitted (RUN/slurm/
///   jobs.json; after a `kill -9` of the controller its workers may still hold leases: scancel's
///   SIGTERM makes each give its job back, a lease they cannot give back expires), then submits a
///   fresh array. So `--resume` always runs on a new array and never on a drained old one.
/// - `check` polls squeue (every `pollSeconds`) and fails the run, with a message naming the job,
///   the task states and the logs, when the work in flight can never be done: every task ended
///   (cancelled, failed, timed out, exited) while jobs remain, or no task runs and every waiting
///   one waits for a reason Slurm will not lift by itself (`neverStartReasons`: the request
///   exceeds the partition). Resubmitting blindly would repeat the same failure; the message says
///   to fix the cause and `--resume` (which submits a fresh array). One cancelled or crashed task
///   among running ones is not a failure: its lease expires and another task takes its job.
/// - `stop` waits for the tasks to leave (they exit once the run is done), then `scancel`s the job
///   on every exit path; `cancelOnSignals` does the same for SIGINT/SIGTERM of the controller.
public final class SlurmWorkerPool: WorkerPool, @unchecked Sendable {
    public let script: SlurmBatchScript
    public let runDirectory: URL
    let launcher: SlurmLauncher
    let pollSeconds: Double
    private let lock = NSLock()
    private var job: SlurmJob?
    private var watcher: SlurmJobWatcher?
    private var lastPoll = Date.distantPast
    private var lastSummary = ""
    private var signalSources: [DispatchSourceSignal] = []
    private var failedPolls = 0
    let maxFailedPolls: Int

    /// Pending reasons under which a task waits forever unless the job or the cluster changes.
    public static let neverStartReasons: Set<String> = [
        "PartitionConfig", "PartitionNodeLimit", "PartitionTimeLimit", "BadConstraints", "ReqNodeNotAvail",
        "InvalidQOS", "InvalidAccount", "QOSMaxCpuPerJobLimit", "AssocMaxCpuPerJobLimit", "QOSMaxWallDurationPerJobLimit",
        "AssocMaxWallDurationPerJobLimit", "QOSMaxGRESPerJob", "JobHeldUser", "JobHeldAdmin", "DependencyNeverSatisfied",
    ]

    public init(runDirectory: URL, workerCommand: [String], options: SlurmJobOptions,
                runner: CommandRunner = SystemCommandRunner(), pollSeconds: Double = 5, maxFailedPolls: Int = 12) throws {
        script = try SlurmBatchScript(runDirectory: runDirectory, workerCommand: workerCommand, options: options)
        self.runDirectory = runDirectory
        launcher = SlurmLauncher(runner: runner)
        self.pollSeconds = pollSeconds
        self.maxFailedPolls = maxFailedPolls
    }

    /// The submitted array (nil before `start`).
    public var submitted: SlurmJob? { lock.withLock { job } }

    public func start() throws -> String {
        let earlier = try SlurmLauncher.recordedJobs(runDirectory: runDirectory)
        for old in earlier { try launcher.cancel(old) }
        let new = try launcher.submit(script)
        lock.withLock { job = new; watcher = launcher.watcher(for: new) }
        let o = script.options
        return (earlier.isEmpty ? "" : "cancelled this run's earlier Slurm job(s) \(earlier.map(\.jobID).joined(separator: ", ")); ")
            + "submitted Slurm job array \(new.jobID): \(o.arraySize) worker task(s)"
            + (o.maxConcurrent.map { ", at most \($0) at once" } ?? "") + ", \(o.cpusPerTask) CPU(s) each"
            + " (script \(script.scriptURL.path), logs \(script.directory.path)/\(new.jobID)_*.out)"
    }

    public func check(workRemains: Bool) throws -> WorkerPoolCheck {
        let due: Bool = lock.withLock {
            guard job != nil, Date().timeIntervalSince(lastPoll) >= pollSeconds else { return false }
            lastPoll = Date()
            return true
        }
        guard due, var w = lock.withLock({ watcher }) else { return .fine }
        let status: SlurmArrayStatus
        do {
            status = try w.poll()
        } catch {
            return pollFailed(error)
        }
        lock.withLock { watcher = w; failedPolls = 0 }
        if workRemains, let why = failure(status) { return .failed(why) }
        let changed: Bool = lock.withLock {
            defer { lastSummary = status.summary }
            return status.summary != lastSummary
        }
        return changed ? .note("Slurm job \(status.jobID): \(status.summary)") : .fine
    }

    /// A failed squeue (slurmctld restarting, a network blip) is noted once and tolerated: the
    /// workers go on without the controller watching. Only `maxFailedPolls` failures in a row
    /// (a minute at the default period) fail the run, since then nothing would notice a dead array.
    private func pollFailed(_ error: Error) -> WorkerPoolCheck {
        let n: Int = lock.withLock { failedPolls += 1; return failedPolls }
        let id = submitted?.jobID ?? "?"
        if n >= maxFailedPolls {
            return .failed("cannot follow Slurm job \(id): \(n) squeue calls in a row failed, the last with: \(error); "
                           + "check `squeue -j \(id)`; `tinyforge search --resume \(runDirectory.path)` submits a fresh array")
        }
        return n == 1 ? .note("could not poll Slurm job \(id) (\(error)); retrying") : .fine
    }

    /// Why the array can no longer do the work in flight, or nil.
    func failure(_ status: SlurmArrayStatus) -> String? {
        let logs = "\(script.directory.path)/\(status.jobID)_*.out"
        let fix = "fix the cause, then `tinyforge search --resume \(runDirectory.path)` submits a fresh array"
        if status.isFinished {
            return "every task of Slurm job \(status.jobID) ended (\(status.summary)) while evaluations were in flight"
                + lastLogLine(status) + "; see \(logs); " + fix
        }
        let active = status.tasks.values.contains { !$0.isFinal && $0 != .pending }
        let waiting = status.tasks.filter { $0.value == .pending }.map(\.key)
        let stuck = waiting.allSatisfy { status.pendingReasons[$0].map(Self.neverStartReasons.contains) ?? false }
        guard !active, !waiting.isEmpty, stuck else { return nil }
        return "Slurm job \(status.jobID) can never start (\(status.summary)): the request exceeds what the partition "
            + "allows (check --slurm-cpus-per-task, --slurm-partition, --slurm-time, --slurm-gres against `sinfo`); " + fix
    }

    /// ": last log line of task T: …" from the first ended task whose log has one.
    private func lastLogLine(_ status: SlurmArrayStatus) -> String {
        for index in status.tasks.keys.sorted() {
            let path = submitted?.logPath(task: index) ?? ""
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else { continue }
            return "; task \(index) logged: \(line.prefix(300))"
        }
        return ""
    }

    @discardableResult
    public func stop(settle: Double) -> String? {
        guard let j = submitted, var w = lock.withLock({ watcher }) else { return nil }
        let end = Date().addingTimeInterval(settle)
        while Date() < end, let s = try? w.poll(), !s.isFinished { usleep(200_000) }
        do {
            try launcher.cancel(j)
            return nil
        } catch {
            let line = "could not cancel Slurm job \(j.jobID): \(error); cancel it with `scancel \(j.jobID)`"
            FileHandle.standardError.write(Data((line + "\n").utf8))
            return line
        }
    }

    /// Cancels the array because the controller got `signal`; returns the line to print.
    public func interrupted(by signal: Int32) -> String {
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        guard let j = submitted else { return "search interrupted by \(name) before its Slurm job was submitted" }
        do {
            try launcher.cancel(j)
            return "search interrupted by \(name): cancelled Slurm job \(j.jobID); `tinyforge search --resume \(runDirectory.path)` continues it"
        } catch {
            return "search interrupted by \(name): could not cancel Slurm job \(j.jobID) (\(error)); cancel it with `scancel \(j.jobID)`"
        }
    }

    /// SIGINT and SIGTERM of the controller cancel the array, print why and exit with 128+signal
    /// (an interrupted search must not leave workers holding cluster nodes). The run resumes
    /// like one killed: what was recorded stays.
    public func cancelOnSignals(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        let sources = signals.map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(Data((interrupted(by: sig) + "\n").utf8))
                _exit(128 + sig)
            }
            source.resume()
            return source
        }
        lock.withLock { signalSources += sources }
    }
}
