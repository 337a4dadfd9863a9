extension RuntimeSchedule {
    /// Schedules `plan` for `runtime` (the rules are on `KernelRuntime`'s cases).
    public init(plan lp: LayerPlan, runtime: KernelRuntime) {
        var b = StepBuilder(plan: lp)
        let lastUse: [Int] = lp.tensors.map { $0.consumers.max() ?? ($0.producer < 0 ? 0 : $0.producer) }
        for op in lp.ops {
            switch runtime {
            case .tinyforgeC: b.fusedStep(op, lastUse: lastUse)
            case .stockTFLM: b.tflmSteps(op)
            }
        }
        let lifetimes = Self.lifetimes(steps: b.steps, buffers: b.buffers, storage: b.storage, input: lp.inputTensor)
        self.init(runtime: runtime, steps: b.steps, buffers: b.buffers, storage: b.storage, lifetimes: lifetimes)
    }
}

/// Appends steps and buffers while scheduling (internal to `RuntimeSchedule.init`).
private struct StepBuilder {
    let plan: LayerPlan
    var steps: [KernelStep] = []
    var buffers: [ScheduleBuffer]
    var storage: [Int]

    init(plan: LayerPlan) {
        self.plan = plan
        buffers = plan.tensors.map {
            ScheduleBuffer(id: $0.id, bytes: $0.elements, tensor: $0.id, label: "t\($0.id) \($0.height)×\($0.width)×\($0.channels)")
        }
        storage = Array(buffers.indices)
    }

    mutating func newBuffer(_ bytes: Int, label: String) -> Int {
        buffers.append(ScheduleBuffer(id: buffers.count, bytes: bytes, tensor: nil, label: label))
        storage.append(buffers.count - 1)
        return buffers.count - 1
    }

    static func kernel(_ kind: OpKind) -> KernelKind {
        switch kind {
        case .conv2d: return .conv2d
        case .depthwiseConv2d: return .depthwiseConv2d
        case .fullyConnected: return .fullyConnected
        case .add: return .add
        case .mul: return .mul
        case .globalAvgPool: return .mean
        }
    }

    /// TinyForge C: one kernel per plan op with its activation fused; in place over a dying
    /// input for a stride-1 depthwise (plus an H·W plane of scratch), the SE scale (over the
    /// feature map, its first operand) and a residual add (its first dying operand). The C
    /// kernels fuse activations into CONV / DW / FC only: an add's leaky_relu / hswish / swish
    /// runs after it as standalone kernels, in place (swish: LOGISTIC into its own buffer,
    /// then MUL over the sum).
    mutating func fusedStep(_ op: PlanOp, lastUse: [Int]) {
        let out = op.output
        let dying = op.inputs.filter { lastUse[$0] == op.index && $0 != plan.outputTensor }
        var over: Int?
        var scratch: Int?
        switch op.kind {
        case .depthwiseConv2d where op.stride == 1:
            over = dying.first
            if over != nil {
                let t = plan.tensors[out]
                scratch = newBuffer(t.height * t.width, label: "dw in-place plane")
            }
        case .mul: over = dying.first { $0 == op.inputs[0] }
        case .add: over = dying.first
        default: break
        }
        let split = op.kind == .add && op.activation.map { $0 != .relu && $0 != .relu6 } == true
        let written = split ? newBuffer(plan.tensors[out].elements, label: "\(buffers[out].label) pre-\(op.activation!.rawValue)") : out
        if let x = over { storage[written] = storage[x] }
        steps.append(KernelStep(op: op.index, kind: Self.kernel(op.kind), fusedActivation: split ? nil : op.activation,
                                inputs: op.inputs, output: written, inPlaceOver: over, scratch: scratch))
        if split { standaloneActivation(op, input: written) }
    }

    /// The C runtime's standalone activation kernels over `pre`, each in place where its
    /// input dies (LOGISTIC of a swish does not: the MUL reads `pre` again).
    private mutating func standaloneActivation(_ op: PlanOp, input pre: Int) {
        let out = op.output
        func step(_ k: KernelKind, _ inputs: [Int], _ output: Int, over: Int?) {
            if let x = over { storage[output] = storage[x] }
            steps.append(KernelStep(op: op.index, kind: k, fusedActivation: nil, inputs: inputs, output: output,
                                    inPlaceOver: over, scratch: nil))
        }
        switch op.activation! {
        case .swish:
            let sig = newBuffer(plan.tensors[out].elements, label: "\(buffers[out].label) sigmoid")
            step(.logistic, [pre], sig, over: nil)
            step(.mul, [pre, sig], out, over: pre)
        case .leakyRelu: step(.leakyRelu, [pre], out, over: pre)
        case .hswish: step(.hardSwish, [pre], out, over: pre)
        case .sigmoid: step(.logistic, [pre], out, over: pre)
        case .relu, .relu6: break
        }
    }

    /// Stock TFLM: relu / relu6 fuse; any other activation makes the op write a
    /// pre-activation buffer that separate kernels turn into the plan tensor (swish =
    /// LOGISTIC into its own buffer, then MUL of the two). Nothing runs in place.
    mutating func tflmSteps(_ op: PlanOp) {
        let out = op.output
        let kind = Self.kernel(op.kind)
        guard let a = op.activation, a != .relu, a != .relu6 else {
            steps.append(KernelStep(op: op.index, kind: kind, fusedActivation: op.activation, inputs: op.inputs,
                                    output: out, inPlaceOver: nil, scratch: nil))
            return
        }
        let n = plan.tensors[out].elements
        let pre = newBuffer(n, label: "\(buffers[out].label) pre-\(a.rawValue)")
        steps.append(KernelStep(op: op.index, kind: kind, fusedActivation: nil, inputs: op.inputs, output: pre,
                                inPlaceOver: nil, scratch: nil))
        func unary(_ k: KernelKind, _ input: Int, _ output: Int) {
            steps.append(KernelStep(op: op.index, kind: k, fusedActivation: nil, inputs: [input], output: output,
                                    inPlaceOver: nil, scratch: nil))
        }
        switch a {
        case .swish:
            let sig = newBuffer(n, label: "\(buffers[out].label) sigmoid")
            unary(.logistic, pre, sig)
            steps.append(KernelStep(op: op.index, kind: .mul, fusedActivation: nil, inputs: [pre, sig], output: out,
                                    inPlaceOver: nil, scratch: nil))
        case .leakyRelu: unary(.leakyRelu, pre, out)
        case .hswish: unary(.hardSwish, pre, out)
        case .sigmoid: unary(.logistic, pre, out)
        case .relu, .relu6: break
        }
    }
}
