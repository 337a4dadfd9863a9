import TinyForgeSpec

/// Which inference runtime the activation memory is planned for.
public enum RuntimeModel: String, Sendable, CaseIterable {
    /// TinyForge's C runtime: every activation (leaky_relu, swish, hswish included) and the BN
    /// are fused into the producing op; depthwise stride-1 convs, SE scaling and residual adds
    /// run in place when their input dies there. A depthwise in place needs one output
    /// channel plane (H·W bytes) of scratch.
    case tinyforge
    /// A stock TFLite Micro interpreter (reference kernels): only relu/relu6 fuse; leaky_relu
    /// and hard_swish are ops of their own, swish is LOGISTIC + MUL, the SE gate is LOGISTIC;
    /// nothing runs in place. Persistent allocations (tensor structs, per-channel
    /// multipliers) are not included: this is the activation part of TFLM's arena.
    case tflm
}

/// The activation-memory plan of a network for one runtime: tensor lifetimes over the op
/// schedule, placed by `MemoryPlanner`.
public struct ActivationMemory: Sendable {
    public var runtime: RuntimeModel
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
        public var kernel: String
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
    public init(plan lp: LayerPlan, runtime: RuntimeModel, options: MemoryPlannerOptions = .init()) {
        var sched = Schedule()
        // Buffer ids for plan tensors = tensor ids; extra buffers are appended after them.
        sched.nextId = lp.tensors.count
        for t in lp.tensors { sched.sizes[t.id] = t.elements; sched.labels[t.id] = "t\(t.id) \(t.height)×\(t.width)×\(t.channels)" }
        var alias = Array(0..<lp.tensors.count)
        func root(_ i: Int) -> Int { var i = i; while alias[i] != i { i = alias[i] }; return i }
        let lastUse: [Int] = lp.tensors.map { $0.consumers.max() ?? ($0.producer < 0 ? 0 : $0.producer) }

        for op in lp.ops {
            let out = op.output
            switch runtime {
            case .tinyforge:
                var inPlace = false
                var scratch: Int?
                let dying = op.inputs.filter { lastUse[$0] == op.index && $0 != lp.outputTensor }
                if op.kind == .depthwiseConv2d, op.stride == 1, let x = dying.first {
                    alias[out] = root(x); inPlace = true
                    scratch = sched.newBuffer(lp.tensors[out].height * lp.tensors[out].width, label: "dw in-place plane")
                } else if op.kind == .mul, let x = dying.first(where: { $0 == op.inputs[0] }) {
                    alias[out] = root(x); inPlace = true
                } else if op.kind == .add, let x = dying.first {
                    alias[out] = root(x); inPlace = true
                }
                sched.add(op: op.index, kernel: op.kind.rawValue, inputs: op.inputs, output: out, scratch: scratch, inPlace: inPlace)
            case .tflm:
                var current = out
                let name = op.kind.rawValue
                let fusable: Set<PlanActivation> = [.relu, .relu6]
                if let a = op.activation, !fusable.contains(a) {
                    // The op writes a pre-activation tensor, then separate activation kernels run.
                    let pre = sched.newBuffer(lp.tensors[out].elements, label: "\(sched.labels[out]!) pre-\(a.rawValue)")
                    sched.add(op: op.index, kernel: name, inputs: op.inputs, output: pre, scratch: nil, inPlace: false)
                    switch a {
                    case .swish:
                        let sig = sched.newBuffer(lp.tensors[out].elements, label: "\(sched.labels[out]!) sigmoid")
                        sched.add(op: op.index, kernel: "logistic", inputs: [pre], output: sig, scratch: nil, inPlace: false)
                        sched.add(op: op.index, kernel: "mul", inputs: [pre, sig], output: out, scratch: nil, inPlace: false)
                    case .leakyRelu: sched.add(op: op.index, kernel: "leaky_relu", inputs: [pre], output: out, scratch: nil, inPlace: false)
                    case .hswish: sched.add(op: op.index, kernel: "hard_swish", inputs: [pre], output: out, scratch: nil, inPlace: false)
                    case .sigmoid: sched.add(op: op.index, kernel: "logistic", inputs: [pre], output: out, scratch: nil, inPlace: false)
                    case .relu, .relu6: break
                    }
                    current = out
                } else {
                    sched.add(op: op.index, kernel: name, inputs: op.inputs, output: current, scratch: nil, inPlace: false)
                }
            }
        }
        // Lifetimes in steps; aliased tensors share their root's buffer.
        var first: [Int: Int] = [:], last: [Int: Int] = [:], size: [Int: Int] = [:]
        func resolve(_ b: Int) -> Int { b < alias.count ? root(b) : b }
        func touch(_ b: Int, _ step: Int) {
            let r = resolve(b)
            first[r] = min(first[r] ?? step, step)
            last[r] = max(last[r] ?? step, step)
            size[r] = max(size[r] ?? 0, sched.sizes[b]!)
        }
        touch(lp.inputTensor, 0)
        for (i, s) in sched.steps.enumerated() {
            for b in s.inputs { touch(b, i) }
            touch(s.output, i)
            if let sc = s.scratch { touch(sc, i) }
        }
        let reqs = first.keys.sorted().map { BufferRequest(id: $0, size: size[$0]!, firstStep: first[$0]!, lastStep: last[$0]!) }
        // Lifetimes come from a well-formed schedule, so planning cannot fail.
        let memPlan = try! MemoryPlanner.plan(reqs, options: options)
        var steps: [Step] = []
        var peak = 0
        for (i, s) in sched.steps.enumerated() {
            let live = reqs.filter { $0.firstStep <= i && i <= $0.lastStep }
            let bytes = live.reduce(0) { $0 + $1.size }
            steps.append(Step(op: s.op, kernel: s.kernel, inputs: s.inputs.map(resolve), output: resolve(s.output),
                              scratch: s.scratch, inPlace: s.inPlace, liveBytes: bytes, live: live.map(\.id)))
            if bytes > steps[peak].liveBytes { peak = i }
        }
        self.init(runtime: runtime, steps: steps, requests: reqs, plan: memPlan, peakStep: peak, bufferLabels: sched.labels)
    }
}

/// Kernels in execution order with the buffers they touch (internal to the memory model).
private struct Schedule {
    struct Entry { var op: Int; var kernel: String; var inputs: [Int]; var output: Int; var scratch: Int?; var inPlace: Bool }
    var steps: [Entry] = []
    var sizes: [Int: Int] = [:]
    var labels: [Int: String] = [:]
    var nextId = 0

    mutating func newBuffer(_ bytes: Int, label: String) -> Int {
        let id = nextId
        nextId += 1
        sizes[id] = bytes
        labels[id] = label
        return id
    }

    mutating func add(op: Int, kernel: String, inputs: [Int], output: Int, scratch: Int?, inPlace: Bool) {
        steps.append(Entry(op: op, kernel: kernel, inputs: inputs, output: output, scratch: scratch, inPlace: inPlace))
    }
}
