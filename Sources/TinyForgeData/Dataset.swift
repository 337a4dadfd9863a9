/// Pixel values of all images of a dataset, stored `(N, H, W, C)` contiguous (NHWC, C order).
///
/// Bytes are kept as bytes: Fashion-MNIST train is 47 MB as `UInt8` and would be 188 MB as
/// `Float`. Conversion to `Float` happens per batch, in the batch iterator's reusable buffer.
public enum PixelStorage: Sendable, Equatable {
    /// 0...255 per value; read as `value / 255` so the network sees [0, 1].
    case uint8([UInt8])
    /// Used as stored (no rescaling): give [0, 1] values if you want the same normalisation
    /// statistics as for byte images.
    case float32([Float])

    public var count: Int {
        switch self {
        case .uint8(let a): return a.count
        case .float32(let a): return a.count
        }
    }
}

/// An in-memory labelled image dataset: images `(N, H, W, C)`, labels `(N)` in `0..<classCount`.
///
/// A value type: subsets and splits are new values; nothing is shared or mutated behind the
/// caller's back. The initialiser checks the invariants so later code can index without checks.
public struct Dataset: Sendable, Equatable {
    /// Where it came from (file or generator), used in messages and reports.
    public var name: String
    public let height: Int
    public let width: Int
    public let channels: Int
    /// `(N, H, W, C)`
    public let pixels: PixelStorage
    /// `(N)`, each in `0..<classCount`
    public let labels: [Int32]
    public let classCount: Int
    /// `classCount` names when the format ships them (Fashion-MNIST, CIFAR), else nil.
    public let classNames: [String]?

    public var count: Int { labels.count }
    /// Bytes of pixels and labels (loaded data already fits in memory, so this cannot overflow).
    public var memoryBytes: Int {
        let px: Int
        switch pixels {
        case .uint8(let a): px = a.count
        case .float32(let a): px = a.count * 4
        }
        return px + labels.count * 4
    }
    /// Values per image, `H * W * C`.
    public var sampleSize: Int { height * width * channels }
    /// Factor mapping a stored value to the [0, 1] range the pipeline works in.
    public var pixelScale: Float {
        if case .uint8 = pixels { return 1.0 / 255.0 }
        return 1
    }

    /// Checks that the pixel count is `N*H*W*C`, every label is in `0..<classCount` and the
    /// class names (if any) number `classCount`; throws `DataError.inconsistent` naming `name`.
    public init(name: String, height: Int, width: Int, channels: Int, pixels: PixelStorage,
                labels: [Int32], classCount: Int, classNames: [String]? = nil) throws {
        guard height > 0, width > 0, channels > 0 else {
            throw DataError.inconsistent(file: name, reason: "image shape \(height)x\(width)x\(channels) has a zero or negative dimension")
        }
        guard classCount > 0 else {
            throw DataError.inconsistent(file: name, reason: "class count must be positive, got \(classCount)")
        }
        let expected = labels.count * height * width * channels
        guard pixels.count == expected else {
            throw DataError.inconsistent(
                file: name,
                reason: "\(labels.count) labels need \(labels.count)x\(height)x\(width)x\(channels) = \(expected) pixel values, found \(pixels.count)")
        }
        if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw DataError.inconsistent(
                file: name, reason: "label \(labels[i]) at index \(i) is outside 0..<\(classCount)")
        }
        if let names = classNames, names.count != classCount {
            throw DataError.inconsistent(
                file: name, reason: "\(names.count) class names for \(classCount) classes")
        }
        self.init(unchecked: name, height: height, width: width, channels: channels, pixels: pixels, labels: labels,
                  classCount: classCount, classNames: classNames)
    }

    /// Internal initialiser for values already known to be consistent (subsets of a checked set).
    init(unchecked name: String, height: Int, width: Int, channels: Int, pixels: PixelStorage,
         labels: [Int32], classCount: Int, classNames: [String]?) {
        self.name = name
        self.height = height
        self.width = width
        self.channels = channels
        self.pixels = pixels
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
    }

    /// The samples at `indices`, in that order (indices must be in `0..<count`).
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        let s = sampleSize
        let newPixels: PixelStorage
        switch pixels {
        case .uint8(let src): newPixels = .uint8(Self.gather(src, indices, s))
        case .float32(let src): newPixels = .float32(Self.gather(src, indices, s))
        }
        return Dataset(unchecked: name ?? self.name, height: height, width: width, channels: channels,
                       pixels: newPixels, labels: indices.map { labels[$0] },
                       classCount: classCount, classNames: classNames)
    }

    private static func gather<T>(_ src: [T], _ indices: [Int], _ s: Int) -> [T] {
        var out = [T]()
        out.reserveCapacity(indices.count * s)
        src.withUnsafeBufferPointer { p in
            for i in indices {
                precondition(i >= 0 && i * s < p.count, "subset index \(i) out of range")
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[(i * s)..<(i * s + s)]))
            }
        }
        return out
    }

    /// This dataset followed by `other` (same geometry, class count and storage kind).
    public func appending(_ other: Dataset) throws -> Dataset {
        guard other.height == height, other.width == width, other.channels == channels, other.classCount == classCount else {
            throw DataError.inconsistent(file: other.name, reason: "cannot append \(other.height)x\(other.width)x\(other.channels) images of \(other.classCount) classes to \(name)'s \(height)x\(width)x\(channels) of \(classCount)")
        }
        let merged: PixelStorage
        switch (pixels, other.pixels) {
        case let (.uint8(a), .uint8(b)): merged = .uint8(a + b)
        case let (.float32(a), .float32(b)): merged = .float32(a + b)
        default: throw DataError.inconsistent(file: other.name, reason: "cannot append byte and float images")
        }
        return try Dataset(name: name, height: height, width: width, channels: channels, pixels: merged,
                           labels: labels + other.labels, classCount: classCount, classNames: classNames)
    }

    /// Number of samples per class, `(classCount)`.
    public func labelHistogram() -> [Int] {
        var h = [Int](repeating: 0, count: classCount)
        for l in labels { h[Int(l)] += 1 }
        return h
    }

    /// Image `i` as Float in [0, 1] (bytes) or as stored (floats), `(H, W, C)`.
    public func floatImage(at i: Int) -> [Float] {
        let s = sampleSize
        switch pixels {
        case .uint8(let a): return a[(i * s)..<(i * s + s)].map { Float($0) * (1.0 / 255.0) }
        case .float32(let a): return Array(a[(i * s)..<(i * s + s)])
        }
    }
}
