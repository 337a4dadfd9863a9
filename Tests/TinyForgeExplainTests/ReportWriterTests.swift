import XCTest
import TinyForgeSpec
@testable import TinyForgeExplain

final class ReportWriterTests: XCTestCase {
    static let report = ReportFixture.report()

    func testHTMLIsSelfContainedAndHasEverySection() {
        var r = Self.report
        r.rationales[0].rationale += " <script>alert('x')</script> & \"quotes\""
        let html = ReportWriter.html(r)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(html.lowercased().contains("<script"), "no scripts; rationale text must be escaped")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        for bad in ["src=\"http", "href=\"http", "url(", "@import", "<link"] { XCTAssertFalse(html.contains(bad), bad) }
        XCTAssertTrue(html.contains("src=\"data:image/png;base64,"))
        for id in ["search", "chosen", "what", "per", "rationale", "saliency"] { XCTAssertTrue(html.contains("<section id=\"\(id)\""), id) }
        // Two Pareto charts, hypervolume, usage, timeline, shares, 2 bar charts + PD panels per surrogate.
        let svgs = html.components(separatedBy: "<svg").count - 1
        XCTAssertGreaterThanOrEqual(svgs, 6 + 2 * r.surrogates.count + r.surrogates.reduce(0) { $0 + $1.partialDependence.count })
        XCTAssertTrue(html.contains("li class=\"v-false\""))
        XCTAssertTrue(html.contains("li class=\"v-true\""))
        XCTAssertEqual(html.components(separatedBy: "<section").count, html.components(separatedBy: "</section>").count)
    }

    func testJSONTwinCarriesTheSameContent() throws {
        let r = Self.report
        let json = try JSONValue.parse(r.jsonValue.prettyText())
        guard case .object(let o) = json, case .array(let cands)? = o["candidates"], case .object(let chosen)? = o["chosen"],
              case .array(let sur)? = o["surrogates"], case .array(let checks)? = o["rationale_checks"] else {
            return XCTFail("missing top-level fields")
        }
        XCTAssertEqual(cands.count, r.points.count)
        XCTAssertEqual(chosen["hash"], .string(r.chosen!.hash))
        XCTAssertEqual(sur.count, r.surrogates.count)
        XCTAssertEqual(checks.count, r.rationales.count)
        // The chosen model is the most accurate fitting candidate.
        let best = r.points.filter { $0.fits && $0.valAccuracy != nil }.max { $0.valAccuracy! < $1.valAccuracy! }!
        XCTAssertEqual(best.hash, r.chosen!.hash)
        XCTAssertTrue(best.onFrontMACs && best.onFrontSRAM, "the most accurate fitting model is on both fronts")
        // Deterministic: same inputs, same bytes.
        XCTAssertEqual(ReportWriter.html(ReportFixture.report()), ReportWriter.html(r))
    }

    func testParetoFrontsAreNonDominated() {
        let pts = Self.report.points.filter { $0.fits && $0.valAccuracy != nil }
        for p in pts where p.onFrontMACs {
            XCTAssertFalse(pts.contains { $0.valAccuracy! > p.valAccuracy! && $0.macs <= p.macs })
        }
        for p in pts where !p.onFrontMACs {
            XCTAssertTrue(pts.contains { $0.valAccuracy! >= p.valAccuracy! && $0.macs <= p.macs && $0.hash != p.hash })
        }
    }
}

/// The "Who found the front" section: present with its numbers when evidence is passed in,
/// absent otherwise, and in the JSON twin.
final class ReportProposersTests: XCTestCase {
    func testWhoFoundTheFrontSectionAndJSON() throws {
        var r = ReportWriterTests.report
        XCTAssertFalse(ReportWriter.html(r).contains("<section id=\"who\""), "no evidence, no section")
        r.proposerEvidence = [
            ProposerEvidenceRow(origin: "llm-variation", proposals: 12, parseFailures: 1, outOfSpace: 2, invalid: 0, duplicates: 3,
                                overBudget: 4, overBudgetBy: ["sram": 3, "macs": 2], surplus: 0, screenedOut: 0, accepted: 2, trained: 2,
                                meanProxyAccuracy: 0.7125, medianProxyAccuracy: 0.7, frontMembers: 1, hypervolumeContribution: 0.0421),
            ProposerEvidenceRow(origin: "random <x>", proposals: 9, parseFailures: 0, outOfSpace: 0, invalid: 0, duplicates: 0,
                                overBudget: 1, overBudgetBy: ["flash": 1], surplus: 2, screenedOut: 4, accepted: 2, trained: 2,
                                meanProxyAccuracy: nil, medianProxyAccuracy: nil, frontMembers: 0, hypervolumeContribution: 0),
        ]
        let html = ReportWriter.html(r)
        XCTAssertTrue(html.contains("<section id=\"who\"><h2>Who found the front</h2>"))
        for s in ["71.25%", "4 (3 / 0 / 2)", "0.0421", "random &lt;x&gt;", "1 (0 / 1 / 0)"] { XCTAssertTrue(html.contains(s), s) }
        XCTAssertFalse(html.contains("random <x>"))
        guard case .object(let o) = try JSONValue.parse(r.jsonValue.prettyText()), case .array(let rows)? = o["who_found_the_front"],
              case .object(let first)? = rows.first else { return XCTFail("who_found_the_front missing") }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(first["origin"], "llm-variation")
        XCTAssertEqual(first["over_budget_by"], ["sram": 3, "macs": 2])
        XCTAssertEqual(first["hypervolume_contribution"], 0.0421)
    }
}
