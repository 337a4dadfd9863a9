import Foundation
import TinyForgeData
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining

/// What one proxy evaluation (the search's worker step) trains and where it writes.
public struct ProxyEvaluationRequest: Sendable {
    /// The candidate as validated; its class count is matched to the data's.
    public var spec: ArchitectureSpec
    public var dataset: DatasetSource
    /// The source as the user wrote it (messages and the checkpoint's `dataset` metadata).
    public var datasetText: String
    public var valFraction: Double
    public var splitSeed: UInt64
    /// The proxy recipe (epochs, subset, seed, …).
    public var config: TrainConfig
    /// Checked before the data set and the network are allocated; nil: unchecked.
    public var memory: MemoryLimit?
    /// Also save the trained weights here (only when training completed).
    public var checkpointPath: String?

    public init(spec: ArchitectureSpec, dataset: DatasetSource, datasetText: String, valFraction: Double, splitSeed: UInt64,
                config: TrainConfig, memory: MemoryLimit?, checkpointPath: String? = nil) {
        self.spec = spec; self.dataset = dataset; self.datasetText = datasetText; self.valFraction = valFraction; self.splitSeed = splitSeed
        self.config = config; self.memory = memory; self.checkpointPath = checkpointPath
    }
}

/// The search's worker step as a library call: proxy-train one candidate and return its
/// metrics (written by `WorkerMetrics.write`, read back by `ProcessEvaluator`). A training
/// failure is the result, never an error: bad input (unreadable data, an empty validation
/// split, a memory refusal) comes back as `.failed` with the reason.
public enum ProxyEvaluation {
    public static func run(_ request: ProxyEvaluationRequest) -> WorkerMetrics {
        let start = Date()
        do {
            var m = try train(request)
            m.result.seconds = Date().timeIntervalSince(start)
            return m
        } catch {
            return .failed(error, seconds: Date().timeIntervalSince(start))
        }
    }

    static func train(_ request: ProxyEvaluationRequest) throws -> WorkerMetrics {
        var spec = request.spec
        let config = request.config
        let splits = try DatasetLoader.load(spec: request.dataset, valFraction: request.valFraction, seed: request.splitSeed,
                                            classes: spec.numClasses, memory: request.memory)
        if spec.numClasses != splits.classCount { spec.numClasses = splits.classCount }
        guard splits.val.count > 0 else {
            // A search ranks candidates by validation accuracy: without a validation split
            // there is nothing to rank, so say why instead of reporting "ok" with no score.
            throw PipelineError.emptyValidationSplit(dataset: request.datasetText, trainImages: splits.train.count)
        }
        let norm = Normalization.compute(from: splits.train)
        let plan = try TrainingMemoryCheck.training(spec, config: config, splits: splits, limit: request.memory).plan
        let net = try Network(plan: plan, seed: config.seed, threads: config.threads)
        let r = try Trainer.train(net, train: splits.train, val: splits.val, normalization: norm, config: config)
        var result = EvaluationResult(status: r.status == .completed ? .ok : .diverged, valAccuracy: r.finalValAccuracy,
                                      valLoss: r.finalValLoss, trainLoss: r.epochs.last?.trainLoss, epochs: r.epochs.count)
        if !r.epochs.isEmpty {
            result.extra["images_per_second"] = r.epochs.map(\.imagesPerSecond).reduce(0, +) / Double(r.epochs.count)
        }
        if let path = request.checkpointPath, r.status == .completed {
            var meta = ["normalization": norm.metadataText, "dataset": request.datasetText]
            if let names = splits.classNames { meta[Checkpoint.labelsKey] = Checkpoint.labelsMetadata(names) }
            try Checkpoint.save(net, to: path, metadata: meta)
        }
        return WorkerMetrics(result: result, hash: spec.canonicalHash, message: r.message)
    }
}
