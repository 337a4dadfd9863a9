/// Why a Slurm job array could not be prepared, submitted, watched or cancelled. Each message
/// names the option or the tool at fault and what to do about it.
public enum SlurmLaunchError: Error, Equatable, CustomStringConvertible {
    /// `option` is the CLI flag (`--slurm-array`, …) so the user knows what to change.
    case invalidOption(option: String, value: String, fix: String)
    case emptyWorkerCommand
    case toolMissing(tool: String)
    /// sbatch refused the job; `message` is Slurm's own explanation.
    case submissionRejected(message: String)
    case toolFailed(command: String, status: Int32, message: String)
    case unexpectedOutput(command: String, output: String)
    case runDirectory(path: String, reason: String)
    case watchTimedOut(jobID: String, seconds: Double, summary: String)

    public var description: String {
        switch self {
        case let .invalidOption(option, value, fix):
            return "\(option) '\(value)' is not valid: \(fix)"
        case .emptyWorkerCommand:
            return "the worker command line is empty (expected e.g. `tinyforge worker --store URL`)"
        case let .toolMissing(tool):
            return "'\(tool)' is not on PATH: run on a Slurm login node, install the clients "
                + "(`apt-get install -y slurm-client`), or start the one-node test cluster with "
                + "`scripts/slurm.sh install && scripts/slurm.sh start`"
        case let .submissionRejected(message):
            return "sbatch rejected the job array: \(message)"
        case let .toolFailed(command, status, message):
            return "`\(command)` exited with status \(status): \(message)"
        case let .unexpectedOutput(command, output):
            return "`\(command)` printed something unexpected: '\(output.prefix(500))'"
        case let .runDirectory(path, reason):
            return "run directory \(path): \(reason)"
        case let .watchTimedOut(jobID, seconds, summary):
            return "Slurm job \(jobID) was still running after \(seconds) s (\(summary)); cancel it with `scancel \(jobID)`"
        }
    }
}
