import XCTest
import TinyForgeSpec
@testable import TinyForgeLLM

/// Every way an LLM round can fail ends in one line that starts with its cause — what the
/// search prints and stores — instead of the "rejected (decode)" that used to hide it.
/// Real HTTP through the loopback server; the proposer is the one the search uses.
final class FailureVisibilityTests: XCTestCase {
    func proposer(_ base: String, _ f: (inout LLMConfig) -> Void = { _ in }) -> LLMProposer {
        var c = LLMConfig(baseURL: base, model: "m", maxTokens: 300, timeoutSeconds: 5, retries: 1,
                          backoffSeconds: 0.01, maxBackoffSeconds: 0.02, structuredOutput: .jsonObjectSchema)
        f(&c)
        return LLMProposer(client: OpenAICompatibleClient(config: c, environment: [:]), parseRetries: 0)
    }

    func round(_ p: LLMProposer) async -> LLMProposal {
        await p.propose(LocalLLMIntegrationTests.mcu28Context(), seed: 7)
    }

    func assertOneLine(_ failure: String?, startsWith prefix: String, contains parts: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let f = failure else { return XCTFail("no failure recorded", file: file, line: line) }
        XCTAssertTrue(f.hasPrefix(prefix), "\(f) should start with \(prefix)", file: file, line: line)
        XCTAssertFalse(f.contains("\n"), "one line: \(f)", file: file, line: line)
        for p in parts { XCTAssertTrue(f.contains(p), "\(f) should contain \(p)", file: file, line: line) }
    }

    func testRefusedConnection() async {
        let r = await round(proposer("http://127.0.0.1:\(LoopbackHTTPServer.closedPort())"))
        assertOneLine(r.failure, startsWith: "LLM request failed: connection refused", contains: ["127.0.0.1", "2 attempts", "llm-server.sh"])
        XCTAssertTrue(r.requestFailed)
        XCTAssertEqual(r.exchanges.count, 2, "refusals are retried (cheap)")
    }

    func testHTTP401ShowsStatusAndServerMessageWithoutRetry() async throws {
        let server = try LoopbackHTTPServer([.json(401, #"{"error":{"message":"Invalid API key provided","type":"auth"}}"#)])
        defer { server.stop() }
        let r = await round(proposer(server.baseURL))
        assertOneLine(r.failure, startsWith: "LLM request failed: HTTP 401", contains: ["Invalid API key provided", "TINYFORGE_LLM_API_KEY"])
        XCTAssertFalse(r.failure!.contains("\"type\""), "the server's message, not its JSON: \(r.failure!)")
        XCTAssertTrue(r.requestFailed)
        XCTAssertEqual(server.received.count, 1)
    }

    func testHTTP500MultiLineMessageIsFoldedAndRetried() async throws {
        let server = try LoopbackHTTPServer([.json(500, "{\"detail\":\"llama_decode failed\\n  at step 3\"}")])
        defer { server.stop() }
        let r = await round(proposer(server.baseURL))
        assertOneLine(r.failure, startsWith: "LLM request failed: HTTP 500", contains: ["llama_decode failed at step 3"])
        XCTAssertEqual(server.received.count, 2, "5xx is retried")
    }

    func testTimeoutNamesSecondsAndFlagAndIsNotRetriedForLocalServers() async throws {
        let server = try LoopbackHTTPServer([.hang])
        defer { server.stop() }
        let t0 = Date()
        let r = await round(proposer(server.baseURL) { $0.timeoutSeconds = 0.5; $0.retryOnTimeout = false })
        assertOneLine(r.failure, startsWith: "LLM request failed: timeout after 0.50 s", contains: ["--llm-timeout", "1 attempt"])
        XCTAssertEqual(r.exchanges.count, 1, "no retry behind a generation the server keeps running")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 4)
    }

    func testTimeoutIsRetriedWhenTheConfigAllowsIt() async throws {
        let server = try LoopbackHTTPServer([.hang])
        defer { server.stop() }
        let r = await round(proposer(server.baseURL) { $0.timeoutSeconds = 0.4 })
        assertOneLine(r.failure, startsWith: "LLM request failed: timeout after 0.40 s", contains: ["2 attempts"])
        XCTAssertEqual(r.exchanges.count, 2)
    }

    func testGarbageBodyIsAnUnparsableReply() async throws {
        let server = try LoopbackHTTPServer([.json(200, "<html>\n<h1>502 Bad Gateway</h1>\n</html>")])
        defer { server.stop() }
        let r = await round(proposer(server.baseURL))
        assertOneLine(r.failure, startsWith: "LLM request failed: unparsable reply", contains: ["HTTP 200", "not a chat reply of the openai API"])
        XCTAssertTrue(r.requestFailed)
    }

    func testModelTextWithoutJSONIsAnUnusableReplyNotAFailedRequest() async throws {
        let server = try LoopbackHTTPServer([.json(200, ClientTests.chatReply("Sorry, I cannot help with that."))])
        defer { server.stop() }
        let r = await round(proposer(server.baseURL))
        assertOneLine(r.failure, startsWith: "LLM reply unusable: reply", contains: [])
        XCTAssertFalse(r.requestFailed, "the server answered; the model wrote no JSON")
    }

    func testTimeoutFromEnvironmentAndDefaults() throws {
        let local = LLMConfig.localLlamaCpp(baseURL: "http://127.0.0.1:8085")
        XCTAssertEqual(local.timeoutSeconds, LLMConfig.defaultLocalTimeoutSeconds)
        XCTAssertEqual(local.retryOnTimeout, false)
        let c = try XCTUnwrap(try LLMConfig.fromEnvironment(["TINYFORGE_LLM_URL": "http://h:1", "TINYFORGE_LLM_TIMEOUT": "45"]))
        XCTAssertEqual(c.timeoutSeconds, 45)
        XCTAssertEqual(try LLMConfig.parseTimeout("2.5s", source: "--llm-timeout"), 2.5)
        for bad in ["0", "-3", "abc", "nan", "inf", "100000"] {
            XCTAssertThrowsError(try LLMConfig.fromEnvironment(["TINYFORGE_LLM_URL": "http://h:1", "TINYFORGE_LLM_TIMEOUT": bad]), bad) { e in
                XCTAssertTrue("\(e)".contains("TINYFORGE_LLM_TIMEOUT"), "names the variable: \(e)")
            }
        }
    }

    func testServerMessageExtraction() {
        XCTAssertEqual(ChatTransport.serverMessage(#"{"error":"model not found"}"#), "model not found")
        XCTAssertEqual(ChatTransport.serverMessage(#"{"message":"busy"}"#), "busy")
        XCTAssertEqual(ChatTransport.serverMessage(""), "(empty body)")
        XCTAssertEqual(ChatTransport.serverMessage(String(repeating: "x", count: 500)).count, 301)
    }
}
