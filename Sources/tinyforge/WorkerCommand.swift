import ArgumentParser
import Dispatch
import Foundation
import TinyForgeData
import TinyForgeSearch

/// `tinyforge worker`: evaluates a run's queued jobs (see `QueueWorker`). Each job runs the
/// run's own evaluator: for `--evaluator process` a child `tinyforge evaluate-candidate` per
/// job (crash isolation: an out-of-memory kill or a crash in training is that job's failed
/// result, not the end of the worker and its lease; the timeout kills the whole tree; results
/// are those of the local executor, same code path), for `synthetic` the formula in-process.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Evaluate queued candidates of a search run started with --executor workers|external|slurm.",
        discussion: """
            tinyforge worker --store runs/a [--max-jobs N] [--idle-exit SECONDS] [--threads T] [--heartbeat SECONDS] [--stats FILE]
            tinyforge worker --store postgres://USER@HOST:PORT/DB?run=NAME [--run NAME] [--store-password-file F] ...
            (the password from PGPASSWORD or the file, never the URL; the worker never takes the controller's run lock)
            Exits cleanly (status 0, one line saying why) after N jobs, when idle for SECONDS, or when the run is
            finished or unknown; SIGTERM gives the current job back to the queue. TINYFORGE_WORKER_LABEL is recorded.
            """)

    @Option(help: "The run directory (the controller's --run), or the PostgreSQL run postgres://USER@HOST:PORT/DB?run=NAME.") var store: String
    @Option(name: .customLong("run"), help: "PostgreSQL: the run's NAME (instead of ?run=NAME in the URL).") var runName: String?
    @Option(help: ArgumentHelp("PostgreSQL: file whose first line is the password (else PGPASSWORD; never stored or printed).", valueName: "file"))
    var storePasswordFile: String?
    @Option(help: "PostgreSQL: where evaluations write their files on this host (default tinyforge-runs/NAME).") var output: String?
    @Option(help: "Exit after this many jobs.") var maxJobs: Int?
    @Option(help: "Exit after this many seconds without a job to claim.") var idleExit: Double?
    @Option(help: "Training threads of each evaluation (passed to evaluate-candidate as --threads).") var threads: Int?
    @Option(help: "Seconds between heartbeats; must be well below the run's lease grace.") var heartbeat: Double = 10
    @Option(help: "Write per-job queue timings (claim, heartbeat, complete round trips; wait; evaluation) as JSON lines to FILE.")
    var stats: String?

    func run() throws {
        if case let .parentGone(expected, actual) = WorkerParent.arm() {
            FileHandle.standardError.write(Data("worker: the search (pid \(expected)) is gone (parent is now \(actual)); exiting\n".utf8))
            throw ExitCode(1)
        }
        let stop = StopFlag()
        let sigterm = Self.onSIGTERM { stop.set() }
        defer { sigterm.cancel() }
        do {
            let (worker, label) = try makeWorker(stop: stop)
            let exit = try runBlocking { try await worker.run() }
            print("worker #\(exit.workerID)\(label): exiting: \(exit.reason) (\(exit.completed) evaluation(s) completed, \(exit.refused) refused)")
        } catch let e as ExitCode { throw e } catch let e as PostgresStoreError {
            // A worker for a run that does not exist (deleted, or the array outlived it) has nothing to do: a clean exit.
            guard case .unknownRun = e else { throw fail(e) }
            print("worker: exiting: \(e)")
        } catch { throw fail(error) }
    }

    /// Opens the queue, checks version and dataset against the run, builds the worker.
    func makeWorker(stop: StopFlag) throws -> (QueueWorker, String) {
        if let t = threads, !(1...16).contains(t) { throw SearchError("--threads", "\(t) must be in 1...16") }
        if let n = maxJobs, n < 1 { throw SearchError("--max-jobs", "\(n) must be at least 1") }
        if let s = idleExit, !(s >= 0) { throw SearchError("--idle-exit", "\(s) must be ≥ 0 seconds") }
        guard heartbeat > 0 else { throw SearchError("--heartbeat", "\(heartbeat) must be positive") }
        let location = try storeLocation()
        let queue = try RunStore.workerQueue(at: location)
        let config = try RunStore.openReadOnly(at: location).config()
        let dir = location.localDirectory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        guard config.usesQueue else {
            throw SearchError("--store", "\(location) is a run of the local executor (tinyforge search evaluates its candidates itself); workers serve runs started with --executor workers, external or slurm")
        }
        guard let runIdentity = try queue.identity() else { throw QueueError.noIdentity(run: location.description) }
        let mine = RunIdentity(version: RunIdentity.currentVersion,
                               datasetFingerprint: try datasetFingerprint(config.settings.dataset))
        try runIdentity.check(worker: mine, run: location.description)
        var options = QueueWorkerOptions(maxJobs: maxJobs, idleExitSeconds: idleExit)
        options.heartbeatSeconds = heartbeat
        options.leaseGraceSeconds = config.leaseGraceSeconds ?? SearchConfig.defaultLeaseGraceSeconds
        options.maxAttempts = config.maxJobAttempts ?? SearchConfig.defaultMaxJobAttempts
        guard heartbeat * 2 <= options.leaseGraceSeconds else {
            throw SearchError("--heartbeat", "\(heartbeat) s is more than half the run's lease grace (\(options.leaseGraceSeconds) s): its jobs would be reclaimed while it works; use --heartbeat \(max(1, options.leaseGraceSeconds / 4))")
        }
        let info = WorkerInfo.current(version: RunIdentity.currentVersion)
        let worker = QueueWorker(queue: queue, evaluator: evaluator(config, runDirectory: dir), info: info, options: options, stop: stop)
        worker.onEvent = { line in print(line); fflush(stdout) }
        if let stats { worker.stats = try QueueWorkerStats(file: URL(fileURLWithPath: stats)) }
        return (worker, info.label.map { " (\($0))" } ?? "")
    }

    /// `--store` (+ `--run`, `--store-password-file`, `--output` for PostgreSQL) as a location.
    func storeLocation() throws -> StoreLocation {
        guard store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
            if let flag = runName != nil ? "--run" : storePasswordFile != nil ? "--store-password-file" : output != nil ? "--output" : nil {
                throw SearchError(flag, "applies to a PostgreSQL --store URL; a run directory is the run itself")
            }
            return .directory(URL(fileURLWithPath: store))
        }
        var text = store
        if let run = runName {
            if text.contains("?") {
                let named = try PostgresStoreURL.parse(text).run
                guard named == run else { throw SearchError("--run", "\(run) differs from ?run=\(named) in --store; give the run name once") }
            } else {
                text += "?run=" + (run.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? run)
            }
        }
        return try StoreLocation.parse(text, password: try StorePassword.resolve(file: storePasswordFile), localDirectory: output)
    }

    /// The run's evaluator; a default `X evaluate-candidate` command becomes this binary's own
    /// (the version check passed, and the controller's path may not exist on this host).
    func evaluator(_ config: SearchConfig, runDirectory: URL) -> Evaluator {
        var c = config
        if c.evaluator == "process" {
            if c.workerCommand.count == 2, c.workerCommand[1] == "evaluate-candidate" {
                c.workerCommand = [SearchRunOptions.selfExecutable(), "evaluate-candidate"]
            }
            if let t = threads { c.workerCommand += ["--threads", String(t)] }
        }
        return c.makeEvaluator(runDirectory: runDirectory)
    }

    /// SIGTERM calls `body` instead of killing the process (the caller keeps the source alive).
    static func onSIGTERM(_ body: @escaping @Sendable () -> Void) -> DispatchSourceSignal {
        signal(SIGTERM, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        s.setEventHandler(handler: body)
        s.resume()
        return s
    }
}

/// The dataset fingerprint of a `--dataset` source: the files it reads (directories whole).
func datasetFingerprint(_ dataset: String) throws -> String {
    let roots: [String]
    switch try DatasetSource.parse(dataset) {
    case .fashionMNIST(let d), .mnist(let d), .cifar10(let d), .cifar100(let d): roots = [d]
    case let .idx(a, b, c, d), let .npy(a, b, c, d): roots = [a, b] + [c, d].compactMap { $0 }
    case .synthetic: roots = []
    case .folder(let o): roots = [o.directory]
    }
    return try RunIdentity.datasetFingerprint(source: dataset, roots: roots.map { URL(fileURLWithPath: $0) })
}
