import Foundation
import TinyForgeData
import TinyForgeSpec

/// Teacher logits computed once and reused: a large teacher's forward pass over the whole
/// training split costs minutes, and `finish`, `train --teacher` and the demo all need the same
/// rows. A cache is `logits-<fingerprint16>.npy` (float32, one row of raw — temperature-free —
/// logits per training-split image, in split order) beside `logits-<fingerprint16>.json`
/// (the manifest below), in the teacher's directory.
public struct TeacherLogitsManifest: Codable, Equatable, Sendable {
    public static let currentFormat = "tinyforge-teacher-logits-v1"
    public var format = Self.currentFormat
    /// SHA-256 over the teacher checkpoint file(s): a retrained teacher makes the cache stale.
    public var teacherHash: String
    /// The checkpoint files the logits came from (an ensemble averages several).
    public var teacherCheckpoints: [String]
    public var split: SplitIdentity
    /// "none": the clean training images (the student's augmentation is not applied).
    public var augmentation: String
    public var rows: Int
    public var classes: Int
    public var logitsFile: String

    public init(teacherHash: String, teacherCheckpoints: [String], split: SplitIdentity, augmentation: String = "none",
                rows: Int, classes: Int, logitsFile: String) {
        self.teacherHash = teacherHash; self.teacherCheckpoints = teacherCheckpoints; self.split = split
        self.augmentation = augmentation; self.rows = rows; self.classes = classes; self.logitsFile = logitsFile
    }

    enum CodingKeys: String, CodingKey {
        case format, teacherHash = "teacher_hash", teacherCheckpoints = "teacher_checkpoints", split, augmentation, rows, classes
        case logitsFile = "logits_file"
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
        }
    }
}

public enum TeacherLogitsCache {
    /// File stem of the cache for a split: its fingerprint's first 16 hex digits.
    public static func stem(for split: SplitIdentity) -> String { "logits-\(split.fingerprint.prefix(16))" }

    /// The cached logits for `split` from the teacher hashed `teacherHash` in `directory`, or
    /// nil (no cache for this split, or one from an older teacher: a miss, to recompute).
    public static func lookup(directory: URL, split: SplitIdentity, teacherHash: String) throws -> [Float]? {
        let url = directory.appendingPathComponent(stem(for: split) + ".json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let m = try readManifest(url)
        guard m.teacherHash == teacherHash else { return nil }
        return try load(manifest: url, student: split)
    }

    /// The logits a manifest points to, refused when made on another split than `student`'s.
    public static func load(manifest url: URL, student: SplitIdentity) throws -> [Float] {
        let m = try readManifest(url)
        guard m.split.fingerprint == student.fingerprint else {
            throw TeacherCacheError.splitMismatch(file: url.path, cache: m.split, student: student)
        }
        let npy = url.deletingLastPathComponent().appendingPathComponent(m.logitsFile)
        let a = try NPY.read(path: npy.path)
        guard a.shape == [m.rows, m.classes], m.rows == student.trainCount else {
            throw TeacherCacheError.logitsShape(file: npy.path, expected: [student.trainCount, m.classes], found: a.shape)
        }
        return try NPY.float32Values(a, file: npy.path)
    }

    /// Writes `logits` (rows × classes, split order) and their manifest; returns the manifest URL.
    @discardableResult
    public static func store(_ logits: [Float], classes: Int, directory: URL, split: SplitIdentity, teacherHash: String,
                             checkpoints: [String]) throws -> URL {
        guard classes > 0, logits.count == split.trainCount * classes else {
            throw TeacherCacheError.logitsShape(file: directory.path, expected: [split.trainCount, classes], found: [logits.count])
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let s = stem(for: split)
        try NPY.writeFloat32(logits, shape: [split.trainCount, classes], to: directory.appendingPathComponent(s + ".npy"))
        let m = TeacherLogitsManifest(teacherHash: teacherHash, teacherCheckpoints: checkpoints, split: split,
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
        guard m.format == TeacherLogitsManifest.currentFormat else {
            throw TeacherCacheError.badManifest(file: url.path, reason: "format \"\(m.format)\", expected \"\(TeacherLogitsManifest.currentFormat)\"")
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
