import Foundation

/// Why a command could not take (or break) a run's lock. Every message names the run, the
/// holder when known, and what to do.
public enum RunLockError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Another process writes this run. `holder` is nil when it has not written its record yet.
    case held(directory: String, holder: RunLockHolder?, stale: Bool)
    /// `--break-lock` / `runs unlock` refused: the holder is alive (this host) or its heartbeat is recent.
    case notStale(directory: String, holder: RunLockHolder?, graceSeconds: Double)
    /// The lock file could not be created or locked (read-only directory, unsupported file system).
    case cannotLock(file: String, reason: String)

    public var description: String {
        switch self {
        case let .held(dir, holder, stale):
            let who = holder?.summary() ?? "another process (its holder record \(dir)/\(RunLock.holderFileName) is not written yet)"
            var m = "\(dir): the run is locked by \(who); only one command may write a run at a time. "
            if stale {
                m += "Its heartbeat is older than \(Int(RunLock.defaultGraceSeconds)) s and it is on another host, so it looks dead: "
                    + "break the lock with `tinyforge runs unlock \(dir)` or add --break-lock, then retry."
            } else {
                m += "Wait for it to finish or stop it (kill \(holder.map { String($0.pid) } ?? "the holder") on \(holder?.host ?? "its host")); "
                    + "read-only commands (tinyforge runs show \(dir.hasPrefix("postgres") ? "--store '\(dir)'" : dir)) work meanwhile."
            }
            return m
        case let .notStale(dir, holder, grace):
            let who = holder?.summary() ?? "a process whose holder record is missing"
            return "\(dir): will not break the lock held by \(who): "
                + (holder.map { $0.host == RunLockHolder.localHostName() } ?? true
                    ? "the holder runs on this host and is alive (the kernel releases the lock when it dies); stop it instead (kill \(holder.map { String($0.pid) } ?? "PID"))"
                    : "its heartbeat is younger than \(Int(grace)) s, so it is probably still running; stop it on its host or retry later")
        case let .cannotLock(file, reason):
            return "\(file): cannot take the run lock (\(reason)); writing a run needs a writable run directory on a file system with flock — "
                + "copy the run to a writable directory, or use read-only commands (tinyforge runs show)"
        }
    }
}
