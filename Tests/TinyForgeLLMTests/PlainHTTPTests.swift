import XCTest
@testable import TinyForgeLLM

/// The HTTP/1.1 reader behind `PlainHTTP` (every ClientTests case goes through the client itself
/// over loopback); here the framings the loopback server does not produce.
final class PlainHTTPTests: XCTestCase {
    private func parse(_ chunks: [String], max: Int = 1 << 20, eof: Bool = false) -> HTTPResponseParser {
        var p = HTTPResponseParser(maxBodyBytes: max)
        for c in chunks { XCTAssertTrue(p.feed(ArraySlice(Array(c.utf8)))) }
        if eof { p.finishAtEOF() }
        return p
    }

    func testContentLengthBodySplitAcrossReads() {
        let p = parse(["HTTP/1.1 200 OK\r\nContent-Le", "ngth: 11\r\nX-A: b\r\n\r\nhello", " world"])
        XCTAssertTrue(p.isComplete)
        XCTAssertEqual(p.status, 200)
        XCTAssertEqual(p.headers["x-a"], "b")
        XCTAssertEqual(String(decoding: p.body, as: UTF8.self), "hello world")
    }

    func testIncompleteContentLengthIsNotComplete() {
        let p = parse(["HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nshort"], eof: true)
        XCTAssertFalse(p.isComplete, "a body cut short must not pass as a reply")
    }

    func testChunkedBodyWithExtensionsAndSplitCRLF() {
        let p = parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhel", "lo\r", "\n6\r\n world\r\n0\r\n\r\n"])
        XCTAssertTrue(p.isComplete)
        XCTAssertEqual(String(decoding: p.body, as: UTF8.self), "hello world")
    }

    func testBodyFramedByConnectionClose() {
        var p = parse(["HTTP/1.0 500 Internal\r\n\r\n{\"error\":\"x\"}"])
        XCTAssertFalse(p.isComplete)
        p.finishAtEOF()
        XCTAssertTrue(p.isComplete)
        XCTAssertEqual(p.status, 500)
        XCTAssertEqual(String(decoding: p.body, as: UTF8.self), "{\"error\":\"x\"}")
    }

    func testBodyBeyondTheCapKeepsOnlyCapPlusOne() {
        let p = parse(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "a", count: 100)], max: 10)
        XCTAssertTrue(p.isComplete)
        XCTAssertEqual(p.body.count, 11, "cap + 1 bytes: enough for the caller to refuse the reply as too large")
    }

    func testNotHTTPIsRefused() {
        var p = HTTPResponseParser(maxBodyBytes: 100)
        XCTAssertFalse(p.feed(ArraySlice(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8))))
    }

    func testUnknownHostAndClosedPortAreTypedErrors() {
        let r1 = PlainHTTP.post(.init(host: "no-such-host.invalid", port: 80, target: "/", headers: [], body: Data(),
                                      timeoutSeconds: 5, maxBodyBytes: 10))
        XCTAssertEqual(r1.error?.code, .cannotFindHost)
        let r2 = PlainHTTP.post(.init(host: "127.0.0.1", port: Int(LoopbackHTTPServer.closedPort()), target: "/", headers: [],
                                      body: Data(), timeoutSeconds: 5, maxBodyBytes: 10))
        XCTAssertEqual(r2.error?.code, .cannotConnectToHost)
    }
}
