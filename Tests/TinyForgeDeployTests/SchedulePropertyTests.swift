import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// One schedule, three readers (issue 13): over random specs of every preset space (every
/// fourth with its mbconv stages at expansion 1) plus the reference zoo, the cost model's
/// peak SRAM, the generated C library's arena and the `KernelSchedule`'s live bytes must be
/// the same numbers, and the quantised model must execute the schedule step for step. The
/// models are lowered by the real `FloatGraph` lowering and quantised with fixed ranges (the
/// arena does not depend on weights or ranges, so no calibration pass is spent).
final class SchedulePropertyTests: XCTestCase {
    static let perSpace = 168
    /// Sampled specs above this many parameters are drawn again: lowering and quantising
    /// the weights is the debug-build cost (≈ 1 µs per weight), the arena does not depend on
    /// them, and the reference zoo keeps wide networks in (MobileNetV2, 3.5 M).
    static let maxSampledParams = 60_000

    /// 3 × 168 sampled specs + the 6 reference networks + fmnist-small + the 3 interop
    /// networks = 514.
    static func specs() throws -> [(tag: String, spec: ArchitectureSpec)] {
        var out = ReferenceNetworks.all.map { ($0.name, ReferenceNetworks.spec($0.name)!) }
        out.append(("fmnist-small", try ScheduleFixtures.fmnistSmall()))
        // Basic blocks with swish / hswish after the add, SE, fused mbconv: outside the presets.
        out += NetworkSpecZoo.all.map { ($0.name!, $0) }
        for (k, space) in SearchSpace.presets.enumerated() {
            var rng = SeededGenerator(seed: 1300 + UInt64(k))
            var i = 0, draws = 0
            while i < perSpace {
                draws += 1
                guard draws <= 200 * perSpace else {
                    throw SpecError(path: "search space \(space.name)", message: "only \(i) of \(perSpace) specs ≤ \(maxSampledParams) params in \(draws - 1) draws; raise maxSampledParams")
                }
                var s = try space.sample(numClasses: 10, using: &rng)
                if i % 4 == 3 { for j in s.stages.indices where s.stages[j].block == .mbconv { s.stages[j].expansion = 1 } }
                guard LayerPlan(spec: s).params <= maxSampledParams else { continue }
                out.append(("\(space.name)#\(i)", s))
                i += 1
            }
        }
        return out
    }

    func testCostModelGeneratedArenaAndScheduleAgree() throws {
        let started = Date()
        let specs = try Self.specs()
        XCTAssertGreaterThanOrEqual(specs.count, 500)
        var expansionOne = 0, seBlocks = 0, steps = 0
        for (tag, spec) in specs {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let cost = CostModel.evaluate(lp, target: .stm32f746)
            let model = try ScheduleFixtures.quantized(lp)
            let gen = try CCodeGenerator(model: model)
            XCTAssertNoThrow(try DeploySchedule.check(gen.memory.steps, model: model, executes: schedule.tinyforgeC), tag)
            XCTAssertEqual(cost.peakSRAMBytes, gen.memory.arenaBytes, "\(tag): cost-model peak SRAM vs generated C arena")
            XCTAssertEqual(gen.memory.liveBytesPerStep, schedule.tinyforgeC.liveBytesPerStep, "\(tag): live bytes per step")
            XCTAssertEqual(gen.memory.liveBytesPerStep.max(), schedule.tinyforgeC.peakLiveBytes, "\(tag): schedule peak")
            XCTAssertEqual(cost.memory.lowerBound, gen.memory.lowerBound, "\(tag): lower bound")
            XCTAssertEqual(cost.memory.schedule.steps, schedule.tinyforgeC.steps, "\(tag): cost model schedules alone")
            expansionOne += schedule.groups.filter { spec.stages[$0.stage].block == .mbconv && $0.expansion == nil }.count
            seBlocks += schedule.groups.filter { $0.squeezeExcite != nil }.count
            steps += gen.memory.steps.count
        }
        let seconds = Date().timeIntervalSince(started)
        print("SCHEDULE-PROPERTY \(specs.count) specs, \(steps) fused steps, \(expansionOne) expansion-1 mbconv layers, \(seBlocks) SE blocks: cost model == C arena == schedule (\(String(format: "%.1f", seconds)) s)")
        XCTAssertGreaterThan(expansionOne, 50, "the expansion-1 variant must be exercised")
    }

    /// A model that does not execute the schedule is refused with the step named: the same
    /// model against a schedule with one in-place decision flipped, and against another plan's.
    func testCheckNamesTheFirstStepThatDiffers() throws {
        let lp = LayerPlan(spec: NetworkSpecZoo.dsMB)
        let model = try ScheduleFixtures.quantized(lp)
        let steps = try CCodeGenerator(model: model).memory.steps
        var schedule = KernelSchedule(plan: lp).tinyforgeC
        XCTAssertNoThrow(try DeploySchedule.check(steps, model: model, executes: schedule))
        let i = schedule.steps.firstIndex { $0.inPlaceOver != nil }!
        schedule.steps[i].inPlaceOver = nil
        XCTAssertThrowsError(try DeploySchedule.check(steps, model: model, executes: schedule)) { e in
            guard case let DeployError.scheduleMismatch(step, kernel, reason) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(step, i)
            XCTAssertTrue(kernel.contains("(in place)") && reason.contains("out of place"), "\(kernel): \(reason)")
        }
        let other = KernelSchedule(plan: LayerPlan(spec: NetworkSpecZoo.fused)).tinyforgeC
        XCTAssertThrowsError(try DeploySchedule.check(steps, model: model, executes: other)) { e in
            guard case DeployError.scheduleMismatch = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("C runtime step #"), "\(e)")
        }
    }

    /// The stock-TFLM figure of the cost model against the arena head the real TFLM
    /// interpreter measures, for 24 networks in one python call.
    func testStockTFLMFigureMatchesTFLM() throws {
        try TFLMHarness.skipIfUnavailable()
        var specs: [(String, ArchitectureSpec)] = [("fmnist-small", try ScheduleFixtures.fmnistSmall()),
                                                   ("resnet8", ReferenceNetworks.spec("resnet8")!),
                                                   ("vww", ReferenceNetworks.spec("vww")!)]
        for (k, space) in [SearchSpace.mcu28, .mcu32].enumerated() {
            var rng = SeededGenerator(seed: 1400 + UInt64(k))
            for i in 0..<11 {
                var s = try space.sample(numClasses: 10, using: &rng)
                if i % 3 == 2 { for j in s.stages.indices where s.stages[j].block == .mbconv { s.stages[j].expansion = 1 } }
                specs.append(("\(space.name)#\(i)", s))
            }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        for (n, (_, spec)) in specs.enumerated() {
            let url = dir.appendingPathComponent("m\(n).tflite")
            try Data(TFLiteWriter.serialize(try ScheduleFixtures.quantized(LayerPlan(spec: spec)))).write(to: url)
            paths.append(url.path)
        }
        let r = try TFLMHarness.python(["--arena-only"] + paths)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let arenas = json?["arenas"] as? [[String: Any]] ?? []
        XCTAssertEqual(arenas.count, specs.count, r.stdout)
        var exact = 0
        for ((tag, spec), a) in zip(specs, arenas) {
            guard let head = a["head"] as? Int else { XCTFail("\(tag): \(a)"); continue }
            let predicted = CostModel.evaluate(spec, target: .stm32f746).tflmMemory.arenaBytes
            if predicted == head { exact += 1 }
            print("SCHEDULE-TFLM \(tag): cost model \(predicted) B, TFLM head \(head) B")
            XCTAssertEqual(predicted, head, "\(tag): stock-TFLM arena (cost model vs measured TFLM head)")
        }
        print("SCHEDULE-TFLM \(exact) of \(specs.count) exact")
    }
}

/// Specs and cheap int8 models for the schedule tests.
enum ScheduleFixtures {
    static func fmnistSmall() throws -> ArchitectureSpec {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/fmnist-small.json")
        return try ArchitectureSpec.decode(jsonText: String(contentsOf: url, encoding: .utf8), source: url.path).spec
    }

    /// The plan lowered by `FloatGraph(plan:weights:)` with deterministic non-zero weights,
    /// quantised with one fixed activation range (structure only: no calibration).
    static func quantized(_ lp: LayerPlan) throws -> QuantizedModel {
        var t = [String: WeightTensor]()
        for (name, shape) in PlanWeights.expectedTensors(lp) {
            let n = shape.reduce(1, *)
            let positive = name.hasSuffix(".running_var") || name.hasSuffix(".bn.weight")
            let values = [Float](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n { buf[i] = positive ? 1 : Float((i &* 7919) % 23 - 11) * 0.01 + 0.001 }
                count = n
            }
            t[name] = WeightTensor(shape: shape, values: values)
        }
        let graph = try FloatGraph(plan: lp, weights: PlanWeights(tensors: t))
        return try graph.quantize(range: { _ in ActivationRange(min: -4, max: 4) }).model
    }
}
