import XCTest
@testable import TinyForgeSearch

/// An idle worker backs off exponentially (256 idle workers at a fixed 0.5 s starved the
/// controller's first insert), is jittered, and never waits longer than the cap.
final class QueueWorkerBackoffTests: XCTestCase {
    func testIdleWaitDoublesToTheCapAndResetsAfterAClaim() {
        var o = QueueWorkerOptions()
        o.pollSeconds = 0.5; o.maxPollSeconds = 5
        let waits = (1...8).map { QueueWorker.idleWait(emptyPolls: $0, o, jitter: 1) }
        XCTAssertEqual(waits, [0.5, 1, 2, 4, 5, 5, 5, 5])
        // A claim starts a new job timing (emptyPolls 0 → the first empty poll waits pollSeconds again).
        XCTAssertEqual(QueueWorker.idleWait(emptyPolls: 0, o, jitter: 1), 0.5)
        XCTAssertEqual(QueueWorker.idleWait(emptyPolls: 1_000, o, jitter: 1), 5)
    }

    func testJitterSpreadsWorkersAndACapBelowThePollIsThePoll() {
        var o = QueueWorkerOptions()
        o.pollSeconds = 2; o.maxPollSeconds = 1
        XCTAssertEqual(QueueWorker.idleWait(emptyPolls: 5, o, jitter: 1), 2)
        o.maxPollSeconds = 8
        let spread = Set((0..<50).map { _ in QueueWorker.idleWait(emptyPolls: 3, o) })
        XCTAssertGreaterThan(spread.count, 40, "the default jitter must differ between workers")
        XCTAssertTrue(spread.allSatisfy { (6...10).contains($0) }, "8 s ± 25 %: \(spread.sorted().prefix(3))…")
    }
}
