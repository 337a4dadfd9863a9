import TinyForgeHardware

/// Options of the LayerPlan → float graph lowering.
public struct GraphLoweringOptions: Sendable, Equatable {
    /// Append a SOFTMAX after the classifier (int8 probabilities instead of logits).
    public var appendSoftmax = false
    /// LeakyReLU negative slope of the trained network (the engine's and PyTorch's 0.01).
    public var leakySlope: Float = 0.01
    public init(appendSoftmax: Bool = false, leakySlope: Float = 0.01) {
        self.appendSoftmax = appendSoftmax; self.leakySlope = leakySlope
    }
}

extension FloatGraph {
    /// Lowers every LayerPlan op to the ops a TFLite int8 graph has:
    ///
    /// | plan op | graph nodes |
    /// |---|---|
    /// | conv2d / depthwise (BN folded) | CONV_2D / DEPTHWISE_CONV_2D, relu/relu6 fused |
    /// | … + leaky_relu / hswish / swish | + LEAKY_RELU / HARD_SWISH / LOGISTIC, MUL(x, σ(x)) |
    /// | SE | MEAN (keep dims) → CONV_2D 1×1 + RELU → CONV_2D 1×1 → LOGISTIC → MUL |
    /// | residual add | ADD, relu/relu6 fused, other activations as their own op |
    /// | global average pool | MEAN over H, W |
    /// | classifier | FULLY_CONNECTED (+ SOFTMAX when asked) |
    ///
    /// Padding: the engine pads like PyTorch (`k/2` on every side). TFLite SAME puts the odd
    /// pixel after, so at stride 2 on an even input it samples one row/column later than
    /// PyTorch. TFLite has no explicit padding and a PAD op would cost a padded copy of the
    /// input in RAM; instead the kernel is widened by one zero tap (k×k → (k+1)×(k+1)), which
    /// makes TFLite's SAME padding exactly PyTorch's (`padTop` = k/2) — identical outputs, the
    /// same tensors and arena, a few more weights. Any other mismatch is an error.
    public init(plan: LayerPlan, weights: PlanWeights, options: GraphLoweringOptions = GraphLoweringOptions()) throws {
        var g = GraphBuilder()
        let inT = plan.tensors[plan.inputTensor]
        var map = [Int: Int]()
        map[plan.inputTensor] = g.tensor("input", [1, inT.height, inT.width, inT.channels])
        // The stock-TFLM steps of each op: its own kernel (relu/relu6 fused), then the
        // activation kernels the schedule splits off — the ops a TFLite converter emits.
        let schedule = KernelSchedule(plan: plan)
        let tflmSteps = Dictionary(grouping: schedule.stockTFLM.steps, by: \.op)
        for op in plan.ops {
            let steps = tflmSteps[op.index]![...]
            let x = map[op.inputs[0]]!
            let xs = g.tensors[x].shape
            let out = plan.tensors[op.output]
            let role = op.role
            let fused = try GraphBuilder.fusedActivation(steps.first!, role: role)
            var y: Int
            switch op.kind {
            case .conv2d, .depthwiseConv2d:
                guard xs.count == 4 else {
                    throw NetworkQuantizationError.layer(role: role, reason: "a convolution needs an NHWC input, got shape \(xs)")
                }
                let (w, b) = try weights.foldedConv(op)
                let depthwise = op.kind == .depthwiseConv2d
                let (kh, padTop) = try Self.pytorchPadding(input: xs[1], kernel: op.kernel, stride: op.stride, role: role)
                let (kw, padLeft) = try Self.pytorchPadding(input: xs[2], kernel: op.kernel, stride: op.stride, role: role)
                let wide = Self.widen(w, kernel: op.kernel, toH: kh, toW: kw, inner: depthwise ? op.outChannels : op.inChannels * op.outChannels)
                let conv = Conv(kernelH: kh, kernelW: kw, stride: op.stride, padTop: padTop, padLeft: padLeft,
                                inChannels: op.inChannels, outChannels: op.outChannels, weights: wide, bias: b, activation: fused)
                let shape = [1, out.height, out.width, out.channels]
                y = g.node(depthwise ? .depthwiseConv2d(conv) : .conv2d(conv), [x], shape, role: role)
            case .fullyConnected:
                let (w, b) = try weights.linear(op)
                guard g.tensors[x].elementsPerSample == op.inChannels else {
                    throw NetworkQuantizationError.layer(role: role, reason: "input has \(g.tensors[x].elementsPerSample) features, the layer \(op.inChannels)")
                }
                y = g.node(.fullyConnected(weights: w, bias: b, inFeatures: op.inChannels, outFeatures: op.outChannels, activation: fused),
                           [x], [1, op.outChannels], role: role)
            case .add:
                y = g.node(.add(fused), [x, map[op.inputs[1]]!], xs, role: role)
            case .mul:
                let gate = map[op.inputs[1]]!
                guard g.tensors[gate].shape == xs || g.tensors[gate].shape == [1, 1, 1, xs.last!] else {
                    throw NetworkQuantizationError.layer(role: role, reason: "MUL of \(xs) by \(g.tensors[gate].shape): only same shapes or a (1,1,1,C) channel gate are supported")
                }
                y = g.node(.mul, [x, gate], xs, role: role)
            case .globalAvgPool:
                // Keep (1,1,1,C) for the SE's 1×1 convs; a flat (1,C) vector for the classifier.
                let keep = schedule.poolKeepsDims(op)
                y = g.node(.mean(keepDims: keep), [x], keep ? [1, 1, 1, xs[3]] : [1, xs[3]], role: role)
            }
            y = try g.activation(steps, after: y, role: role, leakySlope: options.leakySlope)
            guard g.tensors[y].elementsPerSample == out.elements else {
                throw NetworkQuantizationError.layer(role: role, reason: "lowered output holds \(g.tensors[y].elementsPerSample) values, the plan says \(out.shape)")
            }
            map[op.output] = y
        }
        var output = map[plan.outputTensor]!
        if options.appendSoftmax {
            output = g.node(.softmax, [output], g.tensors[output].shape, role: "head.softmax",
                            fixed: QuantizedModelBuilder.unitIntervalOutput)
        }
        self.init(name: plan.spec.name ?? "network", tensors: g.tensors, nodes: g.nodes, input: 0, output: output)
    }

    /// The TFLite SAME kernel size and top padding that reproduce PyTorch padding `k/2`.
    public static func pytorchPadding(input: Int, kernel k: Int, stride s: Int, role: String = "layer") throws -> (kernel: Int, padBefore: Int) {
        let p = k / 2
        let torchOut = (input + 2 * p - k) / s + 1
        for kk in [k, k + 1] {
            let out = Padding.same.outputSize(input: input, kernel: kk, stride: s)
            if out == torchOut && Padding.same.before(input: input, kernel: kk, stride: s, output: out) == p {
                return (kk, p)
            }
        }
        throw NetworkQuantizationError.layer(role: role, reason: "kernel \(k), stride \(s) on \(input) pixels: PyTorch padding \(p) cannot be expressed as TFLite SAME padding (even with one zero tap); use stride 1 or 2")
    }

    /// Copies `[k,k,inner]` weights into `[kh,kw,inner]`, zero-filling the extra last row/column.
    static func widen(_ w: [Float], kernel k: Int, toH kh: Int, toW kw: Int, inner: Int) -> [Float] {
        if kh == k && kw == k { return w }
        var out = [Float](repeating: 0, count: kh * kw * inner)
        for y in 0..<k {
            for x in 0..<k {
                for i in 0..<inner { out[(y * kw + x) * inner + i] = w[(y * k + x) * inner + i] }
            }
        }
        return out
    }
}

/// Appends tensors and nodes while lowering.
struct GraphBuilder {
    var tensors: [FloatGraph.Tensor] = []
    var nodes: [FloatGraph.Node] = []

    mutating func tensor(_ name: String, _ shape: [Int], fixed: QuantParams? = nil) -> Int {
        tensors.append(FloatGraph.Tensor(name: name, shape: shape, fixedQuant: fixed))
        return tensors.count - 1
    }

    mutating func node(_ op: FloatGraph.Op, _ inputs: [Int], _ shape: [Int], role: String, name: String? = nil,
                       fixed: QuantParams? = nil) -> Int {
        let y = tensor(name ?? role, shape, fixed: fixed)
        nodes.append(FloatGraph.Node(op: op, inputs: inputs, output: y, role: role))
        return y
    }

    /// The activation fused into an op's own kernel: TFLite fuses relu and relu6 into CONV_2D,
    /// DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD only.
    static func fusedActivation(_ step: KernelStep, role: String) throws -> FusedActivation {
        switch step.fusedActivation {
        case nil: return .none
        case let a? where [.relu, .relu6].contains(a) && [.conv2d, .depthwiseConv2d, .fullyConnected, .add].contains(step.kind):
            return a == .relu ? .relu : .relu6
        case let a?:
            throw NetworkQuantizationError.layer(role: role, reason: "\(a.rawValue) fused into \(step.kind.rawValue): TFLite fuses relu/relu6 only into CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD, and there is no standalone int8 RELU op in this exporter; move the activation onto the producing conv")
        }
    }

    /// Lowers the stock-TFLM kernels that follow an op's own kernel (`steps.first`, whose
    /// output is the graph tensor `y`): LEAKY_RELU, HARD_SWISH, LOGISTIC (the SE gate), swish
    /// as LOGISTIC + MUL(x, σ(x)) — each a node over the schedule's buffers.
    mutating func activation(_ steps: ArraySlice<KernelStep>, after y: Int, role: String,
                             leakySlope: Float) throws -> Int {
        var value = [steps.first!.output: y]
        var last = y
        for s in steps.dropFirst() {
            let inputs = s.inputs.compactMap { value[$0] }
            guard inputs.count == s.inputs.count else {
                throw NetworkQuantizationError.layer(role: role, reason: "the stock-TFLM \(s.kind.rawValue) step reads a buffer no earlier step of this op wrote")
            }
            let shape = tensors[inputs[0]].shape
            switch s.kind {
            case .leakyRelu: last = node(.leakyRelu(alpha: leakySlope), inputs, shape, role: role, name: "\(role)/leaky_relu")
            case .hardSwish: last = node(.hardSwish, inputs, shape, role: role, name: "\(role)/hard_swish")
            case .logistic:
                last = node(.logistic, inputs, shape, role: role, name: "\(role)/sigmoid", fixed: QuantizedModelBuilder.unitIntervalOutput)
            case .mul: last = node(.mul, inputs, shape, role: role, name: "\(role)/swish")
            case .conv2d, .depthwiseConv2d, .fullyConnected, .add, .mean:
                throw NetworkQuantizationError.layer(role: role, reason: "the stock-TFLM schedule runs \(s.kind.rawValue) after the op's own kernel; only activation kernels may follow it")
            }
            value[s.output] = last
        }
        return last
    }
}
