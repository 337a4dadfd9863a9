import TinyForgeEngine

/// Optimisers over a network's named parameters. State (momentum, Adam moments) is kept per
/// parameter in the same order as `Network.parameters`.
public struct OptimizerConfig: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case sgd, adamw }
    public var kind: Kind = .sgd
    public var momentum: Float = 0.9
    public var nesterov: Bool = true
    public var weightDecay: Float = 1e-4
    /// Exclude BN γ/β and biases from weight decay (common practice; the paper decays all).
    public var noDecayOnBatchNormAndBias: Bool = true
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public init() {}
}

public final class Optimizer {
    public let config: OptimizerConfig
    let params: [NamedParameter]
    var state1: [[Float]]
    var state2: [[Float]]
    var step = 0

    public init(_ config: OptimizerConfig, parameters: [NamedParameter]) {
        self.config = config
        self.params = parameters
        state1 = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        state2 = config.kind == .adamw ? state1 : []
    }

    /// Applies one update with learning rate `lr` from the accumulated gradients.
    public func step(lr: Float) {
        step += 1
        let c = config
        for (pi, p) in params.enumerated() {
            let wd = (c.noDecayOnBatchNormAndBias && p.isBatchNormOrBias) ? 0 : c.weightDecay
            let w = p.value.data, g = p.grad.data, n = p.value.count
            state1[pi].withUnsafeMutableBufferPointer { m in
                switch c.kind {
                case .sgd:
                    // PyTorch SGD: d = g + wd·w; buf = μ·buf + d; update = nesterov ? d + μ·buf : buf.
                    for i in 0..<n {
                        let d = g[i] + wd * w[i]
                        let buf = c.momentum * m[i] + d
                        m[i] = buf
                        w[i] -= lr * (c.nesterov ? d + c.momentum * buf : buf)
                    }
                case .adamw:
                    let b1c = 1 - pow(c.beta1, Float(step)), b2c = 1 - pow(c.beta2, Float(step))
                    state2[pi].withUnsafeMutableBufferPointer { v in
                        for i in 0..<n {
                            w[i] -= lr * wd * w[i]
                            m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i]
                            v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i]
                            w[i] -= lr * (m[i] / b1c) / ((v[i] / b2c).squareRoot() + c.eps)
                        }
                    }
                }
            }
        }
    }
}

/// Learning-rate schedules, evaluated per step (fractional epochs), with optional linear warm-up.
public struct LRSchedule: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case cosine, step, constant }
    public var kind: Kind = .cosine
    public var baseLR: Float = 0.1
    public var warmupEpochs: Double = 0
    /// Step schedule: multiply by `gamma` every `stepEpochs` epochs (the paper: 0.1 every 10).
    public var stepEpochs: Int = 10
    public var gamma: Float = 0.1
    /// Cosine floor as a fraction of the base rate.
    public var minFraction: Float = 0
    public init() {}

    /// `progress` in epochs (e.g. 2.5 = halfway through the third epoch) of `total`.
    public func lr(progress: Double, total: Int) -> Float {
        if warmupEpochs > 0 && progress < warmupEpochs {
            return baseLR * Float((progress + 1.0 / 64) / warmupEpochs)
        }
        switch kind {
        case .constant: return baseLR
        case .step: return baseLR * pow(gamma, Float(Int(progress) / max(stepEpochs, 1)))
        case .cosine:
            let span = max(Double(total) - warmupEpochs, 1e-9)
            let t = min(max((progress - warmupEpochs) / span, 0), 1)
            let f = minFraction + (1 - minFraction) * Float(0.5 * (1 + cos(Double.pi * t)))
            return baseLR * f
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
