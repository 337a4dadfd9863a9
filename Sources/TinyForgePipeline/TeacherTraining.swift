import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

/// Trains a distillation teacher (`tinyforge teacher`): one network, or an ensemble of
/// `members` seeds whose logits are averaged, each saved with its split's fingerprint so a
/// student on another split cannot use it by mistake; then caches the training-split logits
/// and writes `teacher.json`.
public struct TeacherTraining {
    /// Checkpoint metadata key: the SHA-256 fingerprint of the split the teacher trained on.
    public static let fingerprintKey = "train_fingerprint"

    public var spec: ArchitectureSpec
    public var preset: String
    public var config: TrainConfig
    public var members: Int
    public var progress: ((TrainProgress) -> Void)?
    /// Called before each member with its 1-based index and file name.
    public var onMember: ((Int, String) -> Void)?

    public init(spec: ArchitectureSpec, preset: String, config: TrainConfig, members: Int = 1) {
        self.spec = spec; self.preset = preset; self.config = config; self.members = members
    }

    public static func memberFile(_ i: Int, of n: Int) -> String { n == 1 ? "model.safetensors" : "member-\(i + 1).safetensors" }

    /// Trains every member (seed `config.seed + i`) into `directory`; a diverged member stops
    /// with an error (a teacher that did not train must not be cached as one).
    public func run(splits: DatasetSplits, split: SplitIdentity, normalization: Normalization, directory: URL) throws -> TeacherDescriptor {
        guard members >= 1 else { throw TrainingError.invalidOption("--ensemble", "\(members) must be at least 1") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let start = Date()
        var files: [String] = [], accuracies: [Double] = [], valLogits: [[Float]] = [], params = 0
        for i in 0..<members {
            let file = Self.memberFile(i, of: members)
            onMember?(i + 1, file)
            var c = config
            c.seed = config.seed &+ UInt64(i)
            let net = try Network(spec: spec, seed: c.seed, threads: c.threads)
            params = net.parameterCount
            let r = try Trainer.train(net, train: splits.train, val: splits.val, normalization: normalization, config: c, progress: progress)
            guard r.status == .completed else {
                throw TrainingError.invalidOption("teacher member \(i + 1)", r.message ?? "training diverged; lower --lr")
            }
            var meta = ["normalization": normalization.metadataText, "dataset": split.dataset, "val_fraction": "\(split.valFraction)",
                        "split_seed": "\(split.splitSeed)", Self.fingerprintKey: split.fingerprint, "teacher_preset": preset,
                        "val_accuracy": r.finalValAccuracy.map { "\($0)" } ?? ""]
            if let names = splits.classNames { meta[Checkpoint.labelsKey] = Checkpoint.labelsMetadata(names) }
            try Checkpoint.save(net, to: directory.appendingPathComponent(file).path, metadata: meta)
            files.append(file)
            accuracies.append(r.finalValAccuracy ?? 0)
            valLogits.append(try Trainer.logits(net, on: splits.val, normalization: normalization))
        }
        let ensembleAccuracy = Self.accuracy(try TeacherLogitsCache.average(valLogits), labels: splits.val.labels, classes: spec.numClasses)
        var d = TeacherDescriptor(preset: preset, members: files, memberValAccuracy: accuracies, valAccuracy: ensembleAccuracy,
                                  split: split, params: params, macs: LayerPlan(spec: spec).macs,
                                  seconds: Date().timeIntervalSince(start))
        d.labelSmoothing = (Double(config.labelSmoothing) * 1e6).rounded() / 1e6
        let teacher = Teacher(checkpoints: files.map { directory.appendingPathComponent($0) }, directory: directory, description: preset)
        _ = try teacher.logits(splits: splits, student: split, fallback: normalization)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try enc.encode(d) + Data("\n".utf8), to: directory.appendingPathComponent(TeacherDescriptor.fileName))
        return d
    }

    /// Top-1 accuracy of `logits` (rows × classes) against `labels`; 0 for no rows.
    public static func accuracy(_ logits: [Float], labels: [Int32], classes: Int) -> Double {
        guard !labels.isEmpty, logits.count == labels.count * classes else { return 0 }
        var correct = 0
        for (i, l) in labels.enumerated() {
            var best = 0
            for j in 1..<classes where logits[i * classes + j] > logits[i * classes + best] { best = j }
            if best == Int(l) { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }
}
