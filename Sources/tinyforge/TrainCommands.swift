import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an architecture on a dataset; writes model.safetensors and metrics.json.")

    @OptionGroup var arch: ArchitectureOptions
    @OptionGroup var data: DatasetOptions
    @OptionGroup var recipe: RecipeOptions

    @Option(help: "Output directory.") var out: String = "out/train"
    @OptionGroup var teacherOptions: TeacherOptions
    @Option(help: "Start from this checkpoint's weights instead of fresh ones (fine-tuning: e.g. distilling a fully trained student, as the paper does); same architecture required.") var initFrom: String?
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        do {
            var (spec, warnings) = try arch.load()
            for w in warnings { print("warning: \(w)") }
            var config = try recipe.config()
            let limit = try memory.limit()
            let splits = try data.load(classes: spec.numClasses, memory: limit)
            if arch.classes == nil && spec.numClasses != splits.classCount {
                print("note: setting num_classes \(spec.numClasses) → \(splits.classCount) to match \(data.dataset)")
                spec.numClasses = splits.classCount
            }
            var norm = Normalization.compute(from: splits.train)
            let (plan, memorySummary) = try TrainingMemoryCheck.training(spec, config: config, splits: splits, limit: limit)
            print(memorySummary)
            let net = try Network(plan: plan, seed: config.seed, threads: config.threads)
            if let path = initFrom {
                norm = try FineTuneStart.apply(checkpoint: path, to: net, fallback: norm)
                print("fine-tuning from \(path)")
            }
            var logits: [Float]?
            let views = try teacherOptions.views(augment: config.augment, height: spec.input.height, width: spec.input.width)
            if let l = try teacherOptions.logits(numClasses: spec.numClasses, splits: splits, norm: norm, dataset: data.dataset,
                                                 valFraction: data.valFraction, views: views) {
                logits = l
                config.distillation = try teacherOptions.distillationConfig()
                config.kdViews = KDViewsOption.config(views)
            }
            print("training \(spec.name ?? "network") [\(spec.shortHash)]: \(net.parameterCount) params, \(Units.formatCount(plan.macs)) MACs on \(splits.train.count) train / \(splits.val.count) val images")
            let printer = TrainProgressPrinter()
            let result = try Trainer.train(net, train: splits.train, val: splits.val, normalization: norm, config: config,
                                           teacherLogits: logits, progress: printer.report)
            var meta = [
                "normalization": norm.metadataText, "dataset": data.dataset, "val_fraction": "\(data.valFraction)",
                "split_seed": "\(data.splitSeed)", "val_accuracy": result.finalValAccuracy.map { "\($0)" } ?? "",
            ]
            if let names = splits.classNames { meta[Checkpoint.labelsKey] = Checkpoint.labelsMetadata(names) }
            try Checkpoint.save(net, to: "\(out)/model.safetensors", metadata: meta)
            var metrics = result.jsonValue()
            if case .object(var o) = metrics {
                o["architecture"] = spec.jsonValue(); o["hash"] = .string(spec.canonicalHash)
                o["params"] = .number(Double(net.parameterCount)); o["dataset"] = .string(data.dataset)
                metrics = .object(o)
            }
            try writeJSON(metrics, to: "\(out)/metrics.json")
            if result.status == .diverged {
                print("error: \(result.message ?? "diverged")")
                throw ExitCode(1)
            }
            print(String(format: "done in %.1f s: val accuracy %.2f%% → %@/model.safetensors", result.seconds, (result.finalValAccuracy ?? 0) * 100, out))
        } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy of a trained checkpoint on the validation split (or, explicitly, the test split); with --int8 float and int8 side by side.")

    @Argument(help: "A model.safetensors written by `tinyforge train`.") var checkpoint: String
    @OptionGroup var data: DatasetOptions
    @Option(help: "val (default) or test. The test split is for final reporting only, never for selection.") var split: String = "val"
    @Flag(help: "Also quantise to int8 (calibrated on the training split) and report int8 accuracy from the Swift int8 engine (bit-exact with TFLM).") var int8 = false
    @OptionGroup var quant: QuantizeOptions
    @Option(help: "With --int8: evaluate only the first N images of the split (int8 inference is slower).") var limit: Int?
    @Flag(help: "Machine-readable output.") var json = false
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        do {
            let contents = try Checkpoint.read(checkpoint)
            for w in contents.warnings { printWarning(w) }
            let memLimit = try memory.limit()
            let splits = try data.load(classes: contents.spec.numClasses, memory: memLimit)
            let use: MemoryEstimate.Use = int8 ? .quantization(calibrationBatch: quant.calibrationBatchSize, engineBatch: 100) : .inference(batch: 100)
            let summary = try MemoryEstimate.of(LayerPlan(spec: contents.spec), use: use, threads: 2, datasetBytes: splits.memoryBytes)
                .check(against: memLimit, what: "evaluating \(checkpoint) (\(contents.spec.memoryLabel))",
                       fix: "evaluate on a machine with more memory, or retrain the network at a smaller --resolution")
            if !json { print(summary) }
            let net = try Checkpoint.network(contents, file: checkpoint)
            let set: Dataset
            switch split {
            case "val": set = splits.val
            case "test": set = try splits.finalTestSet()
            default: throw ValidationError("--split: \"\(split)\" is not one of val, test")
            }
            let norm = try contents.metadata["normalization"].map { try Normalization(metadataText: $0, file: checkpoint) }
                ?? Normalization.compute(from: splits.train)
            if int8 {
                if let l = limit, l < 1 { throw ValidationError("--limit must be ≥ 1, got \(l)") }
                let q = try NetworkQuantization.quantize(net, normalization: norm, train: splits.train, settings: try quant.settings())
                let r = try Int8Evaluation.evaluate(net, q, on: set, normalization: norm, limit: limit)
                if json {
                    print(JSONValue.object([
                        "split": .string(split), "count": .number(Double(r.count)), "float_accuracy": .number(r.floatAccuracy),
                        "int8_accuracy": .number(r.int8Accuracy), "top1_agreement": .number(r.top1Agreement),
                        "calibration_images": .number(Double(q.calibrationImages)),
                        "calibration": .string(q.calibrationMethod?.description ?? ""), "hash": .string(net.plan.spec.canonicalHash),
                    ]).prettyText())
                } else {
                    print(String(format: "%@ split, %d images: float %.2f%%  int8 %.2f%%  (Δ %+.2f points, top-1 agreement %.2f%%; calibrated on %d training images, %@; %.1f s)",
                                 split, r.count, r.floatAccuracy * 100, r.int8Accuracy * 100, -(r.accuracyDrop) * 100,
                                 r.top1Agreement * 100, q.calibrationImages, q.calibrationMethod?.description ?? "", r.seconds))
                }
                return
            }
            let m = try Trainer.evaluate(net, on: set, normalization: norm)
            if json {
                print(JSONValue.object(["split": .string(split), "accuracy": .number(m.accuracy), "loss": .number(m.loss),
                                        "count": .number(Double(m.count)), "hash": .string(net.plan.spec.canonicalHash)]).prettyText())
            } else {
                print(String(format: "%@ split: accuracy %.2f%% (loss %.4f) on %d images", split, m.accuracy * 100, m.loss, m.count))
            }
        } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }
}

/// The self-contained evaluation step of the search: spec + dataset + settings in, a metrics
/// JSON out. Never exits non-zero for a training failure: the failure is the result.
struct EvaluateCandidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-candidate",
        abstract: "Proxy-train one candidate and write its validation metrics (the search's worker step).")

    @Option(help: "Architecture JSON file.") var spec: String
    @OptionGroup var data: DatasetOptions
    @OptionGroup var recipe: RecipeOptions
    @Option(help: "Metrics JSON to write.") var out: String
    @Option(help: "Also save the trained weights here.") var checkpoint: String?
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        // First thing: die with the search (kill -9 included) instead of training on for up to --timeout.
        switch WorkerParent.arm() {
        case .notRequested, .armed: break
        case let .parentGone(expected, actual):
            FileHandle.standardError.write(Data("evaluate-candidate: the search (pid \(expected)) is gone (parent is now \(actual)); exiting without training\n".utf8))
            throw ExitCode(1)
        case .failed(let reason):
            throw fail(SearchError(WorkerParent.environmentVariable, reason))
        }
        let start = Date()
        let metrics: WorkerMetrics
        do {
            let request = ProxyEvaluationRequest(
                spec: try ArchitectureOptions.load(spec).spec, dataset: try DatasetSource.parse(data.dataset).skippingBadImages(data.skipBadImages),
                datasetText: data.dataset, valFraction: data.valFraction, splitSeed: data.splitSeed, config: try recipe.config(),
                memory: try memory.limit(), checkpointPath: checkpoint)
            metrics = ProxyEvaluation.run(request)
        } catch {
            metrics = .failed(error, seconds: Date().timeIntervalSince(start))
        }
        do { try metrics.write(to: out) } catch { throw fail(error) }
    }
}
