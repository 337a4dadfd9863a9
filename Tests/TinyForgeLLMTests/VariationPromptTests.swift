import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeLLM

/// The variation prompt (LLM as evolution's mutation / crossover operator) and one variation
/// round through the real client against the loopback server.
final class VariationPromptTests: XCTestCase {
    static let budget = Budget(sramBytes: 64 * 1024, flashBytes: 256 * 1024, macs: 5_000_000)
    static let task = LLMTask(dataset: "Fashion-MNIST", numClasses: 10, input: InputShape(height: 28, width: 28, channels: 1))

    /// Two distinct parents sampled from mcu28 (fixed seed) with made-up measurements.
    static func parents() throws -> [(ArchitectureSpec, CandidateSummary)] {
        var rng = SeededGenerator(seed: 11)
        let format = CandidateFormat(space: .mcu28)
        var out: [(ArchitectureSpec, CandidateSummary)] = []
        while out.count < 2 {
            let s = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
            let cost = CostModel.evaluate(s, target: .stm32f746, budget: budget)
            guard cost.fits else { continue }
            out.append((s, CandidateSummary(spec: s, format: format, cost: cost, valAccuracy: out.isEmpty ? 0.812 : 0.775)))
        }
        return out
    }

    static func context(asks: [VariationAsk], rejected: [RejectedSummary] = []) throws -> VariationContext {
        VariationContext(task: task, target: .stm32f746, budget: budget, space: .mcu28, parents: try parents().map(\.1),
                         asks: asks, rejected: rejected)
    }

    func testPromptShowsParentsBudgetSpaceRejectionsAndAsks() throws {
        let rej = RejectedSummary(architecture: ["stages": []], reason: "peak SRAM 80 KB > 64 KB at stages[0].layers[0]")
        let ctx = try Self.context(asks: [.mutation(0), .crossover(0, 1)], rejected: [rej])
        let p = VariationPrompt().build(ctx)
        let text = p.messages[1].content
        XCTAssertEqual(p.messages[0].content, PromptBuilder.role)
        for needle in ["peak SRAM ≤ 65,536 B", "flash ≤ 262,144 B", "MACs ≤ 5,000,000", "kernel 3|5",
                       "P1: acc 81.2%", "P2: acc 77.5%", "binding: ", "1. mutation of P1", "2. crossover of P1 and P2",
                       "peak SRAM 80 KB > 64 KB at stages[0].layers[0]", "exactly 2 items"] {
            XCTAssertTrue(text.contains(needle), "missing \(needle) in\n\(text)")
        }
        // The parents' architectures are in the reply's own compact form.
        XCTAssertTrue(text.contains(ctx.parents[0].architecture.canonicalText()))
        // Reply schema: exactly one item per ask.
        guard case .object(let s) = p.schema, case .object(let props)? = s["properties"],
              case .object(let cands)? = props["candidates"] else { return XCTFail("schema shape") }
        XCTAssertEqual(cands["minItems"], 2)
        XCTAssertEqual(cands["maxItems"], 2)
        XCTAssertFalse(p.overBudget)
    }

    func testUsageNamesTheBindingLimit() {
        let c = CandidateSummary(architecture: [:], valAccuracy: 0.5, macs: 1_000_000, peakSRAMBytes: 60 * 1024, flashBytes: 64 * 1024)
        let u = VariationPrompt.usage(c, budget: Self.budget)
        XCTAssertTrue(u.contains("SRAM 60 KB (94%)"), u)
        XCTAssertTrue(u.contains("flash 64 KB (25%)"), u)
        XCTAssertTrue(u.contains("MACs 1M (20%)") || u.contains("(20%)"), u)
        XCTAssertTrue(u.hasSuffix("binding: SRAM"), u)
        let over = CandidateSummary(architecture: [:], valAccuracy: nil, macs: 9_000_000, peakSRAMBytes: 1024, flashBytes: 1024)
        XCTAssertTrue(VariationPrompt.usage(over, budget: Self.budget).hasSuffix("OVER the MACs limit"))
    }

    func testPromptSizeIsBoundedAndKeepsTheLatestRejection() throws {
        let many = (0..<40).map { RejectedSummary(architecture: nil, reason: "rejection \($0): " + String(repeating: "flash too large; ", count: 30)) }
        let ctx = try Self.context(asks: [.mutation(0), .mutation(1)], rejected: many)
        let full = VariationPrompt(maxPromptTokens: 100_000).build(ctx)
        let tight = VariationPrompt(maxPromptTokens: full.estimatedTokens - 400).build(ctx)
        XCTAssertEqual(full.summaryLevel, 0)
        XCTAssertGreaterThan(tight.summaryLevel, 0)
        XCTAssertLessThanOrEqual(tight.estimatedTokens, full.estimatedTokens - 400)
        XCTAssertFalse(tight.overBudget)
        let text = tight.messages[1].content
        XCTAssertTrue(text.contains("rejection 39:"), "the latest rejection is kept")
        XCTAssertTrue(text.contains("not shown: "), "dropped rejections are counted")
        XCTAssertTrue(text.contains("P2: acc"), "parents are never dropped")
        // Impossible bound: flagged, not silently exceeded.
        XCTAssertTrue(VariationPrompt(maxPromptTokens: 50).build(ctx).overBudget)
    }

    /// Real SmolLM2-135M variation replies (recorded from `tinyforge search --proposer
    /// evolution+llm` / `nsga2+llm` runs, see Fixtures/README.md) replayed through the loopback
    /// server: they follow the schema the grammar enforced and decode into mcu28.
    func testRecordedVariationRepliesReplay() async throws {
        for (name, k) in [("smollm2_variation_mcu28_k2", 2), ("smollm2_variation_mcu28_k3", 3)] {
            let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")
                                    ?? Bundle.module.url(forResource: name, withExtension: "json"), "missing fixture \(name).json")
            let server = try LoopbackHTTPServer([.respond(status: 200, headers: ["Content-Type": "application/json"],
                                                          body: try Data(contentsOf: url))])
            defer { server.stop() }
            let cfg = LLMConfig(baseURL: server.baseURL, timeoutSeconds: 5, retries: 0, structuredOutput: .jsonObjectSchema)
            let asks: [VariationAsk] = k == 2 ? [.mutation(0), .mutation(1)] : [.crossover(0, 1), .mutation(0), .crossover(1, 0)]
            let prompt = VariationPrompt().build(try Self.context(asks: asks))
            let r = await LLMProposer(client: OpenAICompatibleClient(config: cfg, environment: [:]), parseRetries: 0)
                .ask(prompt, space: .mcu28, task: Self.task, seed: 1)
            XCTAssertNil(r.failure, name)
            XCTAssertEqual(r.candidates.count, k, name)
            XCTAssertEqual(r.exchanges.first?.promptTokens.map { $0 > 1000 }, true)
            for c in r.candidates {
                let s = try XCTUnwrap(c.spec, "\(name): \(c.rejection ?? "")")
                XCTAssertEqual(SearchSpace.mcu28.violations(of: s), [])
            }
            let text = try XCTUnwrap(r.exchanges.first?.responseText)
            XCTAssertEqual(SchemaCheck.violations(try JSONValue.parse(text), schema: prompt.schema), [], name)
        }
    }

    /// One variation round through the real client: a good reply decodes into the space; a
    /// silent server becomes a recorded timeout failure, never a crash.
    func testRoundThroughLoopbackServer() async throws {
        let ps = try Self.parents()
        let format = CandidateFormat(space: .mcu28)
        var child = ps[0].0
        child.stages[0].kernel = child.stages[0].kernel == 3 ? 5 : 3
        guard case .object(var item) = format.compactJSON(child) else { return XCTFail() }
        item["rationale"] = "larger kernel in stage 0 for more context"
        let bad: JSONValue = ["rationale": "kernel nine", "stages": [["block": "conv", "kernel": 9]]]
        let reply = ClientTests.chatReply(JSONValue.object(["candidates": [.object(item), bad]]).canonicalText())
        let server = try LoopbackHTTPServer([.json(200, reply)])
        defer { server.stop() }
        let cfg = LLMConfig(baseURL: server.baseURL, timeoutSeconds: 5, retries: 0, structuredOutput: .jsonObjectSchema)
        let llm = LLMProposer(client: OpenAICompatibleClient(config: cfg, environment: [:]), parseRetries: 0)
        let ctx = try Self.context(asks: [.mutation(0), .mutation(1)])
        let prompt = VariationPrompt().build(ctx)
        let r = await llm.ask(prompt, space: .mcu28, task: Self.task, seed: 77)
        XCTAssertNil(r.failure)
        XCTAssertEqual(r.exchanges.count, 1)
        XCTAssertEqual(r.candidates.count, 2)
        XCTAssertEqual(r.candidates[0].spec?.canonicalHash, child.canonicalHash)
        XCTAssertNil(r.candidates[1].spec)
        XCTAssertFalse((r.candidates[1].rejection ?? "").isEmpty)
        // The request carries the variation prompt, its schema (json_object + schema) and the seed.
        guard case .object(let body) = try JSONValue.parse(server.received[0].body) else { return XCTFail() }
        XCTAssertEqual(body["seed"], 77)
        guard case .object(let rf)? = body["response_format"] else { return XCTFail("no response_format") }
        XCTAssertEqual(rf["schema"], prompt.schema)

        let silent = try LoopbackHTTPServer([.hang])
        defer { silent.stop() }
        var tcfg = cfg
        tcfg.baseURL = silent.baseURL; tcfg.timeoutSeconds = 0.5
        let t = await LLMProposer(client: OpenAICompatibleClient(config: tcfg, environment: [:]), parseRetries: 0)
            .ask(prompt, space: .mcu28, task: Self.task, seed: 78)
        XCTAssertTrue(t.candidates.isEmpty)
        XCTAssertTrue((t.failure ?? "").contains("timeout"), t.failure ?? "nil")
        XCTAssertEqual(t.exchanges.count, 1)
    }
}
