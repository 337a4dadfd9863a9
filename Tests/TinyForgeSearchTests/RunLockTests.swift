import Foundation
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

final class RunLockTests: XCTestCase {
    /// Issue 12: two `search --resume` at once used to both write the run. Now the second
    /// writer is refused, and the error names the holder and how to proceed.
    func testSecondWriterIsRefusedWithTheHoldersDetails() throws {
        let dir = temporaryDirectory(self)
        let first = try RunStore.create(directory: dir, config: testConfig())
        XCTAssertNotNil(first.lock)
        XCTAssertThrowsError(try RunStore.open(directory: dir, lock: .init(command: "search --resume"))) { e in
            guard case let .held(d, holder, stale)? = e as? RunLockError else { return XCTFail("\(e)") }
            XCTAssertEqual(d, dir.path)
            XCTAssertFalse(stale)
            XCTAssertEqual(holder?.pid, getpid())
            XCTAssertEqual(holder?.host, RunLockHolder.localHostName())
            XCTAssertEqual(holder?.command, "search")
            let text = "\(e)"
            for part in ["pid \(getpid())", "on host \(RunLockHolder.localHostName())", "since ", "last heartbeat", "runs show"] {
                XCTAssertTrue(text.contains(part), "missing \(part) in: \(text)")
            }
        }
        XCTAssertThrowsError(try RunLock.acquire(directory: dir))
        // Readers are not writers: they work while the lock is held.
        XCTAssertNoThrow(try RunReport(store: try RunStore.openReadOnly(directory: dir)))
        first.lock?.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(RunLock.holderFileName).path))
        XCTAssertNoThrow(try RunStore.open(directory: dir))
    }

    /// After a kill -9 the dead holder's record stays until the next holder replaces it; a writer
    /// refused in that window must not name the dead process.
    func testRecordOfADeadHolderIsNotReportedAsTheHolder() throws {
        let dir = temporaryDirectory(self)
        let lock = try RunLock.acquire(directory: dir, options: .init(heartbeatSeconds: 3600))
        let dead = try WorkerProcess.spawn(["/bin/true"], stdout: "/dev/null", stderr: "/dev/null")
        var st: Int32 = 0
        waitpid(dead, &st, 0)
        let now = Date().timeIntervalSince1970
        let old = RunLockHolder(host: RunLockHolder.localHostName(), pid: dead, command: "search", startedAt: now, heartbeatAt: now)
        try AtomicFile.write(old.jsonData(), to: dir.appendingPathComponent(RunLock.holderFileName))
        XCTAssertThrowsError(try RunLock.acquire(directory: dir)) { e in
            guard case .held(_, let h, _)? = e as? RunLockError else { return XCTFail("\(e)") }
            XCTAssertNil(h, "the dead pid \(dead) must not be named as the holder")
            XCTAssertTrue("\(e)".contains("holder record"), "\(e)")
        }
        XCTAssertEqual(RunLock.currentHolder(directory: dir)?.pid, dead, "the plain read still shows what is on disk")
        lock.release()
    }

    func testLockIsReleasedWhenTheStoreGoesAway() throws {
        let dir = temporaryDirectory(self)
        do { _ = try RunStore.create(directory: dir, config: testConfig()) }
        let again = try RunStore.open(directory: dir)
        XCTAssertEqual(again.lock?.holder.pid, getpid())
    }

    func testHeartbeatRefreshesTheHolderRecord() throws {
        let dir = temporaryDirectory(self)
        let lock = try RunLock.acquire(directory: dir, options: .init(command: "test", heartbeatSeconds: 0.1))
        let first = try XCTUnwrap(RunLock.currentHolder(directory: dir))
        Thread.sleep(forTimeInterval: 0.6)
        let later = try XCTUnwrap(RunLock.currentHolder(directory: dir))
        XCTAssertEqual(later.startedAt, first.startedAt)
        XCTAssertGreaterThan(later.heartbeatAt, first.heartbeatAt + 0.2)
        lock.release()
    }

    /// The lock descriptor is close-on-exec: a worker process started while the lock is held must
    /// not keep it after the writer is gone.
    func testWorkersDoNotInheritTheLock() throws {
        let dir = temporaryDirectory(self)
        let lock = try RunLock.acquire(directory: dir)
        let pid = try WorkerProcess.spawn(["/bin/sleep", "5"], stdout: "/dev/null", stderr: "/dev/null")
        defer { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) }
        lock.release()
        XCTAssertNoThrow(try RunLock.acquire(directory: dir).release())
    }

    /// Simulates a holder on another host: the live flock is this test's own, the record says
    /// "other-host" with an old heartbeat.
    func holdAsOtherHost(_ dir: URL, heartbeatAge: Double) throws -> RunLock {
        let lock = try RunLock.acquire(directory: dir, options: .init(command: "search", heartbeatSeconds: 3600))
        let now = Date().timeIntervalSince1970
        let h = RunLockHolder(host: "other-host", pid: 4242, command: "search", startedAt: now - 7200, heartbeatAt: now - heartbeatAge)
        try AtomicFile.write(h.jsonData(), to: dir.appendingPathComponent(RunLock.holderFileName))
        return lock
    }

    func testStaleLockFromAnotherHostIsBrokenOnlyOnRequest() throws {
        let dir = temporaryDirectory(self)
        let dead = try holdAsOtherHost(dir, heartbeatAge: 600)
        XCTAssertThrowsError(try RunLock.acquire(directory: dir)) { e in
            guard case .held(_, let h, true)? = e as? RunLockError else { return XCTFail("\(e)") }
            XCTAssertEqual(h?.host, "other-host")
            XCTAssertTrue("\(e)".contains("tinyforge runs unlock \(dir.path)"), "\(e)")
            XCTAssertTrue("\(e)".contains("--break-lock"), "\(e)")
        }
        let broken = try RunLock.acquire(directory: dir, options: .init(command: "search --resume", breakStale: true))
        XCTAssertEqual(RunLock.currentHolder(directory: dir)?.pid, getpid())
        XCTAssertThrowsError(try RunLock.acquire(directory: dir), "the new holder must be protected by a fresh lock file")
        broken.release()
        withExtendedLifetime(dead) {}
    }

    func testUnlockBreaksStaleLocksAndRefusesLiveOnes() throws {
        let dir = temporaryDirectory(self)
        // Recent heartbeat from another host: probably alive, refused.
        let recent = try holdAsOtherHost(dir, heartbeatAge: 5)
        XCTAssertThrowsError(try RunLock.unlock(directory: dir)) { e in
            guard case .notStale? = e as? RunLockError else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("younger than 60 s"), "\(e)")
        }
        XCTAssertThrowsError(try RunLock.acquire(directory: dir, options: .init(breakStale: true)))
        recent.release()

        let old = try holdAsOtherHost(dir, heartbeatAge: 600)
        let cleared = try RunLock.unlock(directory: dir)
        XCTAssertEqual(cleared?.host, "other-host")
        XCTAssertNoThrow(try RunLock.acquire(directory: dir).release())
        withExtendedLifetime(old) {}

        // A live holder on this host is never broken, however old its record claims to be.
        let local = try RunLock.acquire(directory: dir)
        XCTAssertThrowsError(try RunLock.unlock(directory: dir, graceSeconds: 0)) { e in
            XCTAssertTrue("\(e)".contains("runs on this host and is alive"), "\(e)")
        }
        local.release()
        XCTAssertNil(try RunLock.unlock(directory: dir), "nothing held, nothing recorded: not locked")
    }
}
