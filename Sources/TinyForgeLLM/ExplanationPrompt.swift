import TinyForgeSpec
import TinyForgeExplain

/// The prompt of the explanation step: the chosen model's numbered facts, what to explain, a
/// worked example of the form, and a schema of 2–5 one-line sentences. The example matters
/// for base (not instruction-tuned) models such as Gemma 3 270M, which continue a pattern
/// better than they follow an instruction; the schema keeps any model inside the shape.
public struct ExplanationPrompt: Sendable {
    public var minSentences: Int
    public var maxSentences: Int
    public var maxSentenceChars: Int
    /// Generation limit: 5 sentences of ≤ 260 characters are ~400 tokens.
    public var maxTokens: Int

    public init(minSentences: Int = 2, maxSentences: Int = 5, maxSentenceChars: Int = 260, maxTokens: Int = 700) {
        self.minSentences = minSentences; self.maxSentences = maxSentences
        self.maxSentenceChars = maxSentenceChars; self.maxTokens = maxTokens
    }

    public static let role = "You are an embedded machine-learning engineer. You explain in plain words why a small neural network chosen by a hardware-aware search looks the way it does. You use only the numbered facts you are given and quote their numbers and field names exactly. You answer with one JSON object and nothing else."

    /// Characters a sentence may use: no quotes, backslashes or newlines (a small model under a
    /// grammar otherwise loops on escapes); brackets for field paths such as `stages[2]`.
    public static let sentenceCharacters = "A-Za-z0-9 ,.;:()%+/_=\\[\\]-"

    static let example = #"{"sentences": ["SRAM binds at 91.0% of the 320 KB budget (F3).", "Peak SRAM 290 KB is reached at stages[0].layers[0].expand, where the 28x28x96 expanded buffer and the block input are live together (F4).", "stages[2] holds 41.2% of the MACs, so its 5x5 kernels set the compute (F5).", "Against its parent, expansion 6 instead of 4 cost 1.1M MACs and gained 0.8 points of accuracy (F6)."]}"#

    public func messages(_ facts: ExplanationFacts) -> [LLMMessage] {
        let user = """
            Facts about the chosen model \(facts.hash.prefix(12)):
            \(facts.text)

            Write \(minSentences) to \(maxSentences) short sentences that explain this model: which budget limit binds and by how much, \
            where SRAM peaks and which buffers cause it, which part of the network holds the compute, what the comparison with \
            its parent or neighbours measured, and which design choices the surrogate credits. Each sentence makes one point, \
            names the field it is about (stages[1], 5x5 kernels, expansion 4, ...), quotes the number from the facts and cites \
            the fact, e.g. (F3). Never state a number that is not in the facts.

            Example of the form, for another model:
            \(Self.example)

            Reply with {"sentences": [\(minSentences) to \(maxSentences) sentences]} about the chosen model.
            """
        return [.system(Self.role), .user(user)]
    }

    public var schema: JSONValue {
        ["type": "object",
         "properties": ["sentences": ["type": "array", "minItems": .number(Double(minSentences)), "maxItems": .number(Double(maxSentences)),
                                      "items": ["type": "string",
                                                "pattern": .string("^[\(Self.sentenceCharacters)]{15,\(maxSentenceChars)}$")]]],
         "required": ["sentences"], "additionalProperties": false]
    }

    public func request(_ facts: ExplanationFacts, seed: UInt64?) -> LLMRequest {
        LLMRequest(messages: messages(facts), schema: schema, schemaName: "explanation", seed: seed, maxTokens: maxTokens)
    }
}
