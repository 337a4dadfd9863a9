import Foundation
import TinyForgeSpec
import TinyForgeExplain

/// Why the explanation step produced no text. The CLI turns each into a one-line note and
/// keeps the deterministic explanation: an LLM that is down or talks nonsense costs nothing.
public enum LLMExplanationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No reply: connection refused, timeout, HTTP error (the client's message).
    case unreachable(String)
    /// A reply without usable sentences (not JSON, no `sentences` array, all empty).
    case unusableReply(String)

    public var description: String {
        switch self {
        case .unreachable(let m): return "the LLM did not answer (\(m)); check TINYFORGE_LLM_URL or start scripts/llm-server.sh"
        case .unusableReply(let m): return "the LLM's reply had no usable sentences (\(m))"
        }
    }
}

/// The LLM's sentences and the exchange that produced them.
public struct LLMExplanationReply: Sendable {
    public var sentences: [String]
    /// The model as the server named it (file name of the GGUF for llama.cpp), else as configured.
    public var model: String
    public var exchanges: [LLMExchange]
    /// Client-side schema check of the reply (servers may silently ignore a schema).
    public var schemaViolations: [String]
}

/// Asks an LLM to explain the chosen model from its facts (`ExplanationFacts`). Checking the
/// sentences is `NarrativeExplanation.check`'s job: this type only talks to the model.
public struct LLMExplainer: Sendable {
    public var client: LLMClient
    /// Fallback model name when the server does not report one.
    public var model: String
    public var prompt: ExplanationPrompt

    public init(client: LLMClient, model: String, prompt: ExplanationPrompt = .init()) {
        self.client = client; self.model = model; self.prompt = prompt
    }

    public func explain(_ facts: ExplanationFacts, seed: UInt64?) async throws -> LLMExplanationReply {
        let response: LLMResponse
        do { response = try await client.complete(prompt.request(facts, seed: seed)) } catch {
            throw LLMExplanationError.unreachable(String(describing: error))
        }
        return try reply(response)
    }

    /// Blocking form for synchronous callers (the CLI); not from inside a Swift `Task`.
    public func explainBlocking(_ facts: ExplanationFacts, seed: UInt64?) throws -> LLMExplanationReply {
        let response: LLMResponse
        do { response = try client.completeBlocking(prompt.request(facts, seed: seed)) } catch {
            throw LLMExplanationError.unreachable(String(describing: error))
        }
        return try reply(response)
    }

    func reply(_ r: LLMResponse) throws -> LLMExplanationReply {
        let value: JSONValue
        do { value = try ResponseParser().extractJSON(r.text, cutOff: r.truncated).value } catch {
            throw LLMExplanationError.unusableReply(String(describing: error))
        }
        let sentences = Self.sentences(in: value).prefix(prompt.maxSentences)
        guard !sentences.isEmpty else {
            throw LLMExplanationError.unusableReply("no \"sentences\" array of text in \(String(value.canonicalText().prefix(80)))")
        }
        let named = r.model.map { URL(fileURLWithPath: $0).lastPathComponent }.flatMap { $0.isEmpty ? nil : $0 } ?? model
        return LLMExplanationReply(sentences: Array(sentences), model: named, exchanges: r.exchanges,
                                   schemaViolations: SchemaCheck.violations(value, schema: prompt.schema))
    }

    /// The sentences of `{"sentences": [...]}`; leniently also one `explanation` / `text`
    /// string split at sentence ends. Whitespace (raw newlines included) is collapsed.
    static func sentences(in v: JSONValue) -> [String] {
        guard case .object(let o) = v else { return [] }
        var raw: [String] = []
        if case .array(let items)? = o["sentences"] {
            raw = items.compactMap { if case .string(let s) = $0 { return s }; return nil }
        } else if case .string(let s)? = o["explanation"] ?? o["text"] {
            raw = s.components(separatedBy: ". ").map { $0.hasSuffix(".") ? $0 : $0 + "." }
        }
        return raw.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.filter { $0.count >= 3 }
    }
}
