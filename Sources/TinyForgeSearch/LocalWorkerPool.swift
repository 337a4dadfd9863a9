import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `tinyforge worker` processes `--executor workers` starts on this host. Each runs in its
/// own process group with `TINYFORGE_PARENT_PID` (it dies with the controller, `WorkerParent`)
/// and `TINYFORGE_WORKER_LABEL=local:<i>`; stdout/stderr go to `logDirectory/worker-<i>.log`.
/// A worker that crashes is not restarted: its lease times out and another worker takes the
/// job; when every worker has exited while jobs are in flight, the controller fails the run.
public final class LocalWorkerPool: WorkerPool, @unchecked Sendable {
    public let command: [String]
    public let count: Int
    public let logDirectory: URL
    private let lock = NSLock()
    private var pids: [Int: pid_t] = [:]
    private var outcomes: [Int: String] = [:]

    public init(command: [String], count: Int, logDirectory: URL) {
        self.command = command; self.count = count; self.logDirectory = logDirectory
    }

    @discardableResult
    public func start() throws -> String {
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        for i in 1...max(1, count) {
            let log = logDirectory.appendingPathComponent("worker-\(i).log").path
            let env = [WorkerParent.environmentVariable: String(getpid()), "TINYFORGE_WORKER_LABEL": "local:\(i)"]
            Task.detached { [self] in
                let outcome: String
                do {
                    // A year: local workers have no timeout of their own (each evaluation has the run's).
                    let r = try await WorkerProcess.run(command, stdout: log, stderr: log + ".err", timeout: 365 * 86400, grace: 5,
                                                        environment: env, onSpawn: { pid in self.spawned(i, pid) })
                    outcome = "\(r)"
                } catch {
                    outcome = "could not start: \(error)"
                }
                self.exited(i, outcome)
            }
        }
        return "started \(count) local worker(s): \(command.joined(separator: " ")) (logs in \(logDirectory.path))"
    }

    public func check(workRemains: Bool) -> WorkerPoolCheck {
        guard workRemains, let dead = allExited() else { return .fine }
        return .failed(dead)
    }

    private func spawned(_ i: Int, _ pid: pid_t) { lock.lock(); pids[i] = pid; lock.unlock() }
    private func exited(_ i: Int, _ outcome: String) { lock.lock(); outcomes[i] = outcome; pids[i] = nil; lock.unlock() }

    /// The process ids of the workers still running, by worker number.
    public var running: [Int: pid_t] { lock.lock(); defer { lock.unlock() }; return pids }

    /// A description of the exits when every worker has exited; nil while one still runs.
    public func allExited() -> String? {
        lock.lock(); defer { lock.unlock() }
        guard outcomes.count == max(1, count) else { return nil }
        return "all \(count) local worker(s) exited (" + outcomes.sorted { $0.key < $1.key }.map { "worker \($0.key): \($0.value)" }
            .joined(separator: ", ") + "); see \(logDirectory.path)/worker-*.log"
    }

    /// Waits up to `settle` seconds for the workers to exit on their own (they do once the run
    /// is done), then SIGTERM to every remaining worker's group (each gives its job back and
    /// exits), SIGKILL after `grace` seconds.
    @discardableResult
    public func stop(settle: Double) -> String? {
        stop(settle: settle, grace: 5)
        return nil
    }

    public func stop(settle: Double = 0, grace: Double) {
        let settled = Date().addingTimeInterval(settle)
        while !running.isEmpty && Date() < settled { usleep(50_000) }
        for (_, pid) in running { kill(-pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while !running.isEmpty && Date() < deadline { usleep(50_000) }
        for (_, pid) in running { kill(-pid, SIGKILL) }
    }
}
