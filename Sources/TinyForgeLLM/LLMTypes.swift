import Foundation
import TinyForgeSpec

/// One chat message. Roles are the OpenAI / Ollama ones: `system`, `user`, `assistant`.
public struct LLMMessage: Equatable, Sendable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
    public static func system(_ text: String) -> LLMMessage { LLMMessage(role: "system", content: text) }
    public static func user(_ text: String) -> LLMMessage { LLMMessage(role: "user", content: text) }
    public static func assistant(_ text: String) -> LLMMessage { LLMMessage(role: "assistant", content: text) }
}

/// What to ask: the messages, and optionally the JSON schema the reply must follow.
/// Sampling settings come from `LLMConfig`; `seed` and `maxTokens` may be set per request
/// (the search sends a fresh seed per request: llama.cpp's server otherwise repeats itself
/// after a restart; replaying a run reuses the recorded seeds).
public struct LLMRequest: Equatable, Sendable {
    public var messages: [LLMMessage]
    /// JSON schema for structured output; nil = free text.
    public var schema: JSONValue?
    /// Name sent with OpenAI's `json_schema` response format (letters, digits, _ and -).
    public var schemaName: String
    public var seed: UInt64?
    public var maxTokens: Int?

    public init(messages: [LLMMessage], schema: JSONValue? = nil, schemaName: String = "candidates",
                seed: UInt64? = nil, maxTokens: Int? = nil) {
        self.messages = messages; self.schema = schema; self.schemaName = schemaName
        self.seed = seed; self.maxTokens = maxTokens
    }
}

/// The reply of a successful call, with every HTTP attempt that led to it.
public struct LLMResponse: Sendable {
    /// The assistant's text (for structured output: the JSON text, still to be parsed).
    public var text: String
    /// `stop`, `length` (hit max_tokens: the text is cut off), … as the server reported it.
    public var finishReason: String?
    public var model: String?
    /// The structured-output mode that produced this reply (after any downgrade).
    public var structuredOutput: StructuredOutputMode
    /// Every attempt in order, the successful one last. Store them: they are the run's record.
    public var exchanges: [LLMExchange]

    public init(text: String, finishReason: String?, model: String?, structuredOutput: StructuredOutputMode,
                exchanges: [LLMExchange]) {
        self.text = text; self.finishReason = finishReason; self.model = model
        self.structuredOutput = structuredOutput; self.exchanges = exchanges
    }

    /// True when the server stopped because of the token limit.
    public var truncated: Bool { finishReason == "length" }
    public var promptTokens: Int? { exchanges.last?.promptTokens }
    public var completionTokens: Int? { exchanges.last?.completionTokens }
    /// Latency of the successful attempt.
    public var latencyMs: Double { exchanges.last?.latencyMs ?? 0 }
}

/// One HTTP attempt, recorded whatever happened. Contains no credentials: the API key travels
/// only in the `Authorization` header, which is not recorded, and is redacted from texts.
public struct LLMExchange: Equatable, Sendable, Codable {
    /// 1-based attempt number within one `complete` call.
    public var attempt: Int
    /// Start of the attempt, ISO 8601 with milliseconds (UTC).
    public var timestamp: String
    public var provider: String
    /// The endpoint, e.g. `http://127.0.0.1:8085/v1/chat/completions`.
    public var url: String
    /// The JSON body sent (messages, sampling settings, schema).
    public var requestBody: String
    /// Status code; nil when no HTTP response arrived (timeout, refused connection).
    public var httpStatus: Int?
    /// The assistant's text when the body could be read as a reply, otherwise the raw body
    /// (capped at `LLMExchange.maxStoredBodyChars`).
    public var responseText: String?
    public var latencyMs: Double
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var finishReason: String?
    /// What went wrong in this attempt (nil = success).
    public var error: String?
    /// What happened next: "retry after 0.41 s", "downgrade response_format to json_object_schema".
    public var action: String?

    public static let maxStoredBodyChars = 65_536

    public init(attempt: Int, timestamp: String, provider: String, url: String, requestBody: String,
                httpStatus: Int? = nil, responseText: String? = nil, latencyMs: Double = 0, promptTokens: Int? = nil,
                completionTokens: Int? = nil, finishReason: String? = nil, error: String? = nil, action: String? = nil) {
        self.attempt = attempt; self.timestamp = timestamp; self.provider = provider; self.url = url
        self.requestBody = requestBody; self.httpStatus = httpStatus; self.responseText = responseText
        self.latencyMs = latencyMs; self.promptTokens = promptTokens; self.completionTokens = completionTokens
        self.finishReason = finishReason; self.error = error; self.action = action
    }

    /// The record as a JSON value (for run stores that keep JSON columns).
    public var jsonValue: JSONValue {
        func opt(_ i: Int?) -> JSONValue { i.map { .number(Double($0)) } ?? .null }
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            "attempt": .number(Double(attempt)), "timestamp": .string(timestamp), "provider": .string(provider),
            "url": .string(url), "request_body": .string(requestBody), "http_status": opt(httpStatus),
            "response_text": opt(responseText), "latency_ms": .number((latencyMs * 10).rounded() / 10),
            "prompt_tokens": opt(promptTokens), "completion_tokens": opt(completionTokens),
            "finish_reason": opt(finishReason), "error": opt(error), "action": opt(action),
        ])
    }
}

/// A call that failed for good, with every attempt made (so the caller can still store them).
public struct LLMClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// No connection could be made (server not running, wrong URL).
        case connection
        /// Every attempt timed out.
        case timeout
        /// The server answered with an HTTP error that is not worth retrying (4xx), or 5xx/429
        /// until the retries ran out.
        case http
        /// The body is not a chat reply (not JSON, no `choices` / `message`).
        case badReply
        /// The body exceeded `LLMConfig.maxResponseBytes`.
        case tooLarge
        /// The configuration cannot work (bad URL, missing API key).
        case configuration
    }
    public var kind: Kind
    /// Starts with the cause ("connection refused", "HTTP 401", "timeout after 30 s",
    /// "unparsable reply") so its first words say what went wrong.
    public var message: String
    /// The HTTP status of the last attempt, when the server answered at all.
    public var status: Int?
    public var exchanges: [LLMExchange]

    public init(kind: Kind, message: String, status: Int? = nil, exchanges: [LLMExchange] = []) {
        self.kind = kind; self.message = message; self.status = status; self.exchanges = exchanges
    }
    public var description: String { "LLM \(kind.rawValue) error: \(message)" }

    /// The failure on one line (newlines of server text folded), for consoles and logs: one
    /// failed request = one line that names its cause.
    public var summary: String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}

/// Anything that answers chat requests. Implementations: `OpenAICompatibleClient`,
/// `OllamaClient`; tests and replays can provide their own.
///
/// Async because a request takes seconds to minutes; `completeBlocking` serves synchronous
/// callers (the search loop runs outside Swift concurrency).
public protocol LLMClient: Sendable {
    func complete(_ request: LLMRequest) async throws -> LLMResponse
}

extension LLMClient {
    /// Runs `complete` and waits for it. Call from ordinary threads only (the main thread, a
    /// worker thread), never from inside a Swift `Task`: it blocks the calling thread.
    public func completeBlocking(_ request: LLMRequest) throws -> LLMResponse {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let client = self
        Task.detached {
            do { box.set(.success(try await client.complete(request))) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try box.get()
    }
}

/// Hands a result from a detached task to a waiting thread.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<LLMResponse, Error>?
    func set(_ r: Result<LLMResponse, Error>) { lock.lock(); result = r; lock.unlock() }
    func get() throws -> LLMResponse {
        lock.lock(); defer { lock.unlock() }
        guard let r = result else { throw LLMClientError(kind: .badReply, message: "no result") }
        return try r.get()
    }
}

enum Clock {
    /// ISO 8601 UTC with milliseconds, for exchange records.
    static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}
