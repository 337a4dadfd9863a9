import TinyForgeSpec

/// An LLM's short explanation of the chosen model, fact-checked sentence by sentence. The text
/// is the model's; the verdicts are `RationaleChecker`'s, against the chosen spec and its
/// measured explanation — a fluent sentence earns nothing here unless the numbers agree.
public struct NarrativeExplanation: Sendable, Equatable {
    /// Hash of the explained (chosen) candidate.
    public var hash: String
    /// The model as the server named it (or as configured).
    public var model: String
    public var sentences: [String]
    public var checks: [ClaimCheck]
    /// Sentences in which the checker found no claim it can decide (shown, never dropped).
    public var unchecked: [String]
    /// The fact lines the LLM was given (`ExplanationFacts.text`), stored with its text.
    public var facts: String

    public var text: String { sentences.joined(separator: " ") }

    public func count(_ v: ClaimCheck.Verdict) -> Int { checks.filter { $0.verdict == v }.count }

    /// Checks every sentence of `sentences` against `spec` and `explanation` (the chosen
    /// model's measured costs and its comparison with the reference candidate).
    public static func check(sentences: [String], model: String, facts: String, spec: ArchitectureSpec,
                             explanation: CandidateExplanation) -> NarrativeExplanation {
        let checker = RationaleChecker(spec: spec, explanation: explanation)
        var checks: [ClaimCheck] = [], unchecked: [String] = []
        for s in sentences {
            let found = checker.check(s)
            if found.isEmpty { unchecked.append(s) } else { checks += found }
        }
        return NarrativeExplanation(hash: explanation.hash, model: model, sentences: sentences, checks: checks,
                                    unchecked: unchecked, facts: facts)
    }

    /// Reads a stored `jsonValue` back and checks its sentences again (the checker is
    /// deterministic, so the verdicts are those shown when it was written). nil when `json`
    /// is not a stored narrative of `explanation`'s candidate.
    public static func restore(_ json: JSONValue, spec: ArchitectureSpec, explanation: CandidateExplanation) -> NarrativeExplanation? {
        guard case .object(let o) = json, case .string(let h)? = o["hash"], h == explanation.hash,
              case .string(let model)? = o["model"], case .array(let items)? = o["sentences"] else { return nil }
        let sentences = items.compactMap { v -> String? in if case .string(let s) = v { return s }; return nil }
        guard !sentences.isEmpty else { return nil }
        var facts = ""
        if case .string(let f)? = o["facts"] { facts = f }
        return check(sentences: sentences, model: model, facts: facts, spec: spec, explanation: explanation)
    }

    public var jsonValue: JSONValue {
        ["hash": .string(hash), "model": .string(model), "sentences": .array(sentences.map { .string($0) }),
         "checks": .array(checks.map(\.jsonValue)), "unchecked": .array(unchecked.map { .string($0) }),
         "facts": .string(facts),
         "counts": ["true": num(count(.true)), "false": num(count(.false)), "unverifiable": num(count(.unverifiable)),
                    "unchecked_sentences": num(unchecked.count)]]
    }
}
