import XCTest
import TinyForgeSpec
@testable import TinyForgeLLM

/// `LLMSampling`: precedence of environment, presets and flags; errors naming the flag or
/// variable; and the resolved values in the request body the loopback server receives.
final class SamplingTests: XCTestCase {
    func testFlagsBeatEnvironmentAndValuesBeatPresets() throws {
        // Paper preset from the environment, a temperature from the environment on top.
        var s = try LLMSampling.resolve(flags: LLMSampling(), flagPreset: nil,
                                        environment: ["TINYFORGE_LLM_PRESET": "paper", "TINYFORGE_LLM_TEMPERATURE": "0.9"])
        XCTAssertEqual(s, LLMSampling(temperature: 0.9, minP: 0.1, preset: "paper"))
        // The flag preset beats environment values; explicit flags beat the preset.
        s = try LLMSampling.resolve(flags: LLMSampling(minP: 0.05), flagPreset: "paper",
                                    environment: ["TINYFORGE_LLM_TEMPERATURE": "0.9", "TINYFORGE_LLM_TOP_P": "0.95",
                                                  "TINYFORGE_LLM_MODEL": "smollm2", "TINYFORGE_LLM_MAX_TOKENS": "1200"])
        XCTAssertEqual(s, LLMSampling(model: "smollm2", temperature: 1.5, topP: 0.95, minP: 0.05, maxTokens: 1200, preset: "paper"))
        s = try LLMSampling.resolve(flags: LLMSampling(model: "gemma", temperature: 0.2, maxTokens: 900), flagPreset: nil,
                                    environment: ["TINYFORGE_LLM_TEMPERATURE": "0.9", "TINYFORGE_LLM_MODEL": "smollm2"])
        XCTAssertEqual(s, LLMSampling(model: "gemma", temperature: 0.2, maxTokens: 900))
        // Filled in against the client's defaults: what a run stores.
        let stored = s.resolved(against: LLMConfig.localLlamaCpp(baseURL: "http://h:1"))
        XCTAssertEqual(stored, LLMSampling(model: "gemma", temperature: 0.2, topP: nil, minP: nil, maxTokens: 900))
        XCTAssertEqual(try JSONDecoder().decode(LLMSampling.self, from: JSONEncoder().encode(stored)), stored)
    }

    func testBadValuesNameTheirFlagOrVariable() {
        let cases: [(LLMSampling, String?, [String: String], String)] = [
            (LLMSampling(temperature: 7), nil, [:], "--llm-temperature"),
            (LLMSampling(temperature: -0.1), nil, [:], "--llm-temperature"),
            (LLMSampling(topP: 0), nil, [:], "--llm-top-p"),
            (LLMSampling(minP: 1), nil, [:], "--llm-min-p"),
            (LLMSampling(maxTokens: 0), nil, [:], "--llm-max-tokens"),
            (LLMSampling(model: " "), nil, [:], "--llm-model"),
            (LLMSampling(), "creative", [:], "--llm-preset"),
            (LLMSampling(), nil, ["TINYFORGE_LLM_TEMPERATURE": "hot"], "TINYFORGE_LLM_TEMPERATURE"),
            (LLMSampling(), nil, ["TINYFORGE_LLM_MIN_P": "1.5"], "TINYFORGE_LLM_MIN_P"),
            (LLMSampling(), nil, ["TINYFORGE_LLM_MAX_TOKENS": "12.5"], "TINYFORGE_LLM_MAX_TOKENS"),
            (LLMSampling(), nil, ["TINYFORGE_LLM_PRESET": "wild"], "TINYFORGE_LLM_PRESET"),
        ]
        for (flags, preset, env, name) in cases {
            XCTAssertThrowsError(try LLMSampling.resolve(flags: flags, flagPreset: preset, environment: env)) { e in
                XCTAssertTrue("\(e)".hasPrefix(name + ":"), "\(e) should name \(name)")
            }
        }
    }

    /// The resolved sampling is what the server receives, for both dialects.
    func testSamplingFieldsAreInTheRequestBody() async throws {
        let sampling = try LLMSampling.resolve(flags: LLMSampling(model: "gemma3-270m", topP: 0.9, maxTokens: 700),
                                               flagPreset: "paper", environment: [:])
        let server = try LoopbackHTTPServer([.json(200, ClientTests.chatReply("{\"candidates\": []}"))])
        defer { server.stop() }
        var c = LLMConfig.localLlamaCpp(baseURL: server.baseURL)
        c.timeoutSeconds = 5
        sampling.apply(to: &c)
        _ = try await OpenAICompatibleClient(config: c, environment: [:]).complete(
            LLMRequest(messages: [.user("propose")], schema: ClientTests.schema, seed: 3))
        guard case .object(let body) = try JSONValue.parse(server.received[0].body) else { return XCTFail("body not an object") }
        XCTAssertEqual(body["model"], "gemma3-270m")
        XCTAssertEqual(body["temperature"], 1.5)
        XCTAssertEqual(body["min_p"], 0.1)
        XCTAssertEqual(body["top_p"], 0.9)
        XCTAssertEqual(body["max_tokens"], 700)

        let ollama = try LoopbackHTTPServer([.json(200, #"{"model":"m","message":{"role":"assistant","content":"{}"},"done":true}"#)])
        defer { ollama.stop() }
        var o = c
        o.provider = .ollama
        o.baseURL = ollama.baseURL
        _ = try await OllamaClient(config: o, environment: [:]).complete(LLMRequest(messages: [.user("propose")], schema: nil, seed: 3))
        guard case .object(let ob) = try JSONValue.parse(ollama.received[0].body), case .object(let opts)? = ob["options"] else {
            return XCTFail("no options in the Ollama body")
        }
        XCTAssertEqual(ob["model"], "gemma3-270m")
        XCTAssertEqual(opts["temperature"], 1.5)
        XCTAssertEqual(opts["min_p"], 0.1)
        XCTAssertEqual(opts["num_predict"], 700)
    }
}
