import TinyForgeSpec

/// Settings of the generated dataset (`synthetic:classes=10,size=28,n=5000` on the CLI).
public struct SyntheticConfig: Sendable, Equatable, Codable {
    /// 2...30: ten shape families times three size bands.
    public var classes: Int = 10
    /// Square image side, 8...512.
    public var size: Int = 28
    /// 1 (grey) or 3 (each sample gets a random foreground colour; colour carries no label).
    public var channels: Int = 1
    public var trainCount: Int = 5000
    public var testCount: Int = 1000
    /// Standard deviation of the additive Gaussian pixel noise, in [0, 1] units.
    public var noise: Float = 0.15
    public var seed: UInt64 = 1

    public init(classes: Int = 10, size: Int = 28, channels: Int = 1, trainCount: Int = 5000,
                testCount: Int = 1000, noise: Float = 0.15, seed: UInt64 = 1) {
        self.classes = classes
        self.size = size
        self.channels = channels
        self.trainCount = trainCount
        self.testCount = testCount
        self.noise = noise
        self.seed = seed
    }
}

/// A deterministic, seeded classification dataset of noisy geometric shapes, for tests and
/// demos where no real data is on disk.
///
/// Class `k` draws shape family `k % 10` (disc, ring, square outline, filled square, plus,
/// cross, horizontal stripes, vertical stripes, triangle, checkerboard) at size band `k / 10`
/// (large, medium, small). Each sample jitters position (±1/8 of the side), size within its
/// band, stroke width, fore/background intensity and adds Gaussian noise: a nearest-class-mean
/// classifier on raw pixels reaches only ~71% held-out (10 classes, 16 px), leaving headroom
/// that a small translation-invariant CNN can take. Same config → same bytes on every machine.
public enum SyntheticData {
    public static let families = ["disc", "ring", "square", "block", "plus", "cross",
                                  "hstripes", "vstripes", "triangle", "checker"]
    static let bands: [(lo: Float, hi: Float, name: String)] = [
        (0.62, 0.82, ""), (0.40, 0.52, "-medium"), (0.24, 0.32, "-small"),
    ]

    public static func classNames(_ classes: Int) -> [String] {
        (0..<classes).map { families[$0 % families.count] + bands[$0 / families.count].name }
    }

    public static func generate(_ config: SyntheticConfig) throws -> (train: Dataset, test: Dataset) {
        func bad(_ option: String, _ why: String) -> DataError { .invalidOption(option: option, reason: why) }
        guard (2...(families.count * bands.count)).contains(config.classes) else {
            throw bad("classes", "\(config.classes) is outside 2...\(families.count * bands.count)")
        }
        guard (8...512).contains(config.size) else { throw bad("size", "\(config.size) is outside 8...512") }
        guard config.channels == 1 || config.channels == 3 else {
            throw bad("channels", "\(config.channels); use 1 or 3")
        }
        guard config.trainCount >= config.classes else {
            throw bad("n", "\(config.trainCount) training samples for \(config.classes) classes; need at least one per class")
        }
        guard config.testCount >= 0 else { throw bad("test", "must not be negative") }
        guard config.noise >= 0 && config.noise <= 1 else { throw bad("noise", "\(config.noise) is outside [0, 1]") }
        let names = classNames(config.classes)
        let train = try make(config, count: config.trainCount, stream: 0, names: names, split: "train")
        let test = try make(config, count: config.testCount, stream: 1, names: names, split: "test")
        return (train, test)
    }

    static func make(_ c: SyntheticConfig, count: Int, stream: UInt64, names: [String], split: String) throws -> Dataset {
        var rng = SeededGenerator(seed: c.seed, stream: stream)
        // Balanced labels in a seeded random order.
        var labels = (0..<count).map { Int32($0 % c.classes) }
        for i in stride(from: count - 1, to: 0, by: -1) {
            labels.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        let s = c.size
        var pixels = [UInt8](repeating: 0, count: count * s * s * c.channels)
        pixels.withUnsafeMutableBufferPointer { px in
            for n in 0..<count {
                render(label: Int(labels[n]), config: c, rng: &rng,
                       into: px.baseAddress! + n * s * s * c.channels)
            }
        }
        return try Dataset(name: "synthetic/\(split)", height: s, width: s, channels: c.channels,
                           pixels: .uint8(pixels), labels: labels, classCount: c.classes, classNames: names)
    }

    /// Renders one sample; `out` is (S, S, C).
    static func render(label: Int, config c: SyntheticConfig, rng: inout SeededGenerator,
                       into out: UnsafeMutablePointer<UInt8>) {
        let s = Float(c.size)
        let family = label % families.count
        let band = bands[label / families.count]
        let radius = (band.lo + (band.hi - band.lo) * rng.nextFloat()) * s / 2
        let cx = s / 2 + (rng.nextFloat() - 0.5) * s / 4
        let cy = s / 2 + (rng.nextFloat() - 0.5) * s / 4
        let stroke = 0.16 + 0.10 * rng.nextFloat()          // in units of the radius
        let fg = 0.6 + 0.4 * rng.nextFloat()
        let bgLevel = 0.25 * rng.nextFloat()
        var colour: [Float] = [1, 1, 1]
        if c.channels == 3 { colour = (0..<3).map { _ in 0.4 + 0.6 * rng.nextFloat() } }
        for y in 0..<c.size {
            for x in 0..<c.size {
                let u = (Float(x) + 0.5 - cx) / radius
                let v = (Float(y) + 0.5 - cy) / radius
                let on = inside(family: family, u: u, v: v, stroke: stroke)
                for ch in 0..<c.channels {
                    var value = on ? fg * colour[ch] : bgLevel
                    value += c.noise * rng.nextGaussian()
                    value = min(max(value, 0), 1)
                    out[(y * c.size + x) * c.channels + ch] = UInt8((value * 255).rounded())
                }
            }
        }
    }

    /// Shape membership in coordinates normalised by the radius (shape spans [-1, 1]).
    static func inside(family: Int, u: Float, v: Float, stroke t: Float) -> Bool {
        let au = abs(u), av = abs(v)
        let box = max(au, av)
        switch family {
        case 0: return u * u + v * v <= 1
        case 1: return abs((u * u + v * v).squareRoot() - 0.8) <= t
        case 2: return box <= 1 && box >= 1 - 1.5 * t
        case 3: return box <= 0.75
        case 4: return (au <= t && av <= 1) || (av <= t && au <= 1)
        case 5: return box <= 0.9 && (abs(u - v) <= 1.4 * t || abs(u + v) <= 1.4 * t)
        case 6: return box <= 1 && Int(((v + 1) * 2.5).rounded(.down)) % 2 == 0
        case 7: return box <= 1 && Int(((u + 1) * 2.5).rounded(.down)) % 2 == 0
        case 8: return v <= 0.9 && v >= -0.9 && au <= (v + 0.9) * 0.6
        default: return box <= 1 && (Int(((u + 1) * 2).rounded(.down)) + Int(((v + 1) * 2).rounded(.down))) % 2 == 0
        }
    }
}
