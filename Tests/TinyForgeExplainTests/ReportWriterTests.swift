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
