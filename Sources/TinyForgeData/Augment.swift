import TinyForgeSpec

/// Per-channel normalisation `(x - mean[c]) / std[c]`, with x in [0, 1] units.
public struct Normalization: Sendable, Equatable, Codable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Mean and population standard deviation per channel over every pixel of `dataset`
    /// (use the *train* split, never val or test). With `channels` = 3 for a 1-channel
    /// dataset the grey statistics are repeated, matching channel replication.
    public static func compute(from dataset: Dataset, channels: Int? = nil) -> Normalization {
        let c = dataset.channels
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        func accumulate<T>(_ a: [T], _ value: (T) -> Double) {
            a.withUnsafeBufferPointer { p in
                var i = 0
                while i < p.count {
                    for ch in 0..<c {
                        let v = value(p[i + ch])
                        sum[ch] += v
                        sq[ch] += v * v
                    }
                    i += c
                }
            }
        }
        switch dataset.pixels {
        case .uint8(let a): accumulate(a) { Double($0) }
        case .float32(let a): accumulate(a) { Double($0) }
        }
        let n = Double(max(1, dataset.count * dataset.height * dataset.width))
        let scale = Double(dataset.pixelScale)
        var mean = [Float](), std = [Float]()
        for ch in 0..<c {
            let m = sum[ch] / n
            let variance = max(0, sq[ch] / n - m * m)
            mean.append(Float(m * scale))
            std.append(Float(max(variance.squareRoot() * scale, 1e-6)))
        }
        if let target = channels, target != c, c == 1 {
            return Normalization(mean: Array(repeating: mean[0], count: target), std: Array(repeating: std[0], count: target))
        }
        return Normalization(mean: mean, std: std)
    }
}

/// Training-time augmentation. All of it is off by default; `cifar()` and `digits()` give the
/// usual recipes. Flips are wrong for digits and text (a mirrored 2 is not a 2), hence opt-in.
public struct AugmentConfig: Sendable, Equatable, Codable {
    /// Random crop of the (resized) image after zero-padding each side by this many pixels
    /// (torchvision `RandomCrop(size, padding=p)`); 0 = off.
    public var cropPadding: Int = 0
    /// Mirror left-right with probability 1/2.
    public var horizontalFlip: Bool = false
    /// Side of the square zeroed after normalisation (DeVries & Taylor cutout; the centre is
    /// uniform over the image and the square is clipped at the border); 0 = off.
    public var cutout: Int = 0

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, cutout: Int = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.cutout = cutout
    }

    public static let none = AugmentConfig()
    /// CIFAR recipe at output side `size` (32 → padding 4, cutout 16; scaled for upsampled inputs).
    public static func cifar(size: Int = 32) -> AugmentConfig {
        AugmentConfig(cropPadding: max(1, size / 8), horizontalFlip: true, cutout: size / 2)
    }
    /// Digits/clothes recipe: small shifts only, no flip.
    public static func digits(size: Int = 28) -> AugmentConfig {
        AugmentConfig(cropPadding: max(1, size / 14), horizontalFlip: false, cutout: 0)
    }

    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip && cutout == 0 }

    /// Draws the random choices for one image, always in the order dy, dx, flip, cutout
    /// centre (each only when enabled), so a seed gives the same augmentation everywhere.
    public func draw(height: Int, width: Int, rng: inout SeededGenerator) -> AugmentDraw {
        var d = AugmentDraw()
        if cropPadding > 0 {
            let span = UInt64(2 * cropPadding + 1)
            d.dy = Int(rng.next() % span) - cropPadding
            d.dx = Int(rng.next() % span) - cropPadding
        }
        if horizontalFlip { d.flip = rng.next() & 1 == 1 }
        if cutout > 0 {
            d.cutoutSize = cutout
            d.cutoutY = Int(rng.next() % UInt64(height))
            d.cutoutX = Int(rng.next() % UInt64(width))
        }
        return d
    }
}

/// The random choices made for one image (identity when default-constructed).
public struct AugmentDraw: Sendable, Equatable {
    /// Shift of the crop window relative to the unpadded image: output (y, x) reads (y+dy, x+dx).
    public var dy = 0, dx = 0
    public var flip = false
    /// Cutout square of side `cutoutSize` centred at (cutoutY, cutoutX); size 0 = none.
    public var cutoutSize = 0, cutoutY = 0, cutoutX = 0
    public init() {}

    /// Rows/columns zeroed by cutout: `[y0, y1) x [x0, x1)`, clipped to the image.
    public func cutoutBox(height: Int, width: Int) -> (y0: Int, y1: Int, x0: Int, x1: Int) {
        guard cutoutSize > 0 else { return (0, 0, 0, 0) }
        let half = cutoutSize / 2
        return (max(0, cutoutY - half), min(height, cutoutY - half + cutoutSize),
                max(0, cutoutX - half), min(width, cutoutX - half + cutoutSize))
    }
}

/// Plain one-image reference operations on (H, W, C) Float arrays. Each does one thing in the
/// most obvious way; the fused `Preprocessor` path is tested against their composition.
public enum ImageOps {
    /// (H, W, 1) → (H, W, C) by repeating the grey value.
    public static func replicateChannels(_ x: [Float], to c: Int) -> [Float] {
        x.flatMap { Array(repeating: $0, count: c) }
    }

    /// Zero-pad by `p` on each side, then take the HxW window at offset (p+dy, p+dx).
    public static func padCrop(_ x: [Float], height h: Int, width w: Int, channels c: Int, padding p: Int,
                               dy: Int, dx: Int) -> [Float] {
        let ph = h + 2 * p, pw = w + 2 * p
        var padded = [Float](repeating: 0, count: ph * pw * c)
        for y in 0..<h { for xx in 0..<w { for ch in 0..<c { padded[((y + p) * pw + xx + p) * c + ch] = x[(y * w + xx) * c + ch] } } }
        var out = [Float](repeating: 0, count: h * w * c)
        for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
            out[(y * w + xx) * c + ch] = padded[((y + p + dy) * pw + xx + p + dx) * c + ch]
        } } }
        return out
    }

    public static func flipHorizontal(_ x: [Float], height h: Int, width w: Int, channels c: Int) -> [Float] {
        var out = x
        for y in 0..<h { for xx in 0..<w { for ch in 0..<c { out[(y * w + xx) * c + ch] = x[(y * w + w - 1 - xx) * c + ch] } } }
        return out
    }

    public static func normalize(_ x: [Float], channels c: Int, _ n: Normalization) -> [Float] {
        x.enumerated().map { i, v in (v - n.mean[i % c]) / n.std[i % c] }
    }

    public static func cutout(_ x: [Float], height h: Int, width w: Int, channels c: Int, draw: AugmentDraw) -> [Float] {
        var out = x
        let b = draw.cutoutBox(height: h, width: w)
        for y in b.y0..<max(b.y0, b.y1) { for xx in b.x0..<max(b.x0, b.x1) { for ch in 0..<c { out[(y * w + xx) * c + ch] = 0 } } }
        return out
    }
}
