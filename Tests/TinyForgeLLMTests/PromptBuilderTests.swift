import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeLLM

final class PromptBuilderTests: XCTestCase {
    let task = LLMTask(dataset: "Fashion-MNIST", numClasses: 10, input: InputShape(height: 28, width: 28, channels: 1))
    let budget = Budget(sramBytes: 320 * 1024, flashBytes: 1024 * 1024, macs: 5_000_000)

    func context(front: Int = 0, rejected: Int = 0, recent: Int = 0, seed: UInt64 = 1) throws -> PromptContext {
        var rng = SeededGenerator(seed: seed)
        let f = CandidateFormat(space: .mcu28)
        func summary() throws -> CandidateSummary {
            let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
            let cost = CostModel.evaluate(spec, target: .stm32f746, budget: budget)
            return CandidateSummary(spec: spec, format: f, cost: cost, valAccuracy: 0.80 + 0.1 * Double(rng.nextFloat()))
        }
        var rej: [RejectedSummary] = []
        for i in 0..<rejected {
            rej.append(RejectedSummary(architecture: f.compactJSON(try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)),
                                       reason: i % 2 == 0 ? "peak SRAM 412 KB > 320 KB at stages[0].layers[1].expand, output 28×28×96 (#\(i))"
                                                          : "stages[1].kernel: 7 is not one of 3, 5 (#\(i))"))
        }
        return PromptContext(task: task, target: .stm32f746, budget: budget, space: .mcu28,
                             front: try (0..<front).map { _ in try summary() },
                             recentBest: try (0..<recent).map { _ in try summary() },
                             recentWorst: try (0..<recent).map { _ in try summary() },
                             rejected: rej, k: 3, evaluatedCount: front + 2 * recent)
    }

    func testContainsRoleTaskBudgetSpaceAndAsk() throws {
        let p = PromptBuilder().build(try context(front: 3, rejected: 2, recent: 2))
        XCTAssertEqual(p.messages.count, 2)
        XCTAssertTrue(p.messages[0].content.contains("neural architecture design algorithm that outputs only JSON"))
        let u = p.messages[1].content
        for needle in ["Fashion-MNIST: 10 classes, input 28×28×1", "peak SRAM (int8 activations) ≤ 320 KB (327,680 B)",
                       "flash (int8 weights) ≤ 1 MB (1,048,576 B)", "MACs ≤ 5 M (5,000,000)", "stm32f746",
                       "  kernel: 3 | 5\n", "  block: conv | dsconv | mbconv\n", "stem (a conv before the stages): out_channels 8 | 16 | 24; stride 1 | 2",
                       "a list of 2, 3, 4 stage objects", "Pareto front", "Recent best:", "Recent worst:",
                       "peak SRAM 412 KB > 320 KB at stages[0].layers[1].expand", "Propose 3 new architectures", "exactly 3 items"] {
            XCTAssertTrue(u.contains(needle), "missing: \(needle)\n\(u)")
        }
        XCTAssertEqual(p.summaryLevel, 0)
        XCTAssertFalse(p.overBudget)
        XCTAssertEqual(p.estimatedTokens, PromptBuilder().estimateTokens(p.messages))
        XCTAssertEqual(p.schema, CandidateFormat(space: .mcu28).schema(candidates: 3))
    }

    /// The one-shot example is a real, in-space architecture in the reply format.
    func testOneShotExampleDecodes() throws {
        let ctx = try context()
        let ex = PromptBuilder().exampleJSON(ctx, format: CandidateFormat(space: .mcu28))
        XCTAssertEqual(SchemaCheck.violations(ex, schema: CandidateFormat(space: .mcu28).schema(candidates: 1)), [])
        let items = try ResponseParser().parseCandidates(ex.canonicalText()).candidates
        let d = CandidateDecoder(space: .mcu28, task: task).decode(items)
        XCTAssertTrue(d[0].accepted, d[0].rejection ?? "")
        XCTAssertTrue(CostModel.evaluate(d[0].spec!, target: .stm32f746, budget: budget).fits)
    }

    /// Fixed text first: prompts with different archives share everything up to MEMORY.
    func testFixedPrefixIsStable() throws {
        let a = PromptBuilder().build(try context(front: 2, seed: 1)).messages[1].content
        let b = PromptBuilder().build(try context(front: 5, rejected: 3, seed: 2)).messages[1].content
        let prefix = String(zip(a, b).prefix { $0 == $1 }.map { $0.0 })
        XCTAssertTrue(prefix.hasSuffix("MEMORY") || prefix.contains("OUTPUT FORMAT"), prefix.suffix(80).description)
        XCTAssertNotNil(a.range(of: "MEMORY"))
        XCTAssertGreaterThanOrEqual(prefix.count, a.range(of: "MEMORY")!.lowerBound.utf16Offset(in: a))
    }

    func testLargeArchiveIsSummarisedWithinBudget() throws {
        let ctx = try context(front: 60, rejected: 80, recent: 20)
        let builder = PromptBuilder(maxPromptTokens: 2500)
        let full = PromptBuilder(maxPromptTokens: 1_000_000).build(ctx)
        XCTAssertGreaterThan(full.estimatedTokens, 2500, "the test archive must overflow the budget")
        let p = builder.build(ctx)
        XCTAssertLessThanOrEqual(p.estimatedTokens, 2500)
        XCTAssertGreaterThan(p.summaryLevel, 0)
        XCTAssertFalse(p.overBudget)
        let u = p.messages[1].content
        XCTAssertTrue(u.contains("older rejections not shown"), u)
        XCTAssertTrue(u.contains("more front members not shown"), u)
        XCTAssertTrue(u.contains("(#79)"), "the latest rejection is kept")
        XCTAssertFalse(u.contains("(#0)"), "the oldest is summarised")
        XCTAssertTrue(u.contains("SRAM") && u.contains("outside the space"), "aggregate counts by reason")
        // A budget nothing can meet is reported, not silently exceeded.
        XCTAssertTrue(PromptBuilder(maxPromptTokens: 100).build(ctx).overBudget)
    }

    func testEmptyArchiveAsksForDiverseStart() throws {
        let u = PromptBuilder().build(try context()).messages[1].content
        XCTAssertTrue(u.contains("Nothing evaluated yet"))
    }

    func testGroupedNumbers() {
        XCTAssertEqual(grouped(327_680), "327,680")
        XCTAssertEqual(grouped(999), "999")
        XCTAssertEqual(grouped(1_000_000), "1,000,000")
    }
}
