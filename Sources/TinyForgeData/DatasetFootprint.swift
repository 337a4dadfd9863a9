import Foundation
import TinyForgeSpec

/// Memory a dataset source needs while it loads, known *before* loading: generated data from
/// its settings, files from their sizes on disk (a gzip file from its ISIZE trailer).
///
/// Loading holds the decoded pixels, a copy made while parsing, and the train / val subsets
/// carved out of the full set, so files count twice their uncompressed size (plus the
/// compressed bytes, read whole). Generated data counts its train set twice (the split copy)
/// and its test set once.
public enum DatasetFootprint {
    /// Bytes the source needs at its peak while loading; nil when a count exceeds Int64.
    public static func bytes(of source: DatasetSource) -> Int? {
        switch source {
        case .synthetic(let c):
            let image = Checked.product([max(c.size, 0), max(c.size, 0), max(c.channels, 0)])
            let perImage = image.flatMap { Checked.add($0, 4) }  // pixels + an Int32 label
            guard let p = perImage, let train = Checked.mul(max(c.trainCount, 0), p),
                  let test = Checked.mul(max(c.testCount, 0), p) else { return nil }
            return Checked.sum([train, train, test])
        case .fashionMNIST(let d), .mnist(let d), .cifar10(let d), .cifar100(let d):
            return files(in: d)
        case let .idx(a, b, c, d), let .npy(a, b, c, d):
            return Checked.sum([a, b, c, d].compactMap { $0 }.map { fileBytes($0) })
        case .folder(let o):
            return folderBytes(o)
        }
    }

    /// An image folder, from its file list (no decoding): with a size given, every image's
    /// decoded tensor (H·W·C bytes; 3 channels when not given) held twice (decode buffer and
    /// dataset) plus its file read whole; without one, the decoded size is unknown before
    /// decoding, so the files' bytes count 8× (a JPEG expands ~10×, a PNG ~2–4×). A folder
    /// that cannot be scanned counts 0 here: loading reports the real error.
    static func folderBytes(_ o: ImageFolderOptions) -> Int? {
        guard let layout = try? ImageFolderScanner.scan(o.directory) else { return 0 }
        let entries = layout.splits.flatMap(\.entries)
        let onDisk = Checked.sum(entries.map { Int(clamping: $0.size) }) ?? Int.max
        guard let h = o.height, let w = o.width else { return Checked.mul(onDisk, 8) }
        guard let image = Checked.product([h, w, o.channels ?? 3]),
              let decoded = Checked.mul(entries.count, image) else { return nil }
        return Checked.sum([decoded, decoded, onDisk])
    }

    /// Checks `source` against `limit` (nil = unknown limit, nothing checked).
    public static func check(_ source: DatasetSource, option: String, limit: MemoryLimit?) throws {
        guard let limit = limit else { return }
        let need = bytes(of: source) ?? Int.max
        guard need > limit.bytes else { return }
        let fix: String
        if case .synthetic = source { fix = "generate fewer images (n=, test=) or smaller ones (size=)" } else {
            fix = "use a smaller dataset, or a machine with more memory"
        }
        throw DataError.tooLarge(option: option, bytes: need, limit: limit, fix: fix)
    }

    /// Memory for one file while loading: compressed bytes + twice the uncompressed size.
    static func fileBytes(_ path: String) -> Int {
        let onDisk = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return Checked.sum([onDisk, 2 * uncompressedSize(path, onDisk: onDisk)]) ?? Int.max
    }

    /// The size after gunzip (ISIZE, the last 4 bytes of a gzip file; mod 2³², as the format
    /// stores it), or the size on disk for a plain file.
    static func uncompressedSize(_ path: String, onDisk: Int) -> Int {
        guard onDisk >= 20, let h = FileHandle(forReadingAtPath: path) else { return onDisk }
        defer { try? h.close() }
        guard let magic = try? h.read(upToCount: 2), magic == Data([0x1F, 0x8B]),
              (try? h.seek(toOffset: UInt64(onDisk - 4))) != nil, let t = try? h.read(upToCount: 4), t.count == 4 else {
            return onDisk
        }
        return Int(t[0]) | Int(t[1]) << 8 | Int(t[2]) << 16 | Int(t[3]) << 24
    }

    /// The files of a dataset folder and of its immediate subfolders (archives unpack into one).
    static func files(in directory: String) -> Int {
        let fm = FileManager.default
        var total = 0
        var dirs = [directory]
        if let subs = try? fm.contentsOfDirectory(atPath: directory) {
            dirs += subs.map { (directory as NSString).appendingPathComponent($0) }
        }
        for d in dirs {
            for name in (try? fm.contentsOfDirectory(atPath: d)) ?? [] {
                let p = (d as NSString).appendingPathComponent(name)
                if FileBytes.exists(p) { total = Checked.add(total, fileBytes(p)) ?? Int.max }
            }
        }
        return total
    }
}
