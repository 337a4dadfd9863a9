/// A hierarchical search space as data: how many stages, which input resolutions, and for
/// every stage the allowed value of every field. Presets live in `SearchSpacePresets.swift`;
/// users write their own as JSON (see docs/ARCHITECTURE.md).
public struct SearchSpace: Equatable, Sendable {
    public var name: String
    public var resolutions: [Int]
    public var inputChannels: Int
    public var numStages: [Int]
    /// Choices shared by every stage unless `stageOverrides[i]` replaces some of them.
    public var stageChoices: StageChoices
    public var stageOverrides: [StageChoices.Override]
    /// nil = no stem; otherwise the stem's choices.
    public var stem: StemChoices?
    public var headConvChannels: [Int]
    /// Channel multipliers applied to `out_channels` choices (1.0 = as written).
    public var widthMultipliers: [Double]
    public var dropout: Double

    public init(name: String, resolutions: [Int], inputChannels: Int, numStages: [Int], stageChoices: StageChoices,
                stageOverrides: [StageChoices.Override] = [], stem: StemChoices? = nil, headConvChannels: [Int] = [0],
                widthMultipliers: [Double] = [1.0], dropout: Double = 0.2) {
        self.name = name; self.resolutions = resolutions; self.inputChannels = inputChannels
        self.numStages = numStages; self.stageChoices = stageChoices; self.stageOverrides = stageOverrides
        self.stem = stem; self.headConvChannels = headConvChannels; self.widthMultipliers = widthMultipliers
        self.dropout = dropout
    }

    /// The choices in force for stage `i`.
    public func choices(forStage i: Int) -> StageChoices {
        var c = stageChoices
        if i < stageOverrides.count { c.apply(stageOverrides[i]) }
        if widthMultipliers != [1.0] {
            c.outChannels = Array(Set(c.outChannels.flatMap { ch in widthMultipliers.map { SearchSpace.scale(ch, $0) } })).sorted()
        }
        return c
    }

    /// Channels × multiplier, rounded to the nearest multiple of 8 (4 for small widths), as
    /// MobileNet-style multipliers do; never below 4.
    static func scale(_ ch: Int, _ m: Double) -> Int {
        let raw = Double(ch) * m
        let q = raw < 32 ? 4.0 : 8.0
        return max(4, Int((raw / q).rounded()) * Int(q))
    }
}

public struct StageChoices: Equatable, Sendable {
    public var block: [BlockType]
    public var repeats: [Int]
    public var outChannels: [Int]
    public var kernel: [Int]
    public var stride: [Int]
    public var expansion: [Int]
    public var seRatio: [Double]
    public var activation: [Activation]
    public var skip: [SkipType]

    public init(block: [BlockType], repeats: [Int], outChannels: [Int], kernel: [Int], stride: [Int],
                expansion: [Int], seRatio: [Double], activation: [Activation], skip: [SkipType]) {
        self.block = block; self.repeats = repeats; self.outChannels = outChannels; self.kernel = kernel
        self.stride = stride; self.expansion = expansion; self.seRatio = seRatio; self.activation = activation
        self.skip = skip
    }

    /// Per-stage replacement of some fields (nil = keep the shared choice).
    public struct Override: Equatable, Sendable {
        public var block: [BlockType]?
        public var repeats: [Int]?
        public var outChannels: [Int]?
        public var kernel: [Int]?
        public var stride: [Int]?
        public var expansion: [Int]?
        public var seRatio: [Double]?
        public var activation: [Activation]?
        public var skip: [SkipType]?
        public init() {}
    }

    mutating func apply(_ o: Override) {
        if let v = o.block { block = v }
        if let v = o.repeats { repeats = v }
        if let v = o.outChannels { outChannels = v }
        if let v = o.kernel { kernel = v }
        if let v = o.stride { stride = v }
        if let v = o.expansion { expansion = v }
        if let v = o.seRatio { seRatio = v }
        if let v = o.activation { activation = v }
        if let v = o.skip { skip = v }
    }

    /// Number of choices per field, counting squeeze-excitation as on/off the way the paper
    /// counts its space (its ratio choices are not multiplied in).
    var publishedCount: Double {
        let se = Double((seRatio.contains(0) ? 1 : 0) + (seRatio.contains { $0 > 0 } ? 1 : 0))
        return Double(block.count * repeats.count * outChannels.count * kernel.count * stride.count
                      * expansion.count * activation.count * skip.count) * se
    }

    var combinationCount: Double {
        Double(block.count * repeats.count * outChannels.count * kernel.count * stride.count
               * expansion.count * activation.count * skip.count * seRatio.count)
    }

    /// Distinct stages: a dsconv/conv/basic stage ignores expansion, and a residual on a
    /// single stride-2 layer is no shortcut, so those encodings collapse.
    var distinctCount: Double {
        var total = 0.0
        for b in block {
            let e = (b == .mbconv || b == .fusedMBConv) ? Double(expansion.count) : 1
            let se = (b == .conv || b == .basic) ? Double(seRatio.contains(0) ? 1 : 0) : Double(seRatio.count)
            for r in repeats {
                for s in stride {
                    let skips: Double
                    if s == 2 && r == 1 && b != .basic {
                        let hasNone = skip.contains(.none) || skip.contains(.residual) || skip.contains(.residualSame)
                        skips = Double((hasNone ? 1 : 0) + (skip.contains(.residualFull) ? 1 : 0))
                    } else {
                        skips = Double(skip.count)
                    }
                    total += e * se * skips * Double(outChannels.count * kernel.count * activation.count)
                }
            }
        }
        return total
    }
}

public struct StemChoices: Equatable, Sendable {
    public var outChannels: [Int]
    public var kernel: [Int]
    public var stride: [Int]
    public var activation: [Activation]
    public init(outChannels: [Int], kernel: [Int], stride: [Int], activation: [Activation]) {
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.activation = activation
    }
    var count: Double { Double(outChannels.count * kernel.count * stride.count * activation.count) }
}

/// Sizes of a space, with the convention each one uses.
public struct SearchSpaceSize: Sendable {
    /// Product of per-field choice counts with SE counted on/off: the paper's convention
    /// (their Table I gives ≈1.5·10²¹).
    public var asPublished: Double
    /// Product of every field's choice count (SE ratios included).
    public var combinations: Double
    /// Encodings that build the same network removed within each stage (dsconv ignores
    /// expansion, a residual on one stride-2 layer is none). An upper bound on distinct networks:
    /// identical adjacent stages that could merge are still counted apart.
    public var distinct: Double
}

extension SearchSpace {
    public func size() -> SearchSpaceSize {
        var pub = 0.0, comb = 0.0, dist = 0.0
        let base = Double(resolutions.count) * (stem?.count ?? 1) * Double(headConvChannels.count)
        for n in numStages {
            var p = base, c = base, d = base
            for i in 0..<n {
                let ch = choices(forStage: i)
                p *= ch.publishedCount; c *= ch.combinationCount; d *= ch.distinctCount
            }
            pub += p; comb += c; dist += d
        }
        return SearchSpaceSize(asPublished: pub, combinations: comb, distinct: dist)
    }
}
