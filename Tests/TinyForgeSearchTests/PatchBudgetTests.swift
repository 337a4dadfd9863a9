import Foundation
import TinyForgeHardware
import TinyForgeSpec
import XCTest
@testable import TinyForgeSearch

/// `search --patch auto`: the budget check and the SRAM / MAC figures the search ranks by use
/// the patch plan (its arena, its recomputed halos); without it, layer by layer.
final class PatchBudgetTests: XCTestCase {
    func testPatchAutoBudgetUsesThePatchArenaAndCountsHalos() throws {
        let spec = ReferenceNetworks.spec("lmanet-elite")!
        // Per-layer 204 800 B; the auto plan (4x4@5, 20 % limit) needs 149 824 B.
        var budget = Budget(sramBytes: 160 * 1024, flashBytes: 2 * 1024 * 1024, macs: 200_000_000)
        let perLayer = CostModel.evaluate(spec, target: .stm32h743, budget: budget)
        XCTAssertEqual(perLayer.violations.map(\.kind), [.sram])
        XCTAssertNil(perLayer.patch)

        budget.patch = .auto
        let patched = CostModel.evaluate(spec, target: .stm32h743, budget: budget)
        let plan = try XCTUnwrap(patched.patch?.plan)
        XCTAssertTrue(patched.fits, "\(patched.violations)")
        XCTAssertEqual(patched.peakSRAMBytes, plan.arenaBytes)
        XCTAssertLessThan(patched.peakSRAMBytes, perLayer.peakSRAMBytes)
        XCTAssertGreaterThan(plan.extraMACs, 0)
        let summary = CostSummary(patched)
        XCTAssertEqual(summary.peakSRAMBytes, plan.arenaBytes)
        XCTAssertEqual(summary.macs, perLayer.macs + plan.extraMACs, "the MAC objective counts the recomputation")

        // A MAC budget between the per-layer and the patched MACs rejects the patched network.
        budget.macs = perLayer.macs + plan.extraMACs / 2
        let tight = CostModel.evaluate(spec, target: .stm32h743, budget: budget)
        XCTAssertEqual(tight.violations.map(\.kind), [.macs])
        XCTAssertTrue(tight.violations[0].message.contains("recomputed by the patch plan"), tight.violations[0].message)

        // With too small a limit no plan qualifies: layer by layer again, SRAM violated.
        budget.macs = nil
        budget.patchMaxOverhead = 0.001
        let none = CostModel.evaluate(spec, target: .stm32h743, budget: budget)
        XCTAssertNil(none.patch?.plan)
        XCTAssertEqual(none.peakSRAMBytes, perLayer.peakSRAMBytes)
        XCTAssertEqual(none.violations.map(\.kind), [.sram])
    }

    func testSearchConfigCarriesPatchIntoItsBudget() throws {
        var c = testConfig()
        XCTAssertEqual(c.budget.patch, .off)
        c.patch = "auto"; c.patchMaxOverhead = 0.3
        XCTAssertEqual(c.budget.patch, .auto)
        XCTAssertEqual(c.budget.patchMaxOverhead, 0.3)
        XCTAssertNoThrow(try c.validate())
        let back = try SearchConfig.decode(c.jsonText(), source: "config.json")
        XCTAssertEqual(back.budget, c.budget)
        c.patch = "4x4@3"
        XCTAssertThrowsError(try c.validate()) { e in XCTAssertTrue("\(e)".contains("--patch"), "\(e)") }
    }
}
