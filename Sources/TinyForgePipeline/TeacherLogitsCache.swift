import Foundation
import TinyForgeData
import TinyForgeSpec

/// Teacher logits computed once and reused: a large teacher's forward pass over the whole
/// training split costs minutes, and `finish`, `train --teacher` and the demo all need the same
/// rows. A cache is `logits-<fingerprint16>.npy` (float32, one row of raw — temperature-free —
/// logits per training-split image, in split order) beside `logits-<fingerprint16>.json`
/// (the manifest below), in the teacher's directory. Logits of K augmented views are
/// `logits-<fingerprint16>-views<K>-seed<S>-<augmentation>.{npy,json}`, shape K×N×C.
public struct TeacherLogitsManifest: Codable, Equatable, Sendable {
    /// v2 adds `views` and `view_seed`; v1 manifests (no views) are read as clean logits.
    public static let currentFormat = "tinyforge-teacher-logits-v2"
    public static let readableFormats = ["tinyforge-teacher-logits-v1", currentFormat]
    public var format = Self.currentFormat
    /// SHA-256 over the teacher checkpoint file(s): a retrained teacher makes the cache stale.
    public var teacherHash: String
    /// The checkpoint files the logits came from (an ensemble averages several).
    public var teacherCheckpoints: [String]
    public var split: SplitIdentity
    /// "none": the clean training images; else the augmentation of the views (`--augment` text).
    public var augmentation: String
    /// K augmented views per image (0 = the clean images) and the seed that drew them.
    public var views: Int
    public var viewSeed: UInt64
    /// N, the training-split images (the .npy is N×C, or K×N×C with views).
    public var rows: Int
    public var classes: Int
    public var logitsFile: String

    public init(teacherHash: String, teacherCheckpoints: [String], split: SplitIdentity, views: TeacherLogitsViews = .clean,
                rows: Int, classes: Int, logitsFile: String) {
        self.teacherHash = teacherHash; self.teacherCheckpoints = teacherCheckpoints; self.split = split
        augmentation = views.augmentation; self.views = views.count; viewSeed = views.seed
        self.rows = rows; self.classes = classes; self.logitsFile = logitsFile
    }

    /// The views setting the logits are of.
    public var viewSetting: TeacherLogitsViews { TeacherLogitsViews(augmentation: augmentation, count: views, seed: viewSeed) }
    /// The .npy shape: N×C, or K×N×C with views.
    public var logitsShape: [Int] { viewSetting.logitsShape(rows: rows, classes: classes) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        teacherHash = try c.decode(String.self, forKey: .teacherHash)
        teacherCheckpoints = try c.decode([String].self, forKey: .teacherCheckpoints)
        split = try c.decode(SplitIdentity.self, forKey: .split)
        augmentation = try c.decode(String.self, forKey: .augmentation)
        // v1 predates views: its logits are of the clean images.
        views = try c.decodeIfPresent(Int.self, forKey: .views) ?? 0
        viewSeed = try c.decodeIfPresent(UInt64.self, forKey: .viewSeed) ?? 0
        rows = try c.decode(Int.self, forKey: .rows)
        classes = try c.decode(Int.self, forKey: .classes)
        logitsFile = try c.decode(String.self, forKey: .logitsFile)
    }

    enum CodingKeys: String, CodingKey {
        case format, teacherHash = "teacher_hash", teacherCheckpoints = "teacher_checkpoints", split, augmentation, views
        case viewSeed = "view_seed", rows, classes, logitsFile = "logits_file"
    }
}

/// Why cached logits cannot be used; every case names the file and the fix.
public enum TeacherCacheError: Error, Equatable, CustomStringConvertible {
    /// The cache was made on another training split than the student's.
    case splitMismatch(file: String, cache: SplitIdentity, student: SplitIdentity)
    /// The teacher was trained on another split than the student's: its logits would carry the
    /// labels of the student's validation images.
    case teacherSplitMismatch(teacher: String, teacherSplit: String, student: SplitIdentity)
    case badManifest(file: String, reason: String)
    case logitsShape(file: String, expected: [Int], found: [Int])
    case ensemble(reason: String)
    /// The logits are of other pictures (clean vs augmented views, another augmentation, K or
    /// view seed) than the student distils against.
    case viewsMismatch(file: String, cache: TeacherLogitsViews, student: TeacherLogitsViews)

    public var description: String {
        switch self {
        case let .splitMismatch(file, cache, student):
            return "\(file): these teacher logits were computed on [\(cache)] but the student trains on [\(student)]; use the same --dataset/--val-fraction/--split-seed as the cache, or pass the teacher checkpoint (--teacher) so logits are computed for this split"
        case let .teacherSplitMismatch(teacher, teacherSplit, student):
            return "\(teacher): the teacher was trained on [\(teacherSplit)] but the student trains on [\(student)]; its logits would leak the student's validation labels — train a teacher on this split (tinyforge teacher --dataset ... --val-fraction ... --split-seed ...)"
        case let .badManifest(file, reason):
            return "\(file): not a teacher-logits manifest: \(reason); delete it and its .npy to recompute"
        case let .logitsShape(file, expected, found):
            return "\(file): logits of shape \(found), expected \(expected) (rows × classes of the manifest); delete the cache to recompute"
        case let .ensemble(reason):
            return "teacher ensemble: \(reason)"
        case let .viewsMismatch(file, cache, student):
            return "\(file): these teacher logits are of [\(cache)] but the student distils against [\(student)]; train the student with the cache's setting (\(cache.flags)), or pass the teacher itself (--teacher DIR) so logits of this setting are computed and cached beside these"
        }
    }
}

public enum TeacherLogitsCache {
    /// File stem of the cache for a split and views setting: the split fingerprint's first 16
    /// hex digits (clean logits: nothing more, the name caches had before views existed).
    public static func stem(for split: SplitIdentity, views: TeacherLogitsViews = .clean) -> String {
        "logits-\(split.fingerprint.prefix(16))" + views.stemSuffix
    }

    /// The cached logits for `split` and `views` from the teacher hashed `teacherHash` in
    /// `directory`, or nil (no cache for this split and setting, or one from an older teacher:
    /// a miss, to recompute). Another views setting lives under another name: never mixed.
    public static func lookup(directory: URL, split: SplitIdentity, teacherHash: String,
                              views: TeacherLogitsViews = .clean) throws -> [Float]? {
        let url = directory.appendingPathComponent(stem(for: split, views: views) + ".json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let m = try readManifest(url)
        guard m.teacherHash == teacherHash, m.viewSetting == views else { return nil }
        return try load(manifest: url, student: split, views: views)
    }

    /// The logits a manifest points to, refused when made on another split than `student`'s
    /// or of other pictures than `views` (N×C, or K×N×C view-major).
    public static func load(manifest url: URL, student: SplitIdentity, views: TeacherLogitsViews = .clean) throws -> [Float] {
        let m = try readManifest(url)
        guard m.split.fingerprint == student.fingerprint else {
            throw TeacherCacheError.splitMismatch(file: url.path, cache: m.split, student: student)
        }
        guard m.viewSetting == views else {
            throw TeacherCacheError.viewsMismatch(file: url.path, cache: m.viewSetting, student: views)
        }
        let npy = url.deletingLastPathComponent().appendingPathComponent(m.logitsFile)
        let a = try NPY.read(path: npy.path)
        guard a.shape == m.logitsShape, m.rows == student.trainCount else {
            var expected = m.logitsShape
            expected[expected.count - 2] = student.trainCount
            throw TeacherCacheError.logitsShape(file: npy.path, expected: expected, found: a.shape)
        }
        return try NPY.float32Values(a, file: npy.path)
    }

    /// Writes `logits` (N×C, or K×N×C view-major with views; split order) and their manifest;
    /// returns the manifest URL.
    @discardableResult
    public static func store(_ logits: [Float], classes: Int, directory: URL, split: SplitIdentity, teacherHash: String,
                             checkpoints: [String], views: TeacherLogitsViews = .clean) throws -> URL {
        let shape = views.logitsShape(rows: split.trainCount, classes: classes)
        guard classes > 0, views.count >= 0, logits.count == shape.reduce(1, *) else {
            throw TeacherCacheError.logitsShape(file: directory.path, expected: shape, found: [logits.count])
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let s = stem(for: split, views: views)
        try NPY.writeFloat32(logits, shape: shape, to: directory.appendingPathComponent(s + ".npy"))
        let m = TeacherLogitsManifest(teacherHash: teacherHash, teacherCheckpoints: checkpoints, split: split, views: views,
                                      rows: split.trainCount, classes: classes, logitsFile: s + ".npy")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let url = directory.appendingPathComponent(s + ".json")
        // Manifest last: a crash between the two writes leaves no manifest pointing at a half file.
        try AtomicFile.write(try enc.encode(m) + Data("\n".utf8), to: url)
        return url
    }

    public static func readManifest(_ url: URL) throws -> TeacherLogitsManifest {
        let m: TeacherLogitsManifest = try decodeManifest(url)
        guard TeacherLogitsManifest.readableFormats.contains(m.format) else {
            throw TeacherCacheError.badManifest(file: url.path, reason: "format \"\(m.format)\", expected one of \(TeacherLogitsManifest.readableFormats)")
        }
        guard m.views >= 0, m.views <= AugmentViews.maxCount, (m.views == 0) == (m.augmentation == "none") else {
            throw TeacherCacheError.badManifest(file: url.path, reason: "views \(m.views) with augmentation \"\(m.augmentation)\" (views must be 0...\(AugmentViews.maxCount), 0 exactly when the augmentation is none)")
        }
        return m
    }

    /// SHA-256 over the given files' bytes, in order (the teacher hash of a checkpoint or ensemble).
    public static func hash(files: [URL]) throws -> String {
        var parts: [String] = []
        for f in files {
            guard let d = FileManager.default.contents(atPath: f.path) else {
                throw TeacherCacheError.badManifest(file: f.path, reason: "teacher checkpoint cannot be read")
            }
            parts.append(TinyForgeSpec.SHA256.digest(Array(d)).map { String(format: "%02x", $0) }.joined())
        }
        return parts.count == 1 ? parts[0] : TinyForgeSpec.SHA256.hex(parts.joined(separator: ","))
    }

    /// The mean of several teachers' logits (same shape each): the ensemble's logits.
    public static func average(_ members: [[Float]]) throws -> [Float] {
        guard let first = members.first else { throw TeacherCacheError.ensemble(reason: "no member logits to average") }
        guard members.allSatisfy({ $0.count == first.count }) else {
            throw TeacherCacheError.ensemble(reason: "members have different logit counts \(members.map(\.count))")
        }
        var out = [Float](repeating: 0, count: first.count)
        for m in members { for i in out.indices { out[i] += m[i] } }
        let k = Float(members.count)
        for i in out.indices { out[i] /= k }
        return out
    }
}

/// A teacher's JSON file (descriptor or logits manifest) decoded, any failure reported as
/// `badManifest` naming the file.
func decodeManifest<T: Decodable>(_ url: URL) throws -> T {
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw TeacherCacheError.badManifest(file: url.path, reason: "cannot be read")
    }
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
        throw TeacherCacheError.badManifest(file: url.path, reason: "\(error)")
    }
}
