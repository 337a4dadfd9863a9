import TinyForgeEngine
import TinyForgeHardware
import TinyForgeSpec

/// A trainable network built from a `LayerPlan`: one engine layer per plan op (the SE's four
/// ops become one `SqueezeExcite`), executed in plan order. Parameter counts equal the
/// cost model's `params` by construction (a test checks it for every preset space).
public final class Network {
    public let plan: LayerPlan
    public let pool: ThreadPool
    private var nodes: [Node] = []
    /// Forward values by plan tensor id (kept for backward).
    private var values: [Tensor?]
    private var grads: [Tensor?]
    private var ownedGrad: [Tensor?]
    /// The producer → reader pairs `linkReaders` fused; the network owns them (the layers
    /// only refer to theirs).
    public private(set) var links: [LayerLink] = []
    public var linkedPairs: Int { links.count }

    enum Node {
        case layer(Layer, input: Int, output: Int, name: String)
        case add(ResidualAdd, a: Int, b: Int, output: Int)
        case classifier(Dropout?, Linear, input: Int, output: Int, name: String)
    }

    /// - Parameter linkBatchNorm: fuse BN + activation into the reading conv where possible
    ///   (`linkReaders`); false keeps every layer self-contained (same results up to the order
    ///   of the BN-gradient sums; used to compare).
    public init(plan: LayerPlan, seed: UInt64, threads: Int = 2, linkBatchNorm: Bool = true) throws {
        self.plan = plan
        self.pool = ThreadPool(threads: threads)
        values = Array(repeating: nil, count: plan.tensors.count)
        grads = values
        ownedGrad = values
        var rng = SeededGenerator(seed: seed)
        var i = 0
        let ops = plan.ops
        let schedule = KernelSchedule(plan: plan)
        while i < ops.count {
            let op = ops[i]
            switch op.kind {
            case .conv2d, .depthwiseConv2d:
                let dw = op.kind == .depthwiseConv2d
                let layer = try ConvBNAct(cin: op.inChannels, cout: op.outChannels, kernel: op.kernel, stride: op.stride,
                                          groups: dw ? op.inChannels : 1, bias: op.bias, batchNorm: op.batchNorm,
                                          activation: op.activation.map(Network.engineActivation), pool: pool, rng: &rng)
                nodes.append(.layer(layer, input: op.inputs[0], output: op.output, name: op.role))
                i += 1
            case .globalAvgPool where schedule.squeezeExcite(startingAt: i) != nil:
                // SE: squeeze (GAP) → reduce (1×1, ReLU) → expand (1×1, sigmoid) → scale, one layer.
                let g = schedule.squeezeExcite(startingAt: i)!
                let se = try SqueezeExcite(channels: op.outChannels, reduced: ops[g.reduce].outChannels, pool: pool, rng: &rng)
                nodes.append(.layer(se, input: g.input, output: g.output, name: g.weightPrefix))
                i = g.scale + 1
            case .globalAvgPool:
                nodes.append(.layer(GlobalAvgPool(pool: pool), input: op.inputs[0], output: op.output, name: op.role))
                i += 1
            case .add:
                nodes.append(.add(ResidualAdd(activation: op.activation.map(Network.engineActivation), pool: pool),
                                  a: op.inputs[0], b: op.inputs[1], output: op.output))
                i += 1
            case .fullyConnected:
                let drop = op.dropout > 0 ? try Dropout(p: Float(op.dropout), rng: &rng) : nil
                let fc = try Linear(inFeatures: op.inChannels, outFeatures: op.outChannels, pool: pool, rng: &rng)
                nodes.append(.classifier(drop, fc, input: op.inputs[0], output: op.output, name: op.role))
                i += 1
            case .mul:
                throw TrainingError.unsupported(layer: op.role, reason: "a channel scale outside a squeeze-excitation block")
            }
        }
        // The first conv does not need dL/dinput: skip computing it.
        if case .layer(let l as ConvBNAct, let input, _, _)? = nodes.first, input == plan.inputTensor {
            l.computeInputGradient = false
        }
        if linkBatchNorm { try linkReaders() }
    }

    /// Hands each conv's BN + activation to its reader where the reader is its only one and a
    /// conv that can apply it on the fly (`ConvBNAct.link`): inside an inverted-residual block
    /// expand → depthwise → project, so the block's expanded tensors are written once (as
    /// pre-activations) instead of twice. The network output is never deferred.
    private func linkReaders() throws {
        var readers = [Int](repeating: 0, count: plan.tensors.count)
        var readerOf = [Int: ConvBNAct]()
        for node in nodes {
            switch node {
            case let .layer(l, input, _, _):
                readers[input] += 1
                if let c = l as? ConvBNAct { readerOf[input] = c }
            case let .add(_, a, b, _): readers[a] += 1; readers[b] += 1
            case let .classifier(_, _, input, _, _): readers[input] += 1
            }
        }
        for node in nodes {
            guard case let .layer(l as ConvBNAct, _, output, _) = node, output != plan.outputTensor,
                  readers[output] == 1, let reader = readerOf[output],
                  ConvBNAct.canLink(producer: l, consumer: reader) else { continue }
            links.append(try ConvBNAct.link(producer: l, consumer: reader))
        }
    }

    public convenience init(spec: ArchitectureSpec, seed: UInt64, threads: Int = 2) throws {
        try self.init(plan: LayerPlan(spec: spec), seed: seed, threads: threads)
    }

    static func engineActivation(_ a: PlanActivation) -> KernelActivation {
        switch a {
        case .relu: return .relu
        case .relu6: return .relu6
        case .leakyRelu: return .leakyRelu
        case .swish: return .swish
        case .hswish: return .hswish
        case .sigmoid: return .sigmoid
        }
    }

    /// x is (N,H,W,C) as the spec's input; returns logits (N, classes), a buffer the network owns.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        values[plan.inputTensor] = x
        for node in nodes {
            switch node {
            case let .layer(l, input, output, _):
                values[output] = l.forward(values[input]!, training: training)
            case let .add(l, a, b, output):
                values[output] = l.forward(values[a]!, values[b]!)
            case let .classifier(drop, fc, input, output, _):
                var h = values[input]!
                if let d = drop { h = d.forward(h, training: training) }
                values[output] = fc.forward(h, training: training)
            }
        }
        return values[plan.outputTensor]!
    }

    /// Back-propagates dL/dlogits; accumulates parameter gradients (call `zeroGrad` per step).
    public func backward(_ dlogits: Tensor) {
        for i in grads.indices { grads[i] = nil }
        grads[plan.outputTensor] = dlogits
        for node in nodes.reversed() {
            switch node {
            case let .layer(l, input, output, _):
                guard let dy = grads[output] else { continue }
                if case let conv as ConvBNAct = l, !conv.computeInputGradient { _ = l.backward(dy); continue }
                accumulate(input, l.backward(dy))
            case let .add(l, a, b, output):
                guard let dy = grads[output] else { continue }
                let d = l.backward(dy)
                accumulate(a, d)
                accumulate(b, d)
            case let .classifier(drop, fc, input, output, _):
                guard let dy = grads[output] else { continue }
                var d = fc.backward(dy)
                if let dr = drop { d = dr.backward(d) }
                accumulate(input, d)
            }
        }
    }

    /// The first conv when it reads the network input (its input gradient is skipped in training).
    var firstInputConv: ConvBNAct? {
        if case .layer(let l as ConvBNAct, let input, _, _)? = nodes.first, input == plan.inputTensor { return l }
        return nil
    }

    /// Back-propagates and returns dL/dinput (the first conv must compute its input gradient).
    func backwardToInput(_ dlogits: Tensor) -> Tensor {
        backward(dlogits)
        return grads[plan.inputTensor] ?? Tensor(shape: values[plan.inputTensor]!.shape)
    }

    /// Sums gradients of tensors read by several ops (residual inputs) into a buffer of ours,
    /// so layers' own output buffers are never modified.
    private func accumulate(_ t: Int, _ g: Tensor) {
        guard let existing = grads[t] else { grads[t] = g; return }
        let acc: Tensor
        if let o = ownedGrad[t], o === existing {
            acc = o
        } else {
            acc = Tensor.reuse(ownedGrad[t], shape: g.shape)
            ownedGrad[t] = acc
            acc.copy(from: existing)
        }
        let n = acc.count
        let a = acc.data, b = g.data
        for i in 0..<n { a[i] += b[i] }
        grads[t] = acc
    }

    /// Every trainable parameter with a stable name (`stages[0].layers[1].dw.weight`).
    public var parameters: [NamedParameter] {
        nodes.flatMap { node -> [NamedParameter] in
            switch node {
            case let .layer(l, _, _, name): return l.parameters.map { NamedParameter(prefix: name, $0) }
            case .add: return []
            case let .classifier(_, fc, _, _, name): return fc.parameters.map { NamedParameter(prefix: name, $0) }
            }
        }
    }

    /// Non-trainable state saved with the weights: BN running statistics.
    public var buffers: [(name: String, value: Tensor)] {
        nodes.flatMap { node -> [(String, Tensor)] in
            guard case let .layer(l as ConvBNAct, _, _, name) = node, let m = l.runningMean, let v = l.runningVar else { return [] }
            return [("\(name).running_mean", m), ("\(name).running_var", v)]
        }
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public func zeroGrad() { for p in parameters { p.grad.zero() } }
}

/// An engine parameter with its network-wide name.
public struct NamedParameter {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    public let isBatchNormOrBias: Bool
    init(prefix: String, _ p: Parameter) {
        name = "\(prefix).\(p.name)"; value = p.value; grad = p.grad; isBatchNormOrBias = p.isBatchNormOrBias
    }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case unsupported(layer: String, reason: String)
    case diverged(epoch: Int, step: Int, loss: Float)
    case invalidOption(String, String)
    case checkpoint(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupported(layer, reason): return "\(layer): cannot be trained: \(reason)"
        case let .diverged(epoch, step, loss): return "training diverged: loss \(loss) at epoch \(epoch + 1), step \(step + 1); lower the learning rate or check the data normalisation"
        case let .invalidOption(name, reason): return "\(name): \(reason)"
        case let .checkpoint(file, reason): return "\(file): \(reason)"
        }
    }
}
