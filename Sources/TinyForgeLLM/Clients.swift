import Foundation
import TinyForgeSpec

/// POST {base}/v1/chat/completions: vLLM, llama.cpp's server (and llama-cpp-python's), LM
/// Studio, Ollama's /v1 endpoint and hosted OpenAI-style APIs.
public final class OpenAICompatibleClient: LLMClient, @unchecked Sendable {
    public let config: LLMConfig
    let transport: ChatTransport

    /// The API key is read here from `config.apiKeyEnv` in `environment` and kept only inside
    /// the client (sent as `Authorization: Bearer`, never recorded).
    public init(config: LLMConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        transport = ChatTransport(config: config, dialect: OpenAIDialect(), apiKey: config.resolveAPIKey(environment: environment))
    }

    public func complete(_ request: LLMRequest) async throws -> LLMResponse { try await transport.complete(request) }

    /// The structured-output mode the next request will use (after any downgrade so far).
    public var structuredOutput: StructuredOutputMode { transport.currentMode }
}

/// POST {base}/api/chat: Ollama's native API. `format` carries the JSON schema (Ollama turns
/// it into a grammar), `options` the sampling settings.
public final class OllamaClient: LLMClient, @unchecked Sendable {
    public let config: LLMConfig
    let transport: ChatTransport

    public init(config: LLMConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        transport = ChatTransport(config: config, dialect: OllamaDialect(), apiKey: config.resolveAPIKey(environment: environment))
    }

    public func complete(_ request: LLMRequest) async throws -> LLMResponse { try await transport.complete(request) }
    public var structuredOutput: StructuredOutputMode { transport.currentMode }
}

/// The client for `config.provider`.
public func makeLLMClient(_ config: LLMConfig, environment: [String: String] = ProcessInfo.processInfo.environment) -> LLMClient {
    switch config.provider {
    case .openai: return OpenAICompatibleClient(config: config, environment: environment)
    case .ollama: return OllamaClient(config: config, environment: environment)
    }
}

private func messagesJSON(_ m: [LLMMessage]) -> JSONValue {
    .array(m.map { .object(["role": .string($0.role), "content": .string($0.content)]) })
}

private func num(_ d: Double) -> JSONValue { .number(d) }
private func int(_ v: JSONValue?) -> Int? { if case .number(let d)? = v, d.isFinite { return Int(d) }; return nil }
private func str(_ v: JSONValue?) -> String? { if case .string(let s)? = v { return s }; return nil }
private func obj(_ v: JSONValue?) -> [String: JSONValue]? { if case .object(let o)? = v { return o }; return nil }

struct OpenAIDialect: ChatDialect {
    var providerName: String { "openai" }
    var path: String { "/v1/chat/completions" }

    func body(for request: LLMRequest, config: LLMConfig, mode: StructuredOutputMode) -> JSONValue {
        var o: [String: JSONValue] = [
            "model": .string(config.model), "messages": messagesJSON(request.messages),
            "temperature": num(config.temperature), "max_tokens": .number(Double(request.maxTokens ?? config.maxTokens)),
            "stream": false,
        ]
        if let p = config.topP { o["top_p"] = num(p) }
        if let p = config.minP { o["min_p"] = num(p) }
        // Seeds above 2^53 do not survive a JSON double, and some servers want 32-bit ints.
        if let s = request.seed ?? config.seed { o["seed"] = .number(Double(s & 0x7FFF_FFFF)) }
        if let schema = request.schema {
            switch mode {
            case .jsonSchema:
                o["response_format"] = ["type": "json_schema",
                                        "json_schema": ["name": .string(request.schemaName), "schema": schema, "strict": true]]
            case .jsonObjectSchema: o["response_format"] = ["type": "json_object", "schema": schema]
            case .jsonObject: o["response_format"] = ["type": "json_object"]
            case .none: break
            }
        }
        return .object(o)
    }

    func parseReply(_ body: JSONValue) throws -> ParsedChatReply {
        guard let o = obj(body) else { throw SpecError(path: "reply", message: "expected an object, found \(body.typeName)") }
        if let e = o["error"], e != .null {
            throw SpecError(path: "reply.error", message: (obj(e).flatMap { str($0["message"]) }) ?? e.canonicalText())
        }
        guard case .array(let choices)? = o["choices"], let first = choices.first.flatMap(obj) else {
            throw SpecError(path: "reply.choices", message: "is missing or empty")
        }
        guard let msg = obj(first["message"]) else { throw SpecError(path: "reply.choices[0].message", message: "is missing") }
        let text = str(msg["content"]) ?? ""
        let usage = obj(o["usage"])
        return ParsedChatReply(text: text, finishReason: str(first["finish_reason"]), model: str(o["model"]),
                               promptTokens: int(usage?["prompt_tokens"]), completionTokens: int(usage?["completion_tokens"]))
    }
}

struct OllamaDialect: ChatDialect {
    var providerName: String { "ollama" }
    var path: String { "/api/chat" }

    func body(for request: LLMRequest, config: LLMConfig, mode: StructuredOutputMode) -> JSONValue {
        var options: [String: JSONValue] = ["temperature": num(config.temperature),
                                            "num_predict": .number(Double(request.maxTokens ?? config.maxTokens))]
        if let p = config.topP { options["top_p"] = num(p) }
        if let p = config.minP { options["min_p"] = num(p) }
        if let s = request.seed ?? config.seed { options["seed"] = .number(Double(s & 0x7FFF_FFFF)) }
        var o: [String: JSONValue] = ["model": .string(config.model), "messages": messagesJSON(request.messages),
                                      "stream": false, "options": .object(options)]
        if let schema = request.schema {
            switch mode {
            case .jsonSchema, .jsonObjectSchema: o["format"] = schema
            case .jsonObject: o["format"] = "json"
            case .none: break
            }
        }
        return .object(o)
    }

    func parseReply(_ body: JSONValue) throws -> ParsedChatReply {
        guard let o = obj(body) else { throw SpecError(path: "reply", message: "expected an object, found \(body.typeName)") }
        if let e = str(o["error"]) { throw SpecError(path: "reply.error", message: e) }
        guard let msg = obj(o["message"]) else { throw SpecError(path: "reply.message", message: "is missing") }
        return ParsedChatReply(text: str(msg["content"]) ?? "", finishReason: str(o["done_reason"]), model: str(o["model"]),
                               promptTokens: int(o["prompt_eval_count"]), completionTokens: int(o["eval_count"]))
    }
}
