import XCTest
import TinyForgeSpec
@testable import TinyForgeLLM

/// The HTTP clients against a loopback server replaying recorded and crafted replies.
final class ClientTests: XCTestCase {
    /// A reply in OpenAI's chat format with `content` as the assistant text.
    static func chatReply(_ content: String, finish: String = "stop", usage: (Int, Int)? = (120, 80)) -> String {
        var o: [String: JSONValue] = [
            "id": "chatcmpl-1", "object": "chat.completion", "model": "smollm2",
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(content)], "finish_reason": .string(finish)]],
        ]
        if let u = usage { o["usage"] = ["prompt_tokens": .number(Double(u.0)), "completion_tokens": .number(Double(u.1)), "total_tokens": .number(Double(u.0 + u.1))] }
        return JSONValue.object(o).canonicalText()
    }

    static let schema: JSONValue = CandidateFormat(space: .mcu28).schema(candidates: 2)

    func config(_ base: String, _ f: (inout LLMConfig) -> Void = { _ in }) -> LLMConfig {
        var c = LLMConfig(baseURL: base, model: "test-model", temperature: 0.7, topP: 0.9, minP: 0.05, maxTokens: 300,
                          timeoutSeconds: 5, retries: 2, backoffSeconds: 0.01, maxBackoffSeconds: 0.05)
        f(&c)
        return c
    }

    func request() -> LLMRequest {
        LLMRequest(messages: [.system("role"), .user("propose")], schema: Self.schema, seed: 42)
    }

    func testStructuredReplyIsReturnedWithUsageAndRecord() async throws {
        let server = try LoopbackHTTPServer([.json(200, Self.chatReply("{\"candidates\": []}"))])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL + "/v1/"), environment: [:])
        let r = try await client.complete(request())
        XCTAssertEqual(r.text, "{\"candidates\": []}")
        XCTAssertEqual(r.finishReason, "stop")
        XCTAssertEqual(r.promptTokens, 120)
        XCTAssertEqual(r.completionTokens, 80)
        XCTAssertEqual(r.exchanges.count, 1)
        XCTAssertEqual(r.exchanges[0].httpStatus, 200)
        XCTAssertGreaterThan(r.exchanges[0].latencyMs, 0)
        XCTAssertNil(r.exchanges[0].error)
        XCTAssertTrue(r.exchanges[0].timestamp.hasSuffix("Z"))
        let got = server.received
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got[0].method, "POST")
        XCTAssertEqual(got[0].path, "/v1/chat/completions")
        XCTAssertNil(got[0].headers["authorization"], "no key configured, none sent")
        guard case .object(let body) = try JSONValue.parse(got[0].body) else { return XCTFail("body not an object") }
        XCTAssertEqual(body["model"], "test-model")
        XCTAssertEqual(body["temperature"], 0.7)
        XCTAssertEqual(body["top_p"], 0.9)
        XCTAssertEqual(body["min_p"], 0.05)
        XCTAssertEqual(body["max_tokens"], 300)
        XCTAssertEqual(body["seed"], 42)
        XCTAssertEqual(body["stream"], false)
        guard case .object(let rf)? = body["response_format"], case .object(let js)? = rf["json_schema"] else { return XCTFail("no response_format") }
        XCTAssertEqual(rf["type"], "json_schema")
        XCTAssertEqual(js["schema"], Self.schema)
        XCTAssertEqual(r.exchanges[0].requestBody, got[0].body, "the record holds the exact body sent")
    }

    func testEachStructuredModeBuildsItsResponseFormat() {
        let d = OpenAIDialect()
        let c = config("http://x")
        func rf(_ m: StructuredOutputMode) -> JSONValue? {
            if case .object(let o) = d.body(for: request(), config: c, mode: m) { return o["response_format"] }; return nil
        }
        XCTAssertEqual(rf(.jsonObjectSchema), ["type": "json_object", "schema": Self.schema])
        XCTAssertEqual(rf(.jsonObject), ["type": "json_object"])
        XCTAssertNil(rf(.none))
    }

    func testServerRefusingJSONSchemaTriggersDowngradeThatSticks() async throws {
        // llama-cpp-python's answer to json_schema (recorded shape).
        let refusal = #"{"error":{"message":"Unsupported response_format type: json_schema","type":"internal_server_error"}}"#
        let ok = Self.chatReply("{\"candidates\": []}")
        let server = try LoopbackHTTPServer([.json(500, refusal), .json(200, ok)])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL), environment: [:])
        let r = try await client.complete(request())
        XCTAssertEqual(r.exchanges.count, 2)
        XCTAssertEqual(r.exchanges[0].httpStatus, 500)
        XCTAssertTrue(r.exchanges[0].action?.contains("json_object_schema") ?? false, r.exchanges[0].action ?? "nil")
        XCTAssertEqual(r.structuredOutput, .jsonObjectSchema)
        let second = try JSONValue.parse(server.received[1].body)
        guard case .object(let b) = second else { return XCTFail() }
        XCTAssertEqual(b["response_format"], ["type": "json_object", "schema": Self.schema])
        // The next request starts in the mode that worked: one exchange, no refusal.
        XCTAssertEqual(client.structuredOutput, .jsonObjectSchema)
        let r2 = try await client.complete(request())
        XCTAssertEqual(r2.exchanges.count, 1)
    }

    func testRateLimitHonoursRetryAfter() async throws {
        let server = try LoopbackHTTPServer([.json(429, #"{"error":"slow down"}"#, headers: ["Retry-After": "1"]),
                                             .json(200, Self.chatReply("{}"))])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL), environment: [:])
        let t0 = Date()
        let r = try await client.complete(request())
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t0), 0.95, "waited for Retry-After")
        XCTAssertEqual(r.exchanges.map(\.httpStatus), [429, 200])
        XCTAssertEqual(r.exchanges[0].action, "retry after 1.00 s")
    }

    func testServerErrorsAreRetriedThenReported() async throws {
        let server = try LoopbackHTTPServer([.json(503, #"{"error":"loading model"}"#)])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL), environment: [:])
        do {
            _ = try await client.complete(request())
            XCTFail("expected an error")
        } catch let e as LLMClientError {
            XCTAssertEqual(e.kind, .http)
            XCTAssertEqual(e.exchanges.count, 3, "1 attempt + 2 retries")
            XCTAssertTrue(e.message.contains("503") && e.message.contains("loading model"), e.message)
        }
    }

    func testClientErrorIsNotRetried() async throws {
        let server = try LoopbackHTTPServer([.json(400, #"{"error":{"message":"the prompt is longer than the context"}}"#)])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL), environment: [:])
        do {
            _ = try await client.complete(request())
            XCTFail("expected an error")
        } catch let e as LLMClientError {
            XCTAssertEqual(e.kind, .http)
            XCTAssertEqual(e.exchanges.count, 1)
            XCTAssertEqual(server.received.count, 1)
        }
    }

    func testSilentServerTimesOutIsRetriedThenFailsClearly() async throws {
        let server = try LoopbackHTTPServer([.hang])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL) { $0.timeoutSeconds = 0.6; $0.retries = 1 }, environment: [:])
        let t0 = Date()
        do {
            _ = try await client.complete(request())
            XCTFail("expected a timeout")
        } catch let e as LLMClientError {
            XCTAssertEqual(e.kind, .timeout, e.message)
            XCTAssertEqual(e.exchanges.count, 2)
            XCTAssertTrue(e.message.contains("llm.timeout"), e.message)
            XCTAssertNil(e.exchanges[0].httpStatus)
            for ex in e.exchanges { XCTAssertEqual(ex.latencyMs, 600, accuracy: 400, "the timeout is enforced to sub-second precision") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 8)
    }

    func testRefusedConnectionNamesTheFix() async throws {
        let port = LoopbackHTTPServer.closedPort()
        let client = OpenAICompatibleClient(config: config("http://127.0.0.1:\(port)") { $0.retries = 1 }, environment: [:])
        do {
            _ = try await client.complete(request())
            XCTFail("expected a connection error")
        } catch let e as LLMClientError {
            XCTAssertEqual(e.kind, .connection, e.message)
            XCTAssertTrue(e.message.contains("scripts/llm-server.sh"), e.message)
            XCTAssertEqual(e.exchanges.count, 2)
        }
    }

    func testEnormousBodyIsRefused() async throws {
        let big = Self.chatReply(String(repeating: "x", count: 300_000))
        let server = try LoopbackHTTPServer([.json(200, big)])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: config(server.baseURL) { $0.maxResponseBytes = 100_000 }, environment: [:])
        do {
            _ = try await client.complete(request())
            XCTFail("expected tooLarge")
        } catch let e as LLMClientError {
            XCTAssertEqual(e.kind, .tooLarge)
            XCTAssertEqual(e.exchanges.count, 1, "not retried")
        }
    }

    func testEmptyOrGarbageBodyIsABadReply() async throws {
        for body in ["", "<html>502 Bad Gateway</html>", #"{"object":"list"}"#] {
            let server = try LoopbackHTTPServer([.json(200, body)])
            defer { server.stop() }
            let client = OpenAICompatibleClient(config: config(server.baseURL), environment: [:])
            do {
                _ = try await client.complete(request())
                XCTFail("expected badReply for \(body)")
            } catch let e as LLMClientError {
                XCTAssertEqual(e.kind, .badReply, body)
                XCTAssertEqual(e.exchanges.first?.responseText, body)
            }
        }
    }

    func testAPIKeyIsSentButNeverStored() async throws {
        let secret = "sk-test-SECRET-4f9a2c"
        // A server that echoes the key in its error (some proxies do).
        let server = try LoopbackHTTPServer([.json(401, #"{"error":"invalid key \#(secret)"}"#)])
        defer { server.stop() }
        let cfg = config(server.baseURL) { $0.apiKeyEnv = ["MY_LLM_KEY", "OPENAI_API_KEY"] }
        let client = OpenAICompatibleClient(config: cfg, environment: ["MY_LLM_KEY": secret])
        var recorded = ""
        do {
            _ = try await client.complete(request())
            XCTFail("expected 401")
        } catch let e as LLMClientError {
            XCTAssertTrue(e.message.contains("MY_LLM_KEY"), "names where the key comes from: \(e.message)")
            recorded += e.description
            recorded += e.exchanges.map { $0.jsonValue.canonicalText() }.joined()
            recorded += String(decoding: try JSONEncoder().encode(e.exchanges), as: UTF8.self)
        }
        XCTAssertEqual(server.received.first?.headers["authorization"], "Bearer \(secret)")
        recorded += String(decoding: try JSONEncoder().encode(cfg), as: UTF8.self)
        recorded += "\(cfg)"
        XCTAssertFalse(recorded.contains(secret), "the key leaked into a record")
        XCTAssertTrue(recorded.contains("[redacted]"))
        XCTAssertEqual(cfg.resolveAPIKey(environment: ["OPENAI_API_KEY": "k2"]), "k2")
        XCTAssertNil(cfg.resolveAPIKey(environment: ["MY_LLM_KEY": "  "]))
    }

    func testOllamaNativeRequestAndReply() async throws {
        let reply = #"{"model":"qwen2.5:3b","message":{"role":"assistant","content":"{\"candidates\":[]}"},"done":true,"done_reason":"stop","prompt_eval_count":311,"eval_count":57}"#
        let server = try LoopbackHTTPServer([.json(200, reply)])
        defer { server.stop() }
        let client = OllamaClient(config: config(server.baseURL) { $0.provider = .ollama }, environment: [:])
        let r = try await client.complete(request())
        XCTAssertEqual(r.text, "{\"candidates\":[]}")
        XCTAssertEqual(r.promptTokens, 311)
        XCTAssertEqual(r.completionTokens, 57)
        XCTAssertEqual(server.received[0].path, "/api/chat")
        guard case .object(let b) = try JSONValue.parse(server.received[0].body) else { return XCTFail() }
        XCTAssertEqual(b["format"], Self.schema)
        XCTAssertEqual(b["stream"], false)
        XCTAssertEqual(b["options"], ["temperature": 0.7, "top_p": 0.9, "min_p": 0.05, "seed": 42, "num_predict": 300])
    }

    func testBackoffIsSeededAndBounded() {
        let t = ChatTransport(config: config("http://x") { $0.backoffSeconds = 1; $0.maxBackoffSeconds = 4 }, dialect: OpenAIDialect(), apiKey: nil)
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let da = (1...5).map { t.backoff($0, &a) }, db = (1...5).map { t.backoff($0, &b) }
        XCTAssertEqual(da, db)
        for (i, d) in da.enumerated() {
            let raw = min(4, pow(2, Double(i)))
            XCTAssertGreaterThanOrEqual(d, raw * 0.5); XCTAssertLessThan(d, raw)
        }
        XCTAssertEqual(ChatTransport.parseRetryAfter("7"), 7)
        XCTAssertNil(ChatTransport.parseRetryAfter("soon"))
        XCTAssertTrue(ChatTransport.namesResponseFormat("Unsupported response_format type: json_schema"))
        XCTAssertFalse(ChatTransport.namesResponseFormat("CUDA out of memory"))
    }

    func testConfigValidationAndEnvironment() throws {
        XCTAssertThrowsError(try LLMConfig(baseURL: "localhost:8080").validate()) { e in
            XCTAssertTrue("\(e)".contains("llm.base_url"), "\(e)")
        }
        XCTAssertNoThrow(try LLMConfig(baseURL: "http://127.0.0.1:8085").validate())
        XCTAssertNil(try LLMConfig.fromEnvironment([:]))
        let c = try LLMConfig.fromEnvironment(["TINYFORGE_LLM_URL": "http://h:1/v1", "TINYFORGE_LLM_PROVIDER": "ollama"])
        XCTAssertEqual(c?.provider, .ollama)
        XCTAssertEqual(c?.normalizedBaseURL, "http://h:1")
        XCTAssertThrowsError(try LLMConfig.fromEnvironment(["TINYFORGE_LLM_URL": "http://h", "TINYFORGE_LLM_STRUCTURED": "grammar"]))
        // Round trip through Codable (stored with a run).
        let back = try JSONDecoder().decode(LLMConfig.self, from: JSONEncoder().encode(c!))
        XCTAssertEqual(back, c)
    }
}
