import TinyForgeHardware

/// Where the patched C library keeps every buffer: the cost model's `PatchPlan` arena, mapped
/// onto the model's tensors. The generator places nothing itself — each buffer goes to the
/// offset `PatchPlan.memory` gave the plan's request for it — so the linked arena is the
/// planned patch arena by construction, and any drift between the fused steps and the plan's
/// schedule is refused here rather than shipped.
///
/// Mapping (fused step i runs `KernelSchedule.tinyforgeC` step i, `DeploySchedule.check`), as
/// `PatchTimeline.placeArena` made the requests:
/// - stage steps (plan ops of a patch stage): the output is a tile buffer or the stage
///   output; a plan tensor's request is its id, a pre-activation buffer of an add (no plan
///   tensor) takes the next of the plan's extra requests, in op order over all stages;
/// - layer-by-layer steps of segment `j` (the segments between and after the stages): every
///   buffer's storage root `r` is request `extra end + j·buffers + r`, except the root of the
///   stage output just before the segment, which is that output's own request;
/// - the model input is the plan input's request when the first stage starts at op 0.
public struct CPatchLayout: Sendable {
    public var plan: PatchPlan
    /// The stages in the model's ops (tile regions of every model tensor of each stage).
    public var stages: [Int8PatchStage]
    /// The first stage (a single-stage plan's only one).
    public var stage: Int8PatchStage { stages[0] }
    /// Fused steps of each stage: they run tile by tile; the others run once.
    public var stageSteps: [Range<Int>]
    public var tensorOffsets: [TensorID: Int]
    /// Scratch offset of each layer-by-layer step that has scratch, keyed by step index.
    public var scratchOffsets: [Int: Int]

    public var arenaBytes: Int { plan.arenaBytes }
    public var lowerBound: Int { plan.memory.lowerBound }

    /// - Throws: `DeployError.patchStage` when the fused steps do not execute the plan's
    ///   schedule, a tile buffer outgrows its planned bytes, or a stage's model ops are not
    ///   the fused stage steps' ops.
    public init(interpreter: Int8Interpreter, steps: [DeployStep], plan: PatchPlan, schedule: KernelSchedule) throws {
        let model = interpreter.model, rt = schedule.tinyforgeC, lp = schedule.plan
        do { try DeploySchedule.check(steps, model: model, executes: rt) } catch {
            throw DeployError.patchStage(reason: "the model does not execute the plan's schedule (\(error))")
        }
        guard steps.count == rt.steps.count else {
            throw DeployError.patchStage(reason: "the model has \(steps.count) fused steps, the plan's schedule \(rt.steps.count) (an appended softmax cannot be patched; export without it)")
        }
        let stages = try Int8PatchStage.stages(plan, interpreter: interpreter, schedule: schedule)
        func fusedIndex(_ op: Int) -> Int { rt.steps.firstIndex { $0.op >= op } ?? rt.steps.count }
        let ranges = plan.stages.map { fusedIndex($0.startOp)..<fusedIndex($0.splitOp) }
        for (k, r) in ranges.enumerated() {
            let st = stages[k]
            guard steps[r].allSatisfy({ $0.ops.allSatisfy { st.first <= $0 && $0 < st.ops } }) else {
                throw DeployError.patchStage(reason: "fused steps \(r) are not stage \(k + 1)'s model ops \(st.first)..<\(st.ops)")
            }
        }
        let offsets = plan.memory.offsets
        var byTensor: [TensorID: Int] = [:]
        var extra = lp.tensors.count
        for (k, r) in ranges.enumerated() {
            for i in r {
                let b = rt.steps[i].output
                let request: Int
                if let t = rt.buffers[b].tensor { request = t } else { request = extra; extra += 1 }
                guard let at = offsets[request], let bytes = plan.memory.placements.first(where: { $0.id == request })?.requestedSize else {
                    throw DeployError.patchStage(reason: "step \(i) writes a buffer the patch plan has no request for")
                }
                let out = steps[i].output, c = model.tensors[out].shape.last ?? 1
                let need = out == stages[k].output ? model.tensors[out].elementCount : stages[k].tiles.map { $0[out]!.area * c }.max()!
                guard need <= bytes else {
                    throw DeployError.patchStage(reason: "step \(i) needs \(need) B for '\(model.tensors[out].name)', the plan gives \(bytes) B")
                }
                byTensor[out] = at
            }
        }
        let layers = Self.layerSegments(ranges, count: steps.count)
        func layerOffset(_ buffer: Int, segment j: Int) -> Int? {
            let root = rt.storage[buffer], seg = layers[j]
            if let k = ranges.firstIndex(where: { $0.upperBound == seg.lowerBound }), root == rt.storage[plan.stages[k].output] {
                return offsets[plan.stages[k].output]
            }
            return offsets[extra + j * rt.buffers.count + root]
        }
        byTensor[model.inputs[0]] = plan.stage.startOp == 0 ? offsets[lp.inputTensor] : layerOffset(lp.inputTensor, segment: 0)
        var scratch: [Int: Int] = [:]
        for (j, seg) in layers.enumerated() {
            for i in seg {
                guard let at = layerOffset(rt.steps[i].output, segment: j) else {
                    throw DeployError.patchStage(reason: "step \(i) writes a buffer the patch plan has no request for")
                }
                byTensor[steps[i].output] = at
                if steps[i].scratchBytes > 0, let sc = rt.steps[i].scratch { scratch[i] = layerOffset(sc, segment: j) }
            }
        }
        for (i, s) in steps.enumerated() {
            for id in s.inputs where byTensor[id] == nil {
                throw DeployError.patchStage(reason: "step \(i) reads '\(model.tensors[id].name)', which the patch plan does not place")
            }
            if s.scratchBytes > 0, !ranges.contains(where: { $0.contains(i) }), scratch[i] == nil {
                throw DeployError.patchStage(reason: "step \(i) needs scratch the patch plan does not place")
            }
        }
        self.plan = plan
        self.stages = stages
        self.stageSteps = ranges
        tensorOffsets = byTensor
        scratchOffsets = scratch
    }

    /// The non-empty runs of fused steps outside the stages, in order (`PatchTimeline`'s
    /// layer-by-layer segments).
    static func layerSegments(_ stages: [Range<Int>], count: Int) -> [Range<Int>] {
        var out: [Range<Int>] = [], at = 0
        for r in stages {
            if r.lowerBound > at { out.append(at..<r.lowerBound) }
            at = r.upperBound
        }
        if count > at { out.append(at..<count) }
        return out
    }

    /// The buffer region of `tensor` in tile `t` of stage `k`: the whole map for the stage's
    /// input and output (full buffers), the tile region otherwise.
    func bufferRegion(_ model: QuantizedModel, _ tensor: TensorID, stage k: Int, tile t: Int) -> PatchRegion {
        if tensor == stages[k].output || tensor == stages[k].input {
            let s = model.tensors[tensor].shape
            return PatchRegion(rows: PixelSpan(0, s[1] - 1), cols: PixelSpan(0, s[2] - 1))
        }
        return stages[k].tiles[t][tensor]!
    }

    /// E.g. "4x4 patches up to block 3 (8 ops), arena 123 B (per-layer 456 B), +3.2 % MACs";
    /// several stages: "patch stages 2x2@1.se+3x3@3..5 (12 + 9 fused steps tile by tile), …".
    public func summary(perLayerArena: Int) -> String {
        let what = stages.count == 1 && plan.stage.startOp == 0
            ? "\(plan.stage.grid)x\(plan.stage.grid) patches up to \(plan.stage.split.phrase) (\(stageSteps[0].count) fused steps tile by tile)"
            : "patch stages \(plan.setting) (\(stageSteps.map { String($0.count) }.joined(separator: " + ")) fused steps tile by tile)"
        return "\(what), arena \(arenaBytes) B (per-layer \(perLayerArena) B), +\(plan.extraMACs) MACs (\(PatchPlanner.percent((plan.macOverhead * 1000).rounded() / 1000)))"
    }
}
