import TinyForgeHardware

/// Where the patched C library keeps every buffer: the cost model's `PatchPlan` arena, mapped
/// onto the model's tensors. The generator places nothing itself — each buffer goes to the
/// offset `PatchPlan.memory` gave the plan's request for it — so the linked arena is the
/// planned patch arena by construction, and any drift between the fused steps and the plan's
/// schedule is refused here rather than shipped.
///
/// Mapping (fused step i runs `KernelSchedule.tinyforgeC` step i, `DeploySchedule.check`):
/// - stage steps (plan op before the split): the output is a tile buffer; a plan tensor's
///   request is its id, a pre-activation buffer of an add (no plan tensor) takes the next of
///   the plan's extra requests, in op order — as `PatchPlan.placeArena` made them;
/// - rest steps: every buffer's storage root `r` is request `extra end + r`, except the root
///   of the stage output, which is the stage output's own request (kept from the first tile);
/// - the model input is the plan input's request.
public struct CPatchLayout: Sendable {
    public var plan: PatchPlan
    /// The stage in the model's ops (tile regions of every model tensor of the stage).
    public var stage: Int8PatchStage
    /// Fused steps `0..<stageSteps` run tile by tile; the rest run once.
    public var stageSteps: Int
    public var tensorOffsets: [TensorID: Int]
    /// Scratch offset of each rest step that has scratch, keyed by step index.
    public var scratchOffsets: [Int: Int]

    public var arenaBytes: Int { plan.arenaBytes }
    public var lowerBound: Int { plan.memory.lowerBound }

    /// - Throws: `DeployError.patchStage` when the fused steps do not execute the plan's
    ///   schedule, the plan has more than one stage (or starts after the input), a tile buffer outgrows its planned bytes, or the stage's model ops are not
    ///   the fused stage steps' ops.
    public init(interpreter: Int8Interpreter, steps: [DeployStep], plan: PatchPlan, schedule: KernelSchedule) throws {
        let model = interpreter.model, rt = schedule.tinyforgeC, lp = schedule.plan, split = plan.stage.splitOp
        guard plan.stages.count == 1, plan.stage.startOp == 0 else {
            throw DeployError.patchStage(reason: "the plan \(plan.setting) has \(plan.stages.count) stage(s) or starts after the network input; the C generator runs one patch stage from the input (--patch PxP@TO or auto); multi-stage plans run in the cost model and the Swift int8 engine")
        }
        do { try DeploySchedule.check(steps, model: model, executes: rt) } catch {
            throw DeployError.patchStage(reason: "the model does not execute the plan's schedule (\(error))")
        }
        guard steps.count == rt.steps.count else {
            throw DeployError.patchStage(reason: "the model has \(steps.count) fused steps, the plan's schedule \(rt.steps.count) (an appended softmax cannot be patched; export without it)")
        }
        let stage = try Int8PatchStage(interpreter: interpreter, ops: Int8PatchStage.opCount(plan, schedule: schedule), grid: plan.stage.grid)
        let nStage = rt.steps.firstIndex { $0.op >= split } ?? rt.steps.count
        guard steps[..<nStage].allSatisfy({ $0.ops.allSatisfy { $0 < stage.ops } }),
              steps[nStage...].allSatisfy({ $0.ops.allSatisfy { $0 >= stage.ops } }) else {
            throw DeployError.patchStage(reason: "the first \(nStage) fused steps are not the stage's \(stage.ops) model ops")
        }
        let offsets = plan.memory.offsets
        var byTensor: [TensorID: Int] = [model.inputs[0]: offsets[lp.inputTensor]!]
        var extra = lp.tensors.count
        for i in 0..<nStage {
            let b = rt.steps[i].output
            let request: Int
            if let t = rt.buffers[b].tensor { request = t } else { request = extra; extra += 1 }
            guard let at = offsets[request], let bytes = plan.memory.placements.first(where: { $0.id == request })?.requestedSize else {
                throw DeployError.patchStage(reason: "step \(i) writes a buffer the patch plan has no request for")
            }
            let out = steps[i].output, c = model.tensors[out].shape.last ?? 1
            let need = out == stage.output ? model.tensors[out].elementCount : stage.tiles.map { $0[out]!.area * c }.max()!
            guard need <= bytes else {
                throw DeployError.patchStage(reason: "step \(i) needs \(need) B for '\(model.tensors[out].name)', the plan gives \(bytes) B")
            }
            byTensor[out] = at
        }
        let outRoot = rt.storage[plan.stage.output]
        func restOffset(_ buffer: Int) -> Int? {
            let root = rt.storage[buffer]
            return offsets[root == outRoot ? plan.stage.output : extra + root]
        }
        var scratch: [Int: Int] = [:]
        for i in nStage..<steps.count {
            guard let at = restOffset(rt.steps[i].output) else {
                throw DeployError.patchStage(reason: "step \(i) writes a buffer the patch plan has no request for")
            }
            byTensor[steps[i].output] = at
            if steps[i].scratchBytes > 0, let sc = rt.steps[i].scratch { scratch[i] = restOffset(sc) }
        }
        for (i, s) in steps.enumerated() {
            for id in s.inputs where byTensor[id] == nil {
                throw DeployError.patchStage(reason: "step \(i) reads '\(model.tensors[id].name)', which the patch plan does not place")
            }
            if s.scratchBytes > 0, i >= nStage, scratch[i] == nil {
                throw DeployError.patchStage(reason: "step \(i) needs scratch the patch plan does not place")
            }
        }
        self.plan = plan
        self.stage = stage
        self.stageSteps = nStage
        tensorOffsets = byTensor
        scratchOffsets = scratch
    }

    /// The buffer region of `tensor` in tile `t`: the whole map for the model input and the
    /// stage output (full buffers), the tile region otherwise.
    func bufferRegion(_ model: QuantizedModel, _ tensor: TensorID, tile t: Int) -> PatchRegion {
        if tensor == stage.output || model.inputs.contains(tensor) {
            let s = model.tensors[tensor].shape
            return PatchRegion(rows: PixelSpan(0, s[1] - 1), cols: PixelSpan(0, s[2] - 1))
        }
        return stage.tiles[t][tensor]!
    }

    /// E.g. "4x4 patches up to block 3 (8 ops), arena 123 B (per-layer 456 B), +3.2 % MACs".
    public func summary(perLayerArena: Int) -> String {
        "\(plan.stage.grid)x\(plan.stage.grid) patches up to \(plan.stage.split.phrase) (\(stageSteps) fused steps tile by tile), arena \(arenaBytes) B (per-layer \(perLayerArena) B), +\(plan.extraMACs) MACs (\(PatchPlanner.percent((plan.macOverhead * 1000).rounded() / 1000)))"
    }
}
