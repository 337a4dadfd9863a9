import Foundation

/// The batch script and the sbatch command line of one worker job array.
///
/// The sbatch options travel on sbatch's command line (argv: no quoting involved), not as
/// `#SBATCH` lines, whose parsing by sbatch does not follow shell quoting; the script holds
/// only shell, with every word of the worker command single-quoted (`ShellQuote`), and a
/// comment giving the exact submission command for a manual re-run.
public struct SlurmBatchScript: Sendable, Equatable {
    /// RUN/slurm: the script, the task logs and the job records.
    public let directory: URL
    public let workerCommand: [String]
    public let options: SlurmJobOptions

    public init(runDirectory: URL, workerCommand: [String], options: SlurmJobOptions) throws {
        try options.validate()
        guard let first = workerCommand.first, !first.isEmpty else { throw SlurmLaunchError.emptyWorkerCommand }
        // Slurm expands %-patterns in --output and a backslash disables all of them: a run
        // directory containing either would scatter or merge the task logs.
        if runDirectory.path.contains("%") || runDirectory.path.contains("\\") {
            throw SlurmLaunchError.runDirectory(path: runDirectory.path,
                                                reason: "contains '%' or '\\', which Slurm reads as a log file pattern; rename it")
        }
        directory = runDirectory.appendingPathComponent("slurm")
        self.workerCommand = workerCommand
        self.options = options
    }

    public var scriptURL: URL { directory.appendingPathComponent("worker.sbatch") }

    /// `%A_%a`: array job id and task index, one log per worker.
    public var logPattern: String { directory.appendingPathComponent("%A_%a.out").path }

    /// `--array=0-(N-1)` with `%M` when a concurrency limit is set.
    public var arraySpec: String {
        "0-\(options.arraySize - 1)" + (options.maxConcurrent.map { "%\($0)" } ?? "")
    }

    /// The sbatch arguments, script last. Extra arguments come after the launcher's own, which
    /// `SlurmJobOptions.validate` keeps from being overridden.
    public var sbatchArguments: [String] {
        var args = ["--parsable", "--array=\(arraySpec)", "--job-name=\(options.jobName)",
                    "--output=\(logPattern)", "--cpus-per-task=\(options.cpusPerTask)", "--export=ALL"]
        if let g = options.gres { args.append("--gres=\(g)") }
        if let t = options.time { args.append("--time=\(t)") }
        if let p = options.partition { args.append("--partition=\(p)") }
        return args + options.extraArguments + [scriptURL.path]
    }

    public var text: String {
        var lines = [
            "#!/bin/bash",
            "# TinyForge search workers: one worker per Slurm array task (written by the Slurm launcher).",
            "# Submitted with:",
            "#   " + ShellQuote.line(["sbatch"] + sbatchArguments).replacingOccurrences(of: "\n", with: " "),
        ]
        if !options.environment.isEmpty {
            lines.append("# Environment passed through sbatch (values not written here): "
                + options.environment.keys.sorted().joined(separator: " "))
        }
        lines += [
            "set -eu",
            "# Recorded by the worker in the run's workers table.",
            "export TINYFORGE_WORKER_LABEL=\"slurm:${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"",
            "exec " + ShellQuote.line(workerCommand),
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the script (atomically, mode 0755) into RUN/slurm, creating the directory.
    public func write() throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: scriptURL, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scriptURL.path)
        } catch {
            throw SlurmLaunchError.runDirectory(path: directory.path, reason: "cannot write the batch script: \(error.localizedDescription)")
        }
    }
}
