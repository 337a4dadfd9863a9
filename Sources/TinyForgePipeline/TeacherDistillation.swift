import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

/// The demo's distillation step as one library call: a finished student is fine-tuned on a
/// teacher's logits, and the gain is measured against a control — the same fine-tuning (epochs,
/// learning rate, seed) without the teacher — so the number is what distillation adds, not what
/// more epochs add.
public struct DistillationRequest {
    /// The chosen architecture (the fallback teacher is it at `widthFactor`× width).
    public var chosen: ArchitectureSpec
    /// The finished student checkpoint; both arms start from it, it is not modified.
    public var finishedModel: String
    /// The finished student's validation accuracy (reported as "before").
    public var before: Double
    public var splits: DatasetSplits
    public var normalization: Normalization
    /// The dataset source, recorded in the checkpoints and the split identity.
    public var dataset: String
    public var valFraction: Double = 0.1
    /// Searched for a `tinyforge teacher` of this dataset and split; the best one is used.
    public var teachersRoot: URL
    /// The student's full-training recipe; the fallback teacher and both fine-tunings start from it.
    public var recipe: TrainConfig
    /// Epochs of the fallback teacher (used only when no cached teacher exists).
    public var teacherEpochs: Int
    public var distillEpochs: Int
    public var seed: UInt64
    public var widthFactor: Int = 2
    /// The distilled student is written to `outDir/student.safetensors` (replaced only on
    /// success), the control to `outDir/no-distillation/`.
    public var outDir: URL

    public init(chosen: ArchitectureSpec, finishedModel: String, before: Double, splits: DatasetSplits, normalization: Normalization,
                dataset: String, teachersRoot: URL, recipe: TrainConfig, teacherEpochs: Int, distillEpochs: Int, seed: UInt64, outDir: URL) {
        self.chosen = chosen; self.finishedModel = finishedModel; self.before = before; self.splits = splits
        self.normalization = normalization; self.dataset = dataset; self.teachersRoot = teachersRoot; self.recipe = recipe
        self.teacherEpochs = teacherEpochs; self.distillEpochs = distillEpochs; self.seed = seed; self.outDir = outDir
    }
}

public struct DistillationOutcome: Sendable {
    public var teacherLabel: String
    public var teacherValAccuracy: Double
    /// Whether the teacher came from a `tinyforge teacher` directory (else a small one was trained).
    public var cachedTeacher: Bool
    public var before: Double
    public var withoutKD: Double
    public var withKD: Double
    public var gain: Double { withKD - withoutKD }
    public var line: String {
        String(format: "Distillation (%@, val %.2f%%): student val %.2f%% → %.2f%% with the teacher vs %.2f%% without (same epochs): %+.2f points.",
               teacherLabel, teacherValAccuracy * 100, before * 100, withKD * 100, withoutKD * 100, gain * 100)
    }
}

public enum TeacherDistillation {
    /// The fine-tuning recipe of both arms: the student's recipe at lr 0.02, and for the distilled
    /// arm α 0.4→0.8, T 4.
    public static let fineTuneLR: Float = 0.02
    public static var kd: DistillationConfig { DistillationConfig(alphaStart: 0.4, alphaEnd: 0.8, temperature: 4) }

    /// The chosen network at `factor`× width: every stage, the stem and the head conv widened.
    public static func widened(_ spec: ArchitectureSpec, factor: Int) -> ArchitectureSpec {
        var s = spec
        s.name = (spec.name ?? "network") + "-teacher"
        if var st = s.stem { st.outChannels *= factor; s.stem = st }
        for i in s.stages.indices { s.stages[i].outChannels *= factor }
        if s.head.convChannels > 0 { s.head.convChannels *= factor }
        return s
    }

    /// - Parameters:
    ///   - log: one line per step (teacher source, control, distillation).
    ///   - progress: per-step progress of every training.
    public static func run(_ r: DistillationRequest, log: (String) -> Void = { _ in },
                           progress: ((TrainProgress) -> Void)? = nil) throws -> DistillationOutcome {
        let t = try teacherLogits(r, log: log, progress: progress)
        var ft = r.recipe
        ft.epochs = r.distillEpochs; ft.schedule.baseLR = fineTuneLR
        log("control: the same \(r.distillEpochs)-epoch fine-tuning without the teacher")
        let (control, _) = try Checkpoint.load(r.finishedModel)
        let cres = try FinishTrainer.trainAndSave(control, splits: r.splits, normalization: r.normalization, config: ft, teacherLogits: nil,
                                                  directory: r.outDir.appendingPathComponent("no-distillation"), modelFile: "student.safetensors",
                                                  metadata: ["dataset": r.dataset], progress: progress)
        log("distillation: \(r.distillEpochs) epoch(s) from the finished student, alpha \(kd.alphaStart)→\(kd.alphaEnd), T \(kd.temperature)")
        ft.distillation = kd
        let (student, _) = try Checkpoint.load(r.finishedModel)
        let kdres = try FinishTrainer.trainAndSave(student, splits: r.splits, normalization: r.normalization, config: ft, teacherLogits: t.logits,
                                                   directory: r.outDir, modelFile: "student.safetensors",
                                                   metadata: ["dataset": r.dataset, "teacher": t.label], progress: progress)
        return DistillationOutcome(teacherLabel: t.label, teacherValAccuracy: t.valAccuracy, cachedTeacher: t.cached, before: r.before,
                                   withoutKD: cres.finalValAccuracy ?? 0, withKD: kdres.finalValAccuracy ?? 0)
    }

    /// The best cached teacher for the request's dataset and split, or else a small one trained now.
    static func teacherLogits(_ r: DistillationRequest, log: (String) -> Void,
                              progress: ((TrainProgress) -> Void)?) throws -> (label: String, valAccuracy: Double, cached: Bool, logits: [Float]) {
        let split = SplitIdentity(splits: r.splits, dataset: r.dataset, valFraction: r.valFraction)
        if let best = TeacherDescriptor.find(under: r.teachersRoot, split: split).max(by: { $0.1.valAccuracy < $1.1.valAccuracy }) {
            let (dir, d) = best
            let t = try Teacher.open(dir.path)
            let (l, source) = try t.logits(splits: r.splits, student: split, fallback: r.normalization)
            log(String(format: "teacher: %@ (%@, val %.2f%%); logits %@", dir.path, d.preset, d.valAccuracy * 100,
                       source == .cache ? "from its cache" : "computed and cached"))
            return ("\(d.preset) teacher \(dir.lastPathComponent)", d.valAccuracy, true, l)
        }
        let teacherSpec = widened(r.chosen, factor: r.widthFactor)
        let teacher = try Network(spec: teacherSpec, seed: r.seed &+ 1)
        log("notice: no cached teacher for \(split.dataset) (split \(split.fingerprint.prefix(16))) under \(r.teachersRoot.path); training a small one: the chosen network at \(r.widthFactor)× width, \(teacher.parameterCount) params, \(Units.formatCount(LayerPlan(spec: teacherSpec).macs)) MACs. A strong teacher gains more: tinyforge teacher --dataset \(split.dataset) --out \(r.teachersRoot.path)/<name>")
        // No label smoothing for a teacher: it shrinks the logit spread between the wrong classes
        // that the student distils from (as `tinyforge teacher`'s default; bench/RESULTS-distill.md).
        var tr = r.recipe; tr.epochs = r.teacherEpochs; tr.labelSmoothing = 0
        let tres = try Trainer.train(teacher, train: r.splits.train, val: r.splits.val, normalization: r.normalization, config: tr,
                                     progress: progress)
        let logits = try Trainer.logits(teacher, on: r.splits.train, normalization: r.normalization)
        return ("\(r.widthFactor)×-wide TinyForge teacher", tres.finalValAccuracy ?? 0, false, logits)
    }
}
