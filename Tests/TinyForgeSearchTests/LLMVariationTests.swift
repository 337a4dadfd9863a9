import Foundation
import GRDB
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// The LLM as evolution's / NSGA-II's variation operator (`evolution+llm`, `nsga2+llm`).
final class LLMVariationTests: XCTestCase {
    /// Good answers: every child of the round comes from one request, carries its lineage and
    /// says it was written by the model.
    func testGoodAnswersBecomeLLMChildrenFromOneRequest() async throws {
        let (archive, seen) = try scoredArchive(8)
        let client = ScriptedLLMClient(always: .children)
        let evo = EvolutionProposer(populationSize: 8, tournamentSize: 3, variation: llmVariation(client))
        XCTAssertEqual(evo.name, "evolution+llm")
        var ctx = llmContext(archive: archive, seen: seen)
        let ps = try await evo.propose(count: 4, context: &ctx)
        XCTAssertEqual(client.requests.count, 1, "one exchange for the whole round")
        XCTAssertEqual(ctx.llmRequests, 1)
        let llm = ps.filter { ($0.change ?? "").hasPrefix("llm mutation: stages[") }
        XCTAssertGreaterThanOrEqual(llm.count, 3, ps.map { $0.change ?? "" }.joined(separator: "\n"))
        for p in ps {
            XCTAssertEqual(p.proposer, "evolution+llm")
            XCTAssertEqual(p.parents.count, 1)
            XCTAssertTrue(archive.evaluated.contains { $0.hash == p.parents[0] })
        }
        for p in llm {
            XCTAssertTrue(p.change!.contains(".kernel 3→5") || p.change!.contains(".kernel 5→3"), p.change!)
            XCTAssertEqual(p.rationale, "scripted child")
        }
        XCTAssertEqual(ps.flatMap(\.exchanges).count, 1, "the exchange is attached once")
        XCTAssertFalse(ps[0].exchanges.isEmpty)
        // The request: one ask per selected parent, json schema for exactly that many children.
        let user = client.requests[0].messages.last!.content
        XCTAssertEqual(ScriptedLLMClient.asks(user).count, 4)
        XCTAssertTrue(user.contains("HARD BUDGET"))
        var v = testValidator(seen: seen)
        let accepted = ps.filter { if case .success = v.validate($0, iteration: 5) { return true }; return false }
        XCTAssertEqual(accepted.count, 4)
    }

    /// Every kind of unusable answer: the model's child (or the failed round) is returned and
    /// rejected by the validator with a reason, and a classic fallback child fills in. (With
    /// repair off: over-budget and out-of-space children are then unusable too.)
    func testUnusableAnswersAreRecordedWithReasonsAndFallBack() async throws {
        let (archive, seen) = try scoredArchive(8)
        let refused = OpenAICompatibleClient(config: LLMConfig(baseURL: "http://127.0.0.1:1", timeoutSeconds: 2, retries: 0), environment: [:])
        let cases: [(String, LLMClient, Rejection.Kind, String)] = [
            ("garbage", ScriptedLLMClient(always: .text("I think a bigger network would be better!")), .llm, "no JSON"),
            ("empty", ScriptedLLMClient(always: .text("")), .llm, "empty"),
            ("wrong shape", ScriptedLLMClient(always: .text("{\"answer\": 42}")), .llm, "candidates"),
            ("out of space", ScriptedLLMClient(always: .outOfSpace), .space, "kernel: 9"),
            ("duplicate", ScriptedLLMClient(always: .copyParent), .duplicate, "duplicate"),
            ("over budget", ScriptedLLMClient(always: .overBudget), .budget, "peak SRAM"),
            ("timeout", ScriptedLLMClient(always: .timeout), .llm, "timeout"),
            ("refused", refused, .llm, "connection"),
        ]
        let requests = Array(archive.evaluated.prefix(3)).map(VariationRequest.mutation)
        for (name, client, kind, needle) in cases {
            var ctx = llmContext(archive: archive, seen: seen)
            let outcomes = try await llmVariation(client, repair: false).vary(requests, proposer: "evolution+llm", context: &ctx)
            XCTAssertEqual(outcomes.count, 3, name)
            XCTAssertTrue(outcomes.allSatisfy(\.hasChild), "\(name): the classic fallback must still give every parent a child")
            let all = outcomes.flatMap(\.proposals)
            let fromLLM = all.filter { ($0.change ?? "").hasPrefix("llm ") }
            let fallbacks = all.filter { ($0.change ?? "").hasPrefix("classic fallback: ") }
            XCTAssertFalse(fromLLM.isEmpty, "\(name): the unusable answer is recorded")
            XCTAssertGreaterThanOrEqual(fallbacks.count, 3, name)
            for f in fallbacks { XCTAssertTrue(f.rationale?.contains(needle) == true, "\(name): \(f.rationale ?? "nil")") }
            XCTAssertEqual(all.flatMap(\.exchanges).count, 1, "\(name): the round's exchange is stored once")
            // What the controller would record for the model's proposals.
            var v = testValidator(seen: seen)
            for p in fromLLM {
                guard case .failure(let r) = v.validate(p, iteration: 5) else { return XCTFail("\(name): accepted \(p.change!)") }
                XCTAssertEqual(r.kind, kind, "\(name): \(r.reason)")
                XCTAssertFalse(r.reason.isEmpty)
            }
            for o in outcomes { XCTAssertTrue(o.proposals.last.map { ($0.change ?? "").hasPrefix("classic fallback: ") } ?? false) }
        }
    }

    /// With repair on, the model's over-budget and out-of-space children are repaired (origin
    /// llm+repair, the original kept, the edits in `change`) and used; a repair that lands on an
    /// architecture already seen is still a duplicate, and then the fallback fills in.
    func testOverBudgetAndOutOfSpaceChildrenAreRepaired() async throws {
        let (archive, seen) = try scoredArchive(8)
        let requests = Array(archive.evaluated.prefix(3)).map(VariationRequest.mutation)
        for (name, answer) in [("over budget", ScriptedLLMClient.Answer.overBudget), ("out of space", .outOfSpace)] {
            var ctx = llmContext(archive: archive, seen: seen)
            let outcomes = try await llmVariation(ScriptedLLMClient(always: answer)).vary(requests, proposer: "evolution+llm", context: &ctx)
            XCTAssertTrue(outcomes.allSatisfy(\.hasChild), name)
            let fromLLM = outcomes.map { $0.proposals[0] }
            XCTAssertTrue(fromLLM.allSatisfy { $0.proposer == "llm+repair" && $0.repair != nil }, name)
            var v = testValidator(seen: seen)
            var used = 0
            for (o, p) in zip(outcomes, fromLLM) {
                XCTAssertTrue(p.change!.hasPrefix("llm mutation: ") && p.change!.contains("; repaired: "), p.change!)
                guard let original = p.repair?.original else { return XCTFail("\(name): not repaired: \(p.repairFailure ?? "")") }
                XCTAssertNotEqual(original, p.spec!)
                XCTAssertFalse(testValidator().check(original).isAccepted, "\(name): the original did not fit")
                switch v.validate(p, iteration: 5) {
                case .success: used += 1; XCTAssertEqual(o.proposals.count, 1, "no fallback needed")
                case .failure(let r):
                    XCTAssertEqual(r.kind, .duplicate, "\(name): \(r.reason)")
                    XCTAssertTrue(o.proposals.last!.change!.hasPrefix("classic fallback: "))
                }
            }
            XCTAssertGreaterThan(used, 0, "\(name): no repaired child was usable")
            XCTAssertEqual(outcomes.flatMap(\.proposals).flatMap(\.exchanges).count, 1)
        }
    }

    /// A reply with fewer items than asks: the missing children come from the fallback.
    func testMissingChildrenFallBack() async throws {
        let (archive, seen) = try scoredArchive(8)
        var ctx = llmContext(archive: archive, seen: seen)
        let requests = Array(archive.evaluated.prefix(3)).map(VariationRequest.mutation)
        let outcomes = try await llmVariation(ScriptedLLMClient(always: .tooFew)).vary(requests, proposer: "e", context: &ctx)
        XCTAssertTrue(outcomes[0].proposals[0].change!.hasPrefix("llm mutation: "))
        for o in outcomes.dropFirst() {
            XCTAssertTrue(o.proposals.allSatisfy { $0.change!.hasPrefix("classic fallback: ") })
            XCTAssertTrue(o.proposals[0].rationale!.contains("none for child"), o.proposals[0].rationale!)
        }
    }

    /// However many rounds an iteration needs, the LLM is asked at most `maxRequestsPerIteration` times.
    func testLLMRequestsPerIterationAreBounded() async throws {
        let (archive, seen) = try scoredArchive(8)
        for limit in [1, 2] {
            // A fallback that never produces a child forces the proposer through every round.
            let client = ScriptedLLMClient(always: .copyParent)
            let evo = EvolutionProposer(populationSize: 8, tournamentSize: 2,
                                        variation: llmVariation(client, maxRequests: limit, fallback: NoChildVariation()),
                                        maxAttemptsPerProposal: 5)
            var ctx = llmContext(archive: archive, seen: seen)
            _ = try await evo.propose(count: 3, context: &ctx)
            XCTAssertEqual(client.requests.count, limit)
            let nsgaClient = ScriptedLLMClient(always: .copyParent)
            let nsga = NSGA2Proposer(populationSize: 8, variation: llmVariation(nsgaClient, maxRequests: limit, fallback: NoChildVariation()),
                                     maxAttemptsPerProposal: 5)
            var ctx2 = llmContext(archive: archive, seen: seen)
            _ = try await nsga.propose(count: 3, context: &ctx2)
            XCTAssertEqual(nsgaClient.requests.count, limit)
        }
    }

    /// Whole runs through the controller and the store: every proposal accounted for, the
    /// exchanges stored, NSGA-II asks for crossovers; the same seed gives the same run, and a
    /// crashed-then-resumed run the same as an uninterrupted one.
    func testRunsAreRecordedDeterministicAndResumable() async throws {
        // Good answers mostly; garbage, a timeout and copies in between.
        // Answers depend on the request seed only (a deterministic server).
        let script: @Sendable (Int, UInt64) -> ScriptedLLMClient.Answer = { _, seed in
            [.children, .children, .text("no idea"), .children, .timeout, .copyParent][Int(seed % 6)]
        }
        for name in ["evolution+llm", "nsga2+llm"] {
            let config = testConfig(proposer: name, trials: 24, batch: 3)
            func proposer(_ client: ScriptedLLMClient = ScriptedLLMClient(script)) -> Proposer {
                var base = config
                base.proposer = String(name.dropLast(4))
                return base.makeClassicProposer(variation: llmVariation(client))!
            }
            let client = ScriptedLLMClient(script)
            let (store, summary) = try await runSearch(config, in: temporaryDirectory(self, "a-\(name)"), proposer: proposer(client))
            XCTAssertEqual(summary.status, "done")
            XCTAssertEqual(summary.evaluations, 24)
            let rows = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT proposer, status, reason, change, parents_json FROM candidates ORDER BY id")
            }
            var llmDone = 0, fallbackDone = 0
            for r in rows {
                XCTAssertTrue([name, "llm+repair", "mutation+repair", "crossover+repair"].contains(r["proposer"] as String), r["proposer"] as String)
                let status: String = r["status"], change: String = r["change"] ?? ""
                if status == "rejected" { XCTAssertFalse((r["reason"] as String? ?? "").isEmpty) }
                if status == "done" && change.hasPrefix("llm ") { llmDone += 1 }
                if status == "done" && change.hasPrefix("classic fallback: ") { fallbackDone += 1 }
                if change.hasPrefix("llm ") || change.hasPrefix("classic fallback") { XCTAssertNotEqual(r["parents_json"] as String, "[]") }
            }
            XCTAssertGreaterThan(llmDone, 0, name)
            XCTAssertGreaterThan(fallbackDone, 0, name)
            let (exchanges, failures, crossovers, withoutOwner) = try store.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exchanges WHERE proposer = ?", arguments: [name])!,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exchanges WHERE error IS NOT NULL")!,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM candidates WHERE change LIKE 'llm crossover%'")!,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exchanges WHERE candidate_id IS NULL AND duplicate_id IS NULL")!)
            }
            let iterations = try store.read { try Int.fetchOne($0, sql: "SELECT next_iteration FROM runs")! }
            XCTAssertGreaterThan(exchanges, 0)
            XCTAssertLessThanOrEqual(exchanges, iterations, "at most one LLM request per iteration")
            let seeds = client.requests.map { Int(($0.seed ?? 0) % 6) }
            XCTAssertEqual(exchanges, seeds.count)
            XCTAssertEqual(failures, seeds.filter { $0 == 4 }.count, "every timeout is stored with its error")
            XCTAssertTrue(seeds.contains { [2, 4, 5].contains($0) }, "\(name): this seed never gave an unusable answer: \(seeds)")
            XCTAssertEqual(withoutOwner, 0)
            if name == "nsga2+llm" { XCTAssertGreaterThan(crossovers, 0) }

            // Same seed, same run; a crash and resume changes nothing.
            let (again, _) = try await runSearch(config, in: temporaryDirectory(self, "b-\(name)"), proposer: proposer())
            XCTAssertEqual(try table(again), try table(store), name)
            let dir = temporaryDirectory(self, "c-\(name)")
            let (_, s1) = try await runSearch(config, in: dir, proposer: proposer(), stopAfter: 7)
            XCTAssertEqual(s1.status, "interrupted")
            let (resumed, s2) = try await runSearch(config, in: dir, proposer: proposer())
            XCTAssertEqual(s2.status, "done")
            XCTAssertEqual(try table(resumed), try table(store), "\(name): resumed run differs")
        }
    }

    func table(_ store: RunStore) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT hash, status, change FROM candidates ORDER BY id").map {
                "\($0["hash"] as String) \($0["status"] as String) \($0["change"] as String? ?? "")"
            }
        }
    }
}

/// A variation operator that never makes a child.
struct NoChildVariation: VariationOperator {
    var name: String { "none" }
    func mutate(_ spec: ArchitectureSpec, parents: [EvaluatedCandidate], proposer: String, context: inout ProposalContext) async throws -> Proposal? { nil }
    func crossover(_ a: EvaluatedCandidate, _ b: EvaluatedCandidate, proposer: String, context: inout ProposalContext) async throws -> Proposal? { nil }
}
