import TinyForgeSpec

/// The activation-memory plan of a network for one runtime: the lifetimes of the
/// `KernelSchedule`'s steps for that runtime (no derivation of its own), placed by
/// `MemoryPlanner`.
public struct ActivationMemory: Sendable {
    public var runtime: KernelRuntime
    /// The executed kernels and lifetimes this plan places.
    public var schedule: RuntimeSchedule
    /// One step per executed kernel (TFLM runs more kernels than the plan has ops).
    public var steps: [Step]
    public var requests: [BufferRequest]
    public var plan: MemoryPlan
    /// Bytes of the planned arena: what the device must reserve.
    public var arenaBytes: Int { plan.arenaBytes }
    /// The most bytes live at any step: no plan can do better.
    public var lowerBound: Int { plan.lowerBound }
    /// Index into `steps` of the step with the most live bytes.
    public var peakStep: Int

    public struct Step: Sendable {
        /// The LayerPlan op this kernel belongs to.
        public var op: Int
        public var kind: KernelKind
        /// The kernel's report name (`kind.rawValue`, e.g. "depthwise_conv2d").
        public var kernel: String { kind.rawValue }
        /// Buffers (request ids) read and written.
        public var inputs: [Int]
        public var output: Int
        public var scratch: Int?
        public var inPlace: Bool
        /// Bytes of all buffers alive during this step.
        public var liveBytes: Int
        /// Buffers alive during this step.
        public var live: [Int]
    }

    /// Bytes live at each LayerPlan op (the largest of its kernels' steps).
    public func liveBytesPerOp(opCount: Int) -> [Int] {
        var out = [Int](repeating: 0, count: opCount)
        for s in steps { out[s.op] = max(out[s.op], s.liveBytes) }
        return out
    }

    /// Human description of a buffer: the plan tensor it holds and its shape.
    public var bufferLabels: [Int: String]
}

extension ActivationMemory {
    public init(plan lp: LayerPlan, runtime: KernelRuntime, options: MemoryPlannerOptions = .init()) {
        self.init(schedule: RuntimeSchedule(plan: lp, runtime: runtime), options: options)
    }

    /// Places the schedule's lifetimes: our planner for the TinyForge runtime, TFLM's own
    /// greedy placement (`MemoryPlanner.tflmGreedy`) for stock TFLM, whose arena it is.
    public init(schedule: RuntimeSchedule, options: MemoryPlannerOptions = .init()) {
        let reqs = schedule.lifetimes
        // Lifetimes come from a well-formed schedule, so planning cannot fail.
        let memPlan = schedule.runtime == .stockTFLM
            ? try! MemoryPlanner.tflmGreedy(reqs, options: options) : try! MemoryPlanner.plan(reqs, options: options)
        var steps: [Step] = []
        var peak = 0
        for (i, s) in schedule.steps.enumerated() {
            let live = reqs.filter { $0.firstStep <= i && i <= $0.lastStep }
            let bytes = live.reduce(0) { $0 + $1.size }
            steps.append(Step(op: s.op, kind: s.kind, inputs: s.inputs.map { schedule.storage[$0] },
                              output: schedule.storage[s.output], scratch: s.scratch, inPlace: s.inPlaceOver != nil,
                              liveBytes: bytes, live: live.map(\.id)))
            if bytes > steps[peak].liveBytes { peak = i }
        }
        var labels: [Int: String] = [:]
        for b in schedule.buffers { labels[b.id] = b.label }
        self.init(runtime: schedule.runtime, schedule: schedule, steps: steps, requests: reqs, plan: memPlan,
                  peakStep: peak, bufferLabels: labels)
    }
}
