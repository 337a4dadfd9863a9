import Foundation
import XCTest
@testable import TinyForgeSpec

/// The strict JSON reader (duplicate keys, number grammar, range) and the Int64 size bound of
/// architectures: each used to pass silently or fail with an internal DecodingError text.
final class StrictJSONTests: XCTestCase {
    func error(_ text: String, source: String = "a.json") -> String {
        do { _ = try JSONValue.parse(text, source: source); return "" } catch { return "\(error)" }
    }

    func testDuplicateKeyNamesItsPath() {
        let e = error(#"{"stages": [{"kernel": 3, "kernel": "5"}]}"#)
        XCTAssertTrue(e.hasPrefix("a.json: stages[0].kernel: duplicate key"), e)
        XCTAssertTrue(e.contains("line 1, column 27"), e)
        XCTAssertTrue(error(#"{"a": 1, "b": {"a": 2}}"#).isEmpty, "the same key in different objects is fine")
    }

    func testNumberGrammarAndRange() {
        XCTAssertTrue(error(#"{"num_classes": 1e400}"#).contains("num_classes: number 1e400 is out of range"), error(#"{"num_classes": 1e400}"#))
        XCTAssertTrue(error(#"{"x": -1e400}"#).contains("x: number -1e400 is out of range"))
        XCTAssertTrue(error(#"{"input": {"height": 01}}"#).contains("input.height: number 01 has a leading zero"), error(#"{"input": {"height": 01}}"#))
        XCTAssertTrue(error(#"{"a": [1.]}"#).contains("a[0]: number 1. needs digits after the decimal point"), error(#"{"a": [1.]}"#))
        XCTAssertTrue(error(#"{"a": 1e}"#).contains("needs digits in its exponent"))
        XCTAssertTrue(error(#"{"a": -}"#).contains("must be followed by digits"))
        XCTAssertTrue(error(#"{"a": .5}"#).contains("is not valid JSON"))
        XCTAssertEqual(try JSONValue.parse(#"[0, -0.5, 1e3, 2E-2, 1.5e+2, 123456789012]"#),
                       .array([0, -0.5, 1000, 0.02, 150, .number(123456789012)]))
    }

    func testMalformedTextKeepsTheFamiliarWordingWithALocation() {
        let e = error("{\n  \"a\": 1,\n  \"b\" 2\n}")
        XCTAssertTrue(e.hasPrefix("a.json: is not valid JSON: expected ':' after the key, found '2' at line 3, column 7"), e)
        XCTAssertTrue(error(#"{"a": 1} x"#).contains("unexpected text after the end"))
        XCTAssertTrue(error(#"{"a": tru}"#).contains("expected true"))
        XCTAssertTrue(error("{\"a\": \"x\ny\"}").contains("control character"))
        XCTAssertTrue(error(#"{"a": "\q"}"#).contains("unknown escape"))
        XCTAssertTrue(error(#"{"a": 1,}"#).contains("expected a quoted key"))
        XCTAssertTrue(error(#"[1, 2"#).contains("is not valid JSON"))
    }

    func testStringsEscapesAndBOM() throws {
        XCTAssertEqual(try JSONValue.parse(#"["a\"b\\c\/\n\t", "\u00e9\ud83d\ude00"]"#), .array(["a\"b\\c/\n\t", "é😀"]))
        XCTAssertTrue(error(#"["\ud83d"]"#).contains("unpaired surrogate"))
        XCTAssertEqual(try JSONValue.parse(Data([0xEF, 0xBB, 0xBF] + Array(#"{"a": true, "b": null}"#.utf8))),
                       .object(["a": true, "b": .null]))
        XCTAssertThrowsError(try JSONValue.parse(Data([0x22, 0xFF, 0x22]))) { e in XCTAssertTrue("\(e)".contains("not valid UTF-8"), "\(e)") }
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertTrue(error(deep).contains("nests deeper than 512 levels"), String(error(deep).prefix(200)))
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        XCTAssertTrue(error(ok).isEmpty)
    }

    func testArchitectureDecodeReportsDuplicateKeysWithPath() {
        let text = #"{"input": {"height": 32}, "num_classes": 10, "num_classes": "ten", "stages": [{"block": "conv", "out_channels": 8}]}"#
        XCTAssertThrowsError(try ArchitectureSpec.decode(jsonText: text, source: "arch.json")) { e in
            XCTAssertTrue("\(e)".hasPrefix("arch.json: num_classes: duplicate key"), "\(e)")
        }
    }

    func testCheckedArithmetic() {
        XCTAssertEqual(Checked.mul(1 << 31, 1 << 31), 1 << 62)
        XCTAssertNil(Checked.mul(1 << 32, 1 << 31))
        XCTAssertNil(Checked.add(Int.max, 1))
        XCTAssertEqual(Checked.product([2048, 2048, 8192]), 2048 * 2048 * 8192)
        XCTAssertNil(Checked.product([2048, 2048, 8192, 8192, 8192, 4]))
        XCTAssertEqual(Checked.sum([1, 2, 3]), 6)
        XCTAssertNil(Checked.sum([Int.max / 2, Int.max / 2, 2]))
    }

    /// Every field in range, but 2048 layers of 2048×2048×131072-wide fused convs: the MAC
    /// total (~10²¹) used to wrap to 617,926,354,010,112 in release builds.
    func testNetworkWhoseTotalsExceedInt64IsRejectedWithAPath() {
        let stage = #"{"block": "fused_mbconv", "repeats": 64, "out_channels": 8192, "expansion": 16, "kernel": 11, "stride": 1}"#
        let text = #"{"input": {"height": 2048, "channels": 64}, "num_classes": 10, "stages": ["# + Array(repeating: stage, count: 32).joined(separator: ",") + "]}"
        XCTAssertThrowsError(try ArchitectureSpec.decode(jsonText: text, source: "huge.json")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.hasPrefix("stages[0]"), s)
            XCTAssertTrue(s.contains("exceed Int64") && s.contains("smaller input"), s)
        }
        // A big but countable network still validates.
        let big = #"{"input": {"height": 2048}, "num_classes": 1000, "stages": [{"block": "mbconv", "repeats": 8, "out_channels": 512, "expansion": 6, "kernel": 5, "stride": 2}]}"#
        XCTAssertNoThrow(try ArchitectureSpec.decode(jsonText: big))
    }
}
