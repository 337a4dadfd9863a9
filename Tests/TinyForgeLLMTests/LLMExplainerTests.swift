import XCTest
import TinyForgeSpec
import TinyForgeHardware
import TinyForgeExplain
@testable import TinyForgeLLM

/// The explanation step against the loopback server: the chosen model's facts reach the
/// prompt, the reply's claims are checked (a false one is marked false), the result renders
/// and round-trips through its stored JSON, and an unreachable or useless LLM is a typed error.
final class LLMExplainerTests: XCTestCase {
    static let limits = ExplainLimits(target: .stm32f746, budget: Budget(sramBytes: 320 * 1024, flashBytes: 1024 * 1024, macs: 20_000_000))

    /// 24 sampled mcu28 networks with an accuracy that rises with MACs (enough rows for the
    /// surrogates), every third one a mutation of the best so far (a parent comparison).
    static func candidates() -> [ExplainCandidate] {
        var g = SeededGenerator(seed: 11)
        let explainer = Explainer(limits: limits)
        var out: [ExplainCandidate] = []
        for i in 0..<24 {
            var spec = try! SearchSpace.mcu28.sample(numClasses: 10, using: &g)
            var parent: String?
            if i % 3 == 2, let best = out.filter({ $0.valAccuracy != nil }).max(by: { $0.valAccuracy! < $1.valAccuracy! }),
               let m = SearchSpace.mcu28.mutate(best.spec, using: &g) {
                spec = m.spec; parent = best.hash
            }
            let r = explainer.cost(spec)
            let acc = r.fits ? min(0.95, 0.6 + 0.05 * log10(Double(max(r.macs, 1)) / 1e5) + Double(i % 5) * 0.004) : nil
            out.append(ExplainCandidate(spec: spec, proposer: i % 2 == 0 ? "random" : "evolution", parentHash: parent,
                                        valAccuracy: acc, status: r.fits ? .trained : .rejected, evaluationIndex: i))
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.hash).inserted }
    }

    /// Built once: fitting the surrogates takes seconds in a debug build.
    static let shared: (ExplainReport, [ExplainCandidate], ExplanationFacts, ArchitectureSpec)? = {
        let cs = candidates()
        let report = ExplainReport.build(title: "t", candidates: cs, limits: limits)
        guard let chosen = report.chosen,
              let facts = ExplanationFacts.build(report: report, candidates: cs,
                                                 finished: .init(valAccuracy: 0.9123, epochs: 30, distilled: false)) else { return nil }
        return (report, cs, facts, cs.first { $0.hash == chosen.hash }!.spec)
    }()

    func fixture() throws -> (ExplainReport, [ExplainCandidate], ExplanationFacts, ArchitectureSpec) {
        try XCTUnwrap(Self.shared, "the fixture has a trained candidate inside the budget, and facts for it")
    }

    static func reply(_ sentences: [String]) -> LoopbackHTTPServer.Reply {
        let content = JSONValue.object(["sentences": .array(sentences.map { .string($0) })]).canonicalText()
        return .json(200, ClientTests.chatReply(content))
    }

    func explainer(_ base: String) -> LLMExplainer {
        let c = LLMConfig(baseURL: base, model: "test-model", timeoutSeconds: 5, retries: 0, backoffSeconds: 0.01,
                          structuredOutput: .jsonObjectSchema)
        return LLMExplainer(client: OpenAICompatibleClient(config: c, environment: [:]), model: "test-model")
    }

    func testFactsCoverEveryKindTheyDrawFrom() throws {
        let (report, _, facts, spec) = try fixture()
        let chosen = report.chosen!
        let topics = Set(facts.facts.map(\.topic))
        for t in ["architecture", "accuracy", "budget", "peak", "shares", "neighbour", "surrogate"] {
            XCTAssertTrue(topics.contains(t), "no \(t) fact in:\n\(facts.text)")
        }
        XCTAssertEqual(facts.facts.map(\.id), (1...facts.facts.count).map { "F\($0)" })
        XCTAssertTrue(facts.text.contains("Binding constraint: ") && facts.text.contains(chosen.binding.description), facts.text)
        XCTAssertTrue(facts.text.contains("layer \(chosen.peak.role)"), facts.text)
        XCTAssertTrue(facts.text.contains(chosen.peak.tensors[0].label), "largest live buffer named")
        XCTAssertTrue(facts.text.contains("91.23%"), "finished accuracy given")
        XCTAssertTrue(facts.text.contains("stages[\(spec.stages.count - 1)] "), "every stage described")
        let surrogate = try XCTUnwrap(report.surrogates.first { $0.target == "val_accuracy" })
        let top = try XCTUnwrap(surrogate.attributions(sourceRow: Self.candidates().firstIndex { $0.hash == chosen.hash }!)?.first)
        XCTAssertTrue(facts.text.contains("\(top.feature) = \(top.value)"), "the chosen row's largest attribution is quoted")
    }

    func testFactsReachThePromptUnderTheSentenceSchema() async throws {
        let (_, _, facts, _) = try fixture()
        let server = try LoopbackHTTPServer([Self.reply(["The network fits the budget (F3).", "It is small and cheap to run."])])
        defer { server.stop() }
        let r = try await explainer(server.baseURL).explain(facts, seed: 5)
        XCTAssertEqual(r.sentences, ["The network fits the budget (F3).", "It is small and cheap to run."])
        XCTAssertEqual(r.model, "smollm2", "the model the server reports")
        XCTAssertTrue(r.schemaViolations.isEmpty, "\(r.schemaViolations)")
        let body = try JSONValue.parse(try XCTUnwrap(server.received.first).body)
        guard case .object(let o) = body, case .array(let msgs)? = o["messages"], case .object(let user)? = msgs.last,
              case .string(let text)? = user["content"], case .object(let format)? = o["response_format"],
              case .object(let schema)? = format["schema"], case .object(let props)? = schema["properties"] else {
            return XCTFail("unexpected request body \(body.canonicalText().prefix(300))")
        }
        for f in facts.facts { XCTAssertTrue(text.contains("\(f.id) [\(f.topic)] \(f.text)"), "fact \(f.id) missing from the prompt") }
        XCTAssertNotNil(props["sentences"])
        XCTAssertEqual(o["seed"], .number(5))
    }

    func testClaimsAreCheckedAndAFalseOneIsMarkedFalse() async throws {
        let (report, _, facts, spec) = try fixture()
        let chosen = report.chosen!
        let k = spec.stages[0].kernel, wrong = k == 3 ? 7 : 3
        let sentences = ["stages[0] uses \(k)x\(k) kernels (F1).",
                         "stages[0] uses \(wrong)x\(wrong) kernels to see more context (F1).",
                         "The network has \(spec.stages.count + 2) stages.",
                         "It fits the budget (F3).",
                         "This design is elegant and balanced."]
        let server = try LoopbackHTTPServer([Self.reply(sentences)])
        defer { server.stop() }
        let r = try await explainer(server.baseURL).explain(facts, seed: 1)
        let n = NarrativeExplanation.check(sentences: r.sentences, model: r.model, facts: facts.text, spec: spec, explanation: chosen)
        func verdict(_ quote: String) -> ClaimCheck.Verdict? { n.checks.first { $0.claim.text.contains(quote) }?.verdict }
        XCTAssertEqual(verdict("\(k)x\(k)"), .true, n.checks.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(verdict("\(wrong)x\(wrong)"), .false, "the deliberately false kernel claim")
        XCTAssertEqual(verdict("\(spec.stages.count + 2) stages"), .false, "the wrong stage count")
        XCTAssertEqual(verdict("fits the budget"), .true)
        XCTAssertEqual(n.unchecked, ["This design is elegant and balanced."], "a sentence without a checkable claim is kept, not dropped")
        XCTAssertEqual(n.count(.false), 2)

        // Rendered in the chosen model's section, and in the JSON twin.
        var withNarrative = report
        withNarrative.narrative = n
        let html = ReportWriter.html(withNarrative)
        XCTAssertTrue(html.contains("Explanation by the LLM (smollm2), fact-checked"))
        XCTAssertTrue(html.contains("<li class=\"v-false\"><b>false</b> “\(wrong)x\(wrong)"), "the false claim is shown as false")
        XCTAssertTrue(html.contains("elegant and balanced"))
        guard case .object(let twin) = withNarrative.jsonValue, case .object(let llm)? = twin["llm_explanation"],
              case .object(let counts)? = llm["counts"] else { return XCTFail("no llm_explanation in the JSON twin") }
        XCTAssertEqual(counts["false"], .number(2))

        // Stored JSON → the same narrative (what `explain` without --llm shows later).
        XCTAssertEqual(NarrativeExplanation.restore(n.jsonValue, spec: spec, explanation: chosen), n)
        let other = report.explanations.first { $0.hash != chosen.hash }!
        XCTAssertNil(NarrativeExplanation.restore(n.jsonValue, spec: spec, explanation: other), "another candidate's narrative is not restored")
    }

    func testUnreachableServerIsATypedErrorNamingTheFix() async throws {
        let (_, _, facts, _) = try fixture()
        do {
            _ = try await explainer("http://127.0.0.1:\(LoopbackHTTPServer.closedPort())").explain(facts, seed: 1)
            XCTFail("expected an error")
        } catch let e as LLMExplanationError {
            guard case .unreachable = e else { return XCTFail("\(e)") }
            XCTAssertTrue(e.description.contains("TINYFORGE_LLM_URL"), e.description)
        }
    }

    func testReplyWithoutSentencesIsUnusable() async throws {
        let (_, _, facts, _) = try fixture()
        for content in ["I cannot help with that.", #"{"candidates": []}"#] {
            let server = try LoopbackHTTPServer([.json(200, ClientTests.chatReply(content))])
            defer { server.stop() }
            do {
                _ = try await explainer(server.baseURL).explain(facts, seed: 1)
                XCTFail("expected an error for \(content)")
            } catch let e as LLMExplanationError {
                guard case .unusableReply = e else { return XCTFail("\(e)") }
            }
        }
    }

    func testLenientSentenceReading() {
        XCTAssertEqual(LLMExplainer.sentences(in: ["sentences": ["  a\nb  c ", 3, "ok."]]), ["a b c", "ok."])
        XCTAssertEqual(LLMExplainer.sentences(in: ["explanation": "SRAM binds. Peak at stages[1]."]), ["SRAM binds.", "Peak at stages[1]."])
    }
}
