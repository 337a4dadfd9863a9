import Foundation
import TinyForgeData
import TinyForgeSpec

/// Which training split a per-image file (cached teacher logits) belongs to. Logits are one row
/// per training-split image in split order, so a cache made on another dataset, split seed or
/// validation fraction would silently pair images with another image's soft targets — and a
/// teacher trained on the student's validation images would leak their labels into it.
/// `fingerprint` (SHA-256 of the split's labels and pixels, in order) is the authority; the
/// other fields say in words what the split was, for error messages.
public struct SplitIdentity: Codable, Equatable, Sendable, CustomStringConvertible {
    public var dataset: String
    public var valFraction: Double
    public var splitSeed: UInt64
    public var trainCount: Int
    public var classes: Int
    public var fingerprint: String

    public init(dataset: String, valFraction: Double, splitSeed: UInt64, trainCount: Int, classes: Int, fingerprint: String) {
        self.dataset = dataset; self.valFraction = valFraction; self.splitSeed = splitSeed
        self.trainCount = trainCount; self.classes = classes; self.fingerprint = fingerprint
    }

    /// The identity of `splits.train`, loaded from `dataset` with `valFraction`.
    public init(splits: DatasetSplits, dataset: String, valFraction: Double) {
        self.init(dataset: dataset, valFraction: valFraction, splitSeed: splits.seed, trainCount: splits.train.count,
                  classes: splits.classCount, fingerprint: Self.fingerprint(splits.train))
    }

    /// SHA-256 of the shape, labels and pixels of `data` in order (hex). Any changed, added,
    /// dropped or reordered image changes it.
    public static func fingerprint(_ data: Dataset) -> String {
        var bytes = Array("\(data.count)x\(data.height)x\(data.width)x\(data.channels)/\(data.classCount);".utf8)
        bytes.reserveCapacity(bytes.count + data.labels.count * 4 + data.pixels.count * 4)
        for l in data.labels { withUnsafeBytes(of: l.littleEndian) { bytes.append(contentsOf: $0) } }
        switch data.pixels {
        case .uint8(let p): bytes.append(contentsOf: p)
        case .float32(let p): for v in p { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        return TinyForgeSpec.SHA256.digest(bytes).map { String(format: "%02x", $0) }.joined()
    }

    public var description: String {
        "\(dataset), val fraction \(valFraction), split seed \(splitSeed): \(trainCount) training images, \(classes) classes, fingerprint \(fingerprint.prefix(16))"
    }

    enum CodingKeys: String, CodingKey {
        case dataset, valFraction = "val_fraction", splitSeed = "split_seed", trainCount = "train_count", classes, fingerprint
    }
}
