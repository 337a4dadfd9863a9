import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining

/// The demo's distillation step. A cached teacher from `tinyforge teacher` for this dataset and
/// split is used when one exists under the teachers folder (its logits come from the cache);
/// else a small teacher (the chosen network at 2× width) is trained, and the demo says so. The
/// gain is measured against a control: the same fine-tuning (epochs, learning rate, seed)
/// without the teacher, so the number is what distillation adds, not what more epochs add.
enum DemoDistill {
    struct Outcome {
        var teacherLabel: String
        var teacherValAccuracy: Double
        var before: Double
        var withoutKD: Double
        var withKD: Double
        var line: String { String(format: "Distillation (%@, val %.2f%%): student val %.2f%% → %.2f%% with the teacher vs %.2f%% without (same epochs): %+.2f points.",
                                  teacherLabel, teacherValAccuracy * 100, before * 100, withKD * 100, withoutKD * 100, (withKD - withoutKD) * 100) }
    }

    // swiftlint:disable:next function_parameter_count
    static func run(chosen: ArchitectureSpec, finishedModel: String, before: Double, splits: DatasetSplits, norm: Normalization,
                    dataset: String, teachersRoot: URL, recipe: TrainConfig, teacherEpochs: Int, distillEpochs: Int, seed: UInt64,
                    outDir: URL) throws -> Outcome {
        let progress = TrainProgressPrinter()
        let split = SplitIdentity(splits: splits, dataset: dataset, valFraction: 0.1)
        let (label, teacherAcc, logits) = try teacherLogits(chosen: chosen, splits: splits, split: split, norm: norm, teachersRoot: teachersRoot,
                                                            recipe: recipe, epochs: teacherEpochs, seed: seed, progress: progress)
        var kd = recipe
        kd.epochs = distillEpochs; kd.schedule.baseLR = 0.02
        kd.distillation = DistillationConfig(alphaStart: 0.4, alphaEnd: 0.8, temperature: 4)
        print("control: the same \(distillEpochs)-epoch fine-tuning without the teacher")
        let (control, _) = try Checkpoint.load(finishedModel)
        let cres = try FinishTrainer.trainAndSave(control, splits: splits, normalization: norm, config: kd, teacherLogits: nil,
                                                  directory: outDir.appendingPathComponent("no-distillation"), modelFile: "student.safetensors",
                                                  metadata: ["dataset": dataset], progress: progress.report)
        // Fine-tunes the finished student; student.safetensors is replaced only when the
        // distillation completes.
        print("distillation: \(distillEpochs) epoch(s) from the finished student, alpha 0.4→0.8, T 4")
        let (student, _) = try Checkpoint.load(finishedModel)
        let kdres = try FinishTrainer.trainAndSave(student, splits: splits, normalization: norm, config: kd, teacherLogits: logits,
                                                   directory: outDir, modelFile: "student.safetensors",
                                                   metadata: ["dataset": dataset, "teacher": label], progress: progress.report)
        let o = Outcome(teacherLabel: label, teacherValAccuracy: teacherAcc, before: before,
                        withoutKD: cres.finalValAccuracy ?? 0, withKD: kdres.finalValAccuracy ?? 0)
        print(o.line)
        return o
    }

    // swiftlint:disable:next function_parameter_count
    static func teacherLogits(chosen: ArchitectureSpec, splits: DatasetSplits, split: SplitIdentity, norm: Normalization, teachersRoot: URL,
                              recipe: TrainConfig, epochs: Int, seed: UInt64,
                              progress: TrainProgressPrinter) throws -> (String, Double, [Float]) {
        if let best = TeacherDescriptor.find(under: teachersRoot, split: split).max(by: { $0.1.valAccuracy < $1.1.valAccuracy }) {
            let (dir, d) = best
            let t = try Teacher.open(dir.path)
            let (l, source) = try t.logits(splits: splits, student: split, fallback: norm)
            print(String(format: "teacher: %@ (%@, val %.2f%%); logits %@", dir.path, d.preset, d.valAccuracy * 100,
                         source == .cache ? "from its cache" : "computed and cached"))
            return ("\(d.preset) teacher \(dir.lastPathComponent)", d.valAccuracy, l)
        }
        let teacherSpec = TeacherDistillation.widened(chosen, factor: 2)
        let teacher = try Network(spec: teacherSpec, seed: seed &+ 1)
        print("notice: no cached teacher for \(split.dataset) (split \(split.fingerprint.prefix(16))) under \(teachersRoot.path); training a small one: the chosen network at 2× width, \(teacher.parameterCount) params, \(Units.formatCount(LayerPlan(spec: teacherSpec).macs)) MACs. A strong teacher gains more: tinyforge teacher --dataset \(split.dataset) --out \(teachersRoot.path)/<name>")
        var tr = recipe; tr.epochs = epochs
        let tres = try Trainer.train(teacher, train: splits.train, val: splits.val, normalization: norm, config: tr, progress: progress.report)
        return ("2×-wide TinyForge teacher", tres.finalValAccuracy ?? 0, try Trainer.logits(teacher, on: splits.train, normalization: norm))
    }
}
