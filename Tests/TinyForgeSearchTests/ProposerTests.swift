import GRDB
import TinyForgeHardware
import TinyForgeSearch
import TinyForgeSpec
import XCTest

final class ValidationTests: XCTestCase {
    func testEveryRejectionKindWithItsReason() throws {
        var v = testValidator()
        var rng = SeededGenerator(seed: 4)
        // Decode failure keeps the decoder's message.
        guard case .failure(let r1) = v.validate(Proposal(.text("{\"stages\": [ oops"), proposer: "llm"), iteration: 0) else { return XCTFail() }
        XCTAssertEqual(r1.kind, .decode); XCTAssertTrue(r1.reason.contains("not valid JSON"), r1.reason)
        // The same garbage again is a duplicate.
        guard case .failure(let r1b) = v.validate(Proposal(.text("{\"stages\": [ oops"), proposer: "llm"), iteration: 0) else { return XCTFail() }
        XCTAssertEqual(r1b.kind, .duplicate)
        // Outside the space: kernel 7 is not in mcu28.
        var spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        spec.stages[0].kernel = 7
        guard case .failure(let r2) = v.validate(Proposal(.spec(spec), proposer: "t"), iteration: 0) else { return XCTFail() }
        XCTAssertEqual(r2.kind, .space)
        XCTAssertTrue(r2.reason.contains("stages[0].kernel: 7 is not one of 3, 5"), r2.reason)
        // Wrong class count.
        var s3 = try SearchSpace.mcu28.sample(numClasses: 100, using: &rng)
        s3.name = "x"
        guard case .failure(let r3) = v.validate(Proposal(.spec(s3), proposer: "t"), iteration: 0) else { return XCTFail() }
        XCTAssertEqual(r3.kind, .task)
        // Over budget: the reason is exactly the cost model's violation messages.
        var big: ArchitectureSpec!
        repeat { big = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng) }
        while CostModel.evaluate(big, target: .stm32f746, budget: testBudget).fits
        guard case .failure(let r4) = v.validate(Proposal(.spec(big), proposer: "t"), iteration: 2) else { return XCTFail() }
        XCTAssertEqual(r4.kind, .budget)
        XCTAssertEqual(r4.reason, CostModel.evaluate(big, target: .stm32f746, budget: testBudget).violations.map(\.message).joined(separator: "; "))
        XCTAssertNotNil(r4.cost)
        // A fitting one is accepted once, then a duplicate — also a renamed copy (canonical hash).
        var ok: ArchitectureSpec!
        repeat { ok = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng) }
        while !CostModel.evaluate(ok, target: .stm32f746, budget: testBudget).fits
        guard case .success = v.validate(Proposal(.spec(ok), proposer: "t"), iteration: 3) else { return XCTFail() }
        var renamed = ok!; renamed.name = "another name"
        guard case .failure(let r5) = v.validate(Proposal(.text(renamed.jsonText()), proposer: "t"), iteration: 3) else { return XCTFail() }
        XCTAssertEqual(r5.kind, .duplicate)
        // Rejected specs are duplicates too when proposed again.
        guard case .failure(let r6) = v.validate(Proposal(.spec(big), proposer: "t"), iteration: 4) else { return XCTFail() }
        XCTAssertEqual(r6.kind, .duplicate)
    }
}

/// A proposer that answers like a language model: text, some of it broken, with exchanges.
struct ScriptedTextProposer: Proposer {
    var name: String { "scripted" }
    func propose(count: Int, context: inout ProposalContext) async throws -> [Proposal] {
        var out: [Proposal] = []
        let ex = ExchangeRecord(model: "fake-model", prompt: "iteration \(context.iteration); rejections so far \(context.recentRejections.count)",
                                response: "…", latencyMs: 12.5, promptTokens: 100, completionTokens: 40)
        out.append(Proposal(.text("not json at all \(context.iteration)"), proposer: name, rationale: "broken", exchanges: [ex]))
        for _ in 0..<count * 20 where out.count <= count {
            let s = try context.space.sample(numClasses: 10, using: &context.rng)
            if context.check(s).isAccepted {
                out.append(Proposal(.text(s.jsonText()), proposer: name, rationale: "fits the budget"))
                context.reserve(s)
            }
        }
        return out
    }
}

/// Counts calls, delegates to the classic operator: proves evolution's variation is pluggable.
final class CountingVariation: VariationOperator, @unchecked Sendable {
    var name: String { "counting" }
    var mutations = 0, crossovers = 0
    func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String, context: inout ProposalContext) async throws -> Proposal? {
        mutations += 1
        var p = try await ClassicVariation().mutate(spec, parents: parents, proposer: proposer, context: &context)
        p?.rationale = "counted"
        return p
    }
    func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String, context: inout ProposalContext) async throws -> Proposal? {
        crossovers += 1
        return try await ClassicVariation().crossover(a, b, proposer: proposer, context: &context)
    }
}

final class ProposerTests: XCTestCase {
    func testClassicProposersStayInSpaceUniqueAndRecordRejections() async throws {
        for name in ["random", "evolution", "nsga2"] {
            let dir = temporaryDirectory(self, name)
            let (store, summary) = try await runSearch(testConfig(proposer: name, trials: 36), in: dir)
            XCTAssertEqual(summary.status, "done")
            XCTAssertEqual(summary.evaluations, 36)
            let rows = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT hash, spec_json, status, reason, rejection_kind, parents_json FROM candidates WHERE run_id = ?", arguments: [store.runID])
            }
            XCTAssertEqual(Set(rows.map { $0["hash"] as String }).count, rows.count, name)
            var rejected = 0, withParents = 0
            for r in rows {
                let spec = try ArchitectureSpec.decode(jsonText: r["spec_json"]).spec
                XCTAssertEqual(spec.canonicalHash, r["hash"] as String)
                XCTAssertEqual(SearchSpace.mcu28.violations(of: spec), [], name)
                let fits = CostModel.evaluate(spec, target: .stm32f746, budget: testBudget).fits
                if (r["status"] as String) == "done" { XCTAssertTrue(fits) }
                if (r["status"] as String) == "rejected" {
                    rejected += 1
                    XCTAssertEqual(r["rejection_kind"] as String?, "budget")
                    XCTAssertFalse(fits)
                    XCTAssertFalse((r["reason"] as String? ?? "").isEmpty)
                }
                if (r["parents_json"] as String) != "[]" { withParents += 1 }
            }
            XCTAssertGreaterThan(rejected, 0, "\(name): the tight budget should reject some samples")
            if name != "random" { XCTAssertGreaterThan(withParents, 0, "\(name) should produce children with lineage") }
            XCTAssertGreaterThan(summary.hypervolume, 0)
        }
    }

    func testEvolutionUsesThePluggableVariation() async throws {
        let counting = CountingVariation()
        let config = testConfig(proposer: "evolution", trials: 24)
        let proposer = EvolutionProposer(populationSize: 8, tournamentSize: 3, variation: counting)
        let (store, _) = try await runSearch(config, in: temporaryDirectory(self), proposer: proposer)
        XCTAssertGreaterThan(counting.mutations, 0)
        let counted = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM candidates WHERE rationale = 'counted'") }
        XCTAssertGreaterThan(counted ?? 0, 0)
        let nsga = NSGA2Proposer(populationSize: 8, variation: counting)
        _ = try await runSearch(testConfig(proposer: "nsga2", trials: 24), in: temporaryDirectory(self, "n"), proposer: nsga)
        XCTAssertGreaterThan(counting.crossovers, 0)
    }

    func testTextProposalsExchangesAndFeedback() async throws {
        let (store, summary) = try await runSearch(testConfig(trials: 12), in: temporaryDirectory(self), proposer: ScriptedTextProposer())
        XCTAssertEqual(summary.evaluations, 12)
        let (decodeRejects, exchanges, lastPrompt) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM candidates WHERE rejection_kind = 'decode' AND raw_text LIKE 'not json%'")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exchanges WHERE model = 'fake-model' AND prompt_tokens = 100")!,
             try String.fetchOne(db, sql: "SELECT prompt FROM exchanges ORDER BY id DESC LIMIT 1")!)
        }
        XCTAssertEqual(decodeRejects, 3)   // one per iteration of 4
        XCTAssertEqual(exchanges, 3)
        XCTAssertEqual(lastPrompt, "iteration 2; rejections so far 2") // rejections fed back through the context
    }

    func testProposerRNGDependsOnlyOnSeedAndIteration() async throws {
        var a = try testContext(iteration: 7), b = try testContext(iteration: 7), c = try testContext(iteration: 8)
        let pa = try await RandomProposer().propose(count: 4, context: &a).compactMap { $0.spec?.canonicalHash }
        let pb = try await RandomProposer().propose(count: 4, context: &b).compactMap { $0.spec?.canonicalHash }
        let pc = try await RandomProposer().propose(count: 4, context: &c).compactMap { $0.spec?.canonicalHash }
        XCTAssertEqual(pa, pb)
        XCTAssertNotEqual(pa, pc)
        XCTAssertEqual(Set(pa).count, pa.count)
    }
}
