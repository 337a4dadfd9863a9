import XCTest
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeExplain

final class RationaleCheckerTests: XCTestCase {
    /// LMaNet-Elite: dsconv×2 k3 s2 | dsconv×2 k5 s2 residual | mbconv×2 k5 s2 e3 leaky |
    /// mbconv×3 k3 s1 e3 SE0.5 | mbconv×3 k7 s2 e3 (relu6 except stage 3).
    let elite = ReferenceNetworks.spec("lmanet-elite")!

    func verdicts(_ text: String, checker: RationaleChecker? = nil) -> [(String, ClaimCheck.Verdict)] {
        (checker ?? RationaleChecker(spec: elite)).check(text).map { ($0.claim.quote.lowercased(), $0.verdict) }
    }

    func assertOnly(_ text: String, _ verdict: ClaimCheck.Verdict, count: Int = 1, file: StaticString = #filePath, line: UInt = #line) {
        let v = RationaleChecker(spec: elite).check(text)
        XCTAssertEqual(v.count, count, "claims in \"\(text)\": \(v.map(\.description))", file: file, line: line)
        for c in v { XCTAssertEqual(c.verdict, verdict, c.description, file: file, line: line) }
    }

    func testHandWrittenTrueClaims() {
        assertOnly("The last stage uses 7x7 kernels.", .true)
        assertOnly("Stage 2 uses 5×5 kernels.", .true)
        assertOnly("stages[3] has squeeze-and-excitation with ratio 0.5.", .true)
        assertOnly("Stage 3 uses LeakyReLU.", .true)
        assertOnly("Downsampling happens in stages 1, 2, 3 and 5.", .true)
        assertOnly("The network has five stages.", .true)
        assertOnly("No SE in the first stage.", .true)
        assertOnly("The first two stages are depthwise separable blocks.", .true)
        assertOnly("Stage 4 keeps stride 1.", .true)
        assertOnly("Expansion ratio of 3 in the last stage.", .true)
        assertOnly("Channels grow from 16 to 128.", .true, count: 2)  // range + "channels grow" trend
        assertOnly("The second stage uses residual connections.", .true)
        assertOnly("There are 12 layers in total.", .true)
        assertOnly("The final stage has 128 output channels.", .true)
    }

    func testHandWrittenFalseClaimsWithEvidence() {
        let c = RationaleChecker(spec: elite).check("We use 7x7 kernels in the first stage.")
        XCTAssertEqual(c.count, 1)
        XCTAssertEqual(c[0].verdict, .false)
        XCTAssertEqual(c[0].evidence, "stages[0].kernel = 3")
        XCTAssertEqual(c[0].description, "claim \"We use 7x7 kernels in the first stage.\" — false: stages[0].kernel = 3")
        assertOnly("ReLU6 is used throughout.", .false)
        assertOnly("Stage 4 uses an expansion ratio of 6.", .false)
        assertOnly("The network never uses squeeze-and-excitation.", .false)
        assertOnly("All stages use residual connections.", .false)
        assertOnly("Stage 4 downsamples.", .false)
        assertOnly("The first stage is an MBConv block.", .false)
        assertOnly("Swish activations are used.", .false)
        assertOnly("Stage 7 uses 3x3 kernels.", .false)
        // A residual setting that gives no shortcut (one stride-2 layer) does not count.
        var s = elite
        s.stages[0].skip = .residual; s.stages[0].repeats = 1
        let r = RationaleChecker(spec: s).check("Stage 1 uses a residual connection.")
        XCTAssertEqual(r.map(\.verdict), [.false])
        XCTAssertTrue(r[0].evidence.contains("no layer gets a shortcut"), r[0].evidence)
    }

    func testScopeBindingInOneClause() {
        let v = verdicts("Stage 1 uses 3x3 kernels and stage 5 uses 5x5 kernels.")
        XCTAssertEqual(v.map(\.1), [.true, .false])
        let w = verdicts("3x3 kernels in stage 1 and 7x7 kernels in stage 5.")
        XCTAssertEqual(w.map(\.1), [.true, .true])
        // Block-named scopes: "the MBConv stages" = stages 2, 3, 4.
        let m = RationaleChecker(spec: elite).check("There are no residual connections in the MBConv stages.")
        XCTAssertEqual(m.map(\.verdict), [.true])
        XCTAssertEqual(m[0].claim.scope.stages, [2, 3, 4])
        XCTAssertTrue(m[0].claim.negated)
    }

    func testMetricAndEffectClaimsNeedNumbers() {
        let text = "Total MACs are around 86M, under the 100M budget. Peak SRAM stays below 100 KB. Swapping 7x7 for 5x5 in the last stage reduces MACs."
        let plain = RationaleChecker(spec: elite).check(text)
        XCTAssertTrue(plain.filter { if case .kernel = $0.claim.property { return false }; return true }.allSatisfy { $0.verdict == .unverifiable })
        var child = elite; child.stages[4].kernel = 5
        let lim = ExplainLimits(target: .stm32h743, budget: .paper)
        let parent = ExplainCandidate(spec: elite, proposer: "p")
        let e = Explainer(limits: lim).explain(ExplainCandidate(spec: child, proposer: "llm", parentHash: parent.hash), archive: [parent])
        let checks = RationaleChecker(spec: child, explanation: e).check(text)
        func verdict(_ p: (ClaimProperty) -> Bool) -> ClaimCheck.Verdict? { checks.first { p($0.claim.property) }?.verdict }
        XCTAssertEqual(verdict { if case .metricValue(.macs, .about, _) = $0 { return true }; return false },
                       abs(Double(e.macs) - 86e6) <= 0.15 * 86e6 ? .true : .false)
        XCTAssertEqual(verdict { $0 == .fitsBudget }, e.fits ? .true : .false)
        XCTAssertEqual(verdict { if case .metricValue(.sram, .atMost, 102_400) = $0 { return true }; return false },
                       e.peakSRAMBytes <= 102_400 ? .true : .false)
        XCTAssertEqual(verdict { $0 == .effect(.macs, increase: false) }, .true, checks.map(\.description).joined(separator: "\n"))
    }

    /// Sloppy, LLM-style prose (markdown bullets, mixed case, hedges, numbers as words).
    func testSloppyLLMText() {
        let text = """
        **Design rationale:**
        - I went with a 5-stage network, the early layers use light-weight depthwise separable convs (3x3) to keep activation memory low
        - stage 3 switches to MBConv w/ expansion factor 3 and leaky relu,, which should help accuracy!!
        - Squeeze-Excitation (ratio 0.25) is applied in stage four to recalibrate channels
        - the final block uses big 7×7 kernels; stride 2 there halves the resolution again.
        - i avoided residual connections entirely to save SRAM
        Overall this should stay well within the 320KB SRAM budget :)
        """
        let checks = RationaleChecker(spec: elite).check(text)
        let byQuote = Dictionary(checks.map { ($0.claim.quote.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byQuote["5-stage"]?.verdict, .true)
        XCTAssertEqual(byQuote["depthwise separable"]?.verdict, .true)
        XCTAssertEqual(byQuote["mbconv"]?.verdict, .true)
        XCTAssertEqual(byQuote["expansion factor 3"]?.verdict, .true)
        XCTAssertEqual(byQuote["leaky relu"]?.verdict, .true)
        // Stage four has SE 0.5, not 0.25.
        let se = checks.first { if case .seRatio = $0.claim.property { return true }; return false }
        XCTAssertEqual(se?.verdict, .false)
        XCTAssertEqual(se?.evidence, "stages[3].se_ratio = 0.5")
        XCTAssertEqual(byQuote["7×7"]?.verdict, .true)
        // Stage 2 has a residual: "avoided residual connections entirely" is false.
        let res = checks.first { $0.claim.property == .shortcut }
        XCTAssertEqual(res?.verdict, .false)
        XCTAssertEqual(res?.claim.negated, true)
        XCTAssertTrue(res?.evidence.contains("stages[1].skip = residual") ?? false, res?.evidence ?? "")
        // "within the 320KB SRAM budget" = peak SRAM ≤ 320 KB; no cost report given: unverifiable.
        XCTAssertEqual(checks.first { $0.claim.property == .metricValue(.sram, .atMost, 327_680) }?.verdict, .unverifiable)
        XCTAssertGreaterThanOrEqual(checks.count, 10, checks.map(\.description).joined(separator: "\n"))
    }

    func testTextWithoutClaims() {
        XCTAssertEqual(RationaleChecker(spec: elite).check("This should work well. Trust me.").count, 0)
        XCTAssertEqual(RationaleChecker(spec: elite).check("").count, 0)
    }
}
