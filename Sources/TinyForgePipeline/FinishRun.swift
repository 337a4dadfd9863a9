import Foundation
import TinyForgeData
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining

/// Logits of a teacher on the training split and how it is named in records and metadata.
public struct FinishTeacher: Sendable {
    public var logits: [Float]
    public var description: String
    public init(logits: [Float], description: String) { self.logits = logits; self.description = description }
}

/// What the finish step trains: which members of a run's front, on which data, with which recipe.
public struct FinishRequest {
    public var top: Int
    public var rule: FinishRule
    public var splits: DatasetSplits
    public var normalization: Normalization
    /// The dataset source as given (recorded in the settings and the checkpoints).
    public var dataset: String
    public var valFraction: Double
    public var splitSeed: UInt64
    public var config: TrainConfig
    public var teacher: FinishTeacher?
    /// `--kd-from finished`: train without the teacher first, then distil the finished student
    /// (the paper's fine-tuning); nil = distillation from scratch. Used only with a teacher.
    public var fineTune: FinishTrainer.FineTune?

    public init(top: Int, rule: FinishRule, splits: DatasetSplits, normalization: Normalization, dataset: String,
                valFraction: Double, splitSeed: UInt64, config: TrainConfig, teacher: FinishTeacher? = nil,
                fineTune: FinishTrainer.FineTune? = nil) {
        self.top = top; self.rule = rule; self.splits = splits; self.normalization = normalization; self.dataset = dataset
        self.valFraction = valFraction; self.splitSeed = splitSeed; self.config = config; self.teacher = teacher
        self.fineTune = fineTune
    }
}

/// The finish step as a library call, shared by `tinyforge finish`, `search --finish-top` and
/// the demo: selects the members, trains them (via `FinishTrainer`), records them in the run
/// store and writes finished.json. The settings JSON it records is what makes a re-run skip the
/// members already finished with the same settings.
public enum FinishRun {
    /// - Parameters:
    ///   - log: progress lines (header, events, the finished table); nil runs quietly.
    ///   - progress: per-step training progress.
    public static func run(_ request: FinishRequest, store: RunStore, log: ((String) -> Void)? = nil,
                           progress: ((TrainProgress) -> Void)? = nil) throws -> [(FinishedRecord, FinishStep.Action)] {
        guard request.top >= 1 else { throw PipelineError.finishTop(request.top) }
        let run = try store.config()
        let splits = request.splits
        guard splits.classCount <= run.task.numClasses else {
            throw SearchError("--dataset", "\(request.dataset) has \(splits.classCount) classes but the run's networks output \(run.task.numClasses); finish on the run's dataset (\(run.task.dataset)) or one with at most \(run.task.numClasses) classes")
        }
        var recipe = request.config
        recipe.subsetFraction = 1
        if request.teacher == nil { recipe.distillation = nil }
        let teacher = request.teacher
        let step = try FinishStep(store: store, top: request.top, rule: request.rule, settings: try settings(request, recipe: recipe))
        var trainer = FinishTrainer(splits: splits, normalization: request.normalization, config: recipe, teacherLogits: teacher?.logits,
                                    metadata: ["dataset": request.dataset, "val_fraction": "\(request.valFraction)",
                                               "split_seed": "\(request.splitSeed)", "teacher": teacher?.description ?? ""],
                                    progress: progress)
        trainer.fineTune = teacher == nil ? nil : request.fineTune
        log?("finish \(store.directory.path): \(request.top) member(s) by \(request.rule.rawValue), \(recipe.epochs) epoch(s) on \(splits.train.count) train / \(splits.val.count) val images of \(request.dataset)"
             + (teacher.map { ", distilled from \($0.description)" } ?? ""))
        let results = try step.run(onEvent: { log?($0) }, train: trainer.train)
        if let log {
            for line in try RunReport(store: store).finishedText() { log(line) }
            log("wrote \(store.directory.appendingPathComponent(FinishStep.summaryFileName).path)")
        }
        return results
    }

    /// The recorded settings: data, split, recipe and teacher, in canonical JSON.
    static func settings(_ request: FinishRequest, recipe: TrainConfig) throws -> FinishSettings {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let recipeJSON = try JSONValue.parse(try enc.encode(recipe), source: "train config")
        var object: [String: JSONValue] = ["dataset": .string(request.dataset), "val_fraction": .number(request.valFraction),
                                           "split_seed": .number(Double(request.splitSeed)), "train": recipeJSON,
                                           "teacher": request.teacher.map { .string($0.description) } ?? .null]
        // Only when fine-tuning, so runs finished before the option existed keep their settings.
        if request.teacher != nil, let ft = request.fineTune {
            object["kd_from"] = .string("finished, \(ft.epochs) epochs at lr \(ft.learningRate)")
        }
        return FinishSettings(epochs: recipe.epochs, teacher: request.teacher?.description, json: JSONValue.object(object).canonicalText())
    }
}
