import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining

/// Dataset selection shared by train / evaluate / evaluate-candidate.
struct DatasetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Dataset: fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS], npy:IMAGES,LABELS[,...], synthetic[:classes=,size=,channels=,n=,test=,noise=,seed=], folder:DIR[,size=N|HxW,channels=1|3,resize=area|bilinear,cache=DIR,skip-bad-images] (PNG/JPEG, one sub-folder per class, optional train/ val/ test/)."))
    var dataset: String = "fashion-mnist"

    @Flag(help: "folder: datasets: leave out images that cannot be decoded (listed in a warning) instead of failing.")
    var skipBadImages = false

    @Option(help: "Fraction of the training set held out as the validation split (selection uses it, never the test set).")
    var valFraction: Double = 0.1

    @Option(help: "Seed of the validation split.")
    var splitSeed: UInt64 = 42

    /// `classes`: the network's class count, which label files without a fixed one (IDX, NPY)
    /// must fit; `memory`: the source's size is checked against it before loading.
    func load(classes: Int?, memory: MemoryLimit?) throws -> DatasetSplits {
        let source = try DatasetSource.parse(dataset).skippingBadImages(skipBadImages)
        return try DatasetLoader.load(spec: source, valFraction: valFraction, seed: splitSeed, classes: classes, memory: memory)
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
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw ValidationError("--label-smoothing must be in [0, 1) (0 = one-hot targets), got \(labelSmoothing)")
        }
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
    try AtomicFile.write(value.prettyText() + "\n", to: url)
}

/// Distillation options shared by `tinyforge train` and `tinyforge finish`.
struct TeacherOptions: ParsableArguments {
    @Option(help: "Distil from this teacher: a directory written by `tinyforge teacher`, or a TinyForge checkpoint. Its training-split logits are cached beside it (computed once per split, reused after).") var teacher: String?
    @Option(help: "Distil from logits in a .npy file (float32, one row per image of the full training set, one column per class; e.g. from scripts/teacher_logits.py), or a cached-logits manifest logits-*.json written by `tinyforge teacher`.") var teacherLogits: String?
    @Option(help: "Distillation recipe: \(DistillationPreset.allCases.map(\.rawValue).joined(separator: ", ")) (\(DistillationPreset.summary)). Instead of --alpha/--temperature.") var kdPreset: String?
    @Option(help: "Distillation α (weight of the label loss), constant or START:END (default 0.5).") var alpha: String?
    @Option(help: "Distillation temperature (default 4).") var temperature: Float?
    @Option(help: "Distil against the teacher's logits of K fixed augmented views of each image (the student's --augment, view seed 0 by default; --kd-view-seed); 0 = clean images.") var kdViews: Int = 0
    @Option(help: "Seed that draws the --kd-views views (default 0).") var kdViewSeed: UInt64?

    /// The views the student distils against (nil: clean logits), checked before any teacher
    /// inference; `height`×`width` is the student's network input.
    func views(augment: AugmentConfig, height: Int, width: Int) throws -> AugmentViews? {
        try KDViewsOption.views(count: kdViews, seed: kdViewSeed, augment: augment, hasTeacher: teacher != nil || teacherLogits != nil,
                                rawNPY: teacherLogits.map { !$0.hasSuffix(".json") } ?? false, height: height, width: width)
    }

    /// What the teacher is, for reports; nil without one.
    var teacherDescription: String? {
        guard let t = teacher else { return teacherLogits.map { "logits \($0)" } }
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: t, isDirectory: &isDir) && isDir.boolValue ? "teacher \(t)" : "checkpoint \(t)"
    }

    func distillationConfig() throws -> DistillationConfig {
        if let p = kdPreset {
            guard alpha == nil, temperature == nil else {
                throw ValidationError("--kd-preset \(p) sets alpha and temperature; drop --alpha/--temperature or the preset")
            }
            do { return try DistillationPreset.parse(p).config } catch { throw ValidationError("\(error)") }
        }
        let text = alpha ?? "0.5"
        let parts = text.split(separator: ":").map { Float($0) }
        guard !parts.isEmpty, parts.count <= 2, parts.allSatisfy({ $0 != nil && (0...1).contains($0!) }) else {
            throw ValidationError("--alpha: \"\(text)\" must be a number in [0, 1] or START:END, e.g. 0.4:0.8")
        }
        let t = temperature ?? 4
        guard t > 0 else { throw ValidationError("--temperature must be > 0") }
        return DistillationConfig(alphaStart: parts[0]!, alphaEnd: parts.last!!, temperature: t)
    }

    /// Teacher logits for every image of the training split, in split order; nil without a
    /// teacher. A teacher directory or checkpoint answers from its cache when it has one for
    /// this split (else computes and caches); `valFraction` completes the split's identity.
    /// With `views`: the K×N×C logits of those views (`views(augment:height:width:)`).
    func logits(numClasses: Int, splits: DatasetSplits, norm: Normalization, dataset: String, valFraction: Double,
                views: AugmentViews? = nil) throws -> [Float]? {
        if teacher != nil && teacherLogits != nil {
            throw ValidationError("--teacher and --teacher-logits: give one teacher, not both")
        }
        // Bad distillation flags fail before minutes of teacher inference, not after.
        if teacher != nil || teacherLogits != nil { _ = try distillationConfig() }
        let student = SplitIdentity(splits: splits, dataset: dataset, valFraction: valFraction)
        if let path = teacher {
            let t = try Teacher.open(path)
            let (l, source) = try t.logits(splits: splits, student: student, fallback: norm, views: views)
            let which = TeacherLogitsViews(views)
            print("teacher logits: \(source == .cache ? "from the cache" : "computed and cached") (\(which.label)) in \(t.directory.path) (\(t.description); split \(student.fingerprint.prefix(16)))")
            return l
        }
        guard let path = teacherLogits else { return nil }
        if path.hasSuffix(".json") {
            let which = TeacherLogitsViews(views)
            let l = try TeacherLogitsCache.load(manifest: URL(fileURLWithPath: path), student: student, views: which)
            let expected = which.logitsShape(rows: splits.train.count, classes: numClasses)
            guard l.count == expected.reduce(1, *) else {
                throw TeacherCacheError.logitsShape(file: path, expected: expected, found: [l.count])
            }
            print("teacher logits: from \(path) (\(which.label))")
            return l
        }
        let a = try NPY.read(path: path)
        let total = splits.trainIndices.count + splits.valIndices.count
        guard a.dtype == .float32, a.shape.count == 2, a.shape[1] == numClasses, a.shape[0] == total else {
            throw TrainingError.invalidOption("--teacher-logits \(path)", "must be float32 of shape (\(total), \(numClasses)) — one row per image of the full training set of \(dataset), one column per class — but is \(a.dtype.rawValue) \(a.shape); make the logits on this dataset, or pass a teacher with --teacher")
        }
        let all = try NPY.float32Values(a, file: path)
        var out = [Float](); out.reserveCapacity(splits.train.count * numClasses)
        for i in splits.trainIndices { out.append(contentsOf: all[(i * numClasses)..<((i + 1) * numClasses)]) }
        return out
    }
}
