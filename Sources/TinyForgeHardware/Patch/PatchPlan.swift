/// A patch plan and its cost: N ≥ 1 patch stages run tile by tile, separated by segments run
/// layer by layer, in one arena placed by the same `MemoryPlanner` as the per-layer plan.
///
/// Buffers of a stage phase (one step per stage op of one tile; every tile reuses them):
/// the stage input and the stage output in full, live through the whole stage (the output
/// is assembled tile by tile and read after it); every intermediate tensor as a tile buffer
/// sized for its largest tile region, live from its producer to its last reader. An add
/// whose activation the C runtime cannot fuse (leaky_relu, hswish, swish) writes a
/// pre-activation tile buffer first (swish: plus its sigmoid). Nothing runs in place inside
/// a tile: with halos an op's input and output regions differ, so the per-layer in-place
/// rules do not carry over. The layer-by-layer segments are the TinyForge C runtime's
/// per-layer schedule, its lifetimes unchanged (`placeArena`).
public struct PatchPlan: Sendable {
    /// The patch stages in network order, none overlapping.
    public var stages: [PatchStage]
    /// The first patch stage (a single-stage plan's only one).
    public var stage: PatchStage { stages[0] }
    /// Bytes of each stage tensor's buffer (tile buffers; stage inputs and outputs in full).
    public var bufferBytes: [Int: Int]
    /// MACs of the stage ops run once over whole tensors (the per-layer figure), all stages.
    public var stageMACs: Int
    /// MACs of the stage ops summed over all tiles, all stages.
    public var patchedStageMACs: Int
    public var networkMACs: Int
    /// The arena steps of each stage (one step per stage op of one tile); every other step
    /// is a step of the C runtime's per-layer schedule.
    public var stageSteps: [Range<Int>]
    public var requests: [BufferRequest]
    public var memory: MemoryPlan

    /// MACs recomputed in the halos of neighbouring tiles.
    public var extraMACs: Int { patchedStageMACs - stageMACs }
    /// `extraMACs` as a fraction of the whole network's MACs.
    public var macOverhead: Double { Double(extraMACs) / Double(max(1, networkMACs)) }
    /// The arena the patched network needs.
    public var arenaBytes: Int { memory.arenaBytes }
    /// The `--patch` value that gives this plan: `4x4@3`, `4x4@1.se+3x3@3..5`.
    public var setting: String { stages.map(\.setting).joined(separator: "+") }
    /// Bytes live at the worst step of any stage (unaligned; no placement does better).
    public var stagePeakLive: Int { stageSteps.map(peakLive).max() ?? 0 }
    /// Bytes live at the worst step of stage `k`.
    public func stagePeakLive(_ k: Int) -> Int { peakLive(stageSteps[k]) }
    /// Bytes live at the worst layer-by-layer step.
    public var restPeakLive: Int {
        let last = (requests.map(\.lastStep).max() ?? 0) + 1
        return (0..<last).filter { i in !stageSteps.contains { $0.contains(i) } }.map { peakLive($0..<$0 + 1) }.max() ?? 0
    }

    func peakLive(_ steps: Range<Int>) -> Int {
        steps.map { i in requests.lazy.filter { $0.firstStep <= i && i <= $0.lastStep }.reduce(0) { $0 + $1.size } }.max() ?? 0
    }

    /// Plans one stage over `schedule` (whose plan the stage was cut from).
    public init(stage: PatchStage, schedule: KernelSchedule, options: MemoryPlannerOptions = .init()) {
        // One stage cannot overlap another.
        try! self.init(stages: [stage], schedule: schedule, options: options)
    }

    /// Plans `stages` (in network order) over `schedule`.
    /// - Throws: `PatchPlanError.stagesOverlap` when a stage starts before the previous ends.
    public init(stages: [PatchStage], schedule: KernelSchedule, options: MemoryPlannerOptions = .init()) throws {
        precondition(!stages.isEmpty, "a patch plan has at least one stage")
        for k in stages.indices.dropFirst() where stages[k].startOp < stages[k - 1].splitOp {
            throw PatchPlanError.stagesOverlap(index: k, stage: stages[k].setting, previous: stages[k - 1].setting)
        }
        let plan = schedule.plan
        self.stages = stages
        var sizes: [Int: Int] = [:]
        for st in stages {
            for op in plan.ops[st.ops] { sizes[op.output] = st.tileBytes(plan, tensor: op.output) }
            sizes[st.input] = plan.tensors[st.input].elements
            sizes[st.output] = plan.tensors[st.output].elements
        }
        bufferBytes = sizes
        stageMACs = stages.reduce(0) { acc, st in acc + plan.ops[st.ops].reduce(0) { $0 + $1.macs } }
        patchedStageMACs = stages.reduce(0) { $0 + $1.patchedMACs(plan) }
        networkMACs = plan.macs
        let line = PatchTimeline(stages: stages, schedule: schedule)
        stageSteps = line.stageSteps
        (requests, memory) = line.placeArena(sizes: sizes, options: options)
    }
}
