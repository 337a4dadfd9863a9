import Foundation

/// `folder:` datasets: PNG/JPEG files, one sub-folder per class, decoded with libpng and
/// libjpeg-turbo on every core, resized and converted to the requested geometry, and cached.
public enum ImageFolder {
    public struct Loaded: Sendable {
        public var train: Dataset
        /// Present when the folder has a `val/` tree (then no validation split is carved).
        public var val: Dataset?
        public var test: Dataset?
        /// Images left out under `skipBadImages`, with the reason.
        public var skipped: [ImageFailure]
        /// The cache file read or written; nil when the cache directory was not writable.
        public var cacheFile: String?
        public var fromCache: Bool
        public var resize: ResizeMethod
    }

    /// Loads `options.directory`, from the cache when its fingerprint matches. A per-key lock
    /// file makes concurrent workers wait for the first decoder instead of decoding too.
    public static func load(_ options: ImageFolderOptions, threads: Int? = nil) throws -> Loaded {
        let layout = try ImageFolderScanner.scan(options.directory)
        let key = ImageFolderCache.key(layout: layout, options: options)
        let dir = options.cacheDirectory ?? ImageFolderOptions.defaultCacheDirectory()
        let file = (dir as NSString).appendingPathComponent(key + ".tfimg")
        if let c = try ImageFolderCache.read(file) { return try assemble(c, options: options, cacheFile: file, fromCache: true) }
        let lock = lockFile(directory: dir, key: key)
        defer { if let fd = lock { flock(fd, LOCK_UN); close(fd) } }
        if lock != nil, let c = try ImageFolderCache.read(file) {
            return try assemble(c, options: options, cacheFile: file, fromCache: true)
        }
        let contents = try decode(layout, options: options, threads: threads ?? defaultThreads)
        var written: String? = file
        do { try ImageFolderCache.write(contents, to: file, source: options.directory) } catch {
            written = nil
            FileHandle.standardError.write(Data("warning: cannot write the image cache \(file) (\(error)); the next load decodes again\n".utf8))
        }
        return try assemble(contents, options: options, cacheFile: written, fromCache: false)
    }

    /// Both cores of the target machine (all available ones, at most 16).
    public static var defaultThreads: Int { max(1, min(16, ProcessInfo.processInfo.activeProcessorCount)) }

    /// An exclusive `flock` on `<key>.lock` in the cache directory; nil if it cannot be taken.
    static func lockFile(directory: String, key: String) -> Int32? {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open((directory as NSString).appendingPathComponent(key + ".lock"), O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX) == 0 else { close(fd); return nil }
        return fd
    }

    /// Decodes every image of `layout` on `threads` threads, resizing inside the worker.
    static func decode(_ layout: ImageFolderLayout, options o: ImageFolderOptions, threads: Int) throws -> ImageFolderCache.Contents {
        let all = layout.splits.flatMap(\.entries)
        let results = decodeAll(all.map(\.path), height: o.height, width: o.width, method: o.resize, threads: threads)
        var failures = [ImageFailure]()
        var good = [DecodedImage?](repeating: nil, count: all.count)
        for (i, r) in results.enumerated() {
            switch r {
            case .success(let img): good[i] = img
            case .failure(let f): failures.append(f)
            }
        }
        if !failures.isEmpty && !o.skipBadImages { throw DataError.badImages(folder: o.directory, failures: failures) }
        let images = good.compactMap { $0 }
        guard let first = images.first else {
            throw DataError.imageFolder(path: o.directory, reason: "none of the \(all.count) images could be decoded")
        }
        if o.height == nil, let odd = good.firstIndex(where: { $0 != nil && ($0!.height != first.height || $0!.width != first.width) }) {
            let a = all[good.firstIndex(where: { $0 != nil })!].relative
            throw DataError.imageFolder(
                path: o.directory,
                reason: "images have different sizes (\(a) is \(first.width)x\(first.height), \(all[odd].relative) is \(good[odd]!.width)x\(good[odd]!.height)); give one size, e.g. folder:\(o.directory),size=\(first.height)x\(first.width)")
        }
        let channels = o.channels ?? (images.contains { $0.channels == 3 } ? 3 : 1)
        var splits = [(name: String, labels: [Int32], pixels: [UInt8])]()
        var index = 0
        for s in layout.splits {
            var labels = [Int32](), pixels = [UInt8]()
            for e in s.entries {
                defer { index += 1 }
                guard let img = good[index] else { continue }
                labels.append(e.label)
                pixels += ImageResize.convert(img, channels: channels).pixels
            }
            splits.append((s.name, labels, pixels))
        }
        return .init(classes: layout.classes, height: first.height, width: first.width, channels: channels,
                     resize: o.resize, splits: splits, skipped: failures)
    }

    /// Reads, decodes and (when a size is given) resizes each file; thread `t` takes files
    /// t, t+T, t+2T, … (images of one folder cost about the same).
    public static func decodeAll(_ paths: [String], height: Int?, width: Int?, method: ResizeMethod,
                                 threads: Int) -> [Result<DecodedImage, ImageFailure>] {
        var out = [Result<DecodedImage, ImageFailure>?](repeating: nil, count: paths.count)
        let t = max(1, min(threads, paths.count))
        out.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            DispatchQueue.concurrentPerform(iterations: t) { worker in
                for i in stride(from: worker, to: paths.count, by: t) {
                    var r = ImageCodec.decodeFile(paths[i])
                    if let h = height, let w = width, case .success(let img) = r {
                        r = .success(ImageResize.resize(img, height: h, width: w, method: method))
                    }
                    (base + i).initialize(to: r)
                }
            }
        }
        return out.map { $0! }
    }

    /// Datasets from cached or freshly decoded contents; checks that no class lost all of its
    /// training images to skipping.
    static func assemble(_ c: ImageFolderCache.Contents, options o: ImageFolderOptions, cacheFile: String?,
                         fromCache: Bool) throws -> Loaded {
        let base = (o.directory as NSString).lastPathComponent
        var sets = [String: Dataset]()
        for s in c.splits {
            sets[s.name] = try Dataset(name: "\(base)/\(s.name)", height: c.height, width: c.width, channels: c.channels,
                                       pixels: .uint8(s.pixels), labels: s.labels, classCount: c.classes.count, classNames: c.classes)
        }
        guard let train = sets["train"] else { throw DataError.imageFolder(path: o.directory, reason: "no training images") }
        if let empty = train.labelHistogram().firstIndex(of: 0) {
            throw DataError.imageFolder(path: o.directory, reason: "class '\(c.classes[empty])' has no decodable training image left after skipping bad images")
        }
        if !c.skipped.isEmpty {
            let list = c.skipped.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            FileHandle.standardError.write(Data("warning: skipped \(c.skipped.count) unreadable image(s) of \(o.directory) (skip-bad-images):\n\(list)\(c.skipped.count > 20 ? "\n  ..." : "")\n".utf8))
        }
        return Loaded(train: train, val: sets["val"], test: sets["test"], skipped: c.skipped, cacheFile: cacheFile,
                      fromCache: fromCache, resize: c.resize)
    }
}
