import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining

/// Post-training quantisation settings shared by evaluate --int8, export and deploy-check.
struct QuantizeOptions: ParsableArguments {
    @Option(help: "Calibration batches drawn from the training split (never val or test).") var calibrationBatches: Int = 8
    @Option(help: "Images per calibration batch.") var calibrationBatchSize: Int = 32
    @Option(help: "Clip activation ranges to this percentile, e.g. 99.99 (default: min/max).") var percentile: Double?
    @Flag(help: "Append a SOFTMAX after the classifier (int8 probabilities instead of logits).") var softmax = false

    func settings(threads: Int = 2) throws -> QuantizationSettings {
        guard calibrationBatches >= 1 else { throw ValidationError("--calibration-batches must be ≥ 1, got \(calibrationBatches)") }
        guard calibrationBatchSize >= 1 else { throw ValidationError("--calibration-batch-size must be ≥ 1, got \(calibrationBatchSize)") }
        var s = QuantizationSettings()
        s.calibrationBatches = calibrationBatches; s.calibrationBatchSize = calibrationBatchSize
        if let p = percentile {
            guard p > 50 && p <= 100 else { throw ValidationError("--percentile must be in (50, 100], e.g. 99.99; got \(p)") }
            s.method = .percentile(p)
        }
        s.appendSoftmax = softmax
        s.threads = threads
        return s
    }
}

/// The model a deploy command works on: a trained checkpoint, or (`--random-init`) an
/// architecture with seeded random weights, for memory and interop checks.
struct ModelSourceOptions: ParsableArguments {
    @Argument(help: "A model.safetensors written by `tinyforge train`; with --random-init an architecture JSON or built-in name.")
    var model: String
    @Flag(help: "MODEL is an architecture: use seeded random weights (memory / bit-exactness checks; accuracy is meaningless).")
    var randomInit = false
    @Option(help: "Seed of the --random-init weights.") var initSeed: UInt64 = 1

    /// The architecture and, without --random-init, the checkpoint's contents (weights not yet
    /// in a network, so memory can be checked first).
    func read() throws -> (ArchitectureSpec, Checkpoint.Contents?) {
        if randomInit { return (try ArchitectureOptions.load(model).spec, nil) }
        let contents = try Checkpoint.read(model)
        for w in contents.warnings { printWarning(w) }
        return (contents.spec, contents)
    }

    /// Loads the data (labels checked against the network's classes) and refuses, before the
    /// network is built, when quantising it would exceed `limit`.
    func loadChecked(_ spec: ArchitectureSpec, data: DatasetOptions, quant: QuantizeOptions, limit: MemoryLimit?) throws -> DatasetSplits {
        let splits = try data.load(classes: spec.numClasses, memory: limit)
        let use = MemoryEstimate.Use.quantization(calibrationBatch: quant.calibrationBatchSize, engineBatch: randomInit ? 8 : 1)
        print(try MemoryEstimate.of(LayerPlan(spec: spec), use: use, threads: 2, datasetBytes: splits.memoryBytes)
            .check(against: limit, what: "quantising \(model) (\(spec.memoryLabel))",
                   fix: "use a smaller --calibration-batch-size, or retrain the network at a smaller --resolution"))
        return splits
    }

    /// The network, its input normalisation (from the checkpoint, else the training split's)
    /// and a description of where it came from.
    func build(_ spec: ArchitectureSpec, _ contents: Checkpoint.Contents?, _ splits: DatasetSplits) throws -> (Network, Normalization, String) {
        guard let contents = contents else {
            let net = try Network(spec: spec, seed: initSeed)
            let norm = Normalization.compute(from: splits.train)
            try NetworkQuantization.warmUpBatchNorm(net, normalization: norm, train: splits.train)
            return (net, norm, "\(model) (random weights, seed \(initSeed), BN statistics estimated on 16 training images)")
        }
        let net = try Checkpoint.network(contents, file: model)
        let norm = try contents.metadata["normalization"].map { try Normalization(metadataText: $0, file: model) }
            ?? Normalization.compute(from: splits.train)
        return (net, norm, model)
    }

    /// Class names for the export: the checkpoint's `labels` metadata, else the dataset's.
    func labels(_ splits: DatasetSplits) throws -> [String]? {
        if !randomInit, let l = try Checkpoint.labels(try Checkpoint.read(model).metadata, file: model) { return l }
        return splits.classNames
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Quantise a trained checkpoint to int8 and write model.tflite or a C library, with manifest.json and README.md.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "tflite or c.") var format: String = "tflite"
    @Option(help: "Output directory.") var out: String = "out/export"
    @OptionGroup var data: DatasetOptions
    @OptionGroup var quant: QuantizeOptions
    @Option(help: "MCU target for the cost-model estimates: \(Target.all.map(\.name).joined(separator: ", ")).") var target: String = "stm32h743"
    @OptionGroup var memory: MemoryOptions
    @Option(help: "Patch-based inference in the C library: auto, off, PxP@BLOCK or PxP@BLOCK.se (the stem and the blocks before BLOCK run tile by tile on a P×P grid, in the patch plan's smaller arena).")
    var patch: String?
    @Option(help: "With --patch auto: the most extra MACs (recomputed halos) a patch plan may cost, as a fraction of the network's MACs.")
    var patchMaxOverhead = "0.2"

    func run() throws {
        do {
            guard let f = ExportFormat(rawValue: format) else { throw ValidationError("--format: \"\(format)\" is not one of tflite, c") }
            let t = try Target.named(target)
            let setting = try patch.map(PatchSetting.init(parsing:)) ?? .off
            let overhead = try PatchSetting.parseOverhead(patchMaxOverhead)
            let (spec, contents) = try source.read()
            let splits = try source.loadChecked(spec, data: data, quant: quant, limit: try memory.limit())
            let (net, norm, from) = try source.build(spec, contents, splits)
            let model = TrainedModel(network: net, normalization: norm, splits: splits, source: from)
            let (q, s) = try DeployPipeline.export(ExportRequest(model: model, quantization: try quant.settings(), format: f,
                                                                 directory: URL(fileURLWithPath: out), target: t,
                                                                 labels: try source.labels(splits), patch: setting,
                                                                 patchMaxOverhead: overhead))
            print("wrote \(s.files.joined(separator: ", ")) to \(out)")
            print("int8: \(q.model.ops.count) ops, input scale \(q.inputQuant.scale) zero point \(q.inputQuant.zeroPoint), output scale \(q.outputQuant.scale) zero point \(q.outputQuant.zeroPoint); calibrated on \(q.calibrationImages) training images (\(q.calibrationMethod?.description ?? ""))")
            print("arena (TinyForge C runtime) \(s.arenaBytes) B; cost model: TFLM activations \(s.tflmArenaEstimateBytes) B; \(f == .tflite ? "model.tflite" : "constants") \(s.modelBytes) B")
        } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }
}

struct DeployCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy-check",
        abstract: "Build the C library for a Cortex-M7, run it under QEMU on validation images and compare with the Swift int8 engine byte for byte.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Validation images to run on the device.") var samples: Int = 4
    @Option(help: "Build directory (kept). Default: a fresh temporary directory.") var workDir: String?
    @Option(help: "QEMU time limit in seconds.") var timeout: Double = 600
    @OptionGroup var data: DatasetOptions
    @OptionGroup var quant: QuantizeOptions
    @Option(help: "MCU target for the cost-model estimates.") var target: String = "stm32h743"
    @OptionGroup var memory: MemoryOptions
    @Option(help: "Patch-based inference in the C library: auto, off, PxP@BLOCK or PxP@BLOCK.se (the stem and the blocks before BLOCK run tile by tile on a P×P grid, in the patch plan's smaller arena).")
    var patch: String?
    @Option(help: "With --patch auto: the most extra MACs (recomputed halos) a patch plan may cost, as a fraction of the network's MACs.")
    var patchMaxOverhead = "0.2"

    func run() throws {
        do {
            guard samples >= 1 else { throw ValidationError("--samples must be ≥ 1, got \(samples)") }
            try DeployCheck.requireToolchain()
            let t = try Target.named(target)
            let setting = try patch.map(PatchSetting.init(parsing:))
            let overhead = try PatchSetting.parseOverhead(patchMaxOverhead)
            let (spec, contents) = try source.read()
            let splits = try source.loadChecked(spec, data: data, quant: quant, limit: try memory.limit())
            let (net, norm, from) = try source.build(spec, contents, splits)
            let dir = workDir.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-deploy-\(UUID().uuidString)")
            let model = TrainedModel(network: net, normalization: norm, splits: splits, source: from)
            let r = try DeployPipeline.deviceCheck(DeviceCheckRequest(model: model, quantization: try quant.settings(), samples: samples,
                                                                      target: t, workDirectory: dir, timeoutSeconds: timeout,
                                                                      patch: setting, patchMaxOverhead: overhead))
            print(r.table)
            print("build directory: \(dir.path)")
            if !r.outputsMatch {
                var stderr = StandardError()
                print("error: the device's outputs differ from the Swift int8 engine", to: &stderr)
                throw ExitCode(1)
            }
        } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }
}
