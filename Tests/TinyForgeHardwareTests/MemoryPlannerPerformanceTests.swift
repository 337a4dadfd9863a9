import XCTest
import Foundation
import TinyForgeSpec
@testable import TinyForgeHardware

/// Timing of `MemoryPlanner.plan` on ~100-buffer network-shaped inputs. Prints per-call
/// times and arena statistics; the bound asserted is loose (debug builds and a busy shared
/// machine). Release figure: `swift test -c release -Xswiftc -target-cpu -Xswiftc haswell
/// --filter MemoryPlannerPerformanceTests`.
final class MemoryPlannerPerformanceTests: XCTestCase {
    func testPlanTimeFor100Buffers() throws {
        var rng = SeededGenerator(seed: 99)
        var inputs: [[BufferRequest]] = []
        while inputs.count < 50 {
            let r = networkLikeRequests(&rng, ops: 75)
            if (90...110).contains(r.count) { inputs.append(r) }
        }
        var sink = 0
        var saved = 0, tflm = 0, lowerBoundHits = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let repeats = 10
        for _ in 0..<repeats {
            for r in inputs { sink &+= try MemoryPlanner.plan(r).arenaBytes }
        }
        let perCall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            / Double(repeats * inputs.count)
        let tflmStart = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats {
            for r in inputs { sink &+= try MemoryPlanner.tflmGreedy(r).arenaBytes }
        }
        let tflmPerCall = Double(DispatchTime.now().uptimeNanoseconds - tflmStart) / 1e6
            / Double(repeats * inputs.count)
        for r in inputs {
            let p = try MemoryPlanner.plan(r)
            saved += p.savingVersusTFLM; tflm += p.tflmArenaBytes
            if p.arenaBytes == p.lowerBound { lowerBoundHits += 1 }
        }
        print(String(format: "MemoryPlanner.plan: %.3f ms/call, tflmGreedy: %.3f ms/call "
                     + "(%d inputs of ~100 buffers); saving vs TFLM %.2f%%, at lower bound %d/%d",
                     perCall, tflmPerCall, inputs.count, 100 * Double(saved) / Double(tflm),
                     lowerBoundHits, inputs.count))
        XCTAssertGreaterThan(sink, 0)
        XCTAssertLessThan(perCall, 50, "planning 100 buffers should take well under a millisecond in release")
    }
}
