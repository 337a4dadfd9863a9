import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeSpec
import TinyForgeTraining

/// Dataset selection shared by train / evaluate / evaluate-candidate.
struct DatasetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Dataset: fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS], npy:IMAGES,LABELS[,...], synthetic[:classes=,size=,channels=,n=,test=,noise=,seed=]."))
    var dataset: String = "fashion-mnist"

    @Option(help: "Fraction of the training set held out as the validation split (selection uses it, never the test set).")
    var valFraction: Double = 0.1

    @Option(help: "Seed of the validation split.")
    var splitSeed: UInt64 = 42

    func load() throws -> DatasetSplits {
        let source = try DatasetSource.parse(dataset)
        return try DatasetLoader.load(spec: source, valFraction: valFraction, seed: splitSeed)
    }
}

/// The training recipe (defaults: a short CPU-friendly recipe; the paper's is
/// `--epochs 30 --lr 0.5 --schedule step --step-epochs 10 --batch 128 --label-smoothing 0.1`).
struct RecipeOptions: ParsableArguments {
    @Option(help: "Epochs.") var epochs: Int = 10
    @Option(help: "Batch size.") var batch: Int = 64
    @Option(help: "Peak learning rate.") var lr: Float = 0.05
    @Option(help: "Schedule: cosine, step, constant.") var schedule: String = "cosine"
    @Option(help: "Step schedule: epochs between ×gamma decays.") var stepEpochs: Int = 10
    @Option(help: "Linear warm-up epochs.") var warmup: Double = 0
    @Option(help: "Optimiser: sgd (Nesterov momentum 0.9) or adamw.") var optimizer: String = "sgd"
    @Option(help: "Weight decay.") var weightDecay: Float = 1e-4
    @Flag(help: "Also decay BN parameters and biases.") var decayAll = false
    @Option(help: "Label smoothing.") var labelSmoothing: Float = 0.1
    @Option(help: "Augmentation: none, digits (shift), cifar (crop+flip), or crop=P,flip,cutout=S.") var augment: String = "none"
    @Option(help: "Fraction of the training split to use (proxy training).") var subset: Double = 1
    @Option(help: "Seed for weights, data order, augmentation, dropout.") var seed: UInt64 = 1
    @Option(help: "Threads.") var threads: Int = 2

    func config() throws -> TrainConfig {
        var c = TrainConfig()
        guard epochs >= 1 else { throw ValidationError("--epochs must be ≥ 1, got \(epochs)") }
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1, got \(batch)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be > 0, got \(lr)") }
        guard subset > 0 && subset <= 1 else { throw ValidationError("--subset must be in (0, 1], got \(subset)") }
        guard (1...16).contains(threads) else { throw ValidationError("--threads must be in 1...16, got \(threads)") }
        c.epochs = epochs; c.batchSize = batch; c.subsetFraction = subset; c.seed = seed; c.threads = threads
        c.labelSmoothing = labelSmoothing
        c.schedule.baseLR = lr; c.schedule.warmupEpochs = warmup; c.schedule.stepEpochs = stepEpochs
        guard let k = LRSchedule.Kind(rawValue: schedule) else {
            throw ValidationError("--schedule: \"\(schedule)\" is not one of cosine, step, constant")
        }
        c.schedule.kind = k
        guard let o = OptimizerConfig.Kind(rawValue: optimizer) else {
            throw ValidationError("--optimizer: \"\(optimizer)\" is not one of sgd, adamw")
        }
        c.optimizer.kind = o; c.optimizer.weightDecay = weightDecay; c.optimizer.noDecayOnBatchNormAndBias = !decayAll
        c.augment = try Self.parseAugment(augment)
        return c
    }

    static func parseAugment(_ s: String) throws -> AugmentConfig {
        switch s {
        case "none": return .none
        case "digits": return .digits()
        case "cifar": return .cifar()
        default:
            var a = AugmentConfig()
            for part in s.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                switch (kv[0], kv.count == 2 ? Int(kv[1]) : nil) {
                case ("crop", let v?): a.cropPadding = v
                case ("flip", nil): a.horizontalFlip = true
                case ("cutout", let v?): a.cutout = v
                default: throw ValidationError("--augment: \"\(part)\" is not understood; use none, digits, cifar or e.g. crop=4,flip,cutout=8")
                }
            }
            return a
        }
    }
}

/// Terminal progress: a rewritten line on a TTY, plain lines otherwise.
struct TrainProgressPrinter {
    let tty = isatty(STDOUT_FILENO) != 0

    func report(_ p: TrainProgress) {
        if let m = p.epochDone {
            let val = m.valAccuracy.map { String(format: "  val acc %.2f%%  val loss %.4f", $0 * 100, m.valLoss ?? 0) } ?? ""
            let line = String(format: "epoch %d/%d  loss %.4f  train acc %.2f%%%@  %.0f img/s  lr %.4g  ETA %@",
                              p.epoch + 1, p.epochs, m.trainLoss, m.trainAccuracy * 100, val, m.imagesPerSecond, m.learningRate, eta(p.etaSeconds))
            print(tty ? "\r\u{1B}[K" + line : line)
        } else if tty {
            let line = String(format: "epoch %d/%d  step %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %@",
                              p.epoch + 1, p.epochs, p.step, p.steps, p.loss, p.accuracy * 100, p.imagesPerSecond, eta(p.etaSeconds))
            print("\r\u{1B}[K" + line, terminator: "")
            fflush(stdout)
        }
        fflush(stdout)
    }

    func eta(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}

func writeJSON(_ value: JSONValue, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data((value.prettyText() + "\n").utf8).write(to: url, options: .atomic)
}

extension TrainResult {
    func jsonValue() -> JSONValue {
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
    var metadataText: String {
        JSONValue.object(["mean": .array(mean.map { .number(Double($0)) }), "std": .array(std.map { .number(Double($0)) })]).canonicalText()
    }

    init(metadataText: String, file: String) throws {
        guard case .object(let o) = try JSONValue.parse(metadataText, source: "\(file) metadata.normalization"),
              case .array(let m)? = o["mean"], case .array(let s)? = o["std"] else {
            throw TrainingError.checkpoint(file: file, reason: "metadata.normalization is not {\"mean\": [...], \"std\": [...]}")
        }
        func floats(_ a: [JSONValue]) -> [Float] { a.compactMap { if case .number(let d) = $0 { return Float(d) }; return nil } }
        self.init(mean: floats(m), std: floats(s))
    }
}
