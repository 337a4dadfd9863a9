import Foundation
import TinyForgeLLM
import TinyForgeSearch
import XCTest

/// The run config keeps the LLM sampling and the screening settings across a store round trip
/// (what `--resume` uses), and configs written before they existed still decode (as off).
final class SearchConfigCodingTests: XCTestCase {
    func testSamplingAndScreeningSurviveTheStore() throws {
        var c = testConfig(proposer: "llm+random")
        c.llm = LLMSampling(model: "smollm2", temperature: 1.5, topP: nil, minP: 0.1, maxTokens: 1800, preset: "paper")
        c.screen = 3
        c.screenBy = .accuracy
        let dir = temporaryDirectory(self)
        _ = try RunStore.create(directory: dir, config: c)
        let back = try RunStore.open(directory: dir).config()
        XCTAssertEqual(back, c)
        XCTAssertTrue(back.jsonText().contains("\"min_p\" : 0.1"), back.jsonText())
        let report = try RunReport(store: try RunStore.open(directory: dir))
        XCTAssertTrue(report.text().contains("LLM sampling: model smollm2, temperature 1.5, top_p server default, min_p 0.1, max_tokens 1800 (preset paper)"),
                      report.text())
        XCTAssertTrue(report.text().contains("surrogate screening: 3× candidates per slot, the best by predicted accuracy"))
    }

    func testOldConfigsDecodeWithSamplingAndScreeningOff() throws {
        var text = testConfig().jsonText()
        XCTAssertFalse(text.contains("\"llm\""))
        XCTAssertFalse(text.contains("\"screen"))
        let c = try SearchConfig.decode(text, source: "test")
        XCTAssertNil(c.llm)
        XCTAssertNil(c.screen)
        XCTAssertNil(c.screenBy)
    }

    func testBadStoredSamplingIsRejectedNamingTheFlag() {
        var c = testConfig(proposer: "llm")
        c.llm = LLMSampling(minP: 2)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--llm-min-p"), "\($0)") }
    }
}
