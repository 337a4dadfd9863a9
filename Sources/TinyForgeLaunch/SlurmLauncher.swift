import Foundation

/// One submitted worker job array, as recorded in RUN/slurm/jobs.json.
public struct SlurmJob: Sendable, Equatable, Codable {
    public let jobID: String
    public let arraySize: Int
    public let maxConcurrent: Int?
    public let script: String
    public let logPattern: String
    public let sbatchArguments: [String]
    public let submittedAt: Date

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", arraySize = "array_size", maxConcurrent = "max_concurrent", script
        case logPattern = "log_pattern", sbatchArguments = "sbatch_arguments", submittedAt = "submitted_at"
    }

    /// The log of task `index` (`%A_%a.out` filled in).
    public func logPath(task index: Int) -> String {
        logPattern.replacingOccurrences(of: "%A", with: jobID).replacingOccurrences(of: "%a", with: "\(index)")
    }
}

/// Starts search workers as a Slurm job array, follows it and cancels it:
/// `submit` writes RUN/slurm/worker.sbatch, runs `sbatch --parsable --array=0-(N-1)%M …` and
/// records the job in RUN/slurm/jobs.json; `watcher(for:)` polls its tasks; `cancel` runs
/// `scancel` (safe on an ended job, so the caller can cancel on every exit path).
/// Every Slurm call goes through `runner`.
public struct SlurmLauncher: Sendable {
    let tools: SlurmTools

    public init(runner: CommandRunner = SystemCommandRunner()) {
        tools = SlurmTools(runner: runner)
    }

    public func submit(_ script: SlurmBatchScript) throws -> SlurmJob {
        // Read the record first: an unreadable jobs.json must stop us before sbatch, not leave
        // a submitted array nobody recorded.
        let previous = try Self.recordedJobs(runDirectory: script.directory.deletingLastPathComponent())
        try script.write()
        let id = try tools.sbatch(script.sbatchArguments, environment: script.options.environment)
        let job = SlurmJob(jobID: id, arraySize: script.options.arraySize, maxConcurrent: script.options.maxConcurrent,
                           script: script.scriptURL.path, logPattern: script.logPattern,
                           sbatchArguments: script.sbatchArguments, submittedAt: Date())
        try Self.write(previous + [job], in: script.directory, submitted: job)
        return job
    }

    public func watcher(for job: SlurmJob) -> SlurmJobWatcher {
        SlurmJobWatcher(job: job, tools: tools)
    }

    public func cancel(_ job: SlurmJob) throws {
        try tools.scancel(jobID: job.jobID)
    }

    /// Jobs submitted for the run, oldest first (empty when none was).
    public static func recordedJobs(runDirectory: URL) throws -> [SlurmJob] {
        let url = jobsURL(runDirectory.appendingPathComponent("slurm"))
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        do {
            return try decoder.decode([SlurmJob].self, from: Data(contentsOf: url))
        } catch {
            throw SlurmLaunchError.runDirectory(path: url.path, reason: "unreadable job record (\(error)); move it away")
        }
    }

    static func jobsURL(_ slurmDirectory: URL) -> URL { slurmDirectory.appendingPathComponent("jobs.json") }

    /// Writes the job list atomically, so a crash leaves the old or the new list.
    static func write(_ jobs: [SlurmJob], in slurmDirectory: URL, submitted job: SlurmJob) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        do {
            try encoder.encode(jobs).write(to: jobsURL(slurmDirectory), options: .atomic)
        } catch {
            throw SlurmLaunchError.runDirectory(path: slurmDirectory.path,
                                                reason: "job \(job.jobID) was submitted but could not be recorded (\(error)); cancel it with `scancel \(job.jobID)`")
        }
    }

    private static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
