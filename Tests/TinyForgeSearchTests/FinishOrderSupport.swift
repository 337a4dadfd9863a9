import Foundation
@testable import TinyForgeSearch
import XCTest

/// Work on its own thread whose outcome the test awaits with a deadline, so a broken lock
/// fails the test instead of hanging it.
final class Pending<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<T, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws -> T) {
        Thread.detachNewThread {
            let r = Result { try work() }
            self.lock.lock(); self.outcome = r; self.lock.unlock()
            self.done.signal()
        }
    }

    var isDone: Bool { lock.lock(); defer { lock.unlock() }; return outcome != nil }

    /// The work's value (or its error), failing after `seconds` when it has not ended.
    func value(within seconds: Double, _ what: String) throws -> T {
        if !isDone, done.wait(timeout: .now() + seconds) == .timedOut {
            throw PendingTimeout(what: what, seconds: seconds)
        }
        lock.lock(); defer { lock.unlock() }
        return try outcome!.get()
    }
}

struct PendingTimeout: Error, CustomStringConvertible {
    let what: String, seconds: Double
    var description: String { "\(what) did not end within \(seconds) s" }
}

/// A test's set-up went wrong (not what the test checks): says what.
struct SetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A write transaction held open before its COMMIT on another thread: `body` runs the
/// statements, then calls `hold(value)` inside its transaction, which parks until `commit()`.
/// That is the worst moment for the commit-order race: the completion has drawn its
/// `finished_seq` but nobody else can see it yet.
final class HeldTransaction<T>: @unchecked Sendable {
    private let reached = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var held: T?
    private var work: Pending<Void>!

    init(_ body: @escaping @Sendable (_ hold: (T) -> Void) throws -> Void) throws {
        work = Pending { [self] in
            try body { v in
                self.lock.lock(); self.held = v; self.lock.unlock()
                self.reached.signal()
                _ = self.release.wait(timeout: .now() + 30)   // a test that forgets to commit still ends
            }
        }
        let deadline = Date() + 10
        while reached.wait(timeout: .now() + 0.02) == .timedOut {
            if work.isDone { try work.value(within: 0, "the held transaction"); throw PendingTimeout(what: "the held transaction (ended before holding)", seconds: 0) }
            if Date() > deadline { throw PendingTimeout(what: "the held transaction's statements", seconds: 10) }
        }
    }

    /// What the held transaction reported at `hold` (its `finished_seq`).
    var value: T { lock.lock(); defer { lock.unlock() }; return held! }

    /// Lets the transaction COMMIT and waits for it. Safe to call twice (the second is a no-op wait).
    func commit() throws {
        release.signal()
        try work.value(within: 10, "the held transaction's COMMIT")
    }
}

/// Polls `condition` every 10 ms for at most `seconds`; true when it became true.
func eventually(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date() + seconds
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return try condition()
}

/// A controller's cursor over `WorkQueue.results(since:)`, advanced as `SearchSession+Queue`
/// advances it (to the last sequence read), keeping every job it ever read so a test sees a
/// job read twice or never.
struct ResultCursor {
    private(set) var position: Int64 = 0
    private(set) var seen: [Int64] = []

    mutating func read(_ queue: WorkQueue) throws {
        let all = try queue.results(since: position)
        seen += all.map(\.jobID)
        if let last = all.last { position = last.sequence }
    }
}
