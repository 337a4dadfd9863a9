import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

extension PlanWeights {
    /// The weights of an engine network under their checkpoint names (parameters and BN
    /// running statistics), with the engine's BN ε.
    public init(network: Network) {
        var t = [String: WeightTensor]()
        for p in network.parameters { t[p.name] = WeightTensor(shape: p.value.shape, values: Array(p.value.storage)) }
        for b in network.buffers { t[b.name] = WeightTensor(shape: b.value.shape, values: Array(b.value.storage)) }
        self.init(tensors: t, batchNormEpsilon: BNAct.eps)
    }
}

extension Tensor {
    /// The values as a buffer (no copy until `Array` is made from it).
    var storage: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: data, count: count) }
}

/// Settings of the network-level int8 pipeline (CLI: `--calibration-batches`, `--percentile`,
/// `--softmax`).
public struct QuantizationSettings: Sendable, Equatable {
    /// Batches of the *training* split used for calibration (never val or test).
    public var calibrationBatches = 8
    public var calibrationBatchSize = 32
    public var method = CalibrationMethod.minMax
    public var appendSoftmax = false
    /// Seed of the calibration batch order.
    public var seed: UInt64 = 7
    public var threads = 2
    public init() {}
}

/// Trained `Network` + its input normalisation → calibrated `QuantizedNetwork`.
public enum NetworkQuantization {
    /// Folds, lowers and calibrates on `settings.calibrationBatches` shuffled, un-augmented
    /// batches of `train` preprocessed exactly as in training (resize, normalisation).
    public static func quantize(_ net: Network, normalization: Normalization, train: Dataset,
                                settings: QuantizationSettings = QuantizationSettings()) throws -> QuantizedNetwork {
        guard settings.calibrationBatches >= 1, settings.calibrationBatchSize >= 1 else {
            throw NetworkQuantizationError.calibration(reason: "--calibration-batches and the batch size must be ≥ 1, got \(settings.calibrationBatches) × \(settings.calibrationBatchSize)")
        }
        guard train.count > 0 else { throw NetworkQuantizationError.calibration(reason: "the training split '\(train.name)' is empty") }
        let options = PostTrainingQuantizer.Options(
            lowering: GraphLoweringOptions(appendSoftmax: settings.appendSoftmax, leakySlope: KernelActivation.leakySlope),
            calibration: settings.method, threads: settings.threads)
        var q = try PostTrainingQuantizer(plan: net.plan, weights: PlanWeights(network: net), options: options)
        let pre = try Trainer.preprocessor(for: net.plan.spec, data: train, normalization: normalization, augment: .none)
        var it = try BatchIterator(dataset: train, preprocessor: pre, batchSize: settings.calibrationBatchSize,
                                   seed: settings.seed, shuffle: true)
        var done = 0
        while done < settings.calibrationBatches, let b = it.next() {
            try q.observe(b.images, count: b.count)
            done += 1
        }
        return try q.finish()
    }

    /// Re-estimates the BN running statistics of a freshly initialised network (training-mode
    /// forward passes, no weight update) on `batches` training batches, `passes` times. A
    /// random network with the init statistics (mean 0, var 1) has activations that shrink
    /// layer after layer to nothing; with estimated statistics every layer is normalised, so
    /// random-weight exports for memory and bit-exactness checks have realistic ranges.
    public static func warmUpBatchNorm(_ net: Network, normalization: Normalization, train: Dataset, batches: Int = 2,
                                       batchSize: Int = 8, passes: Int = 30, seed: UInt64 = 11) throws {
        let spec = net.plan.spec
        let pre = try Trainer.preprocessor(for: spec, data: train, normalization: normalization, augment: .none)
        var it = try BatchIterator(dataset: train, preprocessor: pre, batchSize: batchSize, seed: seed, shuffle: true, dropLast: true)
        var inputs = [Tensor]()
        while inputs.count < batches, let b = it.next() {
            let x = Tensor(shape: [b.count, spec.input.height, spec.input.width, spec.input.channels])
            b.images.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress!, count: x.count) }
            inputs.append(x)
        }
        guard !inputs.isEmpty else { throw NetworkQuantizationError.calibration(reason: "no training batch of \(batchSize) images for the BN warm-up") }
        for _ in 0..<passes { for x in inputs { _ = net.forward(x, training: true) } }
    }

    /// int8 inputs of the first `count` images of `data` (preprocessed, then quantised with
    /// the model's input parameters) — what a device would be fed.
    public static func int8Inputs(_ q: QuantizedNetwork, spec: ArchitectureSpec, data: Dataset,
                                  normalization: Normalization, count: Int) throws -> [[Int8]] {
        let pre = try Trainer.preprocessor(for: spec, data: data, normalization: normalization, augment: .none)
        var it = try BatchIterator(dataset: data, preprocessor: pre, batchSize: max(1, min(count, 100)), seed: 0, shuffle: false)
        var out = [[Int8]]()
        let per = spec.input.height * spec.input.width * spec.input.channels
        while out.count < count, let b = it.next() {
            for i in 0..<b.count where out.count < count { out.append(q.quantizeInput(b.images[(i * per)..<((i + 1) * per)])) }
        }
        return out
    }
}
