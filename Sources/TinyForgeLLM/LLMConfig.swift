import Foundation
import TinyForgeSpec

public enum LLMProvider: String, Sendable, Codable, CaseIterable {
    /// POST {base}/v1/chat/completions: vLLM, llama.cpp / llama-cpp-python server, LM Studio,
    /// Ollama's /v1, hosted APIs.
    case openai
    /// POST {base}/api/chat: Ollama's native API (`format` = JSON schema, `options`).
    case ollama
}

/// How structured output is requested. Servers disagree, so this is configurable and the
/// client steps down (`next`) when a server refuses a mode by name.
public enum StructuredOutputMode: String, Sendable, Codable, CaseIterable {
    /// OpenAI: `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}` (vLLM, OpenAI, LM Studio).
    case jsonSchema = "json_schema"
    /// llama.cpp / llama-cpp-python: `{"type": "json_object", "schema": {...}}` (its server
    /// refuses `json_schema` with HTTP 500 but compiles this schema into a grammar).
    case jsonObjectSchema = "json_object_schema"
    /// Any JSON object, no schema: `{"type": "json_object"}`.
    case jsonObject = "json_object"
    /// No `response_format` at all; the prompt alone asks for JSON.
    case none

    /// The mode to try after a server refused this one.
    public var next: StructuredOutputMode? {
        switch self {
        case .jsonSchema: return .jsonObjectSchema
        case .jsonObjectSchema: return .jsonObject
        case .jsonObject: return StructuredOutputMode.none
        case .none: return nil
        }
    }
}

/// Everything needed to talk to one model. Serialisable (store it with a run) and free of
/// secrets by construction: the API key is read from the environment variable named by
/// `apiKeyEnv` when a client is created, and lives only inside that client.
public struct LLMConfig: Equatable, Sendable, Codable {
    public var provider: LLMProvider
    /// Server root, e.g. `http://127.0.0.1:8085` (a trailing `/v1` is accepted and removed).
    public var baseURL: String
    public var model: String
    public var temperature: Double
    public var topP: Double?
    /// Sent only when set: hosted OpenAI rejects unknown parameters; vLLM, llama.cpp and Ollama accept it.
    public var minP: Double?
    /// Generation limit. A 3-candidate reply from SmolLM2 reached 1,536 tokens: keep ≥ 1600.
    public var maxTokens: Int
    /// Seed used when the request carries none (nil = let the server choose).
    public var seed: UInt64?
    /// Seconds without a reply before an attempt counts as timed out (`--llm-timeout`,
    /// `TINYFORGE_LLM_TIMEOUT`). Requests are not streamed, so this bounds the whole reply.
    public var timeoutSeconds: Double
    /// Retry an attempt that timed out (nil = yes). False for servers that keep generating a
    /// request whose client gave up, where the retry would only wait behind it.
    public var retryOnTimeout: Bool?
    /// Extra attempts after the first on timeouts, connection failures, 5xx and 429.
    public var retries: Int
    /// First backoff delay; doubles per retry, capped at `maxBackoffSeconds`, with seeded jitter.
    public var backoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// Longest `Retry-After` honoured; longer ones are clamped (the search should not stall for hours).
    public var maxRetryAfterSeconds: Double
    public var structuredOutput: StructuredOutputMode
    /// Step down the structured-output mode when the server names `response_format` in an error.
    public var autoDowngrade: Bool
    /// Environment variables tried in order for the API key (the first non-empty one wins).
    public var apiKeyEnv: [String]
    /// Replies larger than this are rejected rather than parsed (a runaway generation).
    public var maxResponseBytes: Int

    public static let defaultAPIKeyEnv = ["TINYFORGE_LLM_API_KEY", "OPENAI_API_KEY"]

    public init(provider: LLMProvider = .openai, baseURL: String, model: String = "local",
                temperature: Double = 0.8, topP: Double? = nil, minP: Double? = nil, maxTokens: Int = 2048,
                seed: UInt64? = nil, timeoutSeconds: Double = 300, retries: Int = 3, backoffSeconds: Double = 1,
                maxBackoffSeconds: Double = 30, maxRetryAfterSeconds: Double = 120,
                structuredOutput: StructuredOutputMode = .jsonSchema, autoDowngrade: Bool = true,
                apiKeyEnv: [String] = LLMConfig.defaultAPIKeyEnv, maxResponseBytes: Int = 4 << 20) {
        self.provider = provider; self.baseURL = baseURL; self.model = model; self.temperature = temperature
        self.topP = topP; self.minP = minP; self.maxTokens = maxTokens; self.seed = seed
        self.timeoutSeconds = timeoutSeconds; self.retries = retries; self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds; self.maxRetryAfterSeconds = maxRetryAfterSeconds
        self.structuredOutput = structuredOutput; self.autoDowngrade = autoDowngrade
        self.apiKeyEnv = apiKeyEnv; self.maxResponseBytes = maxResponseBytes
    }

    /// The local llama.cpp server started by `scripts/llm-server.sh` (SmolLM2-135M): its
    /// structured-output mode, and sampling as measured in /work/shared/LOCAL-LLM.md.
    ///
    /// Timeout 150 s per attempt, and no retry after a timeout. Why not shorter: requests are
    /// not streamed, so the timeout must cover a whole reply, and llama-cpp-python serves one
    /// request at a time and keeps generating a request whose client gave up — a timeout
    /// shorter than a reply turns every later request into a timeout too (each queues behind
    /// the abandoned one). A reply is bounded by `maxTokens`: on an idle machine ≤ 26 s of
    /// prompt + 1800 tokens at 73 tokens/s ≈ 51 s; measured on this shared 2-core machine at
    /// load 8–13 (Sources/TinyForgeLLM/README.md): median 46 s, max 126 s over 10 rounds. 150 s
    /// covers that maximum with 20 % to spare. Why no retry: for the same reason a retry after
    /// a timeout only waits behind the abandoned generation, so a hung server now costs one
    /// timeout per request (150 s) instead of two of 900 s. Connection refusals fail at once.
    /// On an idle machine or a GPU server, `--llm-timeout 60` (or lower) is safe.
    public static func localLlamaCpp(baseURL: String) -> LLMConfig {
        var c = LLMConfig(provider: .openai, baseURL: baseURL, model: "local", temperature: 0.8, maxTokens: 1800,
                          timeoutSeconds: defaultLocalTimeoutSeconds, retries: 1, structuredOutput: .jsonObjectSchema)
        c.retryOnTimeout = false
        return c
    }

    /// See `localLlamaCpp`.
    public static let defaultLocalTimeoutSeconds: Double = 150

    /// Seconds from `--llm-timeout` or `TINYFORGE_LLM_TIMEOUT` (`source` names which, for the
    /// error): a positive number of seconds, at most a day.
    public static func parseTimeout(_ text: String, source: String) throws -> Double {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let v = Double(t.hasSuffix("s") ? String(t.dropLast()) : t), v.isFinite, v > 0, v <= 86_400 else {
            throw SpecError(path: source, message: "\"\(text)\" is not a timeout; give seconds > 0 and ≤ 86400, e.g. 60")
        }
        return v
    }

    /// The server root without trailing `/` or `/v1` (both spellings are common in docs).
    public var normalizedBaseURL: String {
        var s = baseURL.trimmingCharacters(in: .whitespaces)
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix("/v1") { s.removeLast(3) }
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    /// Checks the values a server would otherwise reject with an obscure message.
    public func validate() throws {
        var errs: [SpecError] = []
        if URL(string: normalizedBaseURL)?.scheme.map({ $0 == "http" || $0 == "https" }) != true {
            errs.append(SpecError(path: "llm.base_url", message: "\"\(baseURL)\" is not an http(s) URL; write e.g. http://127.0.0.1:8085"))
        }
        if model.isEmpty { errs.append(SpecError(path: "llm.model", message: "is empty; name the model (any name for llama.cpp's server)")) }
        if !(0...5).contains(temperature) { errs.append(SpecError(path: "llm.temperature", message: "\(temperature) is outside 0...5")) }
        if let p = topP, !(0...1).contains(p) { errs.append(SpecError(path: "llm.top_p", message: "\(p) is outside 0...1")) }
        if let p = minP, !(0...1).contains(p) { errs.append(SpecError(path: "llm.min_p", message: "\(p) is outside 0...1")) }
        if maxTokens < 1 { errs.append(SpecError(path: "llm.max_tokens", message: "\(maxTokens) must be ≥ 1 (≥ 1600 for 3 candidates)")) }
        if !(timeoutSeconds > 0) { errs.append(SpecError(path: "llm.timeout", message: "must be > 0 seconds")) }
        if retries < 0 || retries > 20 { errs.append(SpecError(path: "llm.retries", message: "\(retries) is outside 0...20")) }
        if !errs.isEmpty { throw SpecErrors(errs) }
    }

    /// The API key from the first non-empty variable of `apiKeyEnv` in `environment`.
    public func resolveAPIKey(environment: [String: String]) -> String? {
        for name in apiKeyEnv {
            if let v = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty { return v }
        }
        return nil
    }

    /// A config from `TINYFORGE_LLM_URL`, `TINYFORGE_LLM_PROVIDER` (openai | ollama),
    /// `TINYFORGE_LLM_MODEL`, `TINYFORGE_LLM_STRUCTURED` (a `StructuredOutputMode` raw value)
    /// and `TINYFORGE_LLM_TIMEOUT` (seconds per attempt); nil when no URL is set.
    public static func fromEnvironment(_ env: [String: String]) throws -> LLMConfig? {
        guard let url = env["TINYFORGE_LLM_URL"], !url.isEmpty else { return nil }
        var c = LLMConfig.localLlamaCpp(baseURL: url)
        if let p = env["TINYFORGE_LLM_PROVIDER"], !p.isEmpty {
            guard let prov = LLMProvider(rawValue: p.lowercased()) else {
                throw SpecError(path: "TINYFORGE_LLM_PROVIDER", message: "\"\(p)\" is not one of openai, ollama")
            }
            c.provider = prov
        }
        if let m = env["TINYFORGE_LLM_MODEL"], !m.isEmpty { c.model = m }
        if let s = env["TINYFORGE_LLM_STRUCTURED"], !s.isEmpty {
            guard let mode = StructuredOutputMode(rawValue: s) else {
                throw SpecError(path: "TINYFORGE_LLM_STRUCTURED", message: "\"\(s)\" is not one of \(StructuredOutputMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            c.structuredOutput = mode
        }
        if let t = env["TINYFORGE_LLM_TIMEOUT"], !t.isEmpty {
            c.timeoutSeconds = try parseTimeout(t, source: "TINYFORGE_LLM_TIMEOUT")
        }
        return c
    }
}
