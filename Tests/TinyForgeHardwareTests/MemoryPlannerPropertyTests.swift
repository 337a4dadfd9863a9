import XCTest
import TinyForgeSpec
@testable import TinyForgeHardware

/// Lifetimes shaped like a lowered CNN: op i reads tensor i-1 and writes tensor i; some
/// tensors are also read a few ops later (residual adds, SE scaling); some ops get a scratch
/// buffer for their own step only. Sizes shrink as the network downsamples.
func networkLikeRequests(_ rng: inout SeededGenerator, ops: Int) -> [BufferRequest] {
    var r: [BufferRequest] = []
    var spatial = 160 * 160
    for i in 0..<ops {
        if i > 0 && rng.next() % 8 == 0 && spatial > 64 { spatial /= 4 }
        let channels = [8, 16, 24, 32, 48, 64, 96, 144][Int(rng.next() % 8)]
        var lastUse = i + 1
        let roll = rng.next() % 10
        if roll < 2 { lastUse = i + 3 } else if roll < 3 { lastUse = i + 5 }
        r.append(BufferRequest(id: i, size: spatial * channels / 16,
                               firstStep: i, lastStep: min(lastUse, ops)))
        if rng.next() % 3 == 0 {
            r.append(BufferRequest(id: 10_000 + i, size: 64 * Int(1 + rng.next() % 64),
                                   firstStep: i, lastStep: i))
        }
    }
    return r
}

final class MemoryPlannerPropertyTests: XCTestCase {
    /// Thousands of seeded random lifetime sets: every plan is valid, never below the lower
    /// bound, never above TFLM; single passes and the TFLM replica are valid too.
    func testRandomLifetimesAreSafeAndNeverWorseThanTFLM() throws {
        var rng = SeededGenerator(seed: 2024)
        var improved = 0, atLowerBound = 0, total = 0
        for trial in 0..<2000 {
            let count = 1 + Int(rng.next() % 30)
            let r = randomRequests(&rng, count: count, steps: 2 + Int(rng.next() % 30),
                                   maxSize: 1 + Int(rng.next() % 2000))
            let options = MemoryPlannerOptions(alignment: [1, 4, 16][trial % 3])
            let plan = try MemoryPlanner.plan(r, options: options)
            let tflm = try MemoryPlanner.tflmGreedy(r, options: options)
            XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(plan, r), "trial \(trial)")
            XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(tflm, r), "trial \(trial)")
            XCTAssertGreaterThanOrEqual(plan.arenaBytes, plan.lowerBound, "trial \(trial)")
            XCTAssertLessThanOrEqual(plan.arenaBytes, tflm.arenaBytes, "trial \(trial)")
            XCTAssertEqual(plan.tflmArenaBytes, tflm.arenaBytes)
            if trial % 50 == 0 {
                for order in BufferOrdering.allCases {
                    for fit in GapFit.allCases {
                        let g = try MemoryPlanner.greedy(r, order: order, fit: fit, options: options)
                        XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(g, r), "\(order) \(fit)")
                        XCTAssertGreaterThanOrEqual(g.arenaBytes, plan.arenaBytes)
                    }
                }
            }
            total += 1
            if plan.arenaBytes < tflm.arenaBytes { improved += 1 }
            if plan.arenaBytes == plan.lowerBound { atLowerBound += 1 }
        }
        // Not a tautology: the sample must contain cases where TFLM's greedy is beaten.
        XCTAssertGreaterThan(improved, total / 50, "improved \(improved)/\(total), at LB \(atLowerBound)")
    }

    /// Small instances: when `plan` claims optimality it must equal the exact search, and the
    /// exact search never loses to any heuristic.
    func testSmallInstancesOptimalityClaimsHold() throws {
        var rng = SeededGenerator(seed: 77)
        let options = MemoryPlannerOptions(alignment: 1)
        for trial in 0..<250 {
            let r = randomRequests(&rng, count: 2 + trial % 10, steps: 3 + trial % 9, maxSize: 40)
            let plan = try MemoryPlanner.plan(r, options: options)
            let exact = try MemoryPlanner.exact(r, options: options)
            XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(exact, r))
            XCTAssertLessThanOrEqual(exact.arenaBytes, plan.arenaBytes, "trial \(trial)")
            if plan.isProvenOptimal && exact.isProvenOptimal {
                XCTAssertEqual(plan.arenaBytes, exact.arenaBytes, "trial \(trial)")
            }
        }
    }

    /// Network-shaped lifetimes: safe, and the best plan is never above TFLM's.
    func testNetworkShapedLifetimes() throws {
        var rng = SeededGenerator(seed: 5)
        var saved = 0, tflmTotal = 0
        for _ in 0..<200 {
            let r = networkLikeRequests(&rng, ops: 20 + Int(rng.next() % 80))
            let plan = try MemoryPlanner.plan(r)
            XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(plan, r))
            XCTAssertLessThanOrEqual(plan.arenaBytes, plan.tflmArenaBytes)
            XCTAssertGreaterThanOrEqual(plan.arenaBytes, plan.lowerBound)
            saved += plan.savingVersusTFLM
            tflmTotal += plan.tflmArenaBytes
        }
        XCTAssertGreaterThanOrEqual(saved, 0)
        XCTAssertGreaterThan(tflmTotal, 0)
    }
}
