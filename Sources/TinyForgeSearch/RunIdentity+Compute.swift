import Foundation
import TinyForgeSpec

extension RunIdentity {
    /// The version workers and controllers compare. Bump it with any change to training,
    /// evaluation or the metrics contract: results of different versions must not share a front.
    public static let currentVersion = "0.14.0"

    /// The dataset's fingerprint: number of files, total bytes and a SHA-256 over every file's
    /// path (relative to its root), size and content, in path order. `roots` are the files or
    /// directories the dataset source reads; none (a synthetic source) gives a fingerprint of
    /// `source` alone. Computed once by the controller and once per worker start.
    public static func datasetFingerprint(source: String, roots: [URL]) throws -> String {
        guard !roots.isEmpty else { return "no files (generated: \(source))" }
        var lines: [String] = [], files = 0, bytes = 0
        for (i, root) in roots.enumerated() {
            for (relative, url) in try regularFiles(under: root) {
                guard let data = FileManager.default.contents(atPath: url.path) else {
                    throw SearchError(url.path, "cannot read this dataset file to fingerprint the dataset; check its permissions")
                }
                files += 1; bytes += data.count
                lines.append("\(i)/\(relative) \(data.count) " + SHA256.digest([UInt8](data)).map { String(format: "%02x", $0) }.joined())
            }
        }
        let digest = SHA256.hex(lines.joined(separator: "\n"))
        return "\(files) files, \(bytes) bytes, sha256 \(digest.prefix(16))"
    }

    /// Regular files under `root` (or `root` itself), as (path relative to root, URL), sorted.
    static func regularFiles(under root: URL) throws -> [(String, URL)] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir) else {
            throw SearchError(root.path, "does not exist; the dataset must be readable at the same path as on the controller")
        }
        guard isDir.boolValue else { return [(root.lastPathComponent, root)] }
        let base = root.standardizedFileURL.path
        var out: [(String, URL)] = []
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let u = e?.nextObject() as? URL {
            guard (try? u.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let p = u.standardizedFileURL.path
            out.append((p.hasPrefix(base + "/") ? String(p.dropFirst(base.count + 1)) : p, u))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}
