import TinyForgeSpec

extension LayerPlan {
    /// Lowers a spec to ops in execution order, building exactly the network the paper's code
    /// builds for its blocks (same convs, BNs, SE, shortcuts; main branch before the shortcut
    /// projection, as their `forward` runs them).
    public init(spec: ArchitectureSpec) {
        var b = PlanBuilder(spec: spec)
        var x = b.newTensor(spec.input.height, spec.input.width, spec.input.channels, producer: -1)
        let input = x
        if let s = spec.stem {
            x = b.conv(x, cout: s.outChannels, k: s.kernel, stride: s.stride, bias: spec.convBias, bn: true,
                       act: PlanActivation(s.activation), role: .stem)
        }
        for l in spec.expandedLayers() {
            x = b.layer(l, input: x)
        }
        if spec.head.convChannels > 0 {
            x = b.conv(x, cout: spec.head.convChannels, k: 1, stride: 1, bias: spec.convBias, bn: true,
                       act: PlanActivation(spec.head.activation), role: .headConv)
        }
        x = b.unary(.globalAvgPool, x, h: 1, w: 1, c: b.tensors[x].channels, role: .headPool)
        x = b.fullyConnected(x, cout: spec.numClasses, dropout: spec.head.dropout, role: .classifier)
        self.init(spec: spec, tensors: b.tensors, ops: b.ops, inputTensor: input, outputTensor: x)
    }
}

/// Appends ops and tensors, computing each op's MACs and parameter counts as it goes.
struct PlanBuilder {
    let spec: ArchitectureSpec
    var tensors: [PlanTensor] = []
    var ops: [PlanOp] = []
    var stage: Int?
    var layer: Int?

    init(spec: ArchitectureSpec) { self.spec = spec }

    mutating func newTensor(_ h: Int, _ w: Int, _ c: Int, producer: Int) -> Int {
        tensors.append(PlanTensor(id: tensors.count, height: h, width: w, channels: c, producer: producer, consumers: []))
        return tensors.count - 1
    }

    mutating func append(_ kind: OpKind, inputs: [Int], h: Int, w: Int, c: Int, k: Int = 1, stride: Int = 1,
                         cin: Int, bias: Bool = false, bn: Bool = false, act: PlanActivation? = nil,
                         dropout: Double = 0, role: OpRole) -> Int {
        let idx = ops.count
        let out = newTensor(h, w, c, producer: idx)
        for i in inputs { tensors[i].consumers.append(idx) }
        var macs = 0, weights = 0
        switch kind {
        case .conv2d: weights = c * cin * k * k; macs = h * w * weights
        case .depthwiseConv2d: weights = c * k * k; macs = h * w * weights
        case .fullyConnected: weights = c * cin; macs = weights
        case .add, .globalAvgPool, .mul: break
        }
        let hasWeights = weights > 0
        let params = weights + (bias ? c : 0) + (bn ? 2 * c : 0)
        let deployedBias = hasWeights && (bias || bn) ? c : 0
        ops.append(PlanOp(index: idx, kind: kind, inputs: inputs, output: out, kernel: k, stride: stride,
                          inChannels: cin, outChannels: c, bias: bias, batchNorm: bn, activation: act,
                          dropout: dropout, opRole: role, stage: stage, layer: layer, macs: macs, params: params,
                          paramsDeployed: weights + deployedBias, weightCount: weights, deployedBiasCount: deployedBias))
        return out
    }

    static func outSize(_ n: Int, _ stride: Int) -> Int { (n + stride - 1) / stride }

    mutating func conv(_ x: Int, cout: Int, k: Int, stride: Int, bias: Bool, bn: Bool, act: PlanActivation?,
                       role: OpRole) -> Int {
        let t = tensors[x]
        return append(.conv2d, inputs: [x], h: Self.outSize(t.height, stride), w: Self.outSize(t.width, stride),
                      c: cout, k: k, stride: stride, cin: t.channels, bias: bias, bn: bn, act: act, role: role)
    }

    mutating func depthwise(_ x: Int, k: Int, stride: Int, act: PlanActivation?, role: OpRole) -> Int {
        let t = tensors[x]
        return append(.depthwiseConv2d, inputs: [x], h: Self.outSize(t.height, stride), w: Self.outSize(t.width, stride),
                      c: t.channels, k: k, stride: stride, cin: t.channels, bias: spec.convBias, bn: true, act: act,
                      role: role)
    }

    mutating func unary(_ kind: OpKind, _ x: Int, h: Int, w: Int, c: Int, role: OpRole) -> Int {
        append(kind, inputs: [x], h: h, w: w, c: c, cin: tensors[x].channels, role: role)
    }

    mutating func fullyConnected(_ x: Int, cout: Int, dropout: Double, role: OpRole) -> Int {
        append(.fullyConnected, inputs: [x], h: 1, w: 1, c: cout, cin: tensors[x].channels, bias: true,
               dropout: dropout, role: role)
    }

    /// GAP → 1×1 conv (bias) → ReLU → 1×1 conv (bias) → sigmoid → scale, as the paper's SE.
    mutating func squeezeExcite(_ x: Int, channels se: Int, role: (BlockPart) -> OpRole) -> Int {
        let t = tensors[x]
        let s = unary(.globalAvgPool, x, h: 1, w: 1, c: t.channels, role: role(.seSqueeze))
        let r = append(.conv2d, inputs: [s], h: 1, w: 1, c: se, cin: t.channels, bias: true, act: .relu,
                       role: role(.seReduce))
        let g = append(.conv2d, inputs: [r], h: 1, w: 1, c: t.channels, cin: se, bias: true, act: .sigmoid,
                       role: role(.seExpand))
        return append(.mul, inputs: [x, g], h: t.height, w: t.width, c: t.channels, cin: t.channels,
                      role: role(.seScale))
    }

    /// One expanded layer of a stage.
    mutating func layer(_ l: LayerConfig, input x: Int) -> Int {
        stage = l.stageIndex; layer = l.layerIndex
        defer { stage = nil; layer = nil }
        let role = { (part: BlockPart) in OpRole.block(stage: l.stageIndex, layer: l.layerIndex, part: part) }
        let act = PlanActivation(l.activation)
        // The activation after the block's last BN goes on the last op when there is no add.
        let finalAct: PlanActivation? = l.postActivation && l.shortcut == .none ? act : nil
        let bias = spec.convBias
        var y: Int
        switch l.block {
        case .conv:
            y = conv(x, cout: l.outChannels, k: l.kernel, stride: l.stride, bias: bias, bn: true, act: act, role: role(.conv))
        case .basic:
            y = conv(x, cout: l.outChannels, k: l.kernel, stride: l.stride, bias: bias, bn: true, act: act, role: role(.conv1))
            y = conv(y, cout: l.outChannels, k: l.kernel, stride: 1, bias: bias, bn: true, act: finalAct, role: role(.conv2))
        case .dsconv:
            y = depthwise(x, k: l.kernel, stride: l.stride, act: act, role: role(.depthwise))
            if l.seChannels > 0 { y = squeezeExcite(y, channels: l.seChannels, role: role) }
            y = conv(y, cout: l.outChannels, k: 1, stride: 1, bias: bias, bn: true, act: finalAct, role: role(.project))
        case .mbconv:
            // Expansion 1 builds no expansion conv (torchvision, timm and Keras do the same).
            y = l.midChannels == l.inChannels ? x
                : conv(x, cout: l.midChannels, k: 1, stride: 1, bias: bias, bn: true, act: act, role: role(.expand))
            y = depthwise(y, k: l.kernel, stride: l.stride, act: act, role: role(.depthwise))
            if l.seChannels > 0 { y = squeezeExcite(y, channels: l.seChannels, role: role) }
            y = conv(y, cout: l.outChannels, k: 1, stride: 1, bias: bias, bn: true, act: finalAct, role: role(.project))
        case .fusedMBConv:
            y = conv(x, cout: l.midChannels, k: l.kernel, stride: l.stride, bias: bias, bn: true, act: act, role: role(.expand))
            if l.seChannels > 0 { y = squeezeExcite(y, channels: l.seChannels, role: role) }
            y = conv(y, cout: l.outChannels, k: 1, stride: 1, bias: bias, bn: true, act: finalAct, role: role(.project))
        }
        var shortcut: Int?
        switch l.shortcut {
        case .none: break
        case .identity: shortcut = x
        case .projection:
            shortcut = conv(x, cout: l.outChannels, k: 1, stride: l.stride, bias: bias, bn: l.shortcutBatchNorm,
                            act: nil, role: role(.shortcut))
        }
        if let s = shortcut {
            let t = tensors[y]
            y = append(.add, inputs: [y, s], h: t.height, w: t.width, c: t.channels, cin: t.channels,
                       act: l.postActivation ? act : nil, role: role(.add))
        }
        return y
    }
}
