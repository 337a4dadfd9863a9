import Foundation
import TinyForgeSpec
#if canImport(Glibc)
import Glibc
#endif

/// The identity of a worker process, written to `worker.pid` in its work directory while it
/// runs: pid, process group and the kernel's start time of the process (clock ticks since boot,
/// `/proc/PID/stat` field 22). A pid alone is not an identity, since the kernel reuses pids;
/// pid + start time is.
public struct WorkerRecord: Codable, Equatable, Sendable {
    public var pid: Int32
    public var pgid: Int32
    public var startTicks: UInt64
    public var parentPID: Int32
    public var host: String

    public static let fileName = "worker.pid"

    enum CodingKeys: String, CodingKey {
        case pid, pgid, host
        case startTicks = "start_ticks", parentPID = "parent_pid"
    }

    public init(pid: Int32, pgid: Int32, startTicks: UInt64, parentPID: Int32, host: String) {
        self.pid = pid; self.pgid = pgid; self.startTicks = startTicks; self.parentPID = parentPID; self.host = host
    }
}

/// `/proc/PID/stat` fields the reaper needs.
struct ProcStat: Equatable {
    var pid: Int32
    var state: Character
    var pgrp: Int32
    var startTicks: UInt64

    /// Zombies (`Z`, dead and waiting for their parent or init to collect them) and `X` run
    /// nothing: not "left running", nothing to kill.
    var isLive: Bool { state != "Z" && state != "X" }

    /// nil when the process does not exist (or /proc is unavailable).
    static func read(_ pid: Int32) -> ProcStat? {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        return parse(String(decoding: d, as: UTF8.self), pid: pid)
    }

    /// The command name (field 2) may contain spaces and parentheses, so fields are counted
    /// from the LAST ')': state is field 3, pgrp field 5, starttime field 22.
    static func parse(_ text: String, pid: Int32) -> ProcStat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let pgrp = Int32(fields[2]), let start = UInt64(fields[19]) else { return nil }
        return ProcStat(pid: pid, state: state, pgrp: pgrp, startTicks: start)
    }

    static func allPIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }
}

/// Kills workers left alive by a search that died (foreign worker commands do not get the
/// parent-death signal). A resumed run calls `reap` before evaluating anything.
///
/// A process is killed only when its identity is proven: the recorded leader alive with the
/// recorded start time (then its whole group goes), or, with the leader gone (or a zombie),
/// live members of its group started no earlier than it, while no other process owns the group
/// id (Linux does not hand out a pid still used as a process group id, so the group cannot have
/// been reused meanwhile). Zombies are dead already and never counted.
public enum WorkerReaper {
    public struct Reaped: Equatable, Sendable {
        public var record: WorkerRecord
        public var killed: [Int32]
        public var directory: String
    }

    /// Reads every `*/worker.pid` under `workRoot`, kills the verified leftovers and removes the
    /// records. Records from another host are left alone (their processes are not ours to see).
    @discardableResult
    public static func reap(workRoot: URL) -> [Reaped] {
        let dirs = (try? FileManager.default.contentsOfDirectory(at: workRoot, includingPropertiesForKeys: nil)) ?? []
        var out: [Reaped] = []
        for dir in dirs.sorted(by: { $0.path < $1.path }) {
            let file = dir.appendingPathComponent(WorkerRecord.fileName)
            guard let data = FileManager.default.contents(atPath: file.path),
                  let record = try? JSONDecoder().decode(WorkerRecord.self, from: data) else { continue }
            guard record.host == RunLockHolder.localHostName() else { continue }
            let killed = reap(record)
            try? FileManager.default.removeItem(at: file)
            if !killed.isEmpty { out.append(Reaped(record: record, killed: killed, directory: dir.path)) }
        }
        return out
    }

    /// Kills the processes of one record whose identity is verified; returns their pids.
    public static func reap(_ r: WorkerRecord) -> [Int32] {
        if let leader = ProcStat.read(r.pid), leader.isLive {
            guard leader.startTicks == r.startTicks else { return [] } // pid reused by another process
            let members = groupMembers(r.pgid, startedFrom: r.startTicks)
            kill(-r.pgid, SIGKILL)
            return members.isEmpty ? [r.pid] : members
        }
        // Leader gone (or a zombie): its group id is still ours unless another process owns it now.
        if let owner = ProcStat.read(r.pgid), owner.startTicks != r.startTicks { return [] }
        let members = groupMembers(r.pgid, startedFrom: r.startTicks)
        for p in members { kill(p, SIGKILL) }
        return members
    }

    static func groupMembers(_ pgid: Int32, startedFrom ticks: UInt64) -> [Int32] {
        ProcStat.allPIDs().compactMap { ProcStat.read($0) }
            .filter { $0.isLive && $0.pgrp == pgid && $0.startTicks >= ticks }.map(\.pid).sorted()
    }

    /// The record of a just-spawned worker (its own group leader), written atomically into `dir`.
    static func record(pid: Int32, in dir: URL) {
        guard let stat = ProcStat.read(pid) else { return } // already gone: nothing to reap later
        let r = WorkerRecord(pid: pid, pgid: pid, startTicks: stat.startTicks, parentPID: getpid(),
                             host: RunLockHolder.localHostName())
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        if let d = try? e.encode(r) { try? AtomicFile.write(d, to: dir.appendingPathComponent(WorkerRecord.fileName)) }
    }
}
