import TinyForgeHardware

/// One float weight tensor as a checkpoint stores it.
public struct WeightTensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]
    public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
}

/// The trained weights of a LayerPlan by their network-wide names — the names the training
/// engine and its safetensors checkpoints use (TinyForgeHardware's `OpWeightNames`, one
/// definition for every module), so this type needs neither.
public struct PlanWeights: Sendable {
    public var tensors: [String: WeightTensor]
    /// BN ε of the training engine (PyTorch's default 1e-5).
    public var batchNormEpsilon: Float

    public init(tensors: [String: WeightTensor], batchNormEpsilon: Float = 1e-5) {
        self.tensors = tensors; self.batchNormEpsilon = batchNormEpsilon
    }

    func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let t = tensors[name] else {
            throw NetworkQuantizationError.weights(name: name, reason: "is missing; the weights do not match the architecture")
        }
        guard t.shape == shape, t.values.count == shape.reduce(1, *) else {
            throw NetworkQuantizationError.weights(name: name, reason: "has shape \(t.shape), the architecture needs \(shape)")
        }
        if let i = t.values.firstIndex(where: { !$0.isFinite }) {
            throw NetworkQuantizationError.weights(name: name, reason: "element \(i) is \(t.values[i]); retrain (the run diverged) or check the checkpoint")
        }
        return t.values
    }

    /// Folded weights (HWIO, or `[k,k,C]` depthwise) and bias of a conv / depthwise plan op:
    /// conv (+bias) → BN (running statistics) becomes one conv with
    /// `w' = w·γ/√(var+ε)` per output channel and `b' = (b − mean)·γ/√(var+ε) + β`.
    /// The two SE 1×1 convs read their `(in, out)` matrices, which are HWIO `[1,1,in,out]`.
    public func foldedConv(_ op: PlanOp) throws -> (weights: [Float], bias: [Float]) {
        let cout = op.outChannels
        guard let names = OpWeightNames(op) else {
            throw NetworkQuantizationError.layer(role: op.role, reason: "\(op.kind.rawValue) has no weights to fold")
        }
        let w = try tensor(names.weight, names.weightShape)
        let b = try names.bias.map { try tensor($0, [cout]) } ?? [Float](repeating: 0, count: cout)
        guard let bn = names.batchNorm else { return (w, b) }
        let gamma = try tensor(bn.gamma, [cout]), beta = try tensor(bn.beta, [cout])
        let mean = try tensor(bn.mean, [cout]), variance = try tensor(bn.variance, [cout])
        if let c = variance.firstIndex(where: { $0 < 0 }) {
            throw NetworkQuantizationError.weights(name: bn.variance, reason: "channel \(c) is negative (\(variance[c])); the BN statistics are corrupt")
        }
        return Self.foldBatchNorm(weights: w, bias: b, gamma: gamma, beta: beta, mean: mean, variance: variance,
                                  epsilon: batchNormEpsilon)
    }

    /// BN folding on a weight array whose output channel is the fastest-varying index (HWIO
    /// and `[k,k,C]` both are). Computed in float as the engine's eval-mode BN is:
    /// `scale = γ·(1/√(var+ε))`, `shift = β − mean·scale`.
    public static func foldBatchNorm(weights: [Float], bias: [Float], gamma: [Float], beta: [Float], mean: [Float],
                                     variance: [Float], epsilon: Float) -> (weights: [Float], bias: [Float]) {
        let c = gamma.count
        var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            scale[ch] = gamma[ch] * (1 / (variance[ch] + epsilon).squareRoot())
            shift[ch] = beta[ch] - mean[ch] * scale[ch]
        }
        var w = weights
        for i in w.indices { w[i] *= scale[i % c] }
        let b = (0..<c).map { bias[$0] * scale[$0] + shift[$0] }
        return (w, b)
    }

    /// Classifier weights `(in, out)` and bias.
    public func linear(_ op: PlanOp) throws -> (weights: [Float], bias: [Float]) {
        guard op.kind == .fullyConnected, let names = OpWeightNames(op), let bias = names.bias else {
            throw NetworkQuantizationError.layer(role: op.role, reason: "\(op.kind.rawValue) is not a fully connected layer")
        }
        return (try tensor(names.weight, names.weightShape), try tensor(bias, [op.outChannels]))
    }

    /// Every expected tensor present with its shape, and nothing else (so weights of another
    /// architecture never quantise half-way).
    public func validate(against plan: LayerPlan) throws {
        let expected = Self.expectedTensors(plan)
        for (name, shape) in expected { _ = try tensor(name, shape) }
        let names = Set(expected.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !names.contains($0) }) {
            throw NetworkQuantizationError.weights(name: extra, reason: "is not part of the architecture '\(plan.spec.name ?? "network")'; the weights belong to another network")
        }
    }

    /// Every tensor (name, shape) a plan's weights must have, in plan order: what a checkpoint
    /// of this architecture holds (the names are `KernelSchedule`'s `OpWeightNames`; a test
    /// keeps them equal to the engine network's parameters and buffers).
    public static func expectedTensors(_ plan: LayerPlan) -> [(name: String, shape: [Int])] {
        plan.ops.flatMap { OpWeightNames($0)?.tensors ?? [] }
    }
}
