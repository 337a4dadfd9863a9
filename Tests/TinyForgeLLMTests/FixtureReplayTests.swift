import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeLLM

/// Real replies recorded from the local SmolLM2-135M server (llama-cpp-python 0.3.36),
/// replayed through the loopback server: the whole proposer path on real model output,
/// deterministic and offline. Recorded with
/// `TINYFORGE_LLM_MEASURE=10 TINYFORGE_LLM_RECORD_DIR=... scripts/llm-server.sh run -- swift test --filter LocalLLMIntegrationTests`.
final class FixtureReplayTests: XCTestCase {
    func fixture(_ name: String) throws -> Data {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")
                                ?? Bundle.module.url(forResource: name, withExtension: "json"), "missing fixture \(name).json")
        return try Data(contentsOf: url)
    }

    func config(_ base: String) -> LLMConfig {
        LLMConfig(baseURL: base, timeoutSeconds: 5, retries: 1, backoffSeconds: 0.01, structuredOutput: .jsonSchema)
    }

    func testRecordedRefusalNamesResponseFormat() throws {
        let body = String(decoding: try fixture("llamacpp_refuses_json_schema"), as: UTF8.self)
        XCTAssertTrue(ChatTransport.namesResponseFormat(body), body)
    }

    /// Refusal of json_schema, then a real reply: downgrade, parse, decode into the space.
    func testRealRepliesThroughTheProposer() async throws {
        let refusal = try fixture("llamacpp_refuses_json_schema")
        for seed in ["seed1000", "seed1001"] {
            let reply = try fixture("smollm2_mcu28_k3_\(seed)")
            let server = try LoopbackHTTPServer([
                .respond(status: 500, headers: ["Content-Type": "application/json"], body: refusal),
                .respond(status: 200, headers: ["Content-Type": "application/json"], body: reply),
            ])
            defer { server.stop() }
            let proposer = LLMProposer(client: OpenAICompatibleClient(config: config(server.baseURL), environment: [:]))
            let ctx = LocalLLMIntegrationTests.mcu28Context()
            let p = await proposer.propose(ctx, seed: 1)
            XCTAssertNil(p.failure, p.failure ?? "")
            XCTAssertEqual(p.exchanges.map(\.httpStatus), [500, 200])
            XCTAssertEqual(p.candidates.count, 3, seed)
            for c in p.candidates {
                XCTAssertTrue(c.accepted || !(c.rejection ?? "").isEmpty)
                if let s = c.spec {
                    XCTAssertTrue(SearchSpace.mcu28.contains(s))
                    XCTAssertEqual(s.input, InputShape(height: 28, width: 28, channels: 1))
                }
            }
            XCTAssertGreaterThan(p.exchanges[1].promptTokens ?? 0, 0)
            XCTAssertGreaterThan(p.exchanges[1].completionTokens ?? 0, 0)
            // Generated under the grammar of this very schema: the client-side check agrees.
            let text = try XCTUnwrap(p.exchanges[1].responseText)
            XCTAssertEqual(SchemaCheck.violations(try JSONValue.parse(text), schema: p.prompt.schema), [], seed)
            // The request the recording was made with is what the proposer sends today.
            let recorded = try JSONValue.parse(try fixture("smollm2_mcu28_k3_request"))
            guard case .object(let rec) = recorded, case .object(let sent) = try JSONValue.parse(server.received[1].body) else { return XCTFail() }
            XCTAssertEqual(rec["response_format"], sent["response_format"], "schema drifted: re-record the fixtures")
        }
    }
}
