/// The workers a queue executor starts for a search and must follow: local processes
/// (`LocalWorkerPool`, `--executor workers`) or a Slurm job array (`SlurmWorkerPool`,
/// `--executor slurm`). The in-flight loop starts them, asks each turn whether they can still
/// do the work in flight, and stops them when the search ends in any way.
public protocol WorkerPool: AnyObject, Sendable {
    /// Starts the workers; returns the event line that says what was started and where its logs are.
    func start() throws -> String
    /// Called every loop turn (implementations rate-limit their own checks). `workRemains`: jobs
    /// are in flight. Returns `.failed` when no worker can ever take them (every worker exited,
    /// or none can start), `.note` for a change worth an event (e.g. the array's task states).
    func check(workRemains: Bool) throws -> WorkerPoolCheck
    /// Waits up to `settle` seconds for the workers to leave on their own (they do once the run is
    /// done), then stops the rest. Never throws (it runs on every exit path): a cleanup that failed
    /// is returned (and written to stderr) so the caller can record it.
    @discardableResult func stop(settle: Double) -> String?
}

/// What `WorkerPool.check` found.
public enum WorkerPoolCheck: Equatable, Sendable {
    case fine
    case note(String)
    case failed(String)
}
