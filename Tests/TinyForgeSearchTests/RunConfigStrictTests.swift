import XCTest
@testable import TinyForgeSearch

/// The run configuration is decoded by JSONDecoder, which lets a duplicate key (the first
/// wins, even with the wrong type) or `01` through; the strict pre-pass names the JSON path.
final class RunConfigStrictTests: XCTestCase {
    func testDuplicateKeyAndBadNumbersInTheRunConfigAreErrors() throws {
        let text = testConfig().jsonText()
        XCTAssertEqual(try SearchConfig.decode(text, source: "config.json").jsonText(), text)
        let dup = text.replacingOccurrences(of: "{\n", with: "{\n  \"trials\" : \"many\",\n", options: .anchored)
        XCTAssertThrowsError(try SearchConfig.decode(dup, source: "config.json")) { e in
            XCTAssertTrue("\(e)".hasPrefix("config.json: trials: duplicate key"), "\(e)")
        }
        let r = try XCTUnwrap(text.range(of: #""trials" : \d+"#, options: .regularExpression))
        for (bad, want) in [("01", "has a leading zero"), ("1.", "needs digits after the decimal point"), ("1e400", "is out of range")] {
            let t = text.replacingCharacters(in: r, with: "\"trials\" : \(bad)")
            XCTAssertThrowsError(try SearchConfig.decode(t, source: "config.json")) { e in
                XCTAssertTrue("\(e)".hasPrefix("config.json: trials: number \(bad) \(want)"), "\(e)")
            }
        }
    }
}
