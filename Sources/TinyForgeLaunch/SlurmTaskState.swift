/// A Slurm job state as squeue (`%T`) and sacct print it. The raw values are Slurm's names, so
/// a state is parsed, never compared as a string; names this list lacks are kept as `.other`.
public enum SlurmTaskState: Sendable, Hashable, CustomStringConvertible {
    case pending, configuring, running, completing, suspended, requeued
    case completed, failed, cancelled, timeout, nodeFail, outOfMemory, preempted, bootFail, deadline
    /// Slurm no longer reports the task: it ended longer ago than slurmctld's MinJobAge and the
    /// cluster keeps no accounting (sacct disabled). Ended, outcome unknown.
    case unknown
    case other(String)

    private static let names: [String: SlurmTaskState] = [
        "PENDING": .pending, "CONFIGURING": .configuring, "RUNNING": .running, "COMPLETING": .completing,
        "SUSPENDED": .suspended, "REQUEUED": .requeued, "REQUEUE_HOLD": .requeued, "REQUEUE_FED": .requeued,
        "COMPLETED": .completed, "FAILED": .failed, "CANCELLED": .cancelled, "TIMEOUT": .timeout,
        "NODE_FAIL": .nodeFail, "OUT_OF_MEMORY": .outOfMemory, "PREEMPTED": .preempted,
        "BOOT_FAIL": .bootFail, "DEADLINE": .deadline,
    ]

    /// Parses `RUNNING`, `CANCELLED by 0` (sacct adds who cancelled), `CANCELLED+` (truncated).
    public init(slurmName: String) {
        let word = slurmName.split(separator: " ").first.map(String.init) ?? ""
        let name = word.hasSuffix("+") ? String(word.dropLast()) : word
        self = Self.names[name.uppercased()] ?? .other(name)
    }

    /// True once the task can no longer run: completed, failed, cancelled, timed out, or gone.
    /// `.other` counts as running, so an unfamiliar state never ends a watch early.
    public var isFinal: Bool {
        switch self {
        case .completed, .failed, .cancelled, .timeout, .nodeFail, .outOfMemory, .preempted, .bootFail, .deadline, .unknown:
            return true
        case .pending, .configuring, .running, .completing, .suspended, .requeued, .other:
            return false
        }
    }

    public var description: String {
        if case let .other(name) = self { return name }
        if self == .unknown { return "UNKNOWN" }
        return Self.names.first { $0.value == self && !$0.key.hasPrefix("REQUEUE_") }?.key ?? "REQUEUED"
    }
}
