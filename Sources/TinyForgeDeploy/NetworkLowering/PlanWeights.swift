import TinyForgeHardware

/// One float weight tensor as a checkpoint stores it.
public struct WeightTensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]
    public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
}

/// The trained weights of a LayerPlan by their network-wide names — the names the training
/// engine and its safetensors checkpoints use, so this type needs neither:
///
/// - conv / depthwise op with role R: `R.weight` HWIO `[k,k,cin,cout]` or `[k,k,C]`, optional
///   `R.bias`, and with BN `R.bn.weight` (γ), `R.bn.bias` (β), `R.running_mean`, `R.running_var`;
/// - SE of block B (ops `B.se.squeeze/reduce/expand/scale`): `B.se.fc1.weight` `(C,R)`,
///   `B.se.fc1.bias`, `B.se.fc2.weight` `(R,C)`, `B.se.fc2.bias` (weights stored (in, out));
/// - classifier with role R: `R.weight` `(in, out)`, `R.bias`.
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
        let k = op.kernel, cout = op.outChannels
        let depthwise = op.kind == .depthwiseConv2d
        let shape = depthwise ? [k, k, cout] : [k, k, op.inChannels, cout]
        var prefix = op.role
        var weightShape = shape
        if op.role.hasSuffix(".se.reduce") || op.role.hasSuffix(".se.expand") {
            let fc = op.role.hasSuffix(".se.reduce") ? "fc1" : "fc2"
            prefix = String(op.role.dropLast(op.role.hasSuffix(".se.reduce") ? ".reduce".count : ".expand".count)) + "." + fc
            weightShape = [op.inChannels, cout]
        }
        let w = try tensor("\(prefix).weight", weightShape)
        let b = op.bias ? try tensor("\(prefix).bias", [cout]) : [Float](repeating: 0, count: cout)
        guard op.batchNorm else { return (w, b) }
        let gamma = try tensor("\(prefix).bn.weight", [cout]), beta = try tensor("\(prefix).bn.bias", [cout])
        let mean = try tensor("\(prefix).running_mean", [cout]), variance = try tensor("\(prefix).running_var", [cout])
        if let c = variance.firstIndex(where: { $0 < 0 }) {
            throw NetworkQuantizationError.weights(name: "\(prefix).running_var", reason: "channel \(c) is negative (\(variance[c])); the BN statistics are corrupt")
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
        (try tensor("\(op.role).weight", [op.inChannels, op.outChannels]), try tensor("\(op.role).bias", [op.outChannels]))
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
    /// of this architecture holds (a test keeps it equal to the engine network's parameters
    /// and buffers).
    public static func expectedTensors(_ plan: LayerPlan) -> [(name: String, shape: [Int])] {
        var out = [(name: String, shape: [Int])]()
        for op in plan.ops {
            let c = op.outChannels, k = op.kernel
            switch op.kind {
            case .conv2d, .depthwiseConv2d:
                if op.role.hasSuffix(".se.reduce") || op.role.hasSuffix(".se.expand") {
                    let base = String(op.role.dropLast(".reduce".count)) + (op.role.hasSuffix(".se.reduce") ? ".fc1" : ".fc2")
                    out += [("\(base).weight", [op.inChannels, c]), ("\(base).bias", [c])]
                    continue
                }
                out.append(("\(op.role).weight", op.kind == .depthwiseConv2d ? [k, k, c] : [k, k, op.inChannels, c]))
                if op.bias { out.append(("\(op.role).bias", [c])) }
                if op.batchNorm {
                    out += [("\(op.role).bn.weight", [c]), ("\(op.role).bn.bias", [c]),
                            ("\(op.role).running_mean", [c]), ("\(op.role).running_var", [c])]
                }
            case .fullyConnected: out += [("\(op.role).weight", [op.inChannels, c]), ("\(op.role).bias", [c])]
            case .add, .mul, .globalAvgPool: break
            }
        }
        return out
    }
}
