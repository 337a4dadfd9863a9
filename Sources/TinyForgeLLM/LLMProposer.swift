import Foundation
import TinyForgeSpec

/// The result of one proposal round: decoded candidates plus the full record (prompt,
/// every HTTP exchange, parse repairs or errors). Never thrown away on failure: a search run
/// stores it either way.
public struct LLMProposal: Sendable {
    public var prompt: BuiltPrompt
    /// Decoded items of the last reply that parsed (accepted and rejected); empty on failure.
    public var candidates: [DecodedCandidate]
    public var exchanges: [LLMExchange]
    /// Repairs applied to the reply that was used.
    public var repairs: [String]
    /// The reply was cut off by the token limit; only complete candidates were kept.
    public var truncated: Bool
    /// Parse failures of earlier replies in this round (each was fed back to the LLM).
    public var parseErrors: [ReplyParseError]
    /// Set when the round ended without a usable reply: the last client or parse error, on one
    /// line that starts with its cause ("LLM request failed: connection refused: …",
    /// "LLM reply unusable: reply no_json: …").
    public var failure: String?
    /// The request itself failed (no chat reply: refused, timeout, HTTP error, bad body), as
    /// opposed to a reply whose text held no usable JSON. A search stops early on these: the
    /// next request will almost surely fail the same way.
    public var requestFailed: Bool = false
    /// Seeds sent, one per request (replay a round by sending them again).
    public var seeds: [UInt64]

    public var accepted: [ArchitectureSpec] { candidates.compactMap(\.spec) }
    public var rejected: [DecodedCandidate] { candidates.filter { !$0.accepted } }
}

/// One call = one proposal round: build the prompt, ask, parse, decode. On an unusable reply
/// (no JSON, cut off before any candidate, wrong shape) the reason is sent back as a follow-up
/// user message with a new seed, up to `parseRetries` times (the paper retried up to 10 times;
/// grammar-constrained servers rarely need one).
public struct LLMProposer: Sendable {
    public var client: LLMClient
    public var builder: PromptBuilder
    public var parser: ResponseParser
    public var parseRetries: Int

    public init(client: LLMClient, builder: PromptBuilder = PromptBuilder(), parser: ResponseParser = ResponseParser(),
                parseRetries: Int = 2) {
        self.client = client; self.builder = builder; self.parser = parser; self.parseRetries = parseRetries
    }

    /// `known` = canonical hashes already evaluated or queued (rejected as duplicates).
    /// `seed` derives the per-request seeds (seed, seed+1, …).
    public func propose(_ ctx: PromptContext, known: Set<String> = [], seed: UInt64) async -> LLMProposal {
        await ask(builder.build(ctx), space: ctx.space, task: ctx.task, known: known, seed: seed)
    }

    /// One round for any built prompt whose reply is `{"candidates": [...]}` in the compact
    /// form of `space` (the proposal prompt, `VariationPrompt`): ask, parse, decode, with the
    /// same parse-error feedback and retries as `propose`.
    public func ask(_ prompt: BuiltPrompt, space: SearchSpace, task: LLMTask, known: Set<String> = [],
                    seed: UInt64) async -> LLMProposal {
        let decoder = CandidateDecoder(space: space, task: task)
        var out = LLMProposal(prompt: prompt, candidates: [], exchanges: [], repairs: [], truncated: false,
                              parseErrors: [], failure: nil, seeds: [])
        var messages = prompt.messages
        for round in 0...max(0, parseRetries) {
            let s = seed &+ UInt64(round)
            out.seeds.append(s)
            var req = prompt.request(seed: s)
            req.messages = messages
            let response: LLMResponse
            do {
                response = try await client.complete(req)
            } catch let e as LLMClientError {
                out.exchanges += e.exchanges
                out.failure = "LLM request failed: " + e.summary
                out.requestFailed = true
                return out  // the client already retried transport failures
            } catch {
                out.failure = "LLM request failed: \(error)"
                out.requestFailed = true
                return out
            }
            out.exchanges += response.exchanges
            do {
                let parsed = try parser.parseCandidates(response.text, cutOff: response.truncated)
                out.repairs = parsed.repairs
                out.truncated = parsed.truncated
                out.candidates = decoder.decode(parsed.candidates, known: known)
                out.failure = nil
                return out
            } catch let e as ReplyParseError {
                out.parseErrors.append(e)
                out.failure = "LLM reply unusable: \(e.description)"
                messages = prompt.messages + [LLMMessage.user("Your previous reply could not be used: \(e.feedback)")]
            } catch {
                out.failure = "LLM reply unusable: \(error)"
                return out
            }
        }
        return out
    }
}
