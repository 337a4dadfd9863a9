import XCTest
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TinyForgeSpec
import TinyForgeHardware
@testable import TinyForgeLLM

/// Real requests through a real local server. Skipped unless TINYFORGE_LLM_URL is set, e.g.
/// `scripts/llm-server.sh run -- swift test --filter LocalLLMIntegrationTests`.
///
/// `TINYFORGE_LLM_MEASURE=N` adds N measured requests (latency, tokens, schema-valid rate);
/// `TINYFORGE_LLM_RECORD_DIR=dir` saves the first raw replies there as test fixtures.
final class LocalLLMIntegrationTests: XCTestCase {
    let env = ProcessInfo.processInfo.environment

    static func mcu28Context(k: Int = ProcessInfo.processInfo.environment["TINYFORGE_LLM_K"].flatMap(Int.init) ?? 3) -> PromptContext {
        PromptContext(task: LLMTask(dataset: "Fashion-MNIST", numClasses: 10, input: InputShape(height: 28, width: 28, channels: 1)),
                      target: .stm32f746, budget: Budget(sramBytes: 320 * 1024, flashBytes: 1024 * 1024, macs: nil),
                      space: .mcu28, k: k)
    }

    func liveConfig() throws -> LLMConfig {
        guard var c = try LLMConfig.fromEnvironment(env) else {
            throw XCTSkip("TINYFORGE_LLM_URL is not set (start a server: scripts/llm-server.sh run -- swift test --filter LocalLLMIntegrationTests)")
        }
        // Start from OpenAI's json_schema on purpose: llama.cpp's server refuses it, so the
        // real downgrade path runs once.
        if env["TINYFORGE_LLM_STRUCTURED"] == nil { c.structuredOutput = .jsonSchema }
        return c
    }

    func testProposalForMCU28ThroughTheLocalServer() async throws {
        let cfg = try liveConfig()
        let proposer = LLMProposer(client: makeLLMClient(cfg))
        let p = await proposer.propose(Self.mcu28Context(), seed: 20261121)
        XCTAssertNil(p.failure, p.failure ?? "")
        XCTAssertFalse(p.candidates.isEmpty)
        for c in p.candidates where !c.accepted {
            XCTAssertFalse((c.rejection ?? "").isEmpty, "candidate \(c.index) rejected without a reason")
        }
        XCTAssertTrue(p.candidates.contains { $0.accepted } || p.candidates.allSatisfy { $0.rejection != nil })
        let last = try XCTUnwrap(p.exchanges.last)
        XCTAssertEqual(last.httpStatus, 200)
        XCTAssertGreaterThan(last.latencyMs, 0)
        XCTAssertGreaterThan(last.promptTokens ?? 0, 0, "usage recorded")
        XCTAssertGreaterThan(last.completionTokens ?? 0, 0)
        print("LIVE proposal: \(p.candidates.filter(\.accepted).count)/\(p.candidates.count) accepted, exchanges \(p.exchanges.map { "\($0.httpStatus ?? 0)/\(Int($0.latencyMs))ms" }), tokens \(last.promptTokens ?? 0)+\(last.completionTokens ?? 0), est \(p.prompt.estimatedTokens), repairs \(p.repairs)")
        for c in p.candidates { print("  [\(c.index)] \(c.accepted ? "ok" : "rejected: \(c.rejection!)") \(c.raw.canonicalText().prefix(160))") }
    }

    /// N requests with fresh seeds: latency, tokens, how many replies follow the schema, how
    /// many candidates decode into the space, and how many fit the budget.
    func testMeasureRepliesOverManyRequests() async throws {
        let cfg = try liveConfig()
        guard let n = env["TINYFORGE_LLM_MEASURE"].flatMap(Int.init), n > 0 else {
            throw XCTSkip("set TINYFORGE_LLM_MEASURE=N to measure N requests")
        }
        let ctx = Self.mcu28Context()
        let prompt = PromptBuilder().build(ctx)
        let client = makeLLMClient(cfg)
        let decoder = CandidateDecoder(space: ctx.space, task: ctx.task)
        let recordDir = env["TINYFORGE_LLM_RECORD_DIR"]
        var lat: [Double] = [], ptok: [Int] = [], ctok: [Int] = []
        var schemaValid = 0, parsed = 0, items = 0, accepted = 0, fits = 0, truncated = 0
        var hashes = Set<String>()
        for i in 0..<n {
            let req = prompt.request(seed: 1000 + UInt64(i))
            var text: String, cut: Bool, ms: Double, pt: Int?, ct: Int?
            if let dir = recordDir, i < 2 {
                // Record the raw HTTP body (replayed by FixtureReplayTests): same body the client sends.
                let body = OpenAIDialect().body(for: req, config: cfg, mode: .jsonObjectSchema).canonicalText()
                let t0 = Date()
                let raw = try await rawPost(cfg, body: body)
                ms = Date().timeIntervalSince(t0) * 1000
                try raw.write(to: URL(fileURLWithPath: dir).appendingPathComponent("smollm2_mcu28_k\(ctx.k)_seed\(1000 + i).json"))
                if i == 0 { try Data(body.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("smollm2_mcu28_k\(ctx.k)_request.json")) }
                let reply = try OpenAIDialect().parseReply(try JSONValue.parse(raw))
                (text, cut, pt, ct) = (reply.text, reply.finishReason == "length", reply.promptTokens, reply.completionTokens)
            } else {
                let r = try await client.complete(req)
                let ex = r.exchanges.last!
                (text, cut, ms, pt, ct) = (r.text, r.truncated, ex.latencyMs, ex.promptTokens, ex.completionTokens)
            }
            lat.append(ms); ptok.append(pt ?? 0); ctok.append(ct ?? 0)
            if cut { truncated += 1 }
            var line = String(format: "MEASURE[%d] %.0f ms, tokens %d+%d", i, ms, pt ?? 0, ct ?? 0)
            if let v = try? JSONValue.parse(text) {
                let viol = SchemaCheck.violations(v, schema: prompt.schema)
                if viol.isEmpty { schemaValid += 1 }
                line += viol.isEmpty ? ", schema-valid" : ", schema violations: \(viol.prefix(3))"
            } else { line += ", not JSON" }
            if let pr = try? ResponseParser().parseCandidates(text, cutOff: cut) {
                parsed += 1
                let d = decoder.decode(pr.candidates)
                items += d.count
                for c in d {
                    if let s = c.spec {
                        accepted += 1; hashes.insert(s.canonicalHash)
                        let cost = CostModel.evaluate(s, target: ctx.target, budget: ctx.budget)
                        if cost.fits { fits += 1 }
                        line += " | ok MACs \(cost.macs) SRAM \(cost.peakSRAMBytes)"
                    } else { line += " | rejected: \(c.rejection!)" }
                }
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        func med(_ a: [Double]) -> Double { let s = a.sorted(); return s[s.count / 2] }
        print(String(format: "MEASURE n=%d latency median %.0f ms min %.0f max %.0f | prompt tokens %d (est %d, %d chars) | completion tokens median %.0f max %d | schema-valid %d/%d | parsed %d/%d | truncated %d | candidates %d, in space %d, distinct %d, fit budget %d",
                     n, med(lat), lat.min()!, lat.max()!, ptok.first ?? 0, prompt.estimatedTokens, prompt.characterCount,
                     med(ctok.map(Double.init)), ctok.max()!, schemaValid, n, parsed, n, truncated, items, accepted, hashes.count, fits))
        XCTAssertGreaterThan(parsed, 0)
    }

    /// The exact request body again, returning the raw reply bytes (to record fixtures).
    func rawPost(_ cfg: LLMConfig, body: String) async throws -> Data {
        var req = URLRequest(url: URL(string: cfg.normalizedBaseURL + "/v1/chat/completions")!)
        req.httpMethod = "POST"
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        req.httpBody = Data(body.utf8)
        req.timeoutInterval = 600
        return try await withCheckedThrowingContinuation { cont in
            URLSession.shared.dataTask(with: req) { d, _, e in
                if let d = d { cont.resume(returning: d) } else { cont.resume(throwing: e ?? URLError(.unknown)) }
            }.resume()
        }
    }
}
