import Foundation
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// An `llm` search whose server cannot be used shows the cause on the console, stores it,
/// and stops early saying so — before, each round showed as "rejected (decode)" and the run
/// stalled 20 iterations later blaming the budget.
final class LLMFailureSearchTests: XCTestCase {
    /// A client for a port nobody listens on: every request is refused at once.
    func refusedProposer() -> LLMSearchProposer {
        let c = LLMConfig(baseURL: "http://127.0.0.1:1", model: "m", timeoutSeconds: 2, retries: 0)
        return LLMSearchProposer(proposer: LLMProposer(client: OpenAICompatibleClient(config: c, environment: [:])), model: "m")
    }

    func testUnreachableServerStopsEarlyNamingTheCause() async throws {
        let dir = temporaryDirectory(self)
        let config = testConfig(proposer: "llm", trials: 8)
        let store = try RunStore.create(directory: dir, config: config)
        let controller = SearchController(store: store, config: config, proposer: refusedProposer(),
                                          evaluator: config.makeEvaluator(runDirectory: dir))
        var console: [String] = []
        controller.onEvent = { console.append($0) }
        let summary = try await controller.run()

        XCTAssertEqual(summary.status, "stalled")
        let why = try XCTUnwrap(summary.stopReason)
        XCTAssertTrue(why.contains("LLM request failed in 3 iterations"), why)
        XCTAssertTrue(why.contains("connection refused"), why)
        XCTAssertTrue(why.contains("the budget is not the cause"), why)
        XCTAssertFalse(why.contains("may exclude"), why)

        // Console: one line per failed request, with its cause; the kind is `llm`, not `decode`.
        let failedLines = console.filter { $0.hasPrefix("iteration ") && $0.contains(": LLM request failed: connection refused") }
        XCTAssertEqual(failedLines.count, 3, console.joined(separator: "\n"))
        XCTAssertTrue(console.contains { $0.contains("rejected (1 llm)") }, console.joined(separator: "\n"))
        XCTAssertFalse(console.contains { $0.contains("decode") }, console.joined(separator: "\n"))

        // Store: a rejected row per round with the cause, the events, the status.
        let (rows, events, status) = try store.read { db in
            (try String.fetchAll(db, sql: "SELECT reason FROM candidates WHERE rejection_kind = 'llm' ORDER BY id"),
             try String.fetchAll(db, sql: "SELECT message FROM events WHERE level IN ('warning', 'error') ORDER BY id"),
             try String.fetchOne(db, sql: "SELECT status FROM runs")!)
        }
        XCTAssertEqual(rows.count, 3)
        for r in rows { XCTAssertTrue(r.hasPrefix("LLM request failed: connection refused"), r) }
        XCTAssertEqual(events.last, why)
        XCTAssertEqual(status, "stalled")
        // A resumed run's rejection list keeps the kind (the prompt leaves these rows out).
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        XCTAssertEqual(state.recentRejections.map(\.kind), [.llm, .llm, .llm])
    }

    func testFailedRoundsAreSeparateRowsEvenWithTheSameCause() {
        var v = testValidator()
        let f = LLMFailure(cause: "LLM request failed: timeout after 5 s: no reply", requestFailed: true)
        var hashes: Set<String> = []
        for iteration in [3, 3, 4] {
            guard case .failure(let r) = v.validate(.failedLLMRound(f, proposer: "llm"), iteration: iteration) else {
                return XCTFail("a failed round must be rejected")
            }
            XCTAssertEqual(r.kind, .llm)
            XCTAssertEqual(r.reason, f.cause)
            hashes.insert(r.hash)
        }
        XCTAssertEqual(hashes.count, 3, "never stored as duplicates of each other")
    }

    func rejection(_ kind: Rejection.Kind, _ reason: String) -> Rejection {
        Rejection(kind: kind, reason: reason, hash: UUID().uuidString, proposer: "p", iteration: 0)
    }

    func testStallMessagesNameTheRealCause() {
        // Budget only: the old wording, with the breakdown.
        var w = StallWatch(maxBarrenIterations: 2)
        XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.budget, "peak SRAM 90 KB > 64 KB")], llmFailures: []))
        let budget = w.record(accepted: 0, rejections: [rejection(.budget, "peak SRAM 80 KB > 64 KB"), rejection(.duplicate, "dup")], llmFailures: [])
        XCTAssertEqual(budget, "stopping: 2 iterations in a row without an acceptable proposal (rejected: 2 budget, 1 duplicate); the budget may exclude most of the space (latest reason: dup)")

        // The model answered with no usable JSON (not a failed request): no early stop, but the
        // barren message says every round failed at the LLM.
        let unusable = LLMFailure(cause: "LLM reply unusable: reply no_json: no JSON object", requestFailed: false)
        w = StallWatch(maxBarrenIterations: 4)
        for _ in 0..<3 { XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.llm, unusable.cause)], llmFailures: [unusable])) }
        let llmOnly = w.record(accepted: 0, rejections: [rejection(.llm, unusable.cause)], llmFailures: [unusable])
        XCTAssertTrue(llmOnly?.contains("every LLM round failed, the budget is not the cause; latest: LLM reply unusable") ?? false, llmOnly ?? "nil")

        // Failed requests stop after 3; an accepted proposal in between resets the count.
        let refused = LLMFailure(cause: "LLM request failed: connection refused: cannot connect", requestFailed: true)
        w = StallWatch(maxBarrenIterations: 20)
        XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.llm, refused.cause)], llmFailures: [refused]))
        XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.llm, refused.cause)], llmFailures: [refused]))
        XCTAssertNil(w.record(accepted: 1, rejections: [], llmFailures: []))
        XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.llm, refused.cause)], llmFailures: [refused]))
        XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.llm, refused.cause)], llmFailures: [refused]))
        XCTAssertEqual(w.record(accepted: 0, rejections: [rejection(.llm, refused.cause)], llmFailures: [refused]),
                       "stopping: the LLM request failed in 3 iterations in a row, so nothing was proposed (the budget is not the cause); LLM request failed: connection refused: cannot connect")

        // llm+random: failed LLM requests but random proposals rejected for the budget is not
        // an unreachable-LLM stop (something was proposed); the barren message lists both.
        w = StallWatch(maxBarrenIterations: 3)
        for _ in 0..<2 { XCTAssertNil(w.record(accepted: 0, rejections: [rejection(.llm, refused.cause), rejection(.budget, "MACs 9M > 5M")], llmFailures: [refused])) }
        let mixed = w.record(accepted: 0, rejections: [rejection(.llm, refused.cause), rejection(.budget, "MACs 9M > 5M")], llmFailures: [refused]) ?? "nil"
        XCTAssertTrue(mixed.contains("rejected: 3 budget, 3 llm") && mixed.contains("latest LLM failure: LLM request failed: connection refused"), mixed)
    }
}
