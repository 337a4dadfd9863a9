import Foundation
import TinyForgeSpec
#if canImport(Glibc)
import Glibc
#endif

/// One writer per run: an exclusive `flock` on `DIR/run.lock`, taken by every command that
/// writes a run (search, search --resume, finish, explain, compare, demo) and held until the
/// command ends.
///
/// Why flock: the kernel releases it when the holder dies, `kill -9` included, so a crashed
/// search never blocks its own resume and no cleanup code is needed. Beside it, the holder writes
/// `DIR/run.lock.json` (host, pid, command, start, heartbeat; replaced atomically every
/// `heartbeatSeconds`) so a refused writer can say who holds the run. The only lock that can
/// outlive its holder is one taken from another host over a shared file system; when its
/// heartbeat is older than `graceSeconds` it may be broken (`tinyforge runs unlock DIR` or
/// `--break-lock`), which replaces the lock file so the next writer locks a fresh inode.
///
/// The descriptor is opened close-on-exec, so worker processes never inherit (and keep) the lock.
public final class RunLock: @unchecked Sendable {
    public static let fileName = "run.lock"
    public static let holderFileName = "run.lock.json"
    public static let defaultHeartbeatSeconds = 5.0
    public static let defaultGraceSeconds = 60.0

    public struct Options: Sendable {
        /// Shown to refused writers ("search", "finish", ...).
        public var command: String
        /// Break a stale lock (another host, heartbeat older than `graceSeconds`) instead of refusing.
        public var breakStale: Bool
        public var heartbeatSeconds: Double
        public var graceSeconds: Double

        public init(command: String = "tinyforge", breakStale: Bool = false,
                    heartbeatSeconds: Double = RunLock.defaultHeartbeatSeconds, graceSeconds: Double = RunLock.defaultGraceSeconds) {
            self.command = command; self.breakStale = breakStale
            self.heartbeatSeconds = heartbeatSeconds; self.graceSeconds = graceSeconds
        }
    }

    public let directory: URL
    private let fd: Int32
    private let mutex = NSLock()
    private var record: RunLockHolder
    private var timer: DispatchSourceTimer?
    private var released = false

    private init(directory: URL, fd: Int32, record: RunLockHolder) {
        self.directory = directory; self.fd = fd; self.record = record
    }

    deinit { release() }

    /// This lock's holder record as last written (its heartbeat included).
    public var holder: RunLockHolder { mutex.lock(); defer { mutex.unlock() }; return record }

    static func lockURL(_ dir: URL) -> URL { dir.appendingPathComponent(fileName) }
    static func holderURL(_ dir: URL) -> URL { dir.appendingPathComponent(holderFileName) }

    /// Takes the run's lock or throws `RunLockError.held` naming the holder. The directory must exist.
    public static func acquire(directory: URL, options: Options = Options()) throws -> RunLock {
        let path = lockURL(directory).path
        for _ in 0..<5 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RunLockError.cannotLock(file: path, reason: errnoText()) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let e = errno
                close(fd)
                guard e == EWOULDBLOCK else { throw RunLockError.cannotLock(file: path, reason: errnoText(e)) }
                let h = currentHolder(directory: directory, waitForRecord: true)
                let stale = h?.isStale(grace: options.graceSeconds) ?? false
                if options.breakStale {
                    guard stale else { throw RunLockError.notStale(directory: directory.path, holder: h, graceSeconds: options.graceSeconds) }
                    replaceLockFile(directory)
                    continue
                }
                throw RunLockError.held(directory: directory.path, holder: h, stale: stale)
            }
            // A breaker may have replaced the file between open and flock: then this lock is on
            // an orphaned inode and worthless; retry on the new file.
            guard sameFile(fd, path) else { close(fd); continue }
            let lock = RunLock(directory: directory, fd: fd, record: .current(command: options.command))
            do { try lock.writeRecord() } catch { lock.release(); throw error }
            lock.startHeartbeat(every: options.heartbeatSeconds)
            return lock
        }
        throw RunLockError.cannotLock(file: path, reason: "the lock file was replaced five times in a row by other processes breaking the lock")
    }

    /// Releases the lock (also on deinit). Removes the holder record first, while still holding it.
    public func release() {
        mutex.lock(); defer { mutex.unlock() }
        guard !released else { return }
        released = true
        timer?.cancel()
        timer = nil
        // After a break (`runs unlock` from another host) the record belongs to the new holder.
        if Self.sameFile(fd, Self.lockURL(directory).path) { unlink(Self.holderURL(directory).path) }
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The holder record of a run's lock, nil when none is written. With `waitForRecord` (the
    /// lock is known to be held), waits up to 0.5 s for a holder that has just taken the lock and
    /// not yet written its record; until then the file may still hold the record of a previous
    /// holder killed with -9 (a dead local pid), which is not reported as the holder.
    public static func currentHolder(directory: URL, waitForRecord: Bool = false) -> RunLockHolder? {
        guard waitForRecord else { return RunLockHolder.read(holderURL(directory)) }
        for attempt in 0..<10 {
            if let h = RunLockHolder.read(holderURL(directory)), !h.isDeadLocalProcess { return h }
            if attempt < 9 { usleep(50_000) }
        }
        return nil
    }

    /// `tinyforge runs unlock DIR`: clears a lock nobody holds (a leftover record) or breaks a
    /// stale one (other host, heartbeat older than `graceSeconds`). Refuses a live holder.
    /// Returns the holder record that was cleared, nil when the run was not locked at all.
    @discardableResult
    public static func unlock(directory: URL, graceSeconds: Double = defaultGraceSeconds) throws -> RunLockHolder? {
        let path = lockURL(directory).path
        let previous = currentHolder(directory: directory)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            guard errno == ENOENT else { throw RunLockError.cannotLock(file: path, reason: errnoText()) }
            unlink(holderURL(directory).path)
            return previous
        }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            // Not held: only a record left behind (nothing to break).
            unlink(holderURL(directory).path)
            flock(fd, LOCK_UN)
            return previous
        }
        guard errno == EWOULDBLOCK else { throw RunLockError.cannotLock(file: path, reason: errnoText()) }
        let h = currentHolder(directory: directory, waitForRecord: true)
        guard let holder = h, holder.isStale(grace: graceSeconds) else {
            throw RunLockError.notStale(directory: directory.path, holder: h, graceSeconds: graceSeconds)
        }
        replaceLockFile(directory)
        return holder
    }

    /// Breaking a lock: unlink the lock file (the dead holder keeps its lock on the orphaned inode)
    /// and its record; the next `acquire` creates and locks a fresh file.
    private static func replaceLockFile(_ directory: URL) {
        unlink(lockURL(directory).path)
        unlink(holderURL(directory).path)
    }

    private func writeRecord() throws {
        try AtomicFile.write(record.jsonData(), to: Self.holderURL(directory))
    }

    private func startHeartbeat(every seconds: Double) {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tinyforge.run-lock.heartbeat"))
        t.schedule(deadline: .now() + seconds, repeating: seconds, leeway: .milliseconds(200))
        t.setEventHandler { [weak self] in self?.beat() }
        mutex.lock()
        timer = t
        mutex.unlock()
        t.resume()
    }

    /// Refreshes the heartbeat. A failed write (disk full) is retried at the next beat; the
    /// flock, not the record, is what keeps other writers out.
    private func beat() {
        mutex.lock(); defer { mutex.unlock() }
        guard !released, Self.sameFile(fd, Self.lockURL(directory).path) else { return } // broken: not ours to refresh
        record.heartbeatAt = Date().timeIntervalSince1970
        try? writeRecord()
    }

    private static func sameFile(_ fd: Int32, _ path: String) -> Bool {
        var a = stat(), b = stat()
        guard fstat(fd, &a) == 0, stat(path, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    static func errnoText(_ e: Int32 = errno) -> String { String(cString: strerror(e)) + " (errno \(e))" }
}
