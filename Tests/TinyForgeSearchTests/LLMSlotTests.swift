import Foundation
import GRDB
import XCTest
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSpec
@testable import TinyForgeSearch

/// A model that always gives the same three items (so later rounds repeat themselves): a small
/// network for slot 1, a large one without a slot (over budget: repaired), a second small one
/// naming slot 9 (out of range). Records every prompt.
final class FixedReplyClient: LLMClient, @unchecked Sendable {
    private let lock = NSLock()
    private var _prompts: [String] = []
    private var _schemas: [JSONValue] = []
    var prompts: [String] { lock.lock(); defer { lock.unlock() }; return _prompts }
    var schemas: [JSONValue] { lock.lock(); defer { lock.unlock() }; return _schemas }
    let reply: String

    init(_ items: [JSONValue]) { reply = JSONValue.object(["candidates": .array(items)]).canonicalText() }

    private func record(_ prompt: String, _ schema: JSONValue?) {
        lock.lock(); defer { lock.unlock() }
        _prompts.append(prompt)
        if let schema { _schemas.append(schema) }
    }

    func complete(_ request: LLMRequest) async throws -> LLMResponse {
        let prompt = request.messages.last?.content ?? ""
        record(prompt, request.schema)
        let ex = LLMExchange(attempt: 1, timestamp: "2026-01-01T00:00:00.000Z", provider: "fixed", url: "fixed://llm",
                             requestBody: prompt, httpStatus: 200, responseText: reply, latencyMs: 5, promptTokens: 10, completionTokens: 10)
        return LLMResponse(text: reply, finishReason: "stop", model: "fixed", structuredOutput: .jsonObjectSchema, exchanges: [ex])
    }
}

final class LLMSlotTests: XCTestCase {
    static func stage(_ block: String, _ out: Int, stride: Int = 1, repeats: Int = 1, expansion: Int = 2, se: Double = 0) -> JSONValue {
        ["block": .string(block), "repeats": .number(Double(repeats)), "out_channels": .number(Double(out)), "kernel": 3,
         "stride": .number(Double(stride)), "expansion": .number(Double(expansion)), "se_ratio": .number(se),
         "activation": "relu", "skip": "none"]
    }

    static func item(_ stages: [JSONValue], slot: Int?, stemStride: Int = 2) -> JSONValue {
        var o: [String: JSONValue] = ["stages": .array(stages), "stem": ["out_channels": 8, "stride": .number(Double(stemStride))],
                                      "rationale": "a scripted design for the test"]
        if let slot { o["slot"] = .number(Double(slot)) }
        return .object(o)
    }

    static let items: [JSONValue] = [
        item([stage("conv", 16, stride: 2), stage("dsconv", 32, stride: 2)], slot: 1),
        item([stage("mbconv", 64, repeats: 3, expansion: 4, se: 0.25), stage("mbconv", 64, repeats: 3, expansion: 4),
              stage("mbconv", 64, stride: 2, repeats: 3, expansion: 4)], slot: nil, stemStride: 1),
        item([stage("conv", 24, stride: 2), stage("dsconv", 48, stride: 2)], slot: 9),
    ]

    func testSlotsRepairAndFeedbackThroughARun() async throws {
        let client = FixedReplyClient(Self.items)
        let proposer = LLMSearchProposer(proposer: LLMProposer(client: client, parseRetries: 0), model: "fixed", fallback: RandomProposer())
        let (store, summary) = try await runSearch(testConfig(proposer: "llm+random", trials: 9, batch: 3), in: temporaryDirectory(self),
                                                   proposer: proposer)
        XCTAssertEqual(summary.status, "done")
        // Every request carried the slot field in its schema.
        XCTAssertTrue(client.schemas.allSatisfy { $0.canonicalText().contains("\"slot\":{\"enum\":[1,2,3]}") }, client.schemas[0].canonicalText())
        let rows = try store.read { db in
            try GRDBRow.fetchAll(db, sql: "SELECT proposer, status, spec_json, original_spec_json, repair_edits_json, slot, slot_band_json, slot_hit, slot_note FROM candidates WHERE iteration = 0 ORDER BY id")
        }
        let llm = rows.filter { ($0["proposer"] as String).hasPrefix("llm") }
        XCTAssertEqual(llm.count, 3)
        // Item 1: named slot 1, checked against its band.
        XCTAssertEqual(llm[0]["slot"] as Int?, 1)
        XCTAssertNotNil(llm[0]["slot_band_json"] as String?)
        XCTAssertNotNil(llm[0]["slot_hit"] as Int?)
        // Item 2: no slot (recorded with the reason), over budget → repaired, both specs stored.
        XCTAssertEqual(llm[1]["proposer"] as String, "llm+repair")
        XCTAssertNil(llm[1]["slot"] as Int?)
        XCTAssertEqual(llm[1]["slot_note"] as String?, "the reply named no slot")
        let original = try ArchitectureSpec.decode(jsonText: llm[1]["original_spec_json"] as String, source: "t").spec
        let repaired = try ArchitectureSpec.decode(jsonText: llm[1]["spec_json"] as String, source: "t").spec
        XCTAssertFalse(CostModel.evaluate(original, target: .stm32f746, budget: testBudget).fits)
        XCTAssertTrue(CostModel.evaluate(repaired, target: .stm32f746, budget: testBudget).fits)
        let edits: [String] = try JSONDecoder().decode([String].self, from: Data((llm[1]["repair_edits_json"] as String).utf8))
        XCTAssertFalse(edits.isEmpty)
        XCTAssertEqual(llm[1]["status"] as String, "done")
        // Item 3: slot 9 of 3 → recorded, not a crash.
        XCTAssertEqual(llm[2]["slot_note"] as String?, "slot 9 is not one of 1–3")
        XCTAssertEqual(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM exchanges WHERE proposer = 'llm'") }, client.prompts.count)
        let events = try store.read { try String.fetchAll($0, sql: "SELECT message FROM events") }
        XCTAssertTrue(events.contains { $0.contains("1 repaired (llm+repair)") && $0.contains("slots ") }, events.joined(separator: "\n"))

        // The second prompt: state line, targets with worked examples, the repair and its edits.
        XCTAssertGreaterThanOrEqual(client.prompts.count, 3)
        let second = client.prompts[1]
        for needle in ["SEARCH STATE: 6 candidates left to train; front hypervolume 0.", "TARGETS:", "slot 1: MACs ", "slot 3: MACs ",
                       "archive member", "Repaired by the search", "edits: " + String(edits.joined(separator: ", ").prefix(150)), "\"slot\": i"] {
            XCTAssertTrue(second.contains(needle), "missing \(needle):\n\(second)")
        }
        // The third: the model's own repeats come back as duplicates WITH their architecture;
        // no other proposer's rejection and no surplus appear.
        let third = client.prompts[2]
        let dupLines = third.split(separator: "\n").filter { $0.contains("duplicate of an architecture") }
        XCTAssertFalse(dupLines.isEmpty, third)
        XCTAssertTrue(dupLines.allSatisfy { $0.hasPrefix("- {\"stages\"") }, dupLines.joined(separator: "\n"))
        XCTAssertFalse(third.contains("batch of"), "surplus shown as a rejection")
        let randomRejections = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates WHERE proposer = 'random' AND status = 'rejected'")! }
        _ = randomRejections
        XCTAssertFalse(third.contains("random initial sample"))
    }

    func testOwnRejectionsOnly() {
        func r(_ kind: Rejection.Kind, _ proposer: String) -> Rejection {
            Rejection(kind: kind, reason: "\(kind) by \(proposer)", hash: UUID().uuidString, proposer: proposer, iteration: 0)
        }
        let all = [r(.budget, "llm"), r(.budget, "random"), r(.surplus, "llm"), r(.duplicate, "llm+repair"), r(.space, "evolution")]
        XCTAssertEqual(LLMSearchProposer.ownRejections(all).map(\.reason), ["budget by llm", "duplicate by llm+repair"])
    }

    func testSlotPlannerPrefersEmptyThenSparseNiches() throws {
        let planner = SlotPlanner(macBands: 3, sramBands: 2)
        let format = CandidateFormat(space: .mcu28)
        let empty = try testContext().archive
        let grid = planner.niches(archive: empty, budget: testBudget)
        XCTAssertEqual(grid.count, 6)
        XCTAssertEqual(grid.first?.macsLow, 0)
        XCTAssertEqual(grid.last?.macsHigh, 5_000_000)
        XCTAssertEqual(grid.last?.sramHigh, 64 * 1024)
        let fresh = planner.plan(k: 8, archive: empty, budget: testBudget, format: format)
        XCTAssertEqual(fresh.map(\.index), Array(1...8))
        XCTAssertEqual(fresh.prefix(6).map(\.band), grid, "no front: grid order")
        XCTAssertEqual(fresh[6].band, grid[0], "more slots than niches: the order repeats")
        XCTAssertTrue(fresh.allSatisfy { $0.example == nil && $0.frontCount == 0 })

        let (archive, _) = try scoredArchive(10)
        let slots = planner.plan(k: 6, archive: archive, budget: testBudget, format: format)
        let counts = slots.map(\.frontCount)
        XCTAssertEqual(counts, counts.sorted(), "empty niches first, then the sparsest")
        for t in slots {
            let inBand = archive.scored.filter { t.band.contains(macs: $0.cost.macs, sram: $0.cost.peakSRAMBytes) }
            let e = try XCTUnwrap(t.example)
            if let best = inBand.max(by: { ($0.accuracy ?? 0, -$0.id) < ($1.accuracy ?? 0, -$1.id) }) {
                XCTAssertEqual(e.macs, best.cost.macs, "the best member inside the niche is the example")
                XCTAssertTrue(t.advice.hasPrefix("It is inside the band"))
            } else {
                XCTAssertTrue(t.advice.hasPrefix("To move it into the band: "), t.advice)
            }
        }
        XCTAssertEqual(planner.plan(k: 6, archive: archive, budget: testBudget, format: format), slots, "deterministic")
    }

    func testSlotRecordsForBadInput() throws {
        let slots = SlotPlanner().plan(k: 2, archive: try testContext().archive, budget: testBudget, format: CandidateFormat(space: .mcu28))
        var rng = SeededGenerator(seed: 2)
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        func rec(_ v: JSONValue?, _ s: ArchitectureSpec? = nil) -> SlotRecord {
            SlotPlanner.record(slot: v, slots: slots, spec: s, target: .stm32f746, budget: testBudget)
        }
        XCTAssertEqual(rec(nil).note, "the reply named no slot")
        XCTAssertEqual(rec(3).note, "slot 3 is not one of 1–2")
        XCTAssertEqual(rec(0).note, "slot 0 is not one of 1–2")
        XCTAssertEqual(rec("one").note, "slot \"one\" is not one of 1–2")
        XCTAssertEqual(rec(1.5).note, "slot 1.5 is not one of 1–2")
        XCTAssertEqual(rec(1).note, "no buildable architecture to measure")
        XCTAssertEqual(SlotPlanner.record(slot: 1, slots: [], spec: spec, target: .stm32f746, budget: testBudget).note, "the prompt asked for no slots")
        let cost = CostModel.evaluate(spec, target: .stm32f746, budget: testBudget)
        for v: JSONValue in [1, 2] {
            let r = rec(v, spec), band = slots[Int(r.index!) - 1].band
            XCTAssertEqual(r.hit, band.contains(macs: cost.macs, sram: cost.peakSRAMBytes))
            XCTAssertEqual(r.note, band.miss(macs: cost.macs, sram: cost.peakSRAMBytes))
        }
    }
}
