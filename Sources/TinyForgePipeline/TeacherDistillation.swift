import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

/// What the demo's distillation step trains: a teacher (the student's architecture at
/// `widthFactor`× width) from scratch, then the trained student fine-tuned on its logits.
public struct DistillationRequest {
    /// The trained student, fine-tuned in place.
    public var student: Network
    public var splits: DatasetSplits
    public var normalization: Normalization
    /// The student's full-training recipe; the teacher and the fine-tuning start from it.
    public var recipe: TrainConfig
    public var teacherEpochs: Int
    public var distillEpochs: Int
    public var teacherSeed: UInt64
    public var widthFactor: Int = 2
    /// Where the fine-tuned student is written (`directory/modelFile`, replaced only on success).
    public var directory: URL
    public var modelFile: String
    /// The dataset source, recorded in the checkpoint.
    public var dataset: String

    public init(student: Network, splits: DatasetSplits, normalization: Normalization, recipe: TrainConfig, teacherEpochs: Int,
                distillEpochs: Int, teacherSeed: UInt64, directory: URL, modelFile: String, dataset: String) {
        self.student = student; self.splits = splits; self.normalization = normalization; self.recipe = recipe
        self.teacherEpochs = teacherEpochs; self.distillEpochs = distillEpochs; self.teacherSeed = teacherSeed
        self.directory = directory; self.modelFile = modelFile; self.dataset = dataset
    }
}

public struct DistillationOutcome {
    public var teacher: TrainResult
    public var student: TrainResult
}

/// Distillation from a TinyForge-trained teacher as a library call (the demo's step 4).
public enum TeacherDistillation {
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
    ///   - log: one line on the teacher before it trains.
    ///   - progress: per-step progress of both trainings.
    public static func run(_ r: DistillationRequest, log: ((String) -> Void)? = nil,
                           progress: ((TrainProgress) -> Void)? = nil) throws -> DistillationOutcome {
        let teacherSpec = widened(r.student.plan.spec, factor: r.widthFactor)
        let teacher = try Network(spec: teacherSpec, seed: r.teacherSeed)
        var tr = r.recipe; tr.epochs = r.teacherEpochs
        log?("teacher: the chosen network at \(r.widthFactor)× width, \(teacher.parameterCount) params, \(Units.formatCount(LayerPlan(spec: teacherSpec).macs)) MACs")
        let tres = try Trainer.train(teacher, train: r.splits.train, val: r.splits.val, normalization: r.normalization, config: tr,
                                     progress: progress)
        let teacherLogits = try Trainer.logits(teacher, on: r.splits.train, normalization: r.normalization)
        var kd = r.recipe
        kd.epochs = r.distillEpochs; kd.schedule.baseLR = 0.02
        kd.distillation = DistillationConfig(alphaStart: 0.4, alphaEnd: 0.8, temperature: 4)
        let kdres = try FinishTrainer.trainAndSave(r.student, splits: r.splits, normalization: r.normalization, config: kd,
                                                   teacherLogits: teacherLogits, directory: r.directory, modelFile: r.modelFile,
                                                   metadata: ["dataset": r.dataset, "teacher": "\(r.widthFactor)x-wide TinyForge teacher"],
                                                   progress: progress)
        return DistillationOutcome(teacher: tres, student: kdres)
    }
}
