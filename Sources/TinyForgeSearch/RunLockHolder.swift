import Foundation
import TinyForgeSpec
#if canImport(Glibc)
import Glibc
#endif

/// Who holds a run's lock: written atomically to `DIR/run.lock.json` by the holder when it takes
/// the lock and again at every heartbeat, so a refused second writer can say who is in the way
/// and whether that process looks dead (heartbeat too old).
public struct RunLockHolder: Codable, Equatable, Sendable {
    public var host: String
    public var pid: Int32
    /// The holder's command (`search`, `finish`, `explain`, ...), for the refusal message.
    public var command: String
    /// Seconds since 1970 when the lock was taken and when the record was last refreshed.
    public var startedAt: Double
    public var heartbeatAt: Double

    enum CodingKeys: String, CodingKey {
        case host, pid, command
        case startedAt = "started_at", heartbeatAt = "heartbeat_at"
    }

    public init(host: String, pid: Int32, command: String, startedAt: Double, heartbeatAt: Double) {
        self.host = host; self.pid = pid; self.command = command; self.startedAt = startedAt; self.heartbeatAt = heartbeatAt
    }

    /// This process, now.
    static func current(command: String, now: Date = Date()) -> RunLockHolder {
        let t = now.timeIntervalSince1970
        return RunLockHolder(host: localHostName(), pid: getpid(), command: command, startedAt: t, heartbeatAt: t)
    }

    /// "pid 4242 on host build-1 (search), since 2026-12-04T22:50:01Z, last heartbeat 3 s ago".
    public func summary(now: Date = Date()) -> String {
        let age = max(0, Int((now.timeIntervalSince1970 - heartbeatAt).rounded()))
        return "pid \(pid) on host \(host) (\(command)), since \(Self.iso(startedAt)), last heartbeat \(age) s ago"
    }

    /// A lock can only be stale when its holder is on another machine: on this host the kernel
    /// drops a flock the moment its process dies (kill -9 included), so a held lock here always
    /// means a live holder. From another host (shared file system) a heartbeat older than
    /// `grace` seconds means the holder stopped refreshing it: crashed, or its host is gone.
    public func isStale(now: Date = Date(), grace: Double, localHost: String = localHostName()) -> Bool {
        host != localHost && now.timeIntervalSince1970 - heartbeatAt > grace
    }

    /// A record of a process on this host that no longer exists (left by a holder killed with -9).
    var isDeadLocalProcess: Bool {
        host == Self.localHostName() && kill(pid, 0) != 0 && errno == ESRCH
    }

    static func iso(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    func jsonData() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? e.encode(self)).map { $0 + Data("\n".utf8) } ?? Data()
    }

    /// The machine's host name (what a holder record compares to tell local from remote holders).
    public static func localHostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown-host" }
        return String(cString: buf)
    }

    /// The record in `url`, nil when missing or unreadable (a holder that has not written it yet).
    static func read(_ url: URL) -> RunLockHolder? {
        guard let d = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(RunLockHolder.self, from: d)
    }
}
