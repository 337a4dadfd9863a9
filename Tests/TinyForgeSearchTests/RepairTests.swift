import XCTest
import TinyForgeHardware
import TinyForgeSpec
@testable import TinyForgeSearch

/// `SpecRepair`: every constraint, every out-of-space field, minimality, idempotence, determinism,
/// and a repair that cannot fit.
final class RepairTests: XCTestCase {
    let huge = Budget(sramBytes: 1 << 30, flashBytes: 1 << 30, macs: 1 << 40)

    /// A large mcu28 network: wide mbconv stages at full resolution with SE.
    func bigSpec() -> ArchitectureSpec {
        ArchitectureSpec(input: InputShape(height: 28, width: 28, channels: 1), numClasses: 10,
                         stem: StemSpec(outChannels: 24, kernel: 3, stride: 1, activation: .relu6),
                         stages: [StageSpec(block: .mbconv, repeats: 2, outChannels: 48, kernel: 5, stride: 1, expansion: 4, seRatio: 0.25),
                                  StageSpec(block: .mbconv, repeats: 3, outChannels: 64, kernel: 5, stride: 2, expansion: 4, seRatio: 0.25),
                                  StageSpec(block: .dsconv, repeats: 2, outChannels: 64, kernel: 5, stride: 2, seRatio: 0.25)],
                         head: HeadSpec(convChannels: 0, dropout: 0.1))
    }

    func repairer(_ b: Budget) -> SpecRepair { SpecRepair(space: .mcu28, target: .stm32f746, budget: b) }

    func cost(_ s: ArchitectureSpec, _ b: Budget) -> CostReport { CostModel.evaluate(s, target: .stm32f746, budget: b) }

    /// Budgets with exactly one binding constraint at 70 % of the big network's figure.
    func singleLimits() -> [(BudgetViolation.Kind, Budget)] {
        let c = cost(bigSpec(), huge)
        return [(.sram, Budget(sramBytes: c.peakSRAMBytes * 7 / 10, flashBytes: 1 << 30, macs: 1 << 40)),
                (.flash, Budget(sramBytes: 1 << 30, flashBytes: c.flash.total * 7 / 10, macs: 1 << 40)),
                (.macs, Budget(sramBytes: 1 << 30, flashBytes: 1 << 30, macs: c.macs * 7 / 10))]
    }

    func testEveryConstraintIsRepairedAtTheBindingPlace() throws {
        XCTAssertTrue(SearchSpace.mcu28.contains(bigSpec()))
        for (kind, b) in singleLimits() {
            let before = cost(bigSpec(), b)
            XCTAssertEqual(before.violations.map(\.kind), [kind])
            guard case let .repaired(fixed, edits) = repairer(b).repair(bigSpec()) else { return XCTFail("\(kind): not repaired") }
            XCTAssertTrue(cost(fixed, b).fits, "\(kind)")
            XCTAssertTrue(SearchSpace.mcu28.contains(fixed))
            XCTAssertFalse(edits.isEmpty)
            let places = repairer(b).bindingPlaces(before).map(\.description)
            XCTAssertTrue(places.contains { edits[0].path.hasPrefix($0) }, "\(kind): first edit \(edits[0]) not at \(places)")
        }
    }

    /// No shorter sequence of the same moves fits: every sequence up to one edit shorter is tried.
    func testFewestEdits() throws {
        var checked = 0
        for (kind, b) in singleLimits() {
            let r = repairer(b)
            guard case let .repaired(_, edits) = r.repair(bigSpec()) else { return XCTFail("\(kind)") }
            var level = [bigSpec()]
            for depth in 0..<edits.count {
                XCTAssertFalse(level.contains { cost($0, b).fits }, "\(kind): a sequence of \(depth) edits fits, repair used \(edits.count)")
                level = level.flatMap { s in r.moves(s, report: cost(s, b)).map(\.0) }
                    .filter { (try? $0.validate()) != nil && SearchSpace.mcu28.contains($0) }
                checked += level.count
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    func testIdempotentAndDeterministic() throws {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            let s = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
            let b = Budget(sramBytes: 24 * 1024, flashBytes: 64 * 1024, macs: 1_500_000)
            let first = repairer(b).repair(s), second = repairer(b).repair(s)
            switch (first, second) {
            case let (.repaired(a, ea), .repaired(c, ec)):
                XCTAssertEqual(a, c); XCTAssertEqual(ea, ec)
                guard case .unchanged = repairer(b).repair(a) else { return XCTFail("repairing a repaired spec changed it") }
            case (.unchanged, .unchanged): XCTAssertTrue(cost(s, b).fits)
            case let (.failed(x), .failed(y)): XCTAssertEqual(x, y)
            default: XCTFail("two repairs of the same spec differ")
            }
        }
        guard case .unchanged = repairer(huge).repair(bigSpec()) else { return XCTFail("a fitting spec was changed") }
    }

    /// Each out-of-space value snaps to the nearest allowed one (ties: the smaller), one edit each.
    func testEveryOutOfSpaceFieldSnaps() throws {
        let cases: [(String, (inout ArchitectureSpec) -> Void, String)] = [
            ("stages[0].kernel", { $0.stages[0].kernel = 9 }, "9→5"),
            ("stages[0].out_channels", { $0.stages[0].outChannels = 40 }, "40→32"),
            ("stages[1].repeats", { $0.stages[1].repeats = 6 }, "6→3"),
            ("stages[1].stride", { $0.stages[1].stride = 3 }, "3→2"),
            ("stages[0].expansion", { $0.stages[0].expansion = 6 }, "6→4"),
            ("stages[0].se_ratio", { $0.stages[0].seRatio = 0.5 }, "0.5→0.25"),
            ("stages[0].activation", { $0.stages[0].activation = .swish }, "swish→relu"),
            ("stages[0].skip", { $0.stages[0].skip = .residualFull }, "residual_full→none"),
            ("stages[2].block", { $0.stages[2].block = .basic; $0.stages[2].seRatio = 0 }, "basic→conv"),
            ("stem.out_channels", { $0.stem!.outChannels = 12 }, "12→8"),
            ("input.channels", { $0.input.channels = 3 }, "3→1"),
            ("head.conv_channels", { $0.head.convChannels = 16 }, "16→0"),
            ("stages", { $0.stages += [$0.stages[2], $0.stages[2]] }, "5 items→4 items"),
            ("stem", { $0.stem = nil }, "none→added"),
        ]
        for (path, breakIt, change) in cases {
            var s = bigSpec()
            breakIt(&s)
            XCTAssertFalse(SearchSpace.mcu28.contains(s), path)
            guard case let .repaired(fixed, edits) = repairer(huge).repair(s) else { return XCTFail("\(path): not repaired") }
            XCTAssertEqual(edits.map(\.description), ["\(path) \(change)"], path)
            XCTAssertTrue(SearchSpace.mcu28.contains(fixed), "\(path): \(SearchSpace.mcu28.violations(of: fixed))")
        }
        var res = bigSpec(); res.input = InputShape(height: 32, width: 32, channels: 1)
        guard case let .repaired(fixed, edits) = repairer(huge).repair(res) else { return XCTFail("resolution") }
        XCTAssertEqual(fixed.input.height, 28)
        XCTAssertEqual(edits.map(\.description), ["input.height 32→28", "input.width 32→28"])
    }

    /// Out of the space and over budget at once: snapped first, then shrunk.
    func testSnapThenShrink() throws {
        var s = bigSpec(); s.stages[0].kernel = 7
        let b = singleLimits()[0].1
        guard case let .repaired(fixed, edits) = repairer(b).repair(s) else { return XCTFail("not repaired") }
        XCTAssertEqual(edits.first?.description, "stages[0].kernel 7→5")
        XCTAssertGreaterThan(edits.count, 1)
        XCTAssertTrue(cost(fixed, b).fits && SearchSpace.mcu28.contains(fixed))
    }

    /// A budget nothing in the space meets: a failure with the reason, and the validator's rejection says so.
    func testRepairThatCannotFitIsARejectionWithItsReason() throws {
        let tiny = Budget(sramBytes: 512, flashBytes: 1 << 30, macs: 1 << 40)
        guard case .failed(let why) = repairer(tiny).repair(bigSpec()) else { return XCTFail("repaired into 512 B?") }
        XCTAssertTrue(why.contains("peak SRAM"), why)
        var ctx = try testContext()
        ctx.budget = tiny
        ctx.validator = CandidateValidator(space: .mcu28, task: testTask, target: .stm32f746, budget: tiny)
        let p = ctx.repaired(Proposal(.spec(bigSpec()), proposer: "llm"), origin: "llm+repair")
        XCTAssertNil(p.repair)
        XCTAssertEqual(p.proposer, "llm")
        var v = ctx.validator
        guard case .failure(let r) = v.validate(p, iteration: 0) else { return XCTFail("accepted") }
        XCTAssertEqual(r.kind, .budget)
        XCTAssertTrue(r.reason.contains("; repair failed: "), r.reason)
    }

    /// Mutation children over the budget are repaired (origin mutation+repair), not discarded;
    /// with repair off they come back over budget as before.
    func testClassicMutationChildrenAreRepaired() async throws {
        let c = cost(bigSpec(), huge)
        let b = Budget(sramBytes: c.peakSRAMBytes, flashBytes: c.flash.total, macs: c.macs)  // the parent just fits
        let os = try ObjectiveSpace(objectives: ObjectiveSpace.defaultObjectives(for: b), budget: b)
        let parent = EvaluatedCandidate(id: 1, hash: bigSpec().canonicalHash, spec: bigSpec(), cost: CostSummary(c),
                                        result: EvaluationResult(status: .ok, valAccuracy: 0.8), proposer: "evolution")
        var repaired = 0
        for seed in UInt64(1)...40 {
            var ctx = ProposalContext(space: .mcu28, task: testTask, target: .stm32f746, budget: b, archive: ParetoArchive(objectiveSpace: os),
                                      recentRejections: [], iteration: 0, rng: SeededGenerator(seed: seed),
                                      validator: CandidateValidator(space: .mcu28, task: testTask, target: .stm32f746, budget: b))
            var plain = ctx
            guard let p = try await ClassicVariation().mutate(bigSpec(), parents: [parent], proposer: "evolution", context: &ctx),
                  let q = try await ClassicVariation(repair: false).mutate(bigSpec(), parents: [parent], proposer: "evolution", context: &plain)
            else { continue }
            XCTAssertEqual(p.repair?.original ?? p.spec, q.spec, "same draw, same child before repair")
            if cost(q.spec!, b).fits { XCTAssertNil(p.repair); continue }
            repaired += 1
            XCTAssertEqual(p.proposer, "mutation+repair")
            XCTAssertEqual(p.parents, [parent.hash] as [String])
            XCTAssertTrue(cost(p.spec!, b).fits)
        }
        XCTAssertGreaterThan(repaired, 0, "no mutation went over the budget in 40 draws")
    }

    /// Through the context: relabelled, original kept, duplicates untouched.
    func testContextRepairRelabelsAndKeepsTheOriginal() throws {
        var ctx = try testContext()
        let b = singleLimits()[2].1
        ctx.budget = b
        ctx.validator = CandidateValidator(space: .mcu28, task: testTask, target: .stm32f746, budget: b)
        let p = ctx.repaired(Proposal(.spec(bigSpec()), proposer: "llm", change: "llm idea"), origin: "llm+repair")
        XCTAssertEqual(p.proposer, "llm+repair")
        XCTAssertEqual(p.repair?.original, bigSpec())
        XCTAssertEqual(p.repair?.originalProposer, "llm")
        XCTAssertTrue(p.change!.hasPrefix("llm idea; repaired: stages["), p.change!)
        XCTAssertTrue(ctx.check(p.spec!).isAccepted)
        ctx.reserve(p.spec!)
        let again = ctx.repaired(Proposal(.spec(p.spec!), proposer: "llm"), origin: "llm+repair")
        XCTAssertNil(again.repair, "a duplicate is not repaired into something new")
    }
}
