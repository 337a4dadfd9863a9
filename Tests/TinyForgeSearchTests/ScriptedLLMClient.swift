import Foundation
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSearch
import TinyForgeSpec

/// An in-process LLM for the variation operator's tests: reads the parents and asks out of the
/// `VariationPrompt` it receives and answers like a model would — good children, garbage,
/// copies, over-budget or out-of-space children, nothing at all, or a timeout. Deterministic:
/// an answer depends only on the request (its prompt and seed), so runs can be compared.
final class ScriptedLLMClient: LLMClient, @unchecked Sendable {
    enum Answer: Sendable {
        /// One child per ask: mutation flips one stage's kernel (3↔5, the stage chosen by the
        /// seed); crossover alternates the parents' stages.
        case children
        /// This text verbatim as the reply.
        case text(String)
        /// Every child is a copy of its (first) parent: a duplicate.
        case copyParent
        /// Every child has the widest, most expanded stages: over the SRAM budget.
        case overBudget
        /// Stage 0 with kernel 9: outside mcu28.
        case outOfSpace
        /// Only the first child.
        case tooFew
        /// The request times out (as `LLMClientError`, with its exchange).
        case timeout
    }

    let answer: @Sendable (Int, UInt64) -> Answer
    private let lock = NSLock()
    private var _requests: [LLMRequest] = []
    var requests: [LLMRequest] { lock.lock(); defer { lock.unlock() }; return _requests }

    /// `answer(i, seed)` scripts the i-th request (0-based) with that seed. Scripts that must
    /// behave like a deterministic server (resume tests) use only the seed.
    init(_ answer: @escaping @Sendable (Int, UInt64) -> Answer) { self.answer = answer }
    convenience init(always a: Answer) { self.init { _, _ in a } }

    func complete(_ request: LLMRequest) async throws -> LLMResponse {
        let i = record(request)
        let prompt = request.messages.last?.content ?? ""
        var ex = LLMExchange(attempt: 1, timestamp: "2026-01-01T00:00:00.000Z", provider: "scripted", url: "scripted://llm",
                             requestBody: prompt, httpStatus: 200, latencyMs: 12, promptTokens: prompt.count / 3, completionTokens: 50)
        let items: [JSONValue]
        switch answer(i, request.seed ?? 0) {
        case .timeout:
            ex.httpStatus = nil; ex.error = "timeout after 0.5 s"; ex.responseText = nil
            throw LLMClientError(kind: .timeout, message: "no reply within llm.timeout = 0.5 s", exchanges: [ex])
        case .text(let t):
            ex.responseText = t
            return LLMResponse(text: t, finishReason: "stop", model: "scripted", structuredOutput: .jsonObjectSchema, exchanges: [ex])
        case .children: items = Self.children(prompt, seed: request.seed ?? 0)
        case .tooFew: items = Array(Self.children(prompt, seed: request.seed ?? 0).prefix(1))
        case .copyParent: items = Self.asks(prompt).map { Self.parents(prompt)[$0.1] }
        case .overBudget:
            items = Self.asks(prompt).map { ask in
                Self.edit(Self.parents(prompt)[ask.1]) { st, _ in
                    st["block"] = "mbconv"; st["out_channels"] = 64; st["expansion"] = 4; st["stride"] = 1
                }
            }
        case .outOfSpace:
            items = Self.asks(prompt).map { ask in Self.edit(Self.parents(prompt)[ask.1]) { st, j in if j == 0 { st["kernel"] = 9 } } }
        }
        let text = JSONValue.object(["candidates": .array(items.map { item in
            guard case .object(var o) = item else { return item }
            o["rationale"] = "scripted child"
            return .object(o)
        })]).canonicalText()
        ex.responseText = text
        return LLMResponse(text: text, finishReason: "stop", model: "scripted", structuredOutput: .jsonObjectSchema, exchanges: [ex])
    }

    private func record(_ r: LLMRequest) -> Int {
        lock.lock(); defer { lock.unlock() }
        _requests.append(r)
        return _requests.count - 1
    }

    /// Parents in prompt order: the JSON at the end of each `P<n>: ...` line.
    static func parents(_ prompt: String) -> [JSONValue] {
        prompt.split(separator: "\n").filter { $0.hasPrefix("P") && $0.contains(": acc ") }.compactMap { line in
            guard let b = line.firstIndex(of: "{") else { return nil }
            return try? JSONValue.parse(String(line[b...]))
        }
    }

    /// Asks in order: (kind, first parent index, second parent index or nil), from lines like
    /// `2. crossover of P1 and P3: ...`.
    static func asks(_ prompt: String) -> [(String, Int, Int?)] {
        prompt.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count >= 4, words[0].hasSuffix("."), Int(words[0].dropLast()) != nil,
                  words[1] == "mutation" || words[1] == "crossover" else { return nil }
            func p(_ w: Substring) -> Int? { Int(w.drop { !$0.isNumber }.prefix { $0.isNumber }).map { $0 - 1 } }
            guard let a = p(words[3]) else { return nil }
            return (String(words[1]), a, words[1] == "crossover" && words.count > 5 ? p(words[5]) : nil)
        }
    }

    static func children(_ prompt: String, seed: UInt64) -> [JSONValue] {
        let ps = parents(prompt)
        return asks(prompt).enumerated().map { i, ask in
            if ask.0 == "crossover", let b = ask.2,
               case .object(let x) = ps[ask.1], case .array(let sa)? = x["stages"],
               case .object(let y) = ps[b], case .array(let sb)? = y["stages"] {
                var o = x
                o["stages"] = .array(sa.indices.map { $0 % 2 == 1 && $0 < sb.count ? sb[$0] : sa[$0] })
                return .object(o)
            }
            return edit(ps[ask.1]) { st, j in
                guard case .object(let whole) = ps[ask.1], case .array(let stages)? = whole["stages"] else { return }
                if j == Int((seed &+ UInt64(i)) % UInt64(stages.count)) { st["kernel"] = st["kernel"] == 3 ? 5 : 3 }
            }
        }
    }

    /// `item` with `f` applied to every stage object (stage index given).
    static func edit(_ item: JSONValue, _ f: (inout [String: JSONValue], Int) -> Void) -> JSONValue {
        guard case .object(var o) = item, case .array(let stages)? = o["stages"] else { return item }
        o["stages"] = .array(stages.enumerated().map { j, s in
            guard case .object(var st) = s else { return s }
            f(&st, j)
            return .object(st)
        })
        return .object(o)
    }
}

/// `n` distinct fitting mcu28 architectures as evaluated candidates (synthetic scores), and the
/// validator's `seen` map for them.
func scoredArchive(_ n: Int, seed: UInt64 = 3) throws -> (ParetoArchive, [String: String]) {
    let os = try ObjectiveSpace(objectives: ObjectiveSpace.defaultObjectives(for: testBudget), budget: testBudget)
    var archive = ParetoArchive(objectiveSpace: os)
    var rng = SeededGenerator(seed: seed)
    var seen: [String: String] = [:]
    while archive.evaluated.count < n {
        let s = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        let report = CostModel.evaluate(s, target: .stm32f746, budget: testBudget)
        guard report.fits, seen[s.canonicalHash] == nil else { continue }
        let id = Int64(archive.evaluated.count + 1)
        let cost = CostSummary(report)
        let acc = SyntheticEvaluator.score(spec: s, cost: cost, hash: s.canonicalHash, epochs: 3)
        archive.add(EvaluatedCandidate(id: id, hash: s.canonicalHash, spec: s, cost: cost,
                                       result: EvaluationResult(status: .ok, valAccuracy: acc), proposer: "random"))
        seen[s.canonicalHash] = "candidate #\(id)"
    }
    return (archive, seen)
}

func llmContext(archive: ParetoArchive, seen: [String: String], iteration: Int = 5, seed: UInt64 = 1) -> ProposalContext {
    ProposalContext(space: .mcu28, task: testTask, target: .stm32f746, budget: testBudget, archive: archive,
                    recentRejections: [], iteration: iteration, rng: SeededGenerator(seed: seed, stream: UInt64(iteration)),
                    validator: testValidator(seen: seen))
}

func llmVariation(_ client: LLMClient, maxRequests: Int = 1, fallback: VariationOperator = ClassicVariation(),
                  repair: Bool = true) -> LLMVariation {
    LLMVariation(llm: LLMProposer(client: client, parseRetries: 0), model: "scripted", fallback: fallback,
                 maxRequestsPerIteration: maxRequests, repair: repair)
}
