/// The step axis of a patch plan's arena: the plan's ops in order, each patch stage as one
/// step per stage op (the steps of one tile; every tile reuses them), each segment between
/// stages (and the rest after the last) as the C runtime's per-layer steps of its ops.
struct PatchTimeline {
    /// A run of ops on the step axis: a patch stage, or a layer-by-layer segment whose steps
    /// are the runtime steps `runtimeSteps`.
    struct Segment {
        var steps: Range<Int>
        /// The index of the stage (nil: layer by layer).
        var stage: Int?
        var runtimeSteps: Range<Int>
    }

    let stages: [PatchStage]
    let schedule: KernelSchedule
    var segments: [Segment] = []

    var stageSteps: [Range<Int>] { segments.filter { $0.stage != nil }.map(\.steps) }

    init(stages: [PatchStage], schedule: KernelSchedule) {
        self.stages = stages
        self.schedule = schedule
        let rt = schedule.tinyforgeC
        func runtimeIndex(_ op: Int) -> Int { rt.steps.firstIndex { $0.op >= op } ?? rt.steps.count }
        var op = 0, step = 0
        func layers(upTo end: Int) {
            let r = runtimeIndex(op)..<runtimeIndex(end)
            if !r.isEmpty { segments.append(Segment(steps: step..<step + r.count, stage: nil, runtimeSteps: r)); step += r.count }
        }
        for (k, st) in stages.enumerated() {
            layers(upTo: st.startOp)
            segments.append(Segment(steps: step..<step + st.ops.count, stage: k, runtimeSteps: 0..<0))
            step += st.ops.count
            op = st.splitOp
        }
        layers(upTo: schedule.plan.ops.count)
    }

    /// Lifetimes of every segment on one step axis, placed together. Request ids: stage
    /// tensors by tensor id (the stage output's request also holds its storage root in the
    /// segment after the stage, so the map keeps one place from the first tile to its last
    /// reader); then the pre-activation tile buffers of adds, in op order; then, per
    /// layer-by-layer segment `j`, its storage roots `r` at `extra end + j·buffers + r` (a
    /// root that holds a stage input is kept to the end of that stage). With one stage from
    /// the network input this is the plan's single rest phase, ids `extra end + r`.
    func placeArena(sizes: [Int: Int], options: MemoryPlannerOptions) -> ([BufferRequest], MemoryPlan) {
        let plan = schedule.plan, rt = schedule.tinyforgeC
        var reqs: [BufferRequest] = []
        var nextID = plan.tensors.count
        var extras: [BufferRequest] = []
        for seg in segments {
            guard let k = seg.stage else { continue }
            let st = stages[k]
            func step(_ op: Int) -> Int { seg.steps.lowerBound + op - st.startOp }
            if st.startOp == 0 {
                reqs.append(BufferRequest(id: st.input, size: sizes[st.input]!, firstStep: seg.steps.lowerBound, lastStep: seg.steps.upperBound - 1))
            }
            for op in plan.ops[st.ops] {
                if op.output != st.output {
                    let last = plan.tensors[op.output].consumers.filter { st.ops.contains($0) }.max() ?? op.index
                    reqs.append(BufferRequest(id: op.output, size: sizes[op.output]!, firstStep: step(op.index), lastStep: step(last)))
                }
                if op.kind == .add && ![nil, .relu, .relu6].contains(op.activation) {
                    for _ in 0..<(op.activation == .swish ? 2 : 1) {
                        extras.append(BufferRequest(id: nextID, size: sizes[op.output]!, firstStep: step(op.index), lastStep: step(op.index)))
                        nextID += 1
                    }
                }
            }
        }
        reqs += extras
        reqs += boundaryAndLayerRequests(sizes: sizes, rootBase: nextID, buffers: rt.buffers.count)
        reqs.sort { $0.id < $1.id }
        // Well-formed lifetimes (sizes ≥ 0, first ≤ last), so planning cannot fail.
        return (reqs, try! MemoryPlanner.plan(reqs, options: options))
    }

    /// The layer-by-layer segments' storage roots, clipped to each segment, merged with the
    /// full stage inputs and outputs next to them; a stage output read directly by the next
    /// stage (no segment between) is one request over both stages.
    func boundaryAndLayerRequests(sizes: [Int: Int], rootBase: Int, buffers: Int) -> [BufferRequest] {
        let rt = schedule.tinyforgeC
        var reqs: [BufferRequest] = []
        var ordinal = 0
        for (i, seg) in segments.enumerated() {
            if let k = seg.stage {
                // A stage output handed straight to the next stage.
                if i + 1 < segments.count, let next = segments[i + 1].stage {
                    reqs.append(BufferRequest(id: stages[k].output, size: sizes[stages[k].output]!,
                                              firstStep: seg.steps.lowerBound, lastStep: segments[i + 1].steps.upperBound - 1))
                    precondition(stages[next].input == stages[k].output, "adjacent stages share their boundary tensor")
                }
                continue
            }
            let before = i > 0 ? segments[i - 1] : nil, after = i + 1 < segments.count ? segments[i + 1] : nil
            let outRoot = before?.stage.map { rt.storage[stages[$0].output] }
            let inRoot = after?.stage.map { rt.storage[stages[$0].input] }
            var sawOut = false, sawIn = false
            for r in rt.lifetimes {
                let lo = max(r.firstStep, seg.runtimeSteps.lowerBound), hi = min(r.lastStep, seg.runtimeSteps.upperBound - 1)
                guard lo <= hi else { continue }
                var q = BufferRequest(id: rootBase + ordinal * buffers + r.id, size: r.size,
                                      firstStep: lo - seg.runtimeSteps.lowerBound + seg.steps.lowerBound,
                                      lastStep: hi - seg.runtimeSteps.lowerBound + seg.steps.lowerBound)
                if r.id == outRoot, let b = before, let k = b.stage {
                    q.id = stages[k].output; q.firstStep = b.steps.lowerBound
                    q.size = max(q.size, sizes[stages[k].output]!); sawOut = true
                }
                if r.id == inRoot, let a = after, let k = a.stage {
                    q.lastStep = a.steps.upperBound - 1; q.size = max(q.size, sizes[stages[k].input]!); sawIn = true
                }
                reqs.append(q)
            }
            // The segment reads the stage output before it (its root's lifetime reaches past
            // the stage) and writes the stage input after it (its producer is in the segment).
            precondition(before?.stage == nil || sawOut, "the stage output's root lives into the next segment")
            precondition(after?.stage == nil || sawIn, "the stage input's root is written in the segment before it")
            ordinal += 1
        }
        return reqs
    }
}
