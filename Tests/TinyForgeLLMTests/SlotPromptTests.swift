import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeLLM

/// Budget-targeted slots and clean feedback in the proposal prompt, through the loopback server.
final class SlotPromptTests: XCTestCase {
    let budget = Budget(sramBytes: 64 * 1024, flashBytes: 256 * 1024, macs: 5_000_000)
    let format = CandidateFormat(space: .mcu28)

    func spec(_ seed: UInt64) throws -> ArchitectureSpec {
        var rng = SeededGenerator(seed: seed)
        return try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
    }

    func context() throws -> PromptContext {
        let s = try spec(5)
        let example = CandidateSummary(architecture: format.compactJSON(s), valAccuracy: 0.812, macs: 2_100_000,
                                       peakSRAMBytes: 41 * 1024, flashBytes: 120 * 1024)
        let slots = [
            SlotTarget(index: 1, band: CostBand(macsLow: 0, macsHigh: 1_666_666, sramLow: 0, sramHigh: 32 * 1024), frontCount: 0, example: example),
            SlotTarget(index: 2, band: CostBand(macsLow: 1_666_666, macsHigh: 3_333_333, sramLow: 32 * 1024, sramHigh: 64 * 1024),
                       frontCount: 2, example: example),
            SlotTarget(index: 3, band: CostBand(macsLow: 3_333_333, macsHigh: 5_000_000, sramLow: 0, sramHigh: 32 * 1024), frontCount: 0, example: nil),
        ]
        let dup = RejectedSummary(architecture: format.compactJSON(try spec(6)),
                                  reason: "duplicate of an architecture already proposed in this run (candidate #4); hash 0123456789ab")
        let repaired = RepairSummary(architecture: format.compactJSON(try spec(7)),
                                     edits: "stages[1].out_channels 48→32, stages[1].repeats 3→2", status: "done")
        return PromptContext(task: LLMTask(dataset: "Fashion-MNIST", numClasses: 10, input: InputShape(height: 28, width: 28, channels: 1)),
                             target: .stm32f746, budget: budget, space: .mcu28, front: [example], rejected: [dup], k: 3,
                             evaluatedCount: 5, slots: slots, trialsLeft: 7, hypervolume: 0.4321, repaired: [repaired])
    }

    func testPromptStatesSlotsStateRepairsAndDuplicatesWithinTheContext() throws {
        let ctx = try context()
        let p = PromptBuilder().build(ctx)
        let u = p.messages[1].content
        for needle in ["SEARCH STATE: 7 candidates left to train; front hypervolume 0.4321",
                       "TARGETS: each candidate aims at its own cost band",
                       "slot 1: MACs 0–1.7 M, peak SRAM 0 B–32 KB (no front member there yet).",
                       "slot 2: MACs 1.7 M–3.3 M, peak SRAM 32 KB–64 KB (2 front members there).",
                       "  Best archive member in it: acc 81.2% | MACs 2.1 M | SRAM 41 KB",
                       "  Nearest archive member: acc 81.2% | MACs 2.1 M",
                       "To move it into the band: cut MACs by at least 21% (", "; cut SRAM by at least 22% (",
                       "It is inside the band: keep its cost",
                       "slot 3: MACs 3.3 M–5 M", "No archive member near this band yet",
                       "Repaired by the search", "→ edits: stages[1].out_channels 48→32, stages[1].repeats 3→2 (done)",
                       "- {\"stages\"", "duplicate of an architecture already proposed in this run (candidate #4)",
                       "one per slot: item i aims at slot i's MACs and SRAM bands and writes \"slot\": i", "exactly 3 items"] {
            XCTAssertTrue(u.contains(needle), "missing: \(needle)\n\(u)")
        }
        // The one-shot example shows the slot field; the schema requires it (1…3).
        XCTAssertTrue(u.contains("\"slot\":1"), u)
        XCTAssertEqual(p.schema, format.schema(candidates: 3, slots: 3))
        XCTAssertTrue(p.schema.canonicalText().contains("\"slot\":{\"enum\":[1,2,3]}"))
        XCTAssertTrue(p.schema.canonicalText().contains("\"required\":[\"rationale\",\"slot\",\"stages\",\"stem\"]"), p.schema.canonicalText())
        // Within the local model's 8192-token context with room for a 1,800-token reply.
        XCTAssertFalse(p.overBudget)
        XCTAssertLessThanOrEqual(p.estimatedTokens + 1800, 8192)
        XCTAssertEqual(p.summaryLevel, 0)
        // Fixed text first: the state line and everything after it come after the output format.
        XCTAssertLessThan(u.range(of: "OUTPUT FORMAT")!.lowerBound, u.range(of: "SEARCH STATE")!.lowerBound)
        XCTAssertLessThan(u.range(of: "MEMORY")!.lowerBound, u.range(of: "TARGETS")!.lowerBound)
        // Without slots the prompt and schema are as before.
        var plain = ctx
        plain.slots = []
        let q = PromptBuilder().build(plain)
        XCTAssertFalse(q.messages[1].content.contains("TARGETS"))
        XCTAssertFalse(q.messages[1].content.contains("\"slot\""))
        XCTAssertEqual(q.schema, format.schema(candidates: 3))
    }

    /// Through the HTTP client: the server receives the targeted prompt and the slot schema;
    /// the reply's slot values (one missing, one out of range) come back as written, never a crash.
    func testSlotsRoundTripThroughTheLoopbackServer() async throws {
        let ctx = try context()
        var items: [JSONValue] = []
        for (seed, slot) in [(8, JSONValue.number(1)), (9, nil), (10, JSONValue.number(7))] as [(UInt64, JSONValue?)] {
            guard case .object(var o) = format.compactJSON(try spec(seed)) else { return XCTFail() }
            o["rationale"] = "a design for this slot"
            if let slot { o["slot"] = slot }
            items.append(.object(o))
        }
        let reply = JSONValue.object(["candidates": .array(items)]).canonicalText()
        let server = try LoopbackHTTPServer([.json(200, ClientTests.chatReply(reply))])
        defer { server.stop() }
        let client = OpenAICompatibleClient(config: LLMConfig(baseURL: server.baseURL, model: "m", timeoutSeconds: 5, retries: 0),
                                            environment: [:])
        let p = await LLMProposer(client: client, parseRetries: 0).propose(ctx, seed: 3)
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.candidates.map(\.slot), [.number(1), nil, .number(7)])
        XCTAssertEqual(p.accepted.count, 3, "the slot field is not part of the network: every item decodes")
        XCTAssertTrue(p.candidates.allSatisfy { $0.decoded != nil })
        let body = try JSONValue.parse(server.received[0].body)
        guard case .object(let o) = body, case .array(let msgs)? = o["messages"], case .object(let user) = msgs[1],
              case .string(let text)? = user["content"] else { return XCTFail("no user message in \(server.received[0].body.prefix(200))") }
        XCTAssertTrue(text.contains("SEARCH STATE: 7 candidates left to train"))
        XCTAssertTrue(text.contains("slot 3: MACs 3.3 M–5 M"))
        XCTAssertTrue(server.received[0].body.contains("\"slot\":{\"enum\":[1,2,3]}"), String(server.received[0].body.prefix(400)))
    }

    /// The variation prompt (evolution+llm) states the search too, after its fixed text.
    func testVariationPromptStatesTrialsLeftAndHypervolume() throws {
        let ctx = try context()
        let v = VariationContext(task: ctx.task, target: .stm32f746, budget: budget, space: .mcu28, parents: ctx.front,
                                 asks: [.init(kind: .mutation, parents: [0])], trialsLeft: 1, hypervolume: 0.5)
        let u = VariationPrompt().build(v).messages[1].content
        XCTAssertTrue(u.contains("SEARCH STATE: 1 candidate left to train; front hypervolume 0.5000"), u)
        XCTAssertLessThan(u.range(of: "HARD BUDGET")!.lowerBound, u.range(of: "SEARCH STATE")!.lowerBound)
    }

    /// An out-of-space item keeps its decoded network (for the repair) and its rejection.
    func testOutOfSpaceItemKeepsItsDecodedSpec() throws {
        guard case .object(var o) = format.compactJSON(try spec(12)), case .array(var st)? = o["stages"],
              case .object(var s0) = st[0] else { return XCTFail() }
        s0["kernel"] = 7
        st[0] = .object(s0); o["stages"] = .array(st); o["slot"] = 2
        let d = CandidateDecoder(space: .mcu28, task: try context().task).decodeOne(.object(o), index: 0)
        XCTAssertNil(d.spec)
        XCTAssertEqual(d.decoded?.stages[0].kernel, 7)
        XCTAssertTrue(d.rejection!.contains("stages[0].kernel: 7 is not one of 3, 5"), d.rejection!)
        XCTAssertEqual(d.slot, .number(2))
    }
}
