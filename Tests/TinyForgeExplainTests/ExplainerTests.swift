import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeExplain

final class ExplainerTests: XCTestCase {
    let elite = ReferenceNetworks.spec("lmanet-elite")!
    let limits = ExplainLimits(target: .stm32h743, budget: .paper, latencyMs: 500)

    func testUsagePeakAndSharesComeFromTheCostReport() {
        let ex = Explainer(limits: limits)
        let r = ex.cost(elite)
        let e = ex.explain(ExplainCandidate(spec: elite, proposer: "paper", valAccuracy: 0.745))
        XCTAssertEqual(e.usage.map(\.kind), [.sram, .flash, .macs, .latency])
        XCTAssertEqual(e.usage[0].value, Double(r.peakSRAMBytes))
        XCTAssertEqual(e.usage[0].limit, Double(320 * 1024))
        XCTAssertEqual(e.usage[2].ratio, Double(r.macs) / 100_000_000, accuracy: 1e-12)
        XCTAssertEqual(e.binding.ratio, e.usage.map(\.ratio).max()!)
        // The binding kind agrees with the cost model's own verdict.
        XCTAssertTrue(r.bindingConstraint!.hasPrefix(e.binding.kind.rawValue))
        // Peak: the ActivationMemory peak step, the live buffers there summing to its bytes.
        let step = r.memory.steps[r.memory.peakStep]
        XCTAssertEqual(e.peak.role, r.plan.ops[step.op].role)
        XCTAssertEqual(e.peak.liveBytes, step.liveBytes)
        XCTAssertEqual(e.peak.tensors.reduce(0) { $0 + $1.bytes }, step.liveBytes)
        XCTAssertTrue(e.peak.tensors.allSatisfy { $0.shape == nil || $0.bytes == $0.shape!.reduce(1, *) })
        XCTAssertEqual(e.peak.tflmArenaBytes, r.tflmMemory.arenaBytes)
        // Shares: five stages and the head, summing to the totals.
        XCTAssertEqual(e.shares.map(\.component), ["stages[0]", "stages[1]", "stages[2]", "stages[3]", "stages[4]", "head"])
        XCTAssertEqual(e.shares.reduce(0) { $0 + $1.macs }, r.macs)
        XCTAssertEqual(e.shares.reduce(0) { $0 + $1.params }, r.params)
        XCTAssertEqual(e.shares.reduce(0) { $0 + $1.macsShare }, 1, accuracy: 1e-9)
        XCTAssertEqual(e.timeline.ours.count, r.plan.ops.count)
        XCTAssertEqual(e.timeline.ours.max(), step.liveBytes)
        XCTAssertTrue(e.summary[1].contains(e.peak.role))
    }

    func testComparisonWithParentQuotesTheChangeAndMeasuredDeltas() {
        var child = elite
        child.stages[4].kernel = 5
        child.stages[3].seRatio = 0
        let parent = ExplainCandidate(spec: elite, proposer: "paper", valAccuracy: 0.745)
        let c = ExplainCandidate(spec: child, proposer: "llm", parentHash: parent.hash, valAccuracy: 0.731)
        let ex = Explainer(limits: limits)
        let e = ex.explain(c, archive: [parent])
        let cmp = try! XCTUnwrap(e.comparison)
        XCTAssertEqual(cmp.relation, .parent)
        XCTAssertEqual(cmp.changes.map(\.description), ["stages[3].se_ratio 0.5→0", "stages[4].kernel 7→5"])
        XCTAssertEqual(cmp.deltaAccuracy!, -0.014, accuracy: 1e-12)
        let a = ex.cost(elite), b = ex.cost(child)
        XCTAssertEqual(cmp.deltaMACs, b.macs - a.macs)
        XCTAssertLessThan(cmp.deltaMACs, 0, "a 5×5 depthwise instead of 7×7 costs fewer MACs")
        XCTAssertEqual(cmp.deltaPeakSRAM, b.peakSRAMBytes - a.peakSRAMBytes)
        XCTAssertEqual(cmp.deltaFlash, b.flash.total - a.flash.total)
        XCTAssertTrue(e.summary.last!.contains("stages[4].kernel 7→5"))
    }

    func testNearestArchiveMemberWhenParentUnknown() {
        var near = elite; near.stages[0].kernel = 5
        var far = elite; far.stages[1].repeats = 4; far.stages[2].outChannels = 64; far.stages[4].kernel = 3
        let archive = [ExplainCandidate(spec: far, proposer: "a", valAccuracy: 0.7),
                       ExplainCandidate(spec: near, proposer: "b", valAccuracy: 0.72)]
        let (ref, rel) = Explainer(limits: limits).reference(for: ExplainCandidate(spec: elite, proposer: "x"), in: archive)!
        XCTAssertEqual(rel, .nearestArchive)
        XCTAssertEqual(ref.spec, near)
    }

    func testSpecDiffIsCanonicalAndReportsStagesAddedOrRemoved() {
        var a = elite
        a.stages[0].expansion = 6  // dsconv ignores expansion: not a change
        XCTAssertEqual(SpecDiff.changes(from: elite, to: a), [])
        var b = elite
        b.stages.removeLast()
        let ch = SpecDiff.changes(from: elite, to: b)
        XCTAssertEqual(ch.count, 1)
        XCTAssertEqual(ch[0].path, "stages[4]")
        XCTAssertNil(ch[0].to)
        XCTAssertTrue(ch[0].description.hasPrefix("stages[4] removed (mbconv ×3 c128 k7 s2 e3"))
        XCTAssertEqual(SpecDiff.distance(elite, b), 9)
    }

    func testJSONHasTheExplanationFields() throws {
        let e = Explainer(limits: limits).explain(ExplainCandidate(spec: elite, proposer: "paper"))
        guard case .object(let o) = e.jsonValue else { return XCTFail("not an object") }
        for k in ["binding", "peak", "shares", "usage", "memory_timeline", "summary", "comparison"] { XCTAssertNotNil(o[k], k) }
        let text = e.jsonValue.canonicalText()
        XCTAssertNoThrow(try JSONValue.parse(text))
    }
}
