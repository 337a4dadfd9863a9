import TinyForgeSpec

/// How the validation split is carved out of the training set.
public enum SplitStrategy: String, Sendable, Codable, CaseIterable {
    /// Per class: shuffle that class's indices and take `round(fraction * classSize)` of them,
    /// so every class keeps its share (the default; val accuracy is then less noisy).
    case stratified
    /// Shuffle all indices and take the first `round(fraction * N)`.
    case shuffle
}

/// Train / validation / test splits for one experiment.
///
/// Search and model selection must only ever look at `train` and `val`. The test set is
/// sealed: it is not a property, only `finalTestSet()` hands it out, and that call belongs
/// in the code that writes the final report of an already chosen model — never in a search
/// loop, a early-stopping rule or a hyper-parameter choice (the published system selected on
/// test accuracy; this type makes that mistake visible in code review).
public struct DatasetSplits: Sendable {
    public let train: Dataset
    public let val: Dataset
    private let sealedTest: Dataset?
    /// Which strategy and seed produced `val`, recorded for run reports.
    public let strategy: SplitStrategy
    public let seed: UInt64
    /// Row of each `train` / `val` image in the full training set (per-sample files such as
    /// teacher logits are indexed by it).
    public let trainIndices: [Int]
    public let valIndices: [Int]

    public init(train: Dataset, val: Dataset, test: Dataset?, strategy: SplitStrategy, seed: UInt64,
                trainIndices: [Int]? = nil, valIndices: [Int]? = nil) {
        self.trainIndices = trainIndices ?? Array(0..<train.count)
        self.valIndices = valIndices ?? Array(0..<val.count)
        self.train = train
        self.val = val
        self.sealedTest = test
        self.strategy = strategy
        self.seed = seed
    }

    public var hasTestSet: Bool { sealedTest != nil }
    /// Bytes the three splits hold (pixels and labels), for memory estimates.
    public var memoryBytes: Int { train.memoryBytes + val.memoryBytes + (sealedTest?.memoryBytes ?? 0) }
    public var classCount: Int { train.classCount }
    public var classNames: [String]? { train.classNames }

    /// The held-out test set, for the final evaluation of an already selected model only.
    /// Throws `DataError.noTestSet` when the source had none (e.g. one `.npy` pair).
    public func finalTestSet() throws -> Dataset {
        guard let t = sealedTest else {
            throw DataError.noTestSet(
                source: train.name,
                hint: "Give test files too (npy:train_x.npy,train_y.npy,test_x.npy,test_y.npy or idx:...) to report test accuracy.")
        }
        return t
    }
}

public enum Splitter {
    /// Fisher–Yates with our own generator. We do not use `Array.shuffle(using:)` because the
    /// standard library does not promise its algorithm, and splits must match across machines.
    public static func shuffle<T>(_ a: inout [T], _ rng: inout SeededGenerator) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
    }

    /// Chooses `fraction` of the indices `0..<labels.count`, per class or globally; returns the
    /// chosen and the remaining indices, both in ascending order. Deterministic in `seed`.
    public static func partition(labels: [Int32], classCount: Int, fraction: Double, seed: UInt64,
                                 strategy: SplitStrategy) -> (chosen: [Int], rest: [Int]) {
        var rng = SeededGenerator(seed: seed, stream: 0x5B17)
        var chosen = [Int]()
        switch strategy {
        case .shuffle:
            var all = Array(0..<labels.count)
            shuffle(&all, &rng)
            chosen = Array(all.prefix(Int((fraction * Double(labels.count)).rounded())))
        case .stratified:
            var byClass = [[Int]](repeating: [], count: classCount)
            for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
            let quota = stratifiedQuotas(classSizes: byClass.map(\.count), fraction: fraction)
            for (c, var members) in byClass.enumerated() {
                shuffle(&members, &rng)
                chosen += members.prefix(quota[c])
            }
        }
        chosen.sort()
        var isChosen = [Bool](repeating: false, count: labels.count)
        for i in chosen { isChosen[i] = true }
        let rest = (0..<labels.count).filter { !isChosen[$0] }
        return (chosen, rest)
    }

    /// Per-class counts for a stratified split: ⌊fraction·n_c⌋ each, then the remaining
    /// round(fraction·N) − Σ⌊…⌋ samples go one each to the classes with the largest fractional
    /// parts (ties: lower class index). Rounding each class on its own would lose the whole
    /// split when classes are small (100 classes × 3 images at 10 % → 0 per class), and
    /// overshoot or undershoot the requested size in general.
    public static func stratifiedQuotas(classSizes: [Int], fraction: Double) -> [Int] {
        let total = classSizes.reduce(0, +)
        var quota = classSizes.map { Int((fraction * Double($0)).rounded(.down)) }
        var left = Int((fraction * Double(total)).rounded()) - quota.reduce(0, +)
        let order = classSizes.indices.sorted { a, b in
            let ra = fraction * Double(classSizes[a]) - Double(quota[a])
            let rb = fraction * Double(classSizes[b]) - Double(quota[b])
            return ra != rb ? ra > rb : a < b
        }
        for c in order where left > 0 && quota[c] < classSizes[c] { quota[c] += 1; left -= 1 }
        return quota
    }

    /// Carves a validation set of `valFraction` (in [0, 1)) out of `train`.
    public static func split(train full: Dataset, test: Dataset?, valFraction: Double, seed: UInt64,
                             strategy: SplitStrategy = .stratified) throws -> DatasetSplits {
        guard valFraction >= 0 && valFraction < 1 else {
            throw DataError.invalidOption(option: "valFraction", reason: "\(valFraction) is outside [0, 1)")
        }
        let (val, rest) = partition(labels: full.labels, classCount: full.classCount,
                                    fraction: valFraction, seed: seed, strategy: strategy)
        guard !rest.isEmpty else {
            throw DataError.invalidOption(option: "valFraction", reason: "\(valFraction) leaves no training samples out of \(full.count)")
        }
        let base = full.name.hasSuffix("/train") ? String(full.name.dropLast(6)) : full.name
        return DatasetSplits(train: full.subset(rest, name: base + "/train"),
                             val: full.subset(val, name: base + "/val"),
                             test: test, strategy: strategy, seed: seed, trainIndices: rest, valIndices: val)
    }
}
