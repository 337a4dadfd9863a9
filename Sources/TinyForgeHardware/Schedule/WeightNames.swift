/// The checkpoint names and shapes of one plan op's trained tensors — the names the engine's
/// `Network` and its safetensors checkpoints use, computed in one place for every module
/// (`PlanWeights` reads them, the engine's parameter order is tested against them).
///
/// - conv / depthwise with role R: `R.weight` HWIO `[k,k,cin,cout]` or `[k,k,C]`, optional
///   `R.bias`, with BN `R.bn.weight` (γ), `R.bn.bias` (β), `R.running_mean`, `R.running_var`;
/// - the SE's two 1×1 convs of block B: `B.se.fc1.weight` `(C,R)` + `B.se.fc1.bias`, and
///   `B.se.fc2.weight` `(R,C)` + `B.se.fc2.bias` (stored (in, out));
/// - the classifier: `head.classifier.weight` `(in, out)`, `head.classifier.bias`.
public struct OpWeightNames: Sendable, Equatable {
    public var weight: String
    public var weightShape: [Int]
    public var bias: String?
    public var batchNorm: BatchNormNames?

    public struct BatchNormNames: Sendable, Equatable {
        public var gamma: String
        public var beta: String
        public var mean: String
        public var variance: String
    }

    /// Every (name, shape) in checkpoint order: weight, bias, then γ, β, mean, variance.
    public var tensors: [(name: String, shape: [Int])] {
        let c = weightShape.last ?? 0
        var out = [(name: weight, shape: weightShape)]
        if let b = bias { out.append((b, [c])) }
        if let bn = batchNorm { out += [(bn.gamma, [c]), (bn.beta, [c]), (bn.mean, [c]), (bn.variance, [c])] }
        return out
    }

    /// The names of `op`'s tensors; nil for ops without weights (add, mul, pooling).
    public init?(_ op: PlanOp) {
        let c = op.outChannels, k = op.kernel
        switch (op.kind, op.opRole.part) {
        case (.conv2d, .seReduce?), (.conv2d, .seExpand?):
            guard case let .block(s, l, part) = op.opRole else { return nil }
            let base = "\(OpRole.blockPath(stage: s, layer: l)).se.\(part == .seReduce ? "fc1" : "fc2")"
            self.init(weight: "\(base).weight", weightShape: [op.inChannels, c], bias: op.bias ? "\(base).bias" : nil,
                      batchNorm: nil)
        case (.conv2d, _), (.depthwiseConv2d, _):
            let r = op.role
            self.init(weight: "\(r).weight", weightShape: op.kind == .depthwiseConv2d ? [k, k, c] : [k, k, op.inChannels, c],
                      bias: op.bias ? "\(r).bias" : nil,
                      batchNorm: op.batchNorm ? BatchNormNames(gamma: "\(r).bn.weight", beta: "\(r).bn.bias",
                                                               mean: "\(r).running_mean", variance: "\(r).running_var") : nil)
        case (.fullyConnected, _):
            self.init(weight: "\(op.role).weight", weightShape: [op.inChannels, c], bias: "\(op.role).bias", batchNorm: nil)
        case (.add, _), (.mul, _), (.globalAvgPool, _):
            return nil
        }
    }

    init(weight: String, weightShape: [Int], bias: String?, batchNorm: BatchNormNames?) {
        self.weight = weight; self.weightShape = weightShape; self.bias = bias; self.batchNorm = batchNorm
    }
}
