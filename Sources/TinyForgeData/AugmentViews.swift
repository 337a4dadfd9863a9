import TinyForgeSpec

/// A fixed set of K augmented views of every training image, for distillation against teacher
/// logits of the very pixels the student sees ("a good teacher is patient and consistent",
/// Beyer et al. 2022): the teacher's logits of view k of image i are computed once and cached,
/// and the student, each time it meets image i, trains on one of its K views with that row.
///
/// View k of image i (i = index into the dataset, not a shuffled position) is the fixed draw
/// `config.draw` from `SeededGenerator(seed: seed, stream: k << 32 | i)`, at the network input
/// geometry `height`×`width` (the geometry the preprocessor applies draws at). Nothing is stored:
/// a draw is a handful of generator steps, so any view is recomputed wherever it is needed.
public struct AugmentViews: Sendable, Equatable {
    /// Upper bound on K: the teacher's logits are K×N×C floats in memory and on disk.
    public static let maxCount = 64

    public let config: AugmentConfig
    public let count: Int
    public let seed: UInt64
    public let height: Int, width: Int

    /// - Throws: `DataError.invalidOption` for K outside 1...`maxCount` or an identity `config`
    ///   (every view would be the clean image: use clean teacher logits, K = 0, instead).
    public init(config: AugmentConfig, count: Int, seed: UInt64, height: Int, width: Int) throws {
        guard (1...Self.maxCount).contains(count) else {
            throw DataError.invalidOption(option: "views", reason: "\(count) augmented views; use 1...\(Self.maxCount) (0 = clean teacher logits, no views)")
        }
        guard !config.isIdentity else {
            throw DataError.invalidOption(option: "views", reason: "\(count) augmented views of an augmentation that is off (none); every view would be the clean image — use 0 views, or set the student's augmentation (e.g. crop=2,flip)")
        }
        guard height > 0, width > 0 else {
            throw DataError.invalidOption(option: "views", reason: "geometry \(height)x\(width) must be positive")
        }
        self.config = config; self.count = count; self.seed = seed; self.height = height; self.width = width
    }

    /// The fixed draw of view `k` of image `index`.
    @inline(__always)
    public func draw(view k: Int, image index: Int) -> AugmentDraw {
        var rng = SeededGenerator(seed: seed, stream: UInt64(k) << 32 | UInt64(index))
        return config.draw(height: height, width: width, rng: &rng)
    }
}

extension AugmentConfig: CustomStringConvertible {
    /// The `--augment` spelling: "none", or e.g. "crop=2,flip,cutout=8" (parts in this order).
    /// Cached teacher logits record it, so views of another augmentation never match.
    public var description: String {
        var parts: [String] = []
        if cropPadding > 0 { parts.append("crop=\(cropPadding)") }
        if horizontalFlip { parts.append("flip") }
        if cutout > 0 { parts.append("cutout=\(cutout)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ",")
    }
}
