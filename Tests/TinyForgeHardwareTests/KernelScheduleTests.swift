import Foundation
import XCTest
import TinyForgeSpec
@testable import TinyForgeHardware

/// Typed roles, block groups, weight names and the two runtimes' steps of `KernelSchedule`.
final class KernelScheduleTests: XCTestCase {
    /// stem → mbconv e4 + SE + projected residual (swish) → mbconv e1 (identity) → head.
    func spec(act: Activation = .swish) -> ArchitectureSpec {
        ArchitectureSpec(
            name: "sched", input: InputShape(height: 16, width: 16, channels: 3), numClasses: 5,
            stem: StemSpec(outChannels: 8, kernel: 3, stride: 1, activation: act),
            stages: [StageSpec(block: .mbconv, repeats: 1, outChannels: 16, kernel: 3, stride: 1, expansion: 4,
                               seRatio: 0.25, activation: act, skip: .residual),
                     StageSpec(block: .mbconv, repeats: 1, outChannels: 16, kernel: 3, stride: 1, expansion: 1,
                               activation: act, skip: .residual)])
    }

    func testRolesAndGroupsAreTyped() {
        let lp = LayerPlan(spec: spec())
        let s = KernelSchedule(plan: lp)
        XCTAssertEqual(lp.ops.first?.opRole, .stem)
        XCTAssertEqual(lp.ops.last?.opRole, .classifier)
        XCTAssertEqual(s.groups.count, 2)
        let g0 = s.groups[0], g1 = s.groups[1]
        XCTAssertEqual(lp.ops[g0.expansion!].opRole, .block(stage: 0, layer: 0, part: .expand))
        let se = g0.squeezeExcite!
        XCTAssertEqual([se.squeeze, se.reduce, se.expand, se.scale].map { lp.ops[$0].opRole.part },
                       [.seSqueeze, .seReduce, .seExpand, .seScale])
        XCTAssertEqual(se.weightPrefix, "stages[0].layers[0].se")
        XCTAssertEqual(s.squeezeExcite(startingAt: se.squeeze), se)
        XCTAssertNil(s.squeezeExcite(startingAt: lp.ops.count - 2), "the head pool is no SE")
        guard case let .projection(p)? = g0.residual?.shortcut else { return XCTFail("8 → 16 channels: projection") }
        XCTAssertEqual(lp.ops[p].role, "stages[0].layers[0].shortcut")
        XCTAssertEqual(g0.output, lp.ops[g0.residual!.add].output)
        // Expansion 1: no expansion conv, the depthwise reads the layer input.
        XCTAssertNil(g1.expansion)
        XCTAssertEqual(lp.ops[g1.ops.lowerBound].opRole, .block(stage: 1, layer: 0, part: .depthwise))
        XCTAssertEqual(lp.ops[g1.ops.lowerBound].inputs, [g1.input])
        XCTAssertEqual(g1.residual?.shortcut, .identity)
        XCTAssertFalse(s.poolKeepsDims(lp.ops[lp.ops.count - 2]))
        XCTAssertTrue(s.poolKeepsDims(lp.ops[se.squeeze]))
    }

    func testWeightNamesAreTheCheckpointNames() {
        let lp = LayerPlan(spec: spec())
        let names = KernelSchedule(plan: lp).expectedWeights.map(\.name)
        XCTAssertEqual(Array(names.prefix(6)), ["stem.weight", "stem.bn.weight", "stem.bn.bias", "stem.running_mean",
                                               "stem.running_var", "stages[0].layers[0].expand.weight"])
        XCTAssertTrue(names.contains("stages[0].layers[0].se.fc1.weight"))
        XCTAssertTrue(names.contains("stages[0].layers[0].se.fc2.bias"))
        XCTAssertFalse(names.contains { $0.hasPrefix("stages[1].layers[0].expand") })
        XCTAssertEqual(names.suffix(2), ["head.classifier.weight", "head.classifier.bias"])
        let fc1 = OpWeightNames(lp.ops.first { $0.opRole.part == .seReduce }!)!
        XCTAssertEqual(fc1.weightShape, [32, 8])
        XCTAssertNil(fc1.batchNorm)
    }

    func testRuntimesSplitAndFuseAsTheyExecute() {
        let lp = LayerPlan(spec: spec(act: .swish))
        let s = KernelSchedule(plan: lp)
        // TinyForge C: one kernel per op, swish fused, dw stride 1 in place with an H·W plane.
        XCTAssertEqual(s.tinyforgeC.steps.count, lp.ops.count)
        XCTAssertEqual(s.tinyforgeC.steps[0].fusedActivation, .swish)
        let dw = s.tinyforgeC.steps.first { $0.kind == .depthwiseConv2d }!
        XCTAssertNotNil(dw.inPlaceOver)
        XCTAssertEqual(s.tinyforgeC.buffers[dw.scratch!].bytes, 16 * 16)
        // Stock TFLM: swish = op → LOGISTIC → MUL, the SE gate's LOGISTIC split off, nothing in place.
        let stem = s.stockTFLM.steps.filter { $0.op == 0 }.map(\.kind)
        XCTAssertEqual(stem, [.conv2d, .logistic, .mul])
        let gate = s.stockTFLM.steps.filter { lp.ops[$0.op].opRole.part == .seExpand }.map(\.kind)
        XCTAssertEqual(gate, [.conv2d, .logistic])
        XCTAssertTrue(s.stockTFLM.steps.allSatisfy { $0.inPlaceOver == nil && $0.scratch == nil })
        // ActivationMemory plans exactly these lifetimes.
        let m = ActivationMemory(schedule: s.stockTFLM)
        XCTAssertEqual(m.requests, s.stockTFLM.lifetimes)
        XCTAssertEqual(m.steps.map(\.liveBytes), s.stockTFLM.liveBytesPerStep)
        XCTAssertEqual(m.arenaBytes, m.plan.tflmArenaBytes, "stock TFLM is placed by TFLM's greedy planner")
    }

    /// The C kernels fuse activations into conv / dw / FC only: swish after a residual add is
    /// ADD (in place) → LOGISTIC → MUL in place over the sum.
    func testActivationAfterAnAddRunsStandaloneInPlace() {
        let spec = ArchitectureSpec(
            name: "basic", input: InputShape(height: 8, width: 8, channels: 8), numClasses: 3,
            stages: [StageSpec(block: .basic, repeats: 1, outChannels: 8, kernel: 3, stride: 1, activation: .swish,
                               skip: .residualFull)])
        let lp = LayerPlan(spec: spec)
        let s = KernelSchedule(plan: lp).tinyforgeC
        let add = lp.ops.first { $0.kind == .add }!
        XCTAssertEqual(add.activation, .swish)
        let steps = s.steps.filter { $0.op == add.index }
        XCTAssertEqual(steps.map(\.kind), [.add, .logistic, .mul])
        XCTAssertEqual(steps.map { $0.inPlaceOver != nil }, [true, false, true])
        XCTAssertNil(steps[0].fusedActivation)
        XCTAssertEqual(s.storage[steps[2].output], s.storage[steps[0].output], "the MUL overwrites the sum")
        XCTAssertEqual(steps[2].output, add.output)
    }

    /// Issue 13: the stock-TFLM figure for examples/fmnist-small.json was 31,360 B while TFLM
    /// measured a 37,632 B arena head. The lifetimes were right; the placement was ours, not
    /// TFLM's greedy-by-size one, which leaves a gap on this network. Measured in
    /// SchedulePropertyTests.testStockTFLMFigureMatchesTFLM (bench/RESULTS-schedule.md).
    func testFmnistSmallStockTFLMFigureIsTFLMsPlacement() throws {
        let url = ReferenceCountTests.examples.appendingPathComponent("fmnist-small.json")
        let spec = try ArchitectureSpec.decode(jsonText: String(contentsOf: url, encoding: .utf8), source: url.path).spec
        let m = ActivationMemory(plan: LayerPlan(spec: spec), runtime: .stockTFLM)
        XCTAssertEqual(m.arenaBytes, 37_632)
        XCTAssertEqual(try MemoryPlanner.plan(m.requests).arenaBytes, 31_360, "the old figure: our planner on the same lifetimes")
    }
}
