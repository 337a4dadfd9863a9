import ArgumentParser
import Foundation
import TinyForgeLaunch
import TinyForgeSearch

/// `search --executor local|workers|external|slurm` and the queue's lease settings (stored in the
/// run's config, so `--resume` and the workers use the same values). The `--slurm-*` flags are
/// not stored: they describe the cluster request, which may change between a run and its
/// `--resume` (a resume submits a fresh array with the flags it is given).
struct SearchExecutorOptions: ParsableArguments {
    @Option(help: "Where evaluations run: local (in this process, batch by batch; default), workers (a work queue in the run store, --batch jobs in flight, --workers local `tinyforge worker` processes started here), external (the same queue; start `tinyforge worker --store RUN` yourself, on any host that sees the run directory) or slurm (the same queue; the workers run as one Slurm job array, see the --slurm-* flags). Successive halving needs local.")
    var executor: String?

    @Option(help: "Queue executors: seconds without a heartbeat before a worker's job is given to another worker (default \(Int(SearchConfig.defaultLeaseGraceSeconds))).")
    var leaseGrace: Double?

    @Option(help: "Queue executors: a job whose worker died this many times is recorded as a failed evaluation (default \(SearchConfig.defaultMaxJobAttempts)).")
    var maxAttempts: Int?

    @OptionGroup var slurm: SlurmOptions

    func apply(to config: SearchConfig) throws -> SearchConfig {
        var c = config
        if let flag = slurm.givenFlag, executor?.lowercased() != "slurm" {
            throw SearchError(flag, "only applies with --executor slurm")
        }
        c.executor = executor.map { $0.lowercased() }
        c.leaseGraceSeconds = leaseGrace
        c.maxJobAttempts = maxAttempts
        // Checked before the run directory is created, so a typo leaves nothing behind.
        if c.executor == "slurm" { _ = try slurm.jobOptions(defaultArraySize: min(c.workers, c.batch)) }
        if !c.usesQueue, leaseGrace != nil || maxAttempts != nil {
            throw SearchError(leaseGrace != nil ? "--lease-grace" : "--max-attempts", "only applies with --executor workers, external or slurm")
        }
        try c.validate()
        return c
    }

    /// The executor is part of the run (stored in its config): a resume uses the stored one.
    func refuseOnResume() throws {
        if let flag = executor != nil ? "--executor" : leaseGrace != nil ? "--lease-grace" : maxAttempts != nil ? "--max-attempts" : nil {
            throw SearchError(flag, "is stored with the run and cannot change on --resume; drop it (the run keeps its executor settings)")
        }
    }

    /// For a queue run: the identity workers must match, the local workers to start
    /// (`workers`), the Slurm array to submit (`slurm`) or the worker command line to give the
    /// user (`external`).
    /// `passwordFile`: the controller's `--store-password-file` (workers get its path, never the password).
    func prepare(_ controller: SearchController, quiet: Bool, passwordFile: String? = nil) throws {
        let config = controller.config
        if let flag = slurm.givenFlag, config.executor != "slurm" {
            throw SearchError(flag, "only applies to runs of --executor slurm (this run's executor is \(config.executor ?? "local"))")
        }
        guard config.usesQueue else { return }
        let store = WorkerStoreArguments(location: controller.store.location, passwordFile: passwordFile)
        controller.identity = RunIdentity(version: RunIdentity.currentVersion, datasetFingerprint: try datasetFingerprint(config.settings.dataset))
        let grace = config.leaseGraceSeconds ?? SearchConfig.defaultLeaseGraceSeconds
        let heartbeat = min(10, grace / 4)
        let command = [SearchRunOptions.selfExecutable(), "worker"] + store.arguments + ["--heartbeat", String(heartbeat)]
        if config.executor == "workers" {
            controller.workerPool = LocalWorkerPool(command: command, count: config.workers,
                                                    logDirectory: controller.store.directory.appendingPathComponent("workers"))
        } else if config.executor == "slurm" {
            controller.workerPool = try slurmPool(command: command, config: config, runDirectory: controller.store.directory,
                                                  environment: store.environment)
        } else {
            let line = "executor external: start workers with  " + command.joined(separator: " ") + "  [--max-jobs N] [--idle-exit S] [--threads T]"
                + (store.environment["PGPASSWORD"] != nil ? "  (with PGPASSWORD set to the store's password)" : "")
            if quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line); fflush(stdout) }
        }
    }

    /// One worker per array task, `--threads` = the task's CPUs (the worker's evaluations use the
    /// cores Slurm gave it). Default array size: `--workers`, at most `--batch` (more workers
    /// than jobs in flight would idle on the allocation). SIGINT/SIGTERM cancel the array.
    /// `environment` (PGPASSWORD) reaches the tasks through sbatch's environment (`--export=ALL`), never the script.
    func slurmPool(command: [String], config: SearchConfig, runDirectory: URL, environment: [String: String] = [:]) throws -> SlurmWorkerPool {
        var options = try slurm.jobOptions(defaultArraySize: min(config.workers, config.batch))
        options.environment.merge(environment) { _, new in new }
        let pool = try SlurmWorkerPool(runDirectory: runDirectory.standardizedFileURL,
                                       workerCommand: command + ["--threads", String(min(16, options.cpusPerTask))],
                                       options: options)
        pool.cancelOnSignals()
        return pool
    }
}
