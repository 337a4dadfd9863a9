import XCTest
import TinyForgeSpec
@testable import TinyForgeHardware

// Plain reference twins of the planner, written for clarity, not speed, and independent of
// the production code: a literal TFLM greedy (bubble sort over a reversed copy, offset-sorted
// list, gap walk), and a brute-force minimum arena that tries every offset. The fast planner
// is checked against them here and in MemoryPlannerPropertyTests.

/// TFLM `GreedyMemoryPlanner::CalculateOffsetsIfNeeded`, step by step, on already aligned
/// sizes. Returns offsets in request order.
func referenceTFLMOffsets(_ r: [BufferRequest]) -> [Int] {
    let n = r.count
    if n == 0 { return [] }
    // Online buffers are copied from the tail: request i lands at slot n-1-i.
    var sortedSizes = [Int](repeating: 0, count: n), sortedIDs = [Int](repeating: 0, count: n)
    for i in 0..<n { sortedSizes[n - 1 - i] = r[i].size; sortedIDs[n - 1 - i] = i }
    // ReverseSortInPlace: bubble sort, swap only when strictly smaller (stable).
    var swapped = true
    while swapped {
        swapped = false
        for i in 1..<max(1, n) where sortedSizes[i - 1] < sortedSizes[i] {
            sortedSizes.swapAt(i - 1, i); sortedIDs.swapAt(i - 1, i); swapped = true
        }
    }
    var offsets = [Int](repeating: -1, count: n)
    var byOffset: [Int] = []  // request indices, sorted by offset, ties in placement order
    for id in sortedIDs {
        let want = r[id]
        var candidate = 0
        for e in byOffset where r[e].overlapsInTime(want) {
            if offsets[e] - candidate >= want.size { break }
            candidate = max(candidate, offsets[e] + r[e].size)
        }
        offsets[id] = candidate
        let at = byOffset.firstIndex(where: { offsets[$0] > candidate }) ?? byOffset.count
        byOffset.insert(id, at: at)
    }
    return offsets
}

/// Minimum arena by trying every offset for every buffer (depth-first, pruned by the best
/// so far). Exponential: only for a handful of small buffers.
func bruteForceMinimumArena(_ r: [BufferRequest]) -> Int {
    var best = r.reduce(0) { $0 + $1.size }  // stacking everything always works
    var offsets = [Int](repeating: 0, count: r.count)
    func assign(_ i: Int, _ arena: Int) {
        if i == r.count { best = min(best, arena); return }
        if r[i].size == 0 { offsets[i] = 0; assign(i + 1, arena); return }
        var o = 0
        while o + r[i].size < best {
            let clash = (0..<i).contains { j in
                r[j].size > 0 && r[j].overlapsInTime(r[i])
                    && offsets[j] < o + r[i].size && o < offsets[j] + r[j].size
            }
            if !clash { offsets[i] = o; assign(i + 1, max(arena, o + r[i].size)) }
            o += 1
        }
    }
    assign(0, 0)
    return best
}

/// Random lifetimes; sizes drawn from a small set half of the time so ties are common.
func randomRequests(_ rng: inout SeededGenerator, count: Int, steps: Int, maxSize: Int) -> [BufferRequest] {
    (0..<count).map { i in
        let a = Int(rng.next() % UInt64(steps)), b = Int(rng.next() % UInt64(steps))
        let size = rng.next() % 2 == 0
            ? Int(rng.next() % UInt64(maxSize + 1))
            : [1, 2, 4, 8][Int(rng.next() % 4)] * max(1, maxSize / 8)
        return BufferRequest(id: 1000 + i, size: size, firstStep: min(a, b), lastStep: max(a, b))
    }
}

final class MemoryPlannerReferenceTests: XCTestCase {
    let byteExact = MemoryPlannerOptions(alignment: 1)

    func testTFLMReplicaMatchesLiteralReferenceOffsetByOffset() throws {
        var rng = SeededGenerator(seed: 11)
        for trial in 0..<1500 {
            let r = randomRequests(&rng, count: 1 + trial % 30, steps: 2 + trial % 17, maxSize: 64)
            let plan = try MemoryPlanner.tflmGreedy(r, options: byteExact)
            XCTAssertEqual(plan.placements.map(\.offset), referenceTFLMOffsets(r), "trial \(trial)")
        }
    }

    func testExactSearchMatchesBruteForce() throws {
        var rng = SeededGenerator(seed: 12)
        var beatenGreedy = 0
        for trial in 0..<120 {
            let r = randomRequests(&rng, count: 2 + trial % 5, steps: 2 + trial % 5, maxSize: 5)
            let exact = try MemoryPlanner.exact(r, options: byteExact)
            XCTAssertTrue(exact.isProvenOptimal)
            XCTAssertEqual(exact.arenaBytes, bruteForceMinimumArena(r), "trial \(trial): \(r)")
            XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(exact, r))
            if exact.arenaBytes < exact.tflmArenaBytes { beatenGreedy += 1 }
        }
        XCTAssertGreaterThan(beatenGreedy, 0, "the sample should contain cases where TFLM is not optimal")
    }

    func testOverlapCheckCatchesBadPlans() throws {
        let r = [BufferRequest(id: 1, size: 32, firstStep: 0, lastStep: 1),
                 BufferRequest(id: 2, size: 32, firstStep: 1, lastStep: 2)]
        let good = try MemoryPlanner.plan(r)
        XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(good, r))
        func tampered(_ offsets: [Int], arena: Int = 64) -> MemoryPlan {
            MemoryPlan(placements: zip(good.placements, offsets).map {
                           .init(id: $0.id, offset: $1, size: $0.size, requestedSize: $0.requestedSize,
                                 firstStep: $0.firstStep, lastStep: $0.lastStep) },
                       arenaBytes: arena, lowerBound: good.lowerBound, strategy: good.strategy,
                       alignment: good.alignment, isProvenOptimal: false, tflmArenaBytes: 64)
        }
        XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(tampered([0, 32]), r))
        XCTAssertTrue(MemoryPlanner.doAnyBuffersOverlap(tampered([0, 16]), r), "byte overlap")
        XCTAssertTrue(MemoryPlanner.doAnyBuffersOverlap(tampered([0, 40]), r), "misaligned")
        XCTAssertTrue(MemoryPlanner.doAnyBuffersOverlap(tampered([0, 32], arena: 48), r), "past arena")
        XCTAssertTrue(MemoryPlanner.doAnyBuffersOverlap(good, [r[1], r[0]]), "other requests")
    }
}
