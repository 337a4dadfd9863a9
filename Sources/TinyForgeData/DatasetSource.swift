import Foundation

/// Where a dataset comes from. Parse one from a CLI string with `DatasetSource.parse(_:)`.
public enum DatasetSource: Sendable, Equatable, CustomStringConvertible {
    case fashionMNIST(directory: String)
    case mnist(directory: String)
    /// IDX image/label files (plain or .gz); test files optional.
    case idx(images: String, labels: String, testImages: String? = nil, testLabels: String? = nil)
    case cifar10(directory: String)
    case cifar100(directory: String)
    /// `.npy` image/label files; test files optional.
    case npy(images: String, labels: String, testImages: String? = nil, testLabels: String? = nil)
    case synthetic(SyntheticConfig)
    /// PNG/JPEG files, one sub-folder per class (see `ImageFolder`).
    case folder(ImageFolderOptions)

    /// The accepted CLI forms, used in error messages and `--help` texts.
    public static let usage = """
        fashion-mnist[:DIR]            (default DIR \(FashionMNIST.defaultDirectory))
        mnist:DIR
        cifar10:DIR | cifar100:DIR     (binary version; DIR or its parent)
        idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]
        npy:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]
        synthetic[:classes=10,size=28,channels=1,n=5000,test=1000,noise=0.15,seed=1]
        \(ImageFolderOptions.usage)
        """

    /// Parses `kind[:argument]`. Throws `DataError.invalidOption` naming the bad part and
    /// listing the accepted forms.
    public static func parse(_ text: String) throws -> DatasetSource {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let kind = parts[0].lowercased()
        let arg = parts.count > 1 ? parts[1] : nil
        func fail(_ why: String) -> DataError {
            .invalidOption(option: text, reason: "\(why). Accepted forms:\n\(usage)")
        }
        func directory() throws -> String {
            guard let a = arg, !a.isEmpty else { throw fail("'\(kind)' needs a directory, e.g. \(kind):/data/\(kind)") }
            return a
        }
        func files() throws -> (String, String, String?, String?) {
            guard let a = arg, !a.isEmpty else { throw fail("'\(kind)' needs files: \(kind):train_images,train_labels[,test_images,test_labels]") }
            let f = a.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 2 || f.count == 4, !f.contains(where: \.isEmpty) else {
                throw fail("'\(kind)' takes 2 or 4 comma-separated files, got \(f.count)")
            }
            return (f[0], f[1], f.count == 4 ? f[2] : nil, f.count == 4 ? f[3] : nil)
        }
        switch kind {
        case "fashion-mnist", "fashion_mnist", "fashionmnist", "fmnist":
            return .fashionMNIST(directory: (arg?.isEmpty ?? true) ? FashionMNIST.defaultDirectory : arg!)
        case "mnist": return .mnist(directory: try directory())
        case "cifar10", "cifar-10": return .cifar10(directory: try directory())
        case "cifar100", "cifar-100": return .cifar100(directory: try directory())
        case "idx":
            let f = try files()
            return .idx(images: f.0, labels: f.1, testImages: f.2, testLabels: f.3)
        case "npy":
            let f = try files()
            return .npy(images: f.0, labels: f.1, testImages: f.2, testLabels: f.3)
        case "synthetic", "synth":
            return .synthetic(try parseSynthetic(arg ?? "", fail: fail))
        case "folder":
            return .folder(try ImageFolderOptions.parse(arg ?? "", fail: fail))
        default:
            throw fail("unknown dataset kind '\(parts[0])'")
        }
    }

    static func parseSynthetic(_ arg: String, fail: (String) -> DataError) throws -> SyntheticConfig {
        var c = SyntheticConfig()
        for item in arg.split(separator: ",") where !item.trimmingCharacters(in: .whitespaces).isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { throw fail("synthetic option '\(item)' is not key=value") }
            func int() throws -> Int {
                guard let v = Int(kv[1]) else { throw fail("synthetic option \(kv[0])=\(kv[1]) needs an integer") }
                return v
            }
            switch kv[0] {
            case "classes": c.classes = try int()
            case "size": c.size = try int()
            case "channels": c.channels = try int()
            case "n", "train": c.trainCount = try int()
            case "test": c.testCount = try int()
            case "seed":
                guard let v = UInt64(kv[1]) else { throw fail("synthetic option seed=\(kv[1]) needs a non-negative integer") }
                c.seed = v
            case "noise":
                guard let v = Float(kv[1]) else { throw fail("synthetic option noise=\(kv[1]) needs a number") }
                c.noise = v
            default:
                throw fail("unknown synthetic option '\(kv[0])' (classes, size, channels, n, test, noise, seed)")
            }
        }
        return c
    }

    /// Canonical CLI form (parses back to the same value).
    public var description: String {
        func files(_ a: String, _ b: String, _ c: String?, _ d: String?) -> String {
            [a, b, c, d].compactMap { $0 }.joined(separator: ",")
        }
        switch self {
        case .fashionMNIST(let d): return "fashion-mnist:\(d)"
        case .mnist(let d): return "mnist:\(d)"
        case .cifar10(let d): return "cifar10:\(d)"
        case .cifar100(let d): return "cifar100:\(d)"
        case let .idx(a, b, c, d): return "idx:" + files(a, b, c, d)
        case let .npy(a, b, c, d): return "npy:" + files(a, b, c, d)
        case .synthetic(let s):
            return "synthetic:classes=\(s.classes),size=\(s.size),channels=\(s.channels),n=\(s.trainCount),test=\(s.testCount),noise=\(s.noise),seed=\(s.seed)"
        case .folder(let o): return "folder:" + o.argument
        }
    }

    /// The same source with undecodable images skipped (`--skip-bad-images`); other kinds
    /// have no per-image files to skip and come back unchanged.
    public func skippingBadImages(_ skip: Bool) -> DatasetSource {
        guard skip, case .folder(var o) = self else { return self }
        o.skipBadImages = true
        return .folder(o)
    }
}

/// The one entry point a trainer needs: load a source, carve the validation split.
public enum DatasetLoader {
    /// Loads the full training set and the test set (nil when the source has none).
    /// `classes` is the class count label files are checked against (formats without a fixed
    /// count: IDX, NPY); nil takes the largest label + 1.
    public static func loadRaw(_ source: DatasetSource, classes: Int? = nil) throws -> (train: Dataset, test: Dataset?) {
        switch source {
        case .fashionMNIST(let d):
            let r = try FashionMNIST.load(directory: d)
            return (r.train, r.test)
        case .mnist(let d):
            let r = try MNIST.load(directory: d)
            return (r.train, r.test)
        case .cifar10(let d):
            let r = try CIFAR.loadCIFAR10(directory: d)
            return (r.train, r.test)
        case .cifar100(let d):
            let r = try CIFAR.loadCIFAR100(directory: d)
            return (r.train, r.test)
        case let .idx(a, b, c, d):
            return try pair(train: IDX.load(images: a, labels: b, classCount: classes, name: "idx/train"),
                            test: c.map { try IDX.load(images: $0, labels: d!, classCount: classes, name: "idx/test") }, testFile: c)
        case let .npy(a, b, c, d):
            return try pair(train: NPY.load(images: a, labels: b, classCount: classes, name: "npy/train"),
                            test: c.map { try NPY.load(images: $0, labels: d!, classCount: classes, name: "npy/test") }, testFile: c)
        case .synthetic(let cfg):
            let r = try SyntheticData.generate(cfg)
            return (r.train, cfg.testCount > 0 ? r.test : nil)
        case .folder(let o):
            let r = try ImageFolder.load(o)
            return (try r.val.map { try r.train.appending($0) } ?? r.train, r.test)
        }
    }

    /// Loads `spec` and splits a seeded validation set of `valFraction` off its training set.
    /// The test set (if any) is sealed in the result; see `DatasetSplits.finalTestSet()`.
    /// `classes`: see `loadRaw`. `memory`: the source's footprint is checked against it before
    /// anything is read or generated (`DatasetFootprint`).
    public static func load(spec: DatasetSource, valFraction: Double = 0.1, seed: UInt64,
                            strategy: SplitStrategy = .stratified, classes: Int? = nil,
                            memory: MemoryLimit? = nil) throws -> DatasetSplits {
        try DatasetFootprint.check(spec, option: "--dataset \(spec)", limit: memory)
        if case .folder(let o) = spec {
            let r = try ImageFolder.load(o)
            guard let val = r.val else {
                return try Splitter.split(train: r.train, test: r.test, valFraction: valFraction, seed: seed, strategy: strategy)
            }
            // The folder's own val/ tree is the validation split; indices count train then val.
            return DatasetSplits(train: r.train, val: val, test: r.test, strategy: strategy, seed: seed,
                                 trainIndices: Array(0..<r.train.count), valIndices: Array(r.train.count..<(r.train.count + val.count)))
        }
        let raw = try loadRaw(spec, classes: classes)
        return try Splitter.split(train: raw.train, test: raw.test, valFraction: valFraction, seed: seed, strategy: strategy)
    }

    /// Train and test from user files must agree on geometry; the class count is the larger of
    /// the two (a test file may lack the last class or vice versa).
    static func pair(train: Dataset, test: Dataset?, testFile: String?) throws -> (train: Dataset, test: Dataset?) {
        guard let test = test else { return (train, nil) }
        guard test.height == train.height, test.width == train.width, test.channels == train.channels else {
            throw DataError.inconsistent(
                file: testFile ?? test.name,
                reason: "test images are \(test.height)x\(test.width)x\(test.channels) but training images are \(train.height)x\(train.width)x\(train.channels)")
        }
        let k = max(train.classCount, test.classCount)
        func widen(_ d: Dataset) throws -> Dataset {
            d.classCount == k ? d : try Dataset(name: d.name, height: d.height, width: d.width, channels: d.channels,
                                                pixels: d.pixels, labels: d.labels, classCount: k, classNames: nil)
        }
        return (try widen(train), try widen(test))
    }
}
