import Foundation

/// Where every task of one job array stands, from one poll of squeue (and sacct for tasks
/// squeue no longer lists).
public struct SlurmArrayStatus: Sendable, Equatable {
    public let jobID: String
    public let arraySize: Int
    /// Task index → state, for every index 0..<arraySize.
    public let tasks: [Int: SlurmTaskState]
    /// Why pending tasks wait, as squeue says (`Resources`, `Priority`, `JobArrayTaskLimit`…).
    /// Some reasons mean the task can never start (`PartitionConfig`: more CPUs than any node
    /// of the partition has; `ReqNodeNotAvail`): sbatch accepts such a job and it waits forever,
    /// so the caller shows them.
    public let pendingReasons: [Int: String]

    public init(jobID: String, arraySize: Int, tasks: [Int: SlurmTaskState], pendingReasons: [Int: String] = [:]) {
        self.jobID = jobID
        self.arraySize = arraySize
        self.tasks = tasks
        self.pendingReasons = pendingReasons
    }

    public var counts: [SlurmTaskState: Int] {
        tasks.values.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// True when every task has ended (in any way).
    public var isFinished: Bool {
        (0..<arraySize).allSatisfy { tasks[$0]?.isFinal ?? false }
    }

    /// "2 COMPLETED, 1 RUNNING, 1 PENDING (Resources)" (largest count first, then by name).
    public var summary: String {
        let reasons = Set(pendingReasons.values).sorted().joined(separator: ", ")
        return counts.sorted { ($0.value, $1.key.description) > ($1.value, $0.key.description) }
            .map { "\($0.value) \($0.key)" + ($0.key == .pending && !reasons.isEmpty ? " (\(reasons))" : "") }
            .joined(separator: ", ")
    }
}

/// One task as a listing shows it: its state and, from squeue's `%r`, why it waits.
struct SlurmTaskEntry: Equatable {
    var state: SlurmTaskState
    var reason: String?
}

/// Parsers for squeue's `%i|%T|%r` and sacct's `--parsable2 JobID,State` lines.
enum SlurmListing {
    /// Task index → entry for `jobID`'s array tasks. Ids are `JOB_TASK` or, for tasks Slurm has
    /// not split off yet, `JOB_[0-3,7%2]` (expanded). Other jobs, steps (`JOB_1.batch`) and
    /// blank lines are skipped; a reason of `None` is no reason.
    static func parse(_ text: String, jobID: String) -> [Int: SlurmTaskEntry] {
        var tasks: [Int: SlurmTaskEntry] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count >= 2 else { continue }
            let id = fields[0].trimmingCharacters(in: .whitespaces)
            let prefix = jobID + "_"
            guard id.hasPrefix(prefix), !id.contains(".") else { continue }
            let state = SlurmTaskState(slurmName: fields[1].trimmingCharacters(in: .whitespaces))
            let reason = fields.count > 2 ? fields[2].trimmingCharacters(in: .whitespaces) : ""
            let entry = SlurmTaskEntry(state: state, reason: reason.isEmpty || reason == "None" ? nil : reason)
            for index in taskIndices(String(id.dropFirst(prefix.count))) { tasks[index] = entry }
        }
        return tasks
    }

    /// `5` → [5]; `[0-3,7%2]` → [0, 1, 2, 3, 7]; `[0-9:3]` → [0, 3, 6, 9]; anything else → [].
    static func taskIndices(_ field: String) -> [Int] {
        if let single = Int(field) { return [single] }
        guard field.hasPrefix("["), field.hasSuffix("]") else { return [] }
        let body = field.dropFirst().dropLast().split(separator: "%").first ?? ""
        var result: [Int] = []
        for part in body.split(separator: ",") {
            let stepped = part.split(separator: ":")
            let step = stepped.count == 2 ? Int(stepped[1]) ?? 1 : 1
            let bounds = stepped[0].split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 { result.append(bounds[0]) }
            if bounds.count == 2, bounds[0] <= bounds[1], step > 0 {
                result += Array(stride(from: bounds[0], through: bounds[1], by: step))
            }
        }
        return result
    }
}
