import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining

/// `tinyforge teacher`: a distillation teacher far outside any MCU budget, trained with a long
/// schedule and strong augmentation, with its training-split logits cached for `train
/// --teacher DIR`, `finish --teacher DIR` and the demo.
struct TeacherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teacher",
        abstract: "Train a large distillation teacher (wide ResNet or large CNN, optionally an ensemble) and cache its logits.",
        discussion: """
            Writes OUT/model.safetensors (or OUT/member-N.safetensors with --ensemble N), OUT/teacher.json and the cached
            training-split logits OUT/logits-<fingerprint>.{npy,json}. Use it with `tinyforge train/finish --teacher OUT`.
            The teacher trains on the same train/val split as the students (same --dataset, --val-fraction, --split-seed):
            a teacher that saw the students' validation images would leak their labels, and is refused.
            Example: tinyforge teacher --dataset fashion-mnist --preset wide-resnet --epochs 30 --out teachers/fmnist
            """)

    @OptionGroup var data: DatasetOptions
    @Option(help: "Network: \(TeacherPreset.allCases.map(\.rawValue).joined(separator: ", ")).") var preset: String = "wide-resnet"
    @Option(help: "Channel multiplier of the preset (2 = twice as wide).") var width: Double = 1
    @Option(help: "Blocks per stage (wide-resnet) / extra convs per stage (large-cnn).") var depth: Int = 1
    @Option(help: "Members of an ensemble (seeds SEED, SEED+1, …; logits averaged).") var ensemble: Int = 1
    @Option(help: "Epochs.") var epochs: Int = 30
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Peak learning rate (cosine schedule after a linear warm-up).") var lr: Float = 0.1
    @Option(help: "Warm-up epochs.") var warmup: Double = 1
    @Option(help: "Weight decay.") var weightDecay: Float = 5e-4
    @Option(help: "Augmentation (as `train --augment`; default: crop with padding, flip, cutout scaled to the image).") var augment: String?
    @Option(help: "Label smoothing of the teacher's own training. 0 (the default) keeps the spread of its logits between the wrong classes, which is what distillation reads; 0.1 shrank it 3× and distilled worse (bench/RESULTS-distill.md).") var labelSmoothing: Float = 0
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Threads.") var threads: Int = 2
    @Option(help: "Output directory.") var out: String
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        do { try execute() } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }

    func execute() throws {
        guard let p = TeacherPreset(rawValue: preset) else {
            throw ValidationError("--preset: \"\(preset)\" is not one of \(TeacherPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard width > 0, width <= 8 else { throw ValidationError("--width must be in (0, 8], got \(width)") }
        guard (1...8).contains(depth) else { throw ValidationError("--depth must be in 1...8, got \(depth)") }
        guard (1...8).contains(ensemble) else { throw ValidationError("--ensemble must be in 1...8, got \(ensemble)") }
        let limit = try memory.limit()
        let splits = try data.load(classes: nil, memory: limit)
        let h = splits.train.height
        let spec = p.spec(input: InputShape(height: h, width: splits.train.width, channels: splits.train.channels),
                          classes: splits.classCount, width: width, depth: depth)
        try spec.validate()
        let config = try recipe(imageSide: h).config()
        let norm = Normalization.compute(from: splits.train)
        let split = SplitIdentity(splits: splits, dataset: data.dataset, valFraction: data.valFraction)
        print(try TrainingMemoryCheck.training(spec, config: config, splits: splits, limit: limit).summary)
        print("teacher \(spec.name ?? preset): \(Units.formatCount(LayerPlan(spec: spec).macs)) MACs, \(ensemble) member(s), \(epochs) epochs, augmentation \(augmentText(imageSide: h)), on \(splits.train.count) train / \(splits.val.count) val images")
        var training = TeacherTraining(spec: spec, preset: p.rawValue, config: config, members: ensemble)
        training.progress = TrainProgressPrinter().report
        training.onMember = { i, file in print("member \(i)/\(ensemble) → \(out)/\(file)") }
        let d = try training.run(splits: splits, split: split, normalization: norm, directory: URL(fileURLWithPath: out))
        let members = d.memberValAccuracy.map { String(format: "%.2f%%", $0 * 100) }.joined(separator: ", ")
        print(String(format: "teacher val accuracy %.2f%% (members %@) in %.1f min; %d params; logits cached in %@ for split %@",
                     d.valAccuracy * 100, members, d.seconds / 60, d.params, out, String(split.fingerprint.prefix(16))))
    }

    /// The default teacher augmentation: random crop with 1/7 of the side as padding (4 px at
    /// 28–32), horizontal flip, cutout of half the side — clothes and CIFAR objects are
    /// mirror-symmetric as classes; digits are not, pass `--augment crop=2` for them.
    func augmentText(imageSide: Int) -> String {
        augment ?? "crop=\(max(1, imageSide / 7)),flip,cutout=\(max(1, imageSide / 2))"
    }

    func recipe(imageSide: Int) throws -> RecipeOptions {
        try RecipeOptions.parse(["--epochs", "\(epochs)", "--batch", "\(batch)", "--lr", "\(lr)", "--schedule", "cosine",
                                 "--warmup", "\(warmup)", "--weight-decay", "\(weightDecay)", "--augment", augmentText(imageSide: imageSide),
                                 "--seed", "\(seed)", "--threads", "\(threads)", "--label-smoothing=\(labelSmoothing)", "--optimizer", "sgd"])
    }
}
