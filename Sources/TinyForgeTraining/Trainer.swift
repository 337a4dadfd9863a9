import Foundation
import TinyForgeData
import TinyForgeEngine
import TinyForgeSpec

/// Everything that defines a training run. One seed drives weights, data order, augmentation
/// and dropout, so the same config gives the same weights.
public struct TrainConfig: Sendable, Equatable, Codable {
    public var epochs = 10
    public var batchSize = 64
    public var schedule = LRSchedule()
    public var optimizer = OptimizerConfig()
    public var labelSmoothing: Float = 0.1
    public var augment = AugmentConfig.none
    /// Fraction of the training split used (proxy training); a fixed stratified subset.
    public var subsetFraction = 1.0
    public var seed: UInt64 = 1
    public var threads = 2
    public var distillation: DistillationConfig?
    /// Distil against the teacher's logits of K fixed augmented views of each image (of
    /// `augment`, at the network input) instead of the clean images; nil = clean. Used only
    /// when distilling. Optional so configs without it encode exactly as before.
    public var kdViews: KDViewsConfig?
    public init() {}
}

/// K fixed augmented views per training image and the seed that draws them (`AugmentViews`).
public struct KDViewsConfig: Sendable, Equatable, Codable {
    public var count: Int
    public var seed: UInt64
    public init(count: Int, seed: UInt64 = 0) { self.count = count; self.seed = seed }
}

/// α·CE + (1−α)·T²·KL with α moved linearly from `alphaStart` to `alphaEnd` over training.
public struct DistillationConfig: Sendable, Equatable, Codable {
    public var alphaStart: Float = 0.5
    public var alphaEnd: Float = 0.5
    public var temperature: Float = 4
    /// Label smoothing of the label loss while distilling; nil = the run's `labelSmoothing`.
    /// The `tuned` preset sets 0: the teacher's soft targets take the place of uniform smoothing.
    public var labelSmoothing: Float?
    public init(alphaStart: Float = 0.5, alphaEnd: Float = 0.5, temperature: Float = 4, labelSmoothing: Float? = nil) {
        self.alphaStart = alphaStart; self.alphaEnd = alphaEnd; self.temperature = temperature; self.labelSmoothing = labelSmoothing
    }
    public func alpha(progress: Double, total: Int) -> Float {
        alphaStart + (alphaEnd - alphaStart) * Float(min(max(progress / Double(max(total, 1)), 0), 1))
    }
}

public struct EpochMetrics: Sendable, Codable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var learningRate: Double
    public var seconds: Double
    public var imagesPerSecond: Double
}

public struct TrainResult: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case completed, diverged }
    public var status: Status
    public var message: String?
    public var epochs: [EpochMetrics]
    public var seconds: Double
    public var finalValAccuracy: Double?
    public var finalValLoss: Double?
}

/// Progress while training: after every `reportEvery` steps and at every epoch end.
public struct TrainProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var steps: Int
    public var loss: Double
    public var accuracy: Double
    public var imagesPerSecond: Double
    public var etaSeconds: Double
    public var epochDone: EpochMetrics?
}

public struct EvaluationMetrics: Sendable, Codable {
    public var accuracy: Double
    public var loss: Double
    public var count: Int
}

public enum Trainer {
    /// The preprocessing a network with `spec` needs for `data`: resize / channel replication
    /// to the spec's input, normalisation from `stats` (the training split).
    public static func preprocessor(for spec: ArchitectureSpec, data: Dataset, normalization: Normalization,
                                    augment: AugmentConfig) throws -> Preprocessor {
        try Preprocessor(inputHeight: data.height, inputWidth: data.width, inputChannels: data.channels,
                         config: PreprocessConfig(height: spec.input.height, width: spec.input.width,
                                                  channels: spec.input.channels, normalization: normalization,
                                                  augment: augment))
    }

    /// Trains `net` on `train`, measuring `val` after each epoch (never the test set).
    /// A non-finite loss ends the run with status `.diverged` (no crash, no throw).
    public static func train(_ net: Network, train: Dataset, val: Dataset?, normalization: Normalization,
                             config: TrainConfig, teacherLogits: [Float]? = nil, reportEvery: Int = 50,
                             progress: ((TrainProgress) -> Void)? = nil) throws -> TrainResult {
        let spec = net.plan.spec
        guard train.classCount <= spec.numClasses else {
            throw TrainingError.invalidOption("num_classes", "the dataset has \(train.classCount) classes but the network outputs \(spec.numClasses); set num_classes ≥ \(train.classCount)")
        }
        let views = try config.distillation == nil ? nil : studentViews(config, spec: spec)
        if config.distillation != nil {
            let k = views?.count ?? 1, expected = k * train.count * spec.numClasses
            guard let t = teacherLogits, t.count == expected else {
                let need = views == nil ? "\(train.count) rows × \(spec.numClasses) classes" : "\(k) views × \(train.count) rows × \(spec.numClasses) classes"
                throw TrainingError.invalidOption("teacher logits", "need \(need) = \(expected) values for the training split, got \(teacherLogits?.count ?? 0)")
            }
        }
        let pre = try preprocessor(for: spec, data: train, normalization: normalization, augment: config.augment)
        var it = try BatchIterator(dataset: train, preprocessor: pre, batchSize: config.batchSize, seed: config.seed,
                                   shuffle: true, augment: !config.augment.isIdentity,
                                   subsetFraction: config.subsetFraction, dropLast: true, views: views)
        let steps = it.batchesPerEpoch
        guard steps > 0 else {
            throw TrainingError.invalidOption("batch size", "\(config.batchSize) is larger than the \(it.sampleCount) training images")
        }
        let opt = Optimizer(config.optimizer, parameters: net.parameters)
        let classes = spec.numClasses
        let start = Date()
        var epochs: [EpochMetrics] = []
        let input = Tensor(shape: [config.batchSize, spec.input.height, spec.input.width, spec.input.channels])
        var labels = [Int](repeating: 0, count: config.batchSize)
        var teacherBatch = [Float](repeating: 0, count: config.batchSize * classes)
        for e in 0..<config.epochs {
            it.start(epoch: e)
            let t0 = Date()
            var lossSum = 0.0, correct = 0, seen = 0, step = 0
            var lr: Float = 0
            while let batch = it.next() {
                let n = batch.count
                batch.images.withUnsafeBufferPointer { input.data.update(from: $0.baseAddress!, count: input.count) }
                for i in 0..<n { labels[i] = Int(batch.labels[i]) }
                let prog = Double(e) + Double(step) / Double(steps)
                lr = config.schedule.lr(progress: prog, total: config.epochs)
                net.zeroGrad()
                let logits = net.forward(input, training: true)
                let (loss, grad) = try lossAndGradient(logits, labels: labels, batch: batch, config: config, progress: prog,
                                                       teacherLogits: teacherLogits, teacherRows: train.count, teacherBatch: &teacherBatch)
                guard loss.isFinite else {
                    return TrainResult(status: .diverged, message: TrainingError.diverged(epoch: e, step: step, loss: loss).description,
                                       epochs: epochs, seconds: Date().timeIntervalSince(start), finalValAccuracy: nil, finalValLoss: nil)
                }
                correct += countCorrect(logits, labels, n)
                net.backward(grad)
                opt.step(lr: lr)
                lossSum += Double(loss) * Double(n); seen += n; step += 1
                if let p = progress, step % reportEvery == 0 {
                    let el = Date().timeIntervalSince(t0)
                    let ips = Double(seen) / max(el, 1e-9)
                    let remaining = Double((config.epochs - e) * steps - step) * Double(config.batchSize) / max(ips, 1e-9)
                    p(TrainProgress(epoch: e, epochs: config.epochs, step: step, steps: steps, loss: lossSum / Double(seen),
                                    accuracy: Double(correct) / Double(seen), imagesPerSecond: ips, etaSeconds: remaining, epochDone: nil))
                }
            }
            let secs = Date().timeIntervalSince(t0)
            var m = EpochMetrics(epoch: e, trainLoss: lossSum / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                 valLoss: nil, valAccuracy: nil, learningRate: Double(lr), seconds: secs,
                                 imagesPerSecond: Double(seen) / max(secs, 1e-9))
            if let v = val, v.count > 0 {
                let ev = try evaluate(net, on: v, normalization: normalization, batchSize: max(config.batchSize, 100))
                m.valLoss = ev.loss; m.valAccuracy = ev.accuracy
            }
            epochs.append(m)
            if let p = progress {
                let done = Date().timeIntervalSince(start)
                p(TrainProgress(epoch: e, epochs: config.epochs, step: steps, steps: steps, loss: m.trainLoss, accuracy: m.trainAccuracy,
                                imagesPerSecond: m.imagesPerSecond, etaSeconds: done / Double(e + 1) * Double(config.epochs - e - 1), epochDone: m))
            }
        }
        return TrainResult(status: .completed, message: nil, epochs: epochs, seconds: Date().timeIntervalSince(start),
                           finalValAccuracy: epochs.last?.valAccuracy, finalValLoss: epochs.last?.valLoss)
    }

    /// The batch's loss and its gradient w.r.t. the logits: the distillation loss against the
    /// teacher's rows for these images when distilling, else label-smoothed cross-entropy.
    /// `teacherBatch` is the caller's reused buffer for the gathered teacher rows. With views,
    /// `teacherLogits` is K×N×C (N = `teacherRows`) and image i of view k reads row k·N + i.
    static func lossAndGradient(_ logits: Tensor, labels: [Int], batch: Batch, config: TrainConfig, progress prog: Double,
                                teacherLogits: [Float]?, teacherRows: Int, teacherBatch: inout [Float]) throws -> (Float, Tensor) {
        guard let d = config.distillation, let t = teacherLogits else {
            let r = try SoftmaxCrossEntropy.compute(logits: logits, labels: labels, smoothing: config.labelSmoothing)
            return (r.loss, r.dlogits)
        }
        let classes = logits.shape[1]
        for i in 0..<batch.count {
            let row = batch.views.isEmpty ? batch.indices[i] : Int(batch.views[i]) * teacherRows + batch.indices[i]
            let src = row * classes
            for j in 0..<classes { teacherBatch[i * classes + j] = t[src + j] }
        }
        let r = try Distillation.loss(student: logits, teacher: teacherBatch, labels: labels,
                                      alpha: d.alpha(progress: prog, total: config.epochs),
                                      temperature: d.temperature, smoothing: d.labelSmoothing ?? config.labelSmoothing)
        return (r.loss, r.grad)
    }

    /// Accuracy and mean cross-entropy (no smoothing) of `net` in eval mode.
    public static func evaluate(_ net: Network, on data: Dataset, normalization: Normalization, batchSize: Int = 100) throws -> EvaluationMetrics {
        var correct = 0, total = 0
        var lossSum = 0.0
        try forEachEvalBatch(net, data, normalization, batchSize) { logits, batch in
            let n = batch.count
            let labels = (0..<n).map { Int(batch.labels[$0]) }
            let (loss, _) = try SoftmaxCrossEntropy.compute(logits: logits, labels: labels, smoothing: 0)
            lossSum += Double(loss) * Double(n)
            correct += countCorrect(logits, labels, n)
            total += n
        }
        return EvaluationMetrics(accuracy: Double(correct) / Double(max(total, 1)), loss: lossSum / Double(max(total, 1)), count: total)
    }

    /// Logits of every image of `data` in order (eval mode): a trained network as a teacher.
    public static func logits(_ net: Network, on data: Dataset, normalization: Normalization, batchSize: Int = 100) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(data.count * net.plan.spec.numClasses)
        try forEachEvalBatch(net, data, normalization, batchSize) { logits, batch in
            out.append(contentsOf: UnsafeBufferPointer(start: logits.data, count: batch.count * logits.c))
        }
        return out
    }

    /// Runs `net` in eval mode over `data` in order (no augmentation), calling `body` with each
    /// batch's logits (a buffer the network owns, valid during the call) and the batch.
    static func forEachEvalBatch(_ net: Network, _ data: Dataset, _ normalization: Normalization, _ batchSize: Int,
                                 _ body: (Tensor, Batch) throws -> Void) throws {
        let spec = net.plan.spec
        let pre = try preprocessor(for: spec, data: data, normalization: normalization, augment: .none)
        var it = try BatchIterator(dataset: data, preprocessor: pre, batchSize: batchSize, seed: 0, shuffle: false)
        var input: Tensor?
        while let b = it.next() {
            let x = Tensor.reuse(input, shape: [b.count, spec.input.height, spec.input.width, spec.input.channels]); input = x
            b.images.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress!, count: x.count) }
            try body(net.forward(x, training: false), b)
        }
    }

    static func countCorrect(_ logits: Tensor, _ labels: [Int], _ n: Int) -> Int {
        let c = logits.c
        var correct = 0
        for i in 0..<n {
            let row = logits.data + i * c
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            if best == labels[i] { correct += 1 }
        }
        return correct
    }
}
