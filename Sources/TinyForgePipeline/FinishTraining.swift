import Foundation
import TinyForgeData
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining

/// Full training of chosen architectures after a search: the code path shared by
/// `tinyforge finish`, `tinyforge search --finish-top` and `tinyforge demo`.
///
/// Training uses the whole training split (`subsetFraction` 1) and measures the validation
/// split after every epoch; the test split is never touched. With teacher logits (one row per
/// training-split image) the loss is the distillation loss of `DistillationConfig`.
public struct FinishTrainer {
    public var splits: DatasetSplits
    public var normalization: Normalization
    public var config: TrainConfig
    public var teacherLogits: [Float]?
    /// Extra checkpoint metadata (dataset source, split settings, teacher).
    public var metadata: [String: String]
    public var progress: ((TrainProgress) -> Void)?
    /// Distillation as the paper runs it: train `config.epochs` without the teacher, then
    /// fine-tune the finished student with it. nil: distil from scratch (one training with the
    /// distillation loss from fresh weights).
    public var fineTune: FineTune?

    public struct FineTune: Sendable, Equatable, Codable {
        public var epochs: Int
        public var learningRate: Float
        public init(epochs: Int, learningRate: Float) { self.epochs = epochs; self.learningRate = learningRate }
    }

    public init(splits: DatasetSplits, normalization: Normalization, config: TrainConfig, teacherLogits: [Float]? = nil,
                metadata: [String: String] = [:], progress: ((TrainProgress) -> Void)? = nil) {
        self.splits = splits; self.normalization = normalization; self.config = config
        self.teacherLogits = teacherLogits; self.metadata = metadata; self.progress = progress
    }

    /// Trains one front member from fresh weights (seeded by `config.seed`) into `directory`.
    /// Divergence comes back as a failed outcome; only bad input (a spec the trainer cannot
    /// build, mismatched teacher logits) throws.
    public func train(_ member: EvaluatedCandidate, into directory: URL) throws -> FinishOutcome {
        let net = try Network(spec: member.spec, seed: config.seed, threads: config.threads)
        if let ft = fineTune, teacherLogits != nil, config.distillation != nil {
            return try fineTuned(net, ft, into: directory)
        }
        let r = try Self.trainAndSave(net, splits: splits, normalization: normalization, config: config,
                                      teacherLogits: teacherLogits, directory: directory, metadata: metadata, progress: progress)
        return FinishOutcome(valAccuracy: r.finalValAccuracy, valLoss: r.finalValLoss, epochs: r.epochs.count, seconds: r.seconds,
                             failureReason: r.status == .completed ? nil : (r.message ?? "training diverged"))
    }

    /// Full training without the teacher, then `ft.epochs` of distillation from those weights
    /// (no warm-up, peak `ft.learningRate`); metrics record the accuracy before distillation.
    func fineTuned(_ net: Network, _ ft: FineTune, into directory: URL) throws -> FinishOutcome {
        var plain = config
        plain.distillation = nil; plain.subsetFraction = 1
        let r0 = try Trainer.train(net, train: splits.train, val: splits.val, normalization: normalization, config: plain, progress: progress)
        guard r0.status == .completed else {
            return FinishOutcome(valAccuracy: nil, valLoss: nil, epochs: r0.epochs.count, seconds: r0.seconds,
                                 failureReason: r0.message ?? "training diverged before distillation")
        }
        var kd = config
        kd.epochs = ft.epochs; kd.schedule.baseLR = ft.learningRate; kd.schedule.warmupEpochs = 0
        var meta = metadata
        meta["val_accuracy_before_distillation"] = r0.finalValAccuracy.map { "\($0)" } ?? ""
        meta["distillation_start"] = "finished student"
        let r = try Self.trainAndSave(net, splits: splits, normalization: normalization, config: kd, teacherLogits: teacherLogits,
                                      directory: directory, metadata: meta, progress: progress)
        return FinishOutcome(valAccuracy: r.finalValAccuracy, valLoss: r.finalValLoss, epochs: r0.epochs.count + r.epochs.count,
                             seconds: r0.seconds + r.seconds, failureReason: r.status == .completed ? nil : (r.message ?? "distillation diverged"))
    }

    /// Trains `net` from its current weights (fresh, or a trained network being fine-tuned by
    /// distillation) and writes into `directory`: `metrics.json` and `architecture.json` always,
    /// `modelFile` only when training completed, so a diverged run leaves no model behind.
    @discardableResult
    public static func trainAndSave(_ net: Network, splits: DatasetSplits, normalization: Normalization, config: TrainConfig,
                                    teacherLogits: [Float]?, directory: URL, modelFile: String = FinishStep.modelFileName,
                                    metadata: [String: String] = [:], progress: ((TrainProgress) -> Void)? = nil) throws -> TrainResult {
        var config = config
        config.subsetFraction = 1
        if teacherLogits == nil { config.distillation = nil }
        let r = try Trainer.train(net, train: splits.train, val: splits.val, normalization: normalization, config: config,
                                  teacherLogits: config.distillation == nil ? nil : teacherLogits, progress: progress)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let spec = net.plan.spec
        try AtomicFile.write(spec.jsonText() + "\n", to: directory.appendingPathComponent("architecture.json"))
        var metrics = r.jsonValue()
        if case .object(var o) = metrics {
            o["hash"] = .string(spec.canonicalHash); o["params"] = .number(Double(net.parameterCount))
            o["distilled"] = .bool(config.distillation != nil); o["split"] = "val"
            for (k, v) in metadata where k != "normalization" { o[k] = .string(v) }
            metrics = .object(o)
        }
        try AtomicFile.write(metrics.prettyText() + "\n", to: directory.appendingPathComponent("metrics.json"))
        if r.status == .completed {
            var meta = metadata
            meta["normalization"] = normalization.metadataText
            meta["val_accuracy"] = r.finalValAccuracy.map { "\($0)" } ?? ""
            meta["distilled"] = config.distillation == nil ? "no" : "yes"
            if meta[Checkpoint.labelsKey] == nil, let names = splits.classNames { meta[Checkpoint.labelsKey] = Checkpoint.labelsMetadata(names) }
            try Checkpoint.save(net, to: directory.appendingPathComponent(modelFile).path, metadata: meta)
        }
        return r
    }
}

extension TrainResult {
    /// metrics.json of `tinyforge train` and `tinyforge finish`: status, per-epoch metrics, final val numbers.
    public func jsonValue() -> JSONValue {
        var o: [String: JSONValue] = [
            "status": .string(status.rawValue), "seconds": .number(seconds),
            "epochs": .array(epochs.map { m in
                var e: [String: JSONValue] = ["epoch": .number(Double(m.epoch + 1)), "train_loss": .number(m.trainLoss),
                                              "train_accuracy": .number(m.trainAccuracy), "learning_rate": .number(m.learningRate),
                                              "seconds": .number(m.seconds), "images_per_second": .number(m.imagesPerSecond)]
                if let v = m.valAccuracy { e["val_accuracy"] = .number(v) }
                if let v = m.valLoss { e["val_loss"] = .number(v) }
                return .object(e)
            }),
        ]
        if let m = message { o["message"] = .string(m) }
        if let v = finalValAccuracy { o["val_accuracy"] = .number(v) }
        if let v = finalValLoss { o["val_loss"] = .number(v) }
        return .object(o)
    }
}

extension Normalization {
    public var metadataText: String {
        JSONValue.object(["mean": .array(mean.map { .number(Double($0)) }), "std": .array(std.map { .number(Double($0)) })]).canonicalText()
    }

    public init(metadataText: String, file: String) throws {
        guard case .object(let o) = try JSONValue.parse(metadataText, source: "\(file) metadata.normalization"),
              case .array(let m)? = o["mean"], case .array(let s)? = o["std"] else {
            throw TrainingError.checkpoint(file: file, reason: "metadata.normalization is not {\"mean\": [...], \"std\": [...]}")
        }
        func floats(_ a: [JSONValue]) -> [Float] { a.compactMap { if case .number(let d) = $0 { return Float(d) }; return nil } }
        self.init(mean: floats(m), std: floats(s))
    }
}
