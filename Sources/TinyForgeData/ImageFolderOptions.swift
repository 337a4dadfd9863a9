import Foundation

/// `folder:DIR[,size=N|HxW][,channels=1|3][,resize=area|bilinear][,cache=DIR][,skip-bad-images]`:
/// a folder of PNG/JPEG images, one sub-folder per class (optionally under `train/`, `val/`,
/// `test/`). Everything that changes the decoded tensors is part of the option string, so a
/// search worker handed the same `--dataset` string computes the same cache key and finds the
/// tensors its parent already decoded.
public struct ImageFolderOptions: Sendable, Equatable {
    public var directory: String
    /// Output size; nil keeps the images' own size (which must then be the same for all).
    public var height: Int?
    public var width: Int?
    /// 1 or 3; nil = 3 when any image is in colour, else 1.
    public var channels: Int?
    public var resize: ResizeMethod
    /// Where decoded tensors are cached; nil = `defaultCacheDirectory()`.
    public var cacheDirectory: String?
    /// Leave undecodable images out (listed in a warning) instead of failing.
    public var skipBadImages: Bool

    public init(directory: String, height: Int? = nil, width: Int? = nil, channels: Int? = nil,
                resize: ResizeMethod = .area, cacheDirectory: String? = nil, skipBadImages: Bool = false) {
        self.directory = directory; self.height = height; self.width = width; self.channels = channels
        self.resize = resize; self.cacheDirectory = cacheDirectory; self.skipBadImages = skipBadImages
    }

    public static let usage = "folder:DIR[,size=N|HxW][,channels=1|3][,resize=area|bilinear][,cache=DIR][,skip-bad-images]"

    /// `$TINYFORGE_CACHE_DIR`, else `$XDG_CACHE_HOME/tinyforge/folders`, else
    /// `~/.cache/tinyforge/folders`: a per-user place every worker process resolves alike.
    public static func defaultCacheDirectory(environment env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let d = env["TINYFORGE_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return (x as NSString).appendingPathComponent("tinyforge/folders") }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return (home as NSString).appendingPathComponent(".cache/tinyforge/folders")
    }

    /// Parses the part after `folder:`; `fail` builds the error naming the bad item.
    static func parse(_ arg: String, fail: (String) -> DataError) throws -> ImageFolderOptions {
        let items = arg.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let dir = items.first, !dir.isEmpty else {
            throw fail("'folder' needs a directory: \(usage)")
        }
        var o = ImageFolderOptions(directory: dir)
        for item in items.dropFirst() where !item.isEmpty {
            if item == "skip-bad-images" { o.skipBadImages = true; continue }
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw fail("folder option '\(item)' is not key=value (\(usage))") }
            switch kv[0] {
            case "size":
                let dims = kv[1].lowercased().split(separator: "x").map { Int($0) }
                guard (dims.count == 1 || dims.count == 2), dims.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 4096 }) else {
                    throw fail("folder option size=\(kv[1]) must be N or HxW with sides in 1...4096, e.g. size=32 or size=96x128")
                }
                o.height = dims[0]!; o.width = dims.last!!
            case "channels":
                guard let c = Int(kv[1]), c == 1 || c == 3 else { throw fail("folder option channels=\(kv[1]) must be 1 (grey) or 3 (RGB)") }
                o.channels = c
            case "resize":
                guard let m = ResizeMethod(rawValue: kv[1]) else { throw fail("folder option resize=\(kv[1]) must be area or bilinear") }
                o.resize = m
            case "cache":
                guard !kv[1].isEmpty else { throw fail("folder option cache= needs a directory") }
                o.cacheDirectory = kv[1]
            default:
                throw fail("unknown folder option '\(kv[0])' (size, channels, resize, cache, skip-bad-images)")
            }
        }
        return o
    }

    /// Canonical form after `folder:` (parses back to the same value).
    public var argument: String {
        var parts = [directory]
        if let h = height, let w = width { parts.append(h == w ? "size=\(h)" : "size=\(h)x\(w)") }
        if let c = channels { parts.append("channels=\(c)") }
        if resize != .area { parts.append("resize=\(resize.rawValue)") }
        if let c = cacheDirectory { parts.append("cache=\(c)") }
        if skipBadImages { parts.append("skip-bad-images") }
        return parts.joined(separator: ",")
    }
}
