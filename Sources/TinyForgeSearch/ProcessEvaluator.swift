import Foundation
import TinyForgeSpec
#if canImport(Glibc)
import Glibc
#endif

/// Runs one worker process per candidate:
///
///     COMMAND... --spec DIR/spec.json --dataset SRC --epochs E --subset F --seed S --out DIR/metrics.json [EXTRA...]
///
/// where COMMAND is by default `tinyforge evaluate-candidate` and DIR is
/// `workRoot/<candidate id>-<short hash>/` (`…-rung<r>/` for successive-halving rungs r > 0). The worker writes METRICS.json (see
/// `WorkerMetrics`). A crash, a non-zero exit, a timeout or a missing / invalid
/// metrics file gives `.failed` with the reason and the tail of the worker's stderr; nothing
/// here throws. Concurrency (N workers at a time) is the controller's `workers` setting.
///
/// Each worker runs in its own process group, so a timeout kills the whole tree (a shell
/// script's children included): SIGTERM, then SIGKILL after `killGraceSeconds`.
///
/// Workers die with the search: `TINYFORGE_PARENT_PID` tells `evaluate-candidate` to ask for a
/// parent-death SIGKILL (`WorkerParent`), and each worker's identity is kept in
/// `DIR/worker.pid` while it runs so a resumed run reaps (`WorkerReaper`) foreign worker
/// commands that outlived a `kill -9`. Files given to the worker are written atomically.
public struct ProcessEvaluator: Evaluator {
    public var name: String { "process" }
    public var isSynthetic: Bool { false }
    public var command: [String]
    public var workRoot: URL
    public var timeoutSeconds: Double
    public var killGraceSeconds: Double
    /// Bytes of stderr quoted in failure reasons.
    public var stderrTailBytes: Int

    public init(command: [String], workRoot: URL, timeoutSeconds: Double = 3600, killGraceSeconds: Double = 2,
                stderrTailBytes: Int = 1500) {
        self.command = command; self.workRoot = workRoot; self.timeoutSeconds = timeoutSeconds
        self.killGraceSeconds = killGraceSeconds; self.stderrTailBytes = stderrTailBytes
    }

    public func arguments(for job: EvaluationJob, specPath: String, metricsPath: String) -> [String] {
        let s = job.settings
        return command + ["--spec", specPath, "--dataset", s.dataset, "--epochs", String(s.epochs),
                          "--subset", String(s.subset), "--seed", String(s.seed), "--out", metricsPath] + s.extraArgs
    }

    public func workDirectory(for job: EvaluationJob) -> URL {
        // Higher rungs get their own directory so each rung's logs are kept.
        workRoot.appendingPathComponent("\(job.candidateID)-\(job.hash.prefix(12))" + (job.rung > 0 ? "-rung\(job.rung)" : ""),
                                        isDirectory: true)
    }

    /// Kills verified workers of an earlier session that outlived it (see `WorkerReaper`).
    public func reapLeftovers() -> [String] {
        WorkerReaper.reap(workRoot: workRoot).map { r in
            "killed worker process(es) \(r.killed.map(String.init).joined(separator: ", ")) left running by an earlier session (parent pid \(r.record.parentPID)) in \(r.directory)"
        }
    }

    public func evaluate(_ job: EvaluationJob) async -> EvaluationResult {
        let start = Date()
        guard !command.isEmpty else { return .failed("worker command is empty; pass --worker-command") }
        let dir = workDirectory(for: job)
        let specPath = dir.appendingPathComponent("spec.json").path
        let metricsPath = dir.appendingPathComponent("metrics.json").path
        let stdoutPath = dir.appendingPathComponent("stdout.log").path
        let stderrPath = dir.appendingPathComponent("stderr.log").path
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            // A metrics file from an interrupted earlier attempt must not count for this one.
            try? FileManager.default.removeItem(atPath: metricsPath)
            try AtomicFile.write(job.spec.jsonText(pretty: true) + "\n", to: URL(fileURLWithPath: specPath))
        } catch {
            return .failed("cannot prepare worker directory \(dir.path): \(error)")
        }
        let argv = arguments(for: job, specPath: specPath, metricsPath: metricsPath)
        let outcome: WorkerOutcome
        do {
            outcome = try await WorkerProcess.run(argv, stdout: stdoutPath, stderr: stderrPath,
                                                  timeout: timeoutSeconds, grace: killGraceSeconds,
                                                  environment: [WorkerParent.environmentVariable: String(getpid())],
                                                  onSpawn: { pid in WorkerReaper.record(pid: pid, in: dir) })
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(WorkerRecord.fileName))
        } catch {
            return .failed("cannot start worker \(argv[0]): \(error)", seconds: Date().timeIntervalSince(start))
        }
        let elapsed = Date().timeIntervalSince(start)
        func tail() -> String {
            guard let d = FileManager.default.contents(atPath: stderrPath), !d.isEmpty else { return "(stderr empty)" }
            let t = String(decoding: d.suffix(stderrTailBytes), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return "stderr: " + t
        }
        switch outcome {
        case .timedOut:
            return .failed("timed out after \(Int(timeoutSeconds)) s; \(tail())", seconds: elapsed)
        case .signaled(let sig):
            return .failed("worker crashed (killed by signal \(sig)); \(tail())", seconds: elapsed)
        case .exited(let code) where code != 0:
            return .failed("worker exited with status \(code); \(tail())", seconds: elapsed)
        case .exited:
            guard let data = FileManager.default.contents(atPath: metricsPath) else {
                return .failed("worker exited 0 but wrote no metrics file \(metricsPath); \(tail())", seconds: elapsed)
            }
            do {
                var r = try WorkerMetrics.decode(data, source: metricsPath).result
                if r.seconds == 0 { r.seconds = elapsed }
                return r
            } catch {
                return .failed("invalid metrics file: \(error)", seconds: elapsed)
            }
        }
    }
}

enum WorkerOutcome: Equatable {
    case exited(Int32)
    case signaled(Int32)
    case timedOut
}

/// posix_spawn in a new process group + a blocking waitpid on its own thread.
enum WorkerProcess {
    struct SpawnError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { String(cString: strerror(errno)) + " (errno \(errno))" }
    }

    final class State: @unchecked Sendable {
        let lock = NSLock()
        var finished = false
        var timedOut = false
        /// Marks the worker finished; returns whether the timeout fired first.
        func finish() -> Bool {
            lock.lock(); defer { lock.unlock() }
            finished = true
            return timedOut
        }
    }

    /// Spawns and waits on ONE dedicated thread that lives exactly until the worker is reaped:
    /// Linux sends the parent-death signal when the spawning *thread* exits, so spawning from a
    /// pooled thread that may retire meanwhile would kill a healthy worker.
    static func run(_ argv: [String], stdout: String, stderr: String, timeout: Double, grace: Double,
                    environment: [String: String] = [:], onSpawn: @escaping @Sendable (pid_t) -> Void = { _ in }) async throws -> WorkerOutcome {
        let state = State()
        let (pid, status): (pid_t, Int32) = try await withCheckedThrowingContinuation { cont in
            let t = Thread {
                let pid: pid_t
                do { pid = try spawn(argv, stdout: stdout, stderr: stderr, environment: environment) } catch {
                    cont.resume(throwing: error)
                    return
                }
                onSpawn(pid)
                scheduleTimeout(pid: pid, state: state, timeout: timeout, grace: grace)
                var st: Int32 = 0
                while waitpid(pid, &st, 0) == -1 && errno == EINTR {}
                cont.resume(returning: (pid, st))
            }
            t.start()
        }
        let timedOut = state.finish()
        kill(-pid, SIGKILL) // leftovers of the group (a script's background children)
        if timedOut { return .timedOut }
        // WIFEXITED / WEXITSTATUS / WTERMSIG spelled out (the C macros are not imported).
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// SIGTERM to the worker's group after `timeout`, SIGKILL `grace` seconds later.
    static func scheduleTimeout(pid: pid_t, state: State, timeout: Double, grace: Double) {
        let queue = DispatchQueue.global()
        queue.asyncAfter(deadline: .now() + timeout) {
            state.lock.lock(); defer { state.lock.unlock() }
            guard !state.finished else { return }
            state.timedOut = true
            kill(-pid, SIGTERM)
            queue.asyncAfter(deadline: .now() + grace) {
                state.lock.lock(); defer { state.lock.unlock() }
                if !state.finished { kill(-pid, SIGKILL) }
            }
        }
    }

    /// This process's environment with `extra` set (overriding), as `KEY=VALUE` C strings.
    static func environmentStrings(_ extra: [String: String]) -> [String] {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        return env.map { "\($0.key)=\($0.value)" }.sorted()
    }

    static func spawn(_ argv: [String], stdout: String, stderr: String, environment: [String: String] = [:]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attr, 0)
        var empty = sigset_t(); sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t(); sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM); sigaddset(&defaults, SIGINT); sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cargs.append(nil)
        defer { for p in cargs { free(p) } }
        var cenv: [UnsafeMutablePointer<CChar>?] = environmentStrings(environment).map { strdup($0) }
        cenv.append(nil)
        defer { for p in cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, cenv)
        guard rc == 0 else { throw SpawnError(errno: rc) }
        return pid
    }
}
