import Foundation
import TinyForgeData
import TinyForgeSpec
import TinyForgeTraining

/// A distillation teacher on disk: a directory written by `tinyforge teacher` (one checkpoint or
/// an ensemble, listed in `teacher.json`), or a single checkpoint from `tinyforge train`. Its
/// training-split logits are cached in its directory, so they are computed once per split.
public struct Teacher {
    public var checkpoints: [URL]
    /// Where the logits cache lives (the teacher's directory).
    public var directory: URL
    /// What the teacher is, for reports (`teacher DIR (2 members)` / `checkpoint FILE`).
    public var description: String

    /// Opens a teacher directory (with `teacher.json`, or a `model.safetensors` in it) or a checkpoint file.
    public static func open(_ path: String) throws -> Teacher {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TrainingError.checkpoint(file: path, reason: "no such teacher directory or checkpoint")
        }
        guard isDir.boolValue else {
            return Teacher(checkpoints: [url], directory: url.deletingLastPathComponent(), description: "checkpoint \(path)")
        }
        let manifest = url.appendingPathComponent(TeacherDescriptor.fileName)
        if FileManager.default.fileExists(atPath: manifest.path) {
            let d = try TeacherDescriptor.read(manifest)
            return Teacher(checkpoints: d.members.map { url.appendingPathComponent($0) }, directory: url,
                           description: "teacher \(path) (\(d.preset), \(d.members.count) member\(d.members.count == 1 ? "" : "s"))")
        }
        let model = url.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: model.path) else {
            throw TrainingError.checkpoint(file: path, reason: "a directory without \(TeacherDescriptor.fileName) or model.safetensors; train one with `tinyforge teacher --out \(path)`")
        }
        return Teacher(checkpoints: [model], directory: url, description: "checkpoint \(model.path)")
    }

    public enum Source: String, Sendable { case cache, computed }

    /// Raw logits of every training-split image (split order), averaged over the members: from
    /// the cache when one matches this split, these checkpoints and `views`, else computed and
    /// cached. With `views` the logits are K×N×C: view k of image i is row k·N + i (the student's
    /// fixed augmented views; nil = the clean images, N×C).
    /// `fallback`: the normalisation of checkpoints that do not record theirs.
    public func logits(splits: DatasetSplits, student: SplitIdentity, fallback: Normalization,
                       views: AugmentViews? = nil) throws -> (logits: [Float], source: Source) {
        let hash = try TeacherLogitsCache.hash(files: checkpoints)
        let key = TeacherLogitsViews(views)
        if let hit = try TeacherLogitsCache.lookup(directory: directory, split: student, teacherHash: hash, views: key) {
            return (hit, .cache)
        }
        var members: [[Float]] = []
        for file in checkpoints {
            let (net, contents) = try Checkpoint.load(file.path)
            guard net.plan.spec.numClasses == student.classes else {
                throw TrainingError.invalidOption("teacher \(file.path)", "the teacher has \(net.plan.spec.numClasses) classes, the student \(student.classes); use a teacher trained on \(student.dataset)")
            }
            try Self.checkTrainingSplit(contents.metadata, file: file.path, student: student)
            let norm = try contents.metadata["normalization"].map { try Normalization(metadataText: $0, file: file.path) } ?? fallback
            if let v = views {
                members.append(try Trainer.logits(net, on: splits.train, normalization: norm, views: v))
            } else {
                members.append(try Trainer.logits(net, on: splits.train, normalization: norm))
            }
        }
        let avg = try TeacherLogitsCache.average(members)
        try TeacherLogitsCache.store(avg, classes: student.classes, directory: directory, split: student, teacherHash: hash,
                                     checkpoints: checkpoints.map(\.lastPathComponent), views: key)
        return (avg, .computed)
    }

    /// Refuses a teacher trained on another split of the student's data: its soft targets would
    /// carry the labels of the student's validation images. Checkpoints from `tinyforge teacher`
    /// record the split's fingerprint; those from `tinyforge train` its dataset, fraction and seed.
    static func checkTrainingSplit(_ meta: [String: String], file: String, student: SplitIdentity) throws {
        if let fp = meta[TeacherTraining.fingerprintKey] {
            guard fp == student.fingerprint else {
                let was = "\(meta["dataset"] ?? "?"), val fraction \(meta["val_fraction"] ?? "?"), split seed \(meta["split_seed"] ?? "?"), fingerprint \(fp.prefix(16))"
                throw TeacherCacheError.teacherSplitMismatch(teacher: file, teacherSplit: was, student: student)
            }
            return
        }
        guard meta["dataset"] == student.dataset else { return }
        let seed = meta["split_seed"].flatMap { UInt64($0) }, fraction = meta["val_fraction"].flatMap { Double($0) }
        if (seed != nil && seed != student.splitSeed) || (fraction != nil && fraction != student.valFraction) {
            let was = "\(student.dataset), val fraction \(meta["val_fraction"] ?? "?"), split seed \(meta["split_seed"] ?? "?")"
            throw TeacherCacheError.teacherSplitMismatch(teacher: file, teacherSplit: was, student: student)
        }
    }
}

/// `teacher.json`: what `tinyforge teacher` trained (preset, members, accuracies, split).
public struct TeacherDescriptor: Codable, Equatable, Sendable {
    public static let fileName = "teacher.json"
    public static let currentFormat = "tinyforge-teacher-v1"
    public var format = Self.currentFormat
    public var preset: String
    public var members: [String]
    public var memberValAccuracy: [Double]
    /// Of the averaged logits (the ensemble) on the validation split.
    public var valAccuracy: Double
    public var split: SplitIdentity
    public var params: Int
    public var macs: Int
    public var seconds: Double
    /// The label smoothing the members trained with (nil in teachers written before it was
    /// recorded, which all used 0.1). It shapes the logits a student distils from: smoothing
    /// shrinks the spread between the wrong classes that distillation reads.
    public var labelSmoothing: Double?

    enum CodingKeys: String, CodingKey {
        case format, preset, members, memberValAccuracy = "member_val_accuracy", valAccuracy = "val_accuracy", split, params, macs, seconds
        case labelSmoothing = "label_smoothing"
    }

    public static func read(_ url: URL) throws -> TeacherDescriptor {
        let d: TeacherDescriptor = try decodeManifest(url)
        guard d.format == currentFormat, !d.members.isEmpty else {
            throw TeacherCacheError.badManifest(file: url.path, reason: "format \"\(d.format)\" with \(d.members.count) members; expected \"\(currentFormat)\" with at least one")
        }
        return d
    }

    /// Teacher directories under `root` whose teacher was trained on `split` (the demo's lookup).
    public static func find(under root: URL, split: SplitIdentity) -> [(URL, TeacherDescriptor)] {
        let dirs = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []
        return ([root] + dirs.sorted { $0.path < $1.path }).compactMap { dir -> (URL, TeacherDescriptor)? in
            guard let d = try? read(dir.appendingPathComponent(fileName)), d.split.fingerprint == split.fingerprint else { return nil }
            return (dir, d)
        }
    }
}
