import Foundation
import TinyForgeSpec

/// Decoded image-folder tensors on disk, so the second load (and every search worker) reads
/// bytes instead of decoding tens of thousands of files again.
///
/// File `<cache dir>/<key>.tfimg`: 8 bytes `TFIMGv1\n`, a little-endian UInt64 header length,
/// a JSON header (classes, geometry, resize method, split names and counts, skipped files),
/// then per split its labels (Int32 LE) and pixels (uint8 NHWC). The key is the SHA-256 of
/// every image's relative path, byte size and modification time plus every option that
/// changes the tensors, so any edit to the folder or the options misses the old file.
enum ImageFolderCache {
    static let magic = Array("TFIMGv1\n".utf8)
    static let version = "tinyforge-image-cache-v1"

    struct Contents {
        var classes: [String]
        var height: Int, width: Int, channels: Int
        var resize: ResizeMethod
        /// (split name, labels, pixels)
        var splits: [(name: String, labels: [Int32], pixels: [UInt8])]
        var skipped: [ImageFailure]
    }

    static func key(layout: ImageFolderLayout, options o: ImageFolderOptions) -> String {
        var text = "\(version)\nsize=\(o.height.map(String.init) ?? "-")x\(o.width.map(String.init) ?? "-")"
            + "\nchannels=\(o.channels.map(String.init) ?? "auto")\nresize=\(o.resize.rawValue)\nskip=\(o.skipBadImages)\n"
        text += "classes=" + layout.classes.joined(separator: "\u{1F}") + "\n"
        for s in layout.splits {
            for e in s.entries { text += "\(e.relative)\t\(e.label)\t\(e.size)\t\(e.mtimeNanos)\n" }
        }
        return SHA256.hex(text)
    }

    static func write(_ c: Contents, to path: String, source: String) throws {
        let header: JSONValue = [
            "format": .string(version), "source": .string(source),
            "classes": .array(c.classes.map { .string($0) }),
            "height": .number(Double(c.height)), "width": .number(Double(c.width)), "channels": .number(Double(c.channels)),
            "resize": .string(c.resize.rawValue),
            "splits": .array(c.splits.map { ["name": .string($0.name), "count": .number(Double($0.labels.count))] }),
            "skipped": .array(c.skipped.map { ["file": .string($0.file), "reason": .string($0.reason)] }),
        ]
        let h = Array(header.canonicalText().utf8)
        var data = Data(magic)
        var n = UInt64(h.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(contentsOf: h)
        for s in c.splits {
            s.labels.withUnsafeBytes { data.append(contentsOf: $0) }
            data.append(contentsOf: s.pixels)
        }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial")
        try data.write(to: tmp)
        if rename(tmp.path, path) != 0 {
            _ = try? FileManager.default.removeItem(at: tmp)
            throw DataError.imageFolder(path: path, reason: "cannot move the new cache file into place (errno \(errno))")
        }
    }

    /// Reads a cache file; nil when it is missing. A damaged file is an error naming it (delete
    /// it and the next load rebuilds it).
    static func read(_ path: String) throws -> Contents? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        func bad(_ why: String) -> DataError {
            .imageFolder(path: path, reason: "damaged image cache (\(why)); delete the file and load again to rebuild it")
        }
        guard data.count >= 16, Array(data.prefix(8)) == magic else { throw bad("bad magic") }
        let n = data.subdata(in: 8..<16).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard n > 0, n <= data.count - 16 else { throw bad("header length \(n)") }
        guard case .object(let h) = try JSONValue.parse(data.subdata(in: 16..<(16 + n)), source: path),
              case .array(let cls)? = h["classes"], case .number(let ht)? = h["height"], case .number(let wd)? = h["width"],
              case .number(let ch)? = h["channels"], case .string(let rz)? = h["resize"], let resize = ResizeMethod(rawValue: rz),
              case .array(let sp)? = h["splits"] else { throw bad("header fields") }
        let classes = cls.compactMap { v -> String? in if case .string(let s) = v { return s }; return nil }
        let sample = Int(ht) * Int(wd) * Int(ch)
        var offset = 16 + n
        var splits = [(name: String, labels: [Int32], pixels: [UInt8])]()
        for s in sp {
            guard case .object(let o) = s, case .string(let name)? = o["name"], case .number(let c)? = o["count"] else { throw bad("split entry") }
            let count = Int(c)
            let end = offset + count * 4 + count * sample
            guard end <= data.count else { throw bad("file is truncated") }
            var labels = [Int32](repeating: 0, count: count)
            labels.withUnsafeMutableBytes { _ = data.copyBytes(to: $0, from: offset..<(offset + count * 4)) }
            let pixels = [UInt8](data.subdata(in: (offset + count * 4)..<end))
            splits.append((name, labels.map { Int32(littleEndian: $0) }, pixels))
            offset = end
        }
        guard offset == data.count else { throw bad("\(data.count - offset) trailing bytes") }
        var skipped = [ImageFailure]()
        if case .array(let sk)? = h["skipped"] {
            for v in sk {
                if case .object(let o) = v, case .string(let f)? = o["file"], case .string(let r)? = o["reason"] {
                    skipped.append(ImageFailure(file: f, reason: r))
                }
            }
        }
        return Contents(classes: classes, height: Int(ht), width: Int(wd), channels: Int(ch), resize: resize,
                        splits: splits, skipped: skipped)
    }
}
