/// A patch plan and its cost: the patch stage run tile by tile, then the rest of the network
/// layer by layer, in one arena placed by the same `MemoryPlanner` as the per-layer plan.
///
/// Buffers of the stage phase (one step per stage op of one tile; every tile reuses them):
/// the network input and the stage output in full, live through the whole stage (the output
/// is assembled tile by tile and read by the rest); every intermediate tensor as a tile
/// buffer sized for its largest tile region, live from its producer to its last reader. An
/// add whose activation the C runtime cannot fuse (leaky_relu, hswish, swish) writes a
/// pre-activation tile buffer first (swish: plus its sigmoid). Nothing runs in place inside
/// a tile: with halos an op's input and output regions differ, so the per-layer in-place
/// rules do not carry over. The rest phase is the TinyForge C runtime's per-layer schedule
/// from the split on, its lifetimes unchanged.
public struct PatchPlan: Sendable {
    public var stage: PatchStage
    /// Bytes of each stage tensor's buffer (tile buffers; input and output in full).
    public var bufferBytes: [Int: Int]
    /// MACs of the stage ops run once over whole tensors (the per-layer figure).
    public var stageMACs: Int
    /// MACs of the stage ops summed over all tiles.
    public var patchedStageMACs: Int
    public var networkMACs: Int
    /// Steps of one tile (the stage phase); the rest phase follows.
    public var stageSteps: Int
    public var requests: [BufferRequest]
    public var memory: MemoryPlan

    /// MACs recomputed in the halos of neighbouring tiles.
    public var extraMACs: Int { patchedStageMACs - stageMACs }
    /// `extraMACs` as a fraction of the whole network's MACs.
    public var macOverhead: Double { Double(extraMACs) / Double(max(1, networkMACs)) }
    /// The arena the patched network needs.
    public var arenaBytes: Int { memory.arenaBytes }
    /// Bytes live at the worst step of each phase (unaligned; no placement does better).
    public var stagePeakLive: Int { peakLive(0..<stageSteps) }
    public var restPeakLive: Int { peakLive(stageSteps..<(requests.map(\.lastStep).max() ?? stageSteps) + 1) }

    func peakLive(_ steps: Range<Int>) -> Int {
        steps.map { i in requests.lazy.filter { $0.firstStep <= i && i <= $0.lastStep }.reduce(0) { $0 + $1.size } }.max() ?? 0
    }

    /// Plans `stage` over `schedule` (whose plan the stage was cut from).
    public init(stage: PatchStage, schedule: KernelSchedule, options: MemoryPlannerOptions = .init()) {
        let plan = schedule.plan
        self.stage = stage
        var sizes: [Int: Int] = [:]
        for op in plan.ops[stage.ops] { sizes[op.output] = stage.tileBytes(plan, tensor: op.output) }
        sizes[plan.inputTensor] = plan.tensors[plan.inputTensor].elements
        sizes[stage.output] = plan.tensors[stage.output].elements
        bufferBytes = sizes
        stageMACs = plan.ops[stage.ops].reduce(0) { $0 + $1.macs }
        patchedStageMACs = stage.patchedMACs(plan)
        networkMACs = plan.macs
        stageSteps = stage.splitOp
        (requests, memory) = Self.placeArena(stage: stage, schedule: schedule, sizes: sizes, options: options)
    }

    /// Lifetimes of both phases on one step axis, placed together: the stage output keeps one
    /// place from the first tile to its last reader in the rest.
    static func placeArena(stage: PatchStage, schedule: KernelSchedule, sizes: [Int: Int],
                           options: MemoryPlannerOptions) -> ([BufferRequest], MemoryPlan) {
        let plan = schedule.plan, s = stage.splitOp
        var reqs: [BufferRequest] = []
        var nextID = plan.tensors.count
        for (t, bytes) in sizes.sorted(by: { $0.key < $1.key }) where t != stage.output {
            let first = t == plan.inputTensor ? 0 : plan.tensors[t].producer
            let last = t == plan.inputTensor ? s - 1 : plan.tensors[t].consumers.filter { $0 < s }.max() ?? first
            reqs.append(BufferRequest(id: t, size: bytes, firstStep: first, lastStep: last))
        }
        for op in plan.ops[stage.ops] where op.kind == .add && ![nil, .relu, .relu6].contains(op.activation) {
            for _ in 0..<(op.activation == .swish ? 2 : 1) {
                reqs.append(BufferRequest(id: nextID, size: sizes[op.output]!, firstStep: op.index, lastStep: op.index))
                nextID += 1
            }
        }
        let rt = schedule.tinyforgeC
        let f = rt.steps.firstIndex { $0.op >= s }!
        let outRoot = rt.storage[stage.output]
        var outLast = s - 1, outSize = sizes[stage.output]!
        for r in rt.lifetimes where r.lastStep >= f {
            let last = r.lastStep - f + s
            if r.id == outRoot {
                outLast = max(outLast, last); outSize = max(outSize, r.size)
            } else {
                reqs.append(BufferRequest(id: nextID + r.id, size: r.size, firstStep: max(r.firstStep, f) - f + s, lastStep: last))
            }
        }
        reqs.append(BufferRequest(id: stage.output, size: outSize, firstStep: 0, lastStep: outLast))
        reqs.sort { $0.id < $1.id }
        // Well-formed lifetimes (sizes ≥ 0, first ≤ last), so planning cannot fail.
        return (reqs, try! MemoryPlanner.plan(reqs, options: options))
    }
}
