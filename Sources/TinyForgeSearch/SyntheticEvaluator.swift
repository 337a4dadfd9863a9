import Foundation
import TinyForgeSpec

/// A deterministic stand-in for training, so tests and `--evaluator synthetic` demos run in
/// milliseconds. Its "score" is a made-up function of architecture features. It is NOT the
/// accuracy of any data set and must never be reported as one (reports call it
/// "synthetic score"; `isSynthetic` is true).
///
/// score = clamp(0.10 + 0.55·σ(1.5·(log10 MACs − 5.3)) + 0.20·σ(2·(log10 params − 4))
///               + 0.03·min(layers, 10)/10 + 0.01·(#SE stages) + 0.01·(#residual stages with repeats > 1)
///               − 0.04·[first stage output < input/2]   (early aggressive downsampling)
///               + noise,   0, 0.99) × (1 − 0.3·e^(−epochs/3))
/// where noise is uniform in [−0.015, 0.015) from the canonical hash (same spec ⇒ same score)
/// and σ is the logistic function. Monotone-ish in capacity, so there is a real accuracy/cost
/// trade-off for the search to find, with hash noise so ties do not collapse.
public struct SyntheticEvaluator: Evaluator {
    public var name: String { "synthetic" }
    public var isSynthetic: Bool { true }
    /// Sleep per evaluation, to simulate work (e.g. for the kill -9 test).
    public var delayMilliseconds: Int

    public init(delayMilliseconds: Int = 0) { self.delayMilliseconds = max(0, delayMilliseconds) }

    public static func score(spec: ArchitectureSpec, cost: CostSummary, hash: String, epochs: Int) -> Double {
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let layers = spec.expandedLayers()
        var s = 0.10
        s += 0.55 * sigmoid(1.5 * (log10(Double(max(cost.macs, 1))) - 5.3))
        s += 0.20 * sigmoid(2 * (log10(Double(max(cost.params, 1))) - 4))
        s += 0.03 * Double(min(layers.count, 10)) / 10
        s += 0.01 * Double(spec.stages.filter { $0.seRatio > 0 }.count)
        s += 0.01 * Double(spec.stages.filter { $0.skip != .none && $0.repeats > 1 }.count)
        if let first = spec.stageResolutions().first, first.height * 2 < spec.input.height { s -= 0.04 }
        // 32 bits of the hash → uniform noise.
        let bits = UInt64(hash.prefix(8), radix: 16) ?? 0
        s += (Double(bits) / Double(UInt32.max) - 0.5) * 0.03
        let converged = 1 - 0.3 * exp(-Double(max(epochs, 1)) / 3)
        return min(max(s, 0), 0.99) * converged
    }

    public func evaluate(_ job: EvaluationJob) async -> EvaluationResult {
        let start = Date()
        if delayMilliseconds > 0 { try? await Task.sleep(nanoseconds: UInt64(delayMilliseconds) * 1_000_000) }
        let s = Self.score(spec: job.spec, cost: job.cost, hash: job.hash, epochs: job.settings.epochs)
        return EvaluationResult(status: .ok, valAccuracy: s, valLoss: -log(max(s, 1e-3)), epochs: job.settings.epochs,
                                seconds: Date().timeIntervalSince(start), extra: ["synthetic": 1])
    }
}
