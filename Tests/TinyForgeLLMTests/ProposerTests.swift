import XCTest
import TinyForgeSpec
@testable import TinyForgeLLM

/// A client that replays texts and records the requests (no HTTP).
final class ScriptedClient: LLMClient, @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [Result<String, LLMClientError>]
    private(set) var requests: [LLMRequest] = []
    init(_ texts: [Result<String, LLMClientError>]) { self.texts = texts }
    private func take(_ r: LLMRequest) -> Result<String, LLMClientError> {
        lock.lock(); defer { lock.unlock() }
        requests.append(r); return texts.removeFirst()
    }
    func complete(_ request: LLMRequest) async throws -> LLMResponse {
        let next = take(request)
        let ex = LLMExchange(attempt: 1, timestamp: "t", provider: "scripted", url: "-", requestBody: "{}", httpStatus: 200,
                             responseText: try? next.get(), latencyMs: 1, promptTokens: 10, completionTokens: 5)
        return LLMResponse(text: try next.get(), finishReason: "stop", model: nil, structuredOutput: .none, exchanges: [ex])
    }
}

final class ProposerTests: XCTestCase {
    func testUnusableReplyIsFedBackThenRecovered() async throws {
        var rng = SeededGenerator(seed: 11)
        let f = CandidateFormat(space: .mcu28)
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        guard case .object(var item) = f.compactJSON(spec) else { return XCTFail() }
        item["rationale"] = "fits easily"
        let good = JSONValue.object(["candidates": [.object(item), ["stages": "none"]]]).canonicalText()
        let client = ScriptedClient([.success("Sorry, I cannot."), .success("```json\n" + good + "\n```")])
        let p = await LLMProposer(client: client).propose(LocalLLMIntegrationTests.mcu28Context(k: 2), seed: 40)
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.parseErrors.map(\.kind), [.noJSON])
        XCTAssertEqual(p.seeds, [40, 41])
        XCTAssertEqual(client.requests.count, 2)
        XCTAssertEqual(client.requests[1].seed, 41)
        XCTAssertTrue(client.requests[1].messages.last!.content.hasPrefix("Your previous reply could not be used"))
        XCTAssertEqual(client.requests[0].schema, f.schema(candidates: 2))
        XCTAssertEqual(p.accepted.map(\.canonicalHash), [spec.canonicalHash])
        XCTAssertEqual(p.rejected.count, 1)
        XCTAssertTrue(p.rejected[0].rejection!.contains("stages"), p.rejected[0].rejection!)
        XCTAssertEqual(p.exchanges.count, 2)
        XCTAssertTrue(p.repairs.contains { $0.contains("code fence") })
    }

    func testClientFailureIsRecordedNotThrown() async {
        let err = LLMClientError(kind: .connection, message: "cannot connect",
                                 exchanges: [LLMExchange(attempt: 1, timestamp: "t", provider: "x", url: "u", requestBody: "{}")])
        let p = await LLMProposer(client: ScriptedClient([.failure(err)])).propose(LocalLLMIntegrationTests.mcu28Context(), seed: 1)
        XCTAssertEqual(p.exchanges.count, 1)
        XCTAssertTrue(p.failure?.contains("cannot connect") ?? false)
        XCTAssertTrue(p.candidates.isEmpty)
    }

    func testGivesUpAfterParseRetries() async {
        let client = ScriptedClient(Array(repeating: .success(""), count: 3))
        let p = await LLMProposer(client: client, parseRetries: 2).propose(LocalLLMIntegrationTests.mcu28Context(), seed: 1)
        XCTAssertEqual(p.parseErrors.count, 3)
        XCTAssertEqual(client.requests.count, 3)
        XCTAssertNotNil(p.failure)
    }

    func testBlockingBridge() throws {
        let client = ScriptedClient([.success("{\"candidates\": []}")])
        let r = try client.completeBlocking(LLMRequest(messages: [.user("x")]))
        XCTAssertEqual(r.text, "{\"candidates\": []}")
    }
}
