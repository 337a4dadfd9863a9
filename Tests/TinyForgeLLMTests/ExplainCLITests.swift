import XCTest
import Foundation
import TinyForgeSpec
import TinyForgeSearch

/// `tinyforge explain RUN --llm` end to end: the built binary, a small synthetic search, and
/// the loopback server as the LLM. Needs the `tinyforge` binary next to the test bundle.
final class ExplainCLITests: XCTestCase {
    var binary: URL!

    override func setUpWithError() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: ExplainCLITests.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        binary = b
    }

    /// Runs the binary with `llmURL` as TINYFORGE_LLM_URL (nil = unset); (status, stdout + stderr).
    func run(_ args: [String], llmURL: String?) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["TINYFORGE_LLM_URL"] = llmURL
        p.environment = env
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("explain-cli-\(getpid())-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let h = try FileHandle(forWritingTo: out)
        p.standardOutput = h
        p.standardError = h
        try p.run()
        p.waitUntilExit()
        try h.close()
        defer { try? FileManager.default.removeItem(at: out) }
        return (p.terminationStatus, try String(contentsOf: out, encoding: .utf8))
    }

    func llmExplanation(_ dir: URL) throws -> JSONValue {
        let twin = try JSONValue.parse(try String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8))
        guard case .object(let o) = twin else { throw XCTSkip("report.json is not an object") }
        return o["llm_explanation"] ?? .null
    }

    func testExplainWithLLMChecksStoresAndDegradesToTheDeterministicExplanation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-explain-llm-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let search = try run(["search", "--space", "mcu28", "--dataset", "synthetic:classes=10", "--target", "stm32f746",
                              "--sram", "320KB", "--flash", "1MB", "--macs", "20M", "--proposer", "random", "--trials", "14",
                              "--batch", "4", "--workers", "1", "--evaluator", "synthetic", "--seed", "3", "--run", dir.path], llmURL: nil)
        XCTAssertEqual(search.0, 0, search.1)

        // --llm without an endpoint: a usage error naming the variable.
        let noURL = try run(["explain", dir.path, "--llm"], llmURL: nil)
        XCTAssertEqual(noURL.0, 2)
        XCTAssertTrue(noURL.1.contains("TINYFORGE_LLM_URL"), noURL.1)

        // Unreachable: the deterministic report, one note, no LLM text.
        let down = try run(["explain", dir.path, "--llm"], llmURL: "http://127.0.0.1:\(LoopbackHTTPServer.closedPort())")
        XCTAssertEqual(down.0, 0, down.1)
        XCTAssertEqual(down.1.components(separatedBy: "\n").filter { $0.hasPrefix("note: LLM explanation skipped") }.count, 1, down.1)
        XCTAssertEqual(try llmExplanation(dir), .null)

        // Reachable: the reply's claims checked, a false one marked false, stored in the run.
        let content = JSONValue.object(["sentences": ["The network has 99 stages (F1).", "It fits the budget (F3)."]]).canonicalText()
        let server = try LoopbackHTTPServer([.json(200, ClientTests.chatReply(content))])
        defer { server.stop() }
        let up = try run(["explain", dir.path, "--llm"], llmURL: server.baseURL)
        XCTAssertEqual(up.0, 0, up.1)
        XCTAssertTrue(up.1.contains("[false] \"99 stages\""), up.1)
        XCTAssertTrue(up.1.contains("[true]"), up.1)
        let prompt = try XCTUnwrap(server.received.first?.body)
        XCTAssertTrue(prompt.contains("[budget] Budget use: ") && prompt.contains("[peak] Peak SRAM"), "facts in the prompt")
        guard case .object(let stored) = try llmExplanation(dir), case .object(let counts)? = stored["counts"],
              case .string(let hash)? = stored["hash"] else { return XCTFail("no llm_explanation in report.json") }
        XCTAssertEqual(counts["false"], .number(1))
        XCTAssertEqual(counts["true"], .number(1))
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Explanation by the LLM (smollm2), fact-checked"))
        guard case .object(let row)? = try RunStore.open(directory: dir).storedExplanation(hash: hash) else {
            return XCTFail("chosen explanation not stored")
        }
        XCTAssertEqual(row["llm_explanation"], .object(stored), "stored with the chosen model's explanation")

        // Explaining again without --llm keeps the stored text.
        let again = try run(["explain", dir.path], llmURL: nil)
        XCTAssertEqual(again.0, 0, again.1)
        XCTAssertEqual(try llmExplanation(dir), .object(stored))
    }
}
