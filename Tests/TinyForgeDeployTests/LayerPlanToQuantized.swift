import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec

/// A `LayerPlan` turned into an int8 model by the real network lowering
/// (`PostTrainingQuantizer`: BN folding, TFLite op mapping, calibration) with seeded random
/// weights and BN statistics, calibrated on seeded Gaussian inputs. Activations come out the
/// way a TFLite graph has them (LEAKY_RELU / HARD_SWISH ops, swish as LOGISTIC + MUL, the SE
/// gate as LOGISTIC), so the generator's fused schedule can be compared op for op with the
/// cost model's `ActivationMemory(runtime: .tinyforgeC)`.
enum LayerPlanToQuantized {
    static func model(_ lp: LayerPlan, seed: UInt64) throws -> QuantizedModel {
        try calibrated(lp, seed: seed).network.model
    }

    /// The quantised network and the float calibration images (N, H, W, C), N = `images`.
    static func calibrated(_ lp: LayerPlan, seed: UInt64, images: Int = 4, softmax: Bool = false,
                           method: CalibrationMethod = .minMax) throws -> (network: QuantizedNetwork, inputs: [[Float]]) {
        var q = try PostTrainingQuantizer(plan: lp, weights: RandomPlanWeights.make(lp, seed: seed),
                                          options: .init(lowering: GraphLoweringOptions(appendSoftmax: softmax), calibration: method))
        var rng = SeededGenerator(seed: seed &+ 77)
        let per = lp.tensors[lp.inputTensor].elements
        let xs = (0..<images).map { _ in (0..<per).map { _ in rng.nextGaussian() } }
        try q.observe(xs.flatMap { $0 }, count: images)
        return (try q.finish(), xs)
    }
}

/// Seeded weights with every name and shape a trained checkpoint of the plan has: He-normal
/// weights, small biases, BN γ in [0.5, 1.5], β and running means around 0, running variances
/// in [0.5, 2] — so BN folding does real work.
enum RandomPlanWeights {
    static func make(_ lp: LayerPlan, seed: UInt64) -> PlanWeights {
        var rng = SeededGenerator(seed: seed)
        var t = [String: WeightTensor]()
        for (name, shape) in PlanWeights.expectedTensors(lp) {
            let n = shape.reduce(1, *)
            let values: [Float]
            if name.hasSuffix(".bn.weight") {
                values = (0..<n).map { _ in 0.5 + rng.nextFloat() }
            } else if name.hasSuffix(".running_var") {
                values = (0..<n).map { _ in 0.5 + 1.5 * rng.nextFloat() }
            } else if name.hasSuffix(".bn.bias") || name.hasSuffix(".running_mean") {
                values = (0..<n).map { _ in 0.3 * rng.nextGaussian() }
            } else if name.hasSuffix(".bias") {
                values = (0..<n).map { _ in 0.1 * rng.nextGaussian() }
            } else {
                let fanIn = shape.count == 3 ? shape[0] * shape[1] : shape.dropLast().reduce(1, *)
                let std = (2 / Float(fanIn)).squareRoot()
                values = (0..<n).map { _ in std * rng.nextGaussian() }
            }
            t[name] = WeightTensor(shape: shape, values: values)
        }
        return PlanWeights(tensors: t)
    }
}
