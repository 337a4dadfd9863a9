import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// The int8 interpreter executing the cost model's patch plans: byte-equal to per-layer
/// execution on random specs of every preset, the same tiles and input ranges as the plan.
final class PatchExecutionTests: XCTestCase {
    /// Random specs of every preset at 12…24 pixels and ≤ 30 k parameters (debug kernels).
    static func specs(count: Int, seed: UInt64) -> [ArchitectureSpec] {
        SearchSpace.presetSamples(count: count, seed: seed, sizes: 12...24, maxExtraWidth: 2) { LayerPlan(spec: $0).params <= 30_000 }
    }

    func testPatchedExecutionIsByteEqualToPerLayer() throws {
        var rng = SeededGenerator(seed: 1515)
        var runs = 0, withHalo = 0, seSplits = 0
        for (n, spec) in Self.specs(count: 30, seed: 15).enumerated() {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let plans = PatchPlanner.candidates(schedule).filter { $0.stage.grid <= 4 }
            guard !plans.isEmpty else { continue }
            let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: UInt64(n), images: 1)
            let ip = try Int8Interpreter(model: net.model)
            let input = net.quantizeInput(images[0][...])
            let reference = try ip.runAll(inputs: [input])
            for plan in [plans.first!, plans.randomElement(using: &rng)!, plans.last!] {
                let stage = try Int8PatchStage(interpreter: ip, ops: Int8PatchStage.opCount(plan, schedule: schedule),
                                               grid: plan.stage.grid)
                let tag = "\(spec.shortHash) @\(plan.stage.split) \(plan.stage.grid)x\(plan.stage.grid)"
                let split = lp.tensors[plan.stage.output]
                XCTAssertEqual(net.model.tensors[stage.output].shape, [1] + split.shape, tag)
                // The same tiles, and through the whole stage the same input rectangles.
                for (t, tile) in stage.tiles.enumerated() {
                    XCTAssertEqual(tile[stage.output], plan.stage.tiles[t][plan.stage.output], tag)
                    XCTAssertEqual(tile[net.model.inputs[0]], plan.stage.tiles[t][lp.inputTensor], tag)
                }
                let patched = try ip.runPatchedAll(inputs: [input], stage: stage)
                for (id, v) in patched { XCTAssertEqual(v, reference[id], "\(tag): tensor \(net.model.tensors[id].name)") }
                XCTAssertEqual(try ip.runPatched(inputs: [input], stage: stage), try ip.run(inputs: [input]), tag)
                runs += 1
                if plan.extraMACs > 0 { withHalo += 1 }
                if case .squeezeExcite = plan.stage.split { seSplits += 1 }
            }
        }
        XCTAssertGreaterThan(runs, 40)
        XCTAssertGreaterThan(withHalo, 20, "most plans recompute halos")
        print("patched runs \(runs), with halos \(withHalo), SE splits \(seSplits)")
    }

    /// Plans with a stage after the network input (alone, or after a first stage; starts
    /// after an SE preferred): every stage's tiles as the cost model's, every full tensor
    /// byte-equal to per-layer execution.
    func testMultiStagePatchedExecutionIsByteEqualToPerLayer() throws {
        var rng = SeededGenerator(seed: 1516)
        var runs = 0, twoStage = 0, seStarts = 0
        for (n, spec) in Self.specs(count: 24, seed: 16).enumerated() {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let firsts = PatchPlanner.candidates(schedule).filter { $0.stage.grid <= 3 }
            let seconds = PatchPlanner.laterStages(schedule).filter { $0.grid <= 3 }
            let afterSE = seconds.filter { if case .squeezeExcite? = $0.start { return true } else { return false } }
            guard let lone = (afterSE.isEmpty ? seconds : afterSE).randomElement(using: &rng) else { continue }
            var plans = [try PatchPlan(stages: [lone], schedule: schedule)]
            let pairs = firsts.flatMap { f in seconds.filter { $0.startOp >= f.stage.splitOp }.map { [f.stage, $0] } }
            if let pair = pairs.randomElement(using: &rng) { plans.append(try PatchPlan(stages: pair, schedule: schedule)) }
            let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: UInt64(n), images: 1)
            let ip = try Int8Interpreter(model: net.model)
            let input = net.quantizeInput(images[0][...])
            let reference = try ip.runAll(inputs: [input])
            for plan in plans {
                let tag = "\(spec.shortHash) \(plan.setting)"
                let stages = try Int8PatchStage.stages(plan, interpreter: ip, schedule: schedule)
                for (k, st) in stages.enumerated() {
                    let cost = plan.stages[k]
                    XCTAssertEqual(net.model.tensors[st.input].shape, [1] + lp.tensors[cost.input].shape, tag)
                    for (t, tile) in st.tiles.enumerated() {
                        XCTAssertEqual(tile[st.output], cost.tiles[t][cost.output], tag)
                        XCTAssertEqual(tile[st.input], cost.tiles[t][cost.input], tag)
                    }
                }
                let patched = try ip.runPatchedAll(inputs: [input], stages: stages)
                for (id, v) in patched { XCTAssertEqual(v, reference[id], "\(tag): tensor \(net.model.tensors[id].name)") }
                XCTAssertEqual(try ip.runPatched(inputs: [input], stages: stages), try ip.run(inputs: [input]), tag)
                runs += 1
                if plan.stages.count == 2 { twoStage += 1 }
                if case .squeezeExcite? = plan.stages.last!.start { seStarts += 1 }
            }
        }
        XCTAssertGreaterThan(runs, 20)
        XCTAssertGreaterThan(twoStage, 5, "some draws get two stages")
        print("multi-stage patched runs \(runs), two-stage \(twoStage), starting after an SE \(seStarts)")
    }

    /// Overlapping stages are refused, not run.
    func testOverlappingStagesAreRefused() throws {
        let lp = LayerPlan(spec: NetworkSpecZoo.dsMB)
        let ip = try Int8Interpreter(model: LayerPlanToQuantized.model(lp, seed: 2))
        let schedule = KernelSchedule(plan: lp)
        let plan = try XCTUnwrap(PatchPlanner.candidates(schedule).first)
        let a = try Int8PatchStage.stages(plan, interpreter: ip, schedule: schedule)[0]
        XCTAssertThrowsError(try ip.runPatchedAll(inputs: [[Int8](repeating: 1, count: lp.tensors[lp.inputTensor].elements)], stages: [a, a])) { e in
            XCTAssertTrue("\(e)".contains("before op \(a.ops) where the previous one ends"), "\(e)")
        }
    }

    /// The cost model's deployed window is the kernel the lowering emits.
    func testDeployedKernelIsTheLoweredKernel() throws {
        for n in 1...40 {
            for k in [1, 3, 5, 7] {
                for s in [1, 2] {
                    guard let lowered = try? FloatGraph.pytorchPadding(input: n, kernel: k, stride: s) else { continue }
                    XCTAssertEqual(PatchGeometry.deployedKernel(input: n, kernel: k, stride: s), lowered.kernel, "n \(n) k \(k) s \(s)")
                    XCTAssertEqual(lowered.padBefore, k / 2)
                }
            }
        }
    }

    func testStagesThatCannotRunTileByTileAreRefused() throws {
        func interpreter(_ skip: SkipType) throws -> Int8Interpreter {
            let spec = ArchitectureSpec(
                name: "se", input: InputShape(height: 12, width: 12, channels: 3), numClasses: 4,
                stem: StemSpec(outChannels: 8, kernel: 3, stride: 1, activation: .relu),
                stages: [StageSpec(block: .mbconv, repeats: 1, outChannels: 8, kernel: 3, stride: 1, expansion: 2,
                                   seRatio: 0.25, activation: .relu, skip: skip)])
            return try Int8Interpreter(model: LayerPlanToQuantized.model(LayerPlan(spec: spec), seed: 3))
        }
        func reason(_ ip: Int8Interpreter, _ n: Int, grid: Int = 2) -> String {
            do { _ = try Int8PatchStage(interpreter: ip, ops: n, grid: grid); return "accepted" } catch { return "\(error)" }
        }
        let residual = try interpreter(.residual)
        let mean = residual.model.ops.firstIndex { $0.kind == "MEAN" }!
        // Up to the SE's MEAN, the block input (identity shortcut) is read after the stage too.
        XCTAssertTrue(reason(residual, mean).contains("hand 2 tensors"), reason(residual, mean))
        XCTAssertTrue(reason(residual, 1, grid: 13).contains("13x13 grid does not fit"), reason(residual, 1, grid: 13))
        XCTAssertTrue(reason(residual, 0).contains("1…"), reason(residual, 0))
        XCTAssertEqual(reason(residual, 1), "accepted")
        let plain = try interpreter(.none)
        let scale = plain.model.ops.firstIndex { $0.kind == "MUL" }!
        XCTAssertEqual(reason(plain, plain.model.ops.firstIndex { $0.kind == "MEAN" }!), "accepted", "the SE split")
        XCTAssertTrue(reason(plain, scale + 1).contains("broadcasts its operands"), reason(plain, scale + 1))
        XCTAssertTrue(reason(plain, plain.model.ops.count - 1).contains("does not fit"), "the pooled vector is no map")
    }
}
