import XCTest
import TinyForgeSpec
@testable import TinyForgeLLM

final class ResponseParserTests: XCTestCase {
    let parser = ResponseParser()
    let item = #"{"rationale": "small and fast", "stages": [{"block": "conv", "kernel": 3}]}"#

    func candidates(_ text: String) throws -> ParsedReply { try parser.parseCandidates(text) }

    func kind(_ text: String, _ p: ResponseParser = ResponseParser()) -> ReplyParseError.Kind? {
        do { _ = try p.parseCandidates(text); return nil } catch let e as ReplyParseError { return e.kind } catch { return nil }
    }

    func testCleanJSONNeedsNoRepair() throws {
        let r = try candidates(#"{"candidates": [\#(item), \#(item)]}"#)
        XCTAssertEqual(r.candidates.count, 2)
        XCTAssertEqual(r.repairs, [])
        XCTAssertFalse(r.truncated)
    }

    func testCodeFence() throws {
        let r = try candidates("Here you go:\n```json\n{\"candidates\": [\(item)]}\n```\nHope it helps!")
        XCTAssertEqual(r.candidates.count, 1)
        XCTAssertTrue(r.repairs.contains { $0.contains("code fence") }, "\(r.repairs)")
    }

    func testProseAroundJSONWithStrayBrackets() throws {
        let r = try candidates("Sure [1]. I considered {SRAM}. {\"candidates\": [\(item)]} Let me know.")
        XCTAssertEqual(r.candidates.count, 1)
        XCTAssertTrue(r.repairs.contains { $0.contains("ignored") }, "\(r.repairs)")
        guard case .object(let o) = r.candidates[0] else { return XCTFail("took the stray [1] for the reply") }
        XCTAssertEqual(o["rationale"], "small and fast")
    }

    func testTrailingCommasAndRawNewlines() throws {
        let r = try candidates("{\"candidates\": [{\"rationale\": \"line one\nline two\", \"stages\": [{\"kernel\": 3,},],},]}")
        XCTAssertEqual(r.candidates.count, 1)
        XCTAssertTrue(r.repairs.contains("removed 4 trailing comma(s)"), "\(r.repairs)")
        XCTAssertTrue(r.repairs.contains { $0.contains("control character") })
        guard case .object(let o) = r.candidates[0] else { return XCTFail() }
        XCTAssertEqual(o["rationale"], "line one\nline two")
    }

    func testCommaInsideStringIsKept() throws {
        let r = try candidates(#"{"candidates": [{"rationale": "a,]b", "stages": [],}]}"#)
        guard case .object(let o) = r.candidates[0] else { return XCTFail() }
        XCTAssertEqual(o["rationale"], "a,]b")
    }

    func testShapes() throws {
        XCTAssertEqual(try candidates("[\(item), \(item)]").candidates.count, 2)
        XCTAssertEqual(try candidates(item).candidates.count, 1)
        let other = try candidates(#"{"architectures": [\#(item)], "note": "x"}"#)
        XCTAssertEqual(other.candidates.count, 1)
        XCTAssertTrue(other.repairs.contains { $0.contains("architectures") })
        XCTAssertEqual(kind(#"{"answer": 42}"#), .wrongShape)
        XCTAssertEqual(kind(#"{"candidates": []}"#), .wrongShape)
        XCTAssertEqual(kind("42"), .wrongShape)
    }

    func testTruncatedReplyKeepsOnlyCompleteCandidates() throws {
        let full = #"{"candidates": [\#(item), \#(item), {"rationale": "third", "stages": [{"block": "mbc"#
        let r = try parser.parseCandidates(full, cutOff: true)
        XCTAssertTrue(r.truncated)
        XCTAssertEqual(r.candidates.count, 2)
        XCTAssertTrue(r.repairs.contains { $0.contains("cut off") && $0.contains("2 complete") }, "\(r.repairs)")
        // Top-level array form.
        XCTAssertEqual(try candidates("[\(item), {\"stages\": [").candidates.count, 1)
        // Cut inside the first candidate: nothing complete, a clear error for the LLM.
        do {
            _ = try parser.parseCandidates(#"{"candidates": [{"rationale": "x", "stages": [{"kernel": 3}, {"ker"#, cutOff: true)
            XCTFail("expected truncated")
        } catch let e as ReplyParseError {
            XCTAssertEqual(e.kind, .truncated)
            XCTAssertTrue(e.message.contains("token limit"), e.message)
            XCTAssertTrue(e.feedback.contains("cut off"), e.feedback)
        }
    }

    func testEmptyGarbageAndEnormous() {
        XCTAssertEqual(kind(""), .empty)
        XCTAssertEqual(kind(" \n\t "), .empty)
        XCTAssertEqual(kind("I cannot help with that."), .noJSON)
        XCTAssertEqual(kind("{candidates: [stages: 3]}"), .invalid)
        XCTAssertEqual(kind(String(repeating: "a", count: 300_000)), .tooLarge)
        XCTAssertEqual(kind("{\"candidates\": [\(item)]}", ResponseParser(maxChars: 20)), .tooLarge)
    }

    func testFeedbackIsPhrasedForTheModel() {
        do { _ = try parser.parseCandidates("no json here") } catch let e as ReplyParseError {
            XCTAssertTrue(e.feedback.contains("{\"candidates\""), e.feedback)
            XCTAssertFalse(e.description.isEmpty)
        } catch { XCTFail("\(error)") }
    }
}
