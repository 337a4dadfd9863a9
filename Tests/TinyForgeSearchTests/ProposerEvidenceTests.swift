import Foundation
import GRDB
import TinyForgeHardware
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// `ProposerEvidence.compute` on a hand-built store whose every number is known, and on real
/// searches (totals must add up to the store's own counts).
final class ProposerEvidenceTests: XCTestCase {
    /// Distinct specs of mcu28 that fit `testBudget`.
    func fittingSpecs(_ n: Int) throws -> [(ArchitectureSpec, CostReport)] {
        var rng = SeededGenerator(seed: 7)
        var out: [(ArchitectureSpec, CostReport)] = [], seen = Set<String>()
        let v = testValidator()
        while out.count < n {
            let s = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
            if case let .accepted(hash, cost) = v.check(s), seen.insert(hash).inserted { out.append((s, cost)) }
        }
        return out
    }

    func cost(sram: Int) -> CostSummary { CostSummary(macs: 1_000_000, params: 1000, peakSRAMBytes: sram, flashBytes: 10_000, latencyMs: 1) }

    /// Evolution+llm-style rows: random initial samples (one duplicate, one failed training),
    /// LLM children (accepted, unparseable, over SRAM and MACs, outside the space, screened
    /// out), a classic fallback mutation, a crossover and an `llm+repair` proposal. The archive
    /// is 2-D (accuracy, SRAM) so the hypervolumes are hand-computable.
    func testHandBuiltStoreGivesTheKnownNumbers() throws {
        let dir = temporaryDirectory(self)
        let store = try RunStore.create(directory: dir, config: testConfig(proposer: "evolution+llm"))
        let s = try fittingSpecs(6)
        func accepted(_ i: Int, change: String, parents: [String] = [], proposer: String = "evolution+llm") -> ProposalOutcome {
            .accepted(AcceptedCandidate(spec: s[i].0, hash: s[i].0.canonicalHash, cost: s[i].1,
                                        proposal: Proposal(.spec(s[i].0), proposer: proposer, parents: parents, change: change)))
        }
        func rejected(_ kind: Rejection.Kind, hash: String, change: String, parents: [String] = [], cost: CostSummary? = nil) -> ProposalOutcome {
            .rejected(Proposal(.text("{}"), proposer: "evolution+llm", parents: parents, change: change),
                      Rejection(kind: kind, reason: kind.rawValue, hash: hash, proposer: "evolution+llm", iteration: 0, cost: cost))
        }
        let (hA, hB) = (s[0].0.canonicalHash, s[1].0.canonicalHash)
        let ids0 = try store.recordIteration(0, outcomes: [
            accepted(0, change: "random initial sample"), accepted(1, change: "random initial sample"),
            accepted(2, change: "random initial sample"), rejected(.duplicate, hash: hA, change: "random initial sample"),
        ])
        let over = CostSummary(macs: 6_000_000, params: 1000, peakSRAMBytes: 70_000, flashBytes: 10_000, latencyMs: 1)
        let ids1 = try store.recordIteration(1, outcomes: [
            accepted(3, change: "llm mutation: stages[0].kernel 3→5", parents: [hA]),
            rejected(.decode, hash: "text-1", change: "llm mutation failed: no JSON", parents: [hA]),
            rejected(.budget, hash: "h-over", change: "llm mutation: stages[1].repeats 1→4", parents: [hA], cost: over),
            rejected(.space, hash: "text-2", change: "llm crossover rejected before validation: kernel 9", parents: [hA, hB]),
            rejected(.screened, hash: "h-screened", change: "llm mutation: stages[2].kernel 3→7", parents: [hB]),
            accepted(4, change: "classic fallback: stages[1].kernel 3→5", parents: [hA]),
            accepted(5, change: "crossover", parents: [hA, hB]),
        ])
        // An origin this version does not know (another engineer's repair) stays itself.
        let repaired = try fittingSpecs(7)[6]
        let ids2 = try store.recordIteration(2, outcomes: [
            .accepted(AcceptedCandidate(spec: repaired.0, hash: repaired.0.canonicalHash, cost: repaired.1,
                                        proposal: Proposal(.spec(repaired.0), proposer: "llm+repair"))),
        ])
        XCTAssertEqual(ids0.count, 3); XCTAssertEqual(ids1.count, 3); XCTAssertEqual(ids2.count, 1)
        // Proxy results (rung 0) and the archive with hand-chosen SRAM for the 2-D hypervolume.
        let os = try ObjectiveSpace(objectives: [.accuracy, .sram], budget: testBudget)
        var archive = ParetoArchive(objectiveSpace: os)
        let plan: [(Int64, Int, Double?, Int)] = [(ids0[0], 0, 0.5, 16384), (ids0[1], 1, 0.7, 32768), (ids0[2], 2, nil, 8192),
                                                  (ids1[0], 3, 0.8, 49152), (ids1[1], 4, 0.6, 49152), (ids1[2], 5, 0.9, 57344)]
        for (id, i, acc, sram) in plan {
            let result = acc.map { EvaluationResult(status: .ok, valAccuracy: $0, epochs: 3) } ?? .failed("worker crashed")
            try store.recordEvaluation(candidateID: id, result: result, hypervolume: 0, frontSize: 0)
            archive.add(EvaluatedCandidate(id: id, hash: s[i].0.canonicalHash, spec: s[i].0, cost: cost(sram: sram), result: result,
                                           proposer: "evolution+llm"))
        }
        // Front (1−acc, sram/64K): G (0.1, .875), D (0.2, .75), B (0.3, .5), A (0.5, .25) → HV 0.5125.
        XCTAssertEqual(archive.hypervolume, 0.5125, accuracy: 1e-12)
        let ev = try ProposerEvidence.compute(store: store, archive: archive, budget: testBudget)
        XCTAssertEqual(ev.map(\.origin), ["crossover", "llm+repair", "llm-variation", "mutation", "random"])
        let by = Dictionary(uniqueKeysWithValues: ev.map { ($0.origin, $0) })

        let random = by["random"]!
        XCTAssertEqual([random.proposals, random.accepted, random.duplicates, random.trained, random.failedTraining, random.frontMembers],
                       [4, 3, 1, 2, 1, 2])
        XCTAssertEqual(random.meanProxyAccuracy!, 0.6, accuracy: 1e-12)
        XCTAssertEqual(random.medianProxyAccuracy!, 0.6, accuracy: 1e-12)
        XCTAssertEqual(random.hypervolumeContribution, 0.5125 - 0.2125, accuracy: 1e-12)

        let llm = by["llm-variation"]!
        XCTAssertEqual([llm.proposals, llm.accepted, llm.parseFailures, llm.overBudget, llm.outOfSpace, llm.screenedOut, llm.duplicates,
                        llm.trained, llm.frontMembers], [5, 1, 1, 1, 1, 1, 0, 1, 1])
        XCTAssertEqual(llm.overBudgetBy, ["sram": 1, "macs": 1])
        XCTAssertEqual(llm.meanProxyAccuracy!, 0.8, accuracy: 1e-12)
        XCTAssertEqual(llm.hypervolumeContribution, 0.5125 - 0.5, accuracy: 1e-12)

        let mutation = by["mutation"]!
        XCTAssertEqual([mutation.proposals, mutation.trained, mutation.frontMembers], [1, 1, 0])
        XCTAssertEqual(mutation.hypervolumeContribution, 0)
        XCTAssertEqual(mutation.meanProxyAccuracy!, 0.6, accuracy: 1e-12)
        let crossover = by["crossover"]!
        XCTAssertEqual([crossover.proposals, crossover.trained, crossover.frontMembers], [1, 1, 1])
        XCTAssertEqual(crossover.hypervolumeContribution, 0.0125, accuracy: 1e-12)
        let repair = by["llm+repair"]!
        XCTAssertEqual([repair.proposals, repair.accepted, repair.trained], [1, 1, 0])
        XCTAssertNil(repair.meanProxyAccuracy)

        // The text table and the JSON carry the same numbers.
        let text = ProposerEvidence.table(ev, score: "val_acc").joined(separator: "\n")
        XCTAssertTrue(text.contains("llm-variation"), text)
        XCTAssertTrue(text.contains("0.3000"), text)
        guard case .object(let lj) = llm.jsonValue, case .object(let rj) = random.jsonValue else { return XCTFail("not objects") }
        XCTAssertEqual(lj["over_budget_by"], ["sram": 1, "macs": 1])
        XCTAssertEqual(rj["front_members"], 2)
    }

    func testOriginClassification() {
        typealias E = ProposerEvidence
        XCTAssertEqual(E.origin(proposer: "llm", change: nil, parentCount: 0), "llm")
        XCTAssertEqual(E.origin(proposer: "random", change: nil, parentCount: 0), "random")
        XCTAssertEqual(E.origin(proposer: "evolution", change: "random initial sample", parentCount: 0), "random")
        XCTAssertEqual(E.origin(proposer: "evolution", change: "stages[1].kernel 3→5", parentCount: 1), "mutation")
        XCTAssertEqual(E.origin(proposer: "nsga2", change: "crossover + stages[0].repeats 1→2", parentCount: 2), "crossover")
        XCTAssertEqual(E.origin(proposer: "nsga2+llm", change: "llm crossover: 3 field(s) differ", parentCount: 2), "llm-variation")
        XCTAssertEqual(E.origin(proposer: "evolution+llm", change: "classic fallback: crossover", parentCount: 2), "crossover")
        XCTAssertEqual(E.origin(proposer: "evolution+llm", change: "classic fallback: stages[0].kernel 3→5", parentCount: 1), "mutation")
        XCTAssertEqual(E.origin(proposer: "evolution+llm", change: "llm+repair: narrowed stages[2]", parentCount: 1), "llm+repair")
        XCTAssertEqual(E.origin(proposer: "some-new-proposer", change: "x", parentCount: 3), "some-new-proposer")
    }

    /// On real searches the per-origin numbers add up to the store's totals, and `runs show`'s
    /// JSON carries them.
    func testTotalsAddUpOnRealSearches() async throws {
        for proposer in ["random", "evolution", "nsga2"] {
            let dir = temporaryDirectory(self, proposer)
            let (store, summary) = try await runSearch(testConfig(proposer: proposer, trials: 24, batch: 4), in: dir)
            let report = try RunReport(store: store)
            let ev = report.evidence
            let counts = try store.statusCounts()
            XCTAssertEqual(ev.reduce(0) { $0 + $1.proposals }, counts.values.reduce(0, +), proposer)
            XCTAssertEqual(ev.reduce(0) { $0 + $1.trained }, 24, proposer)
            XCTAssertEqual(ev.reduce(0) { $0 + $1.frontMembers }, summary.front.count, proposer)
            XCTAssertEqual(ev.reduce(0) { $0 + $1.duplicates }, counts["duplicate"] ?? 0, proposer)
            XCTAssertTrue(ev.allSatisfy { $0.hypervolumeContribution >= 0 && $0.hypervolumeContribution <= summary.hypervolume + 1e-12 })
            if proposer != "random" {
                XCTAssertEqual(Set(ev.map(\.origin)).isSuperset(of: ["random", "mutation"]), true, "\(proposer): \(ev.map(\.origin))")
            }
            guard case .object(let pj) = report.paretoJSON(), case .array(let rows)? = pj["proposer_evidence"] else { return XCTFail("no proposer_evidence") }
            XCTAssertEqual(rows.count, ev.count)
            XCTAssertTrue(report.text().contains("Who found the front"))
        }
    }
}
