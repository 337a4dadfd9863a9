import Dispatch
import TinyForgeSpec

/// One mini-batch. `images` is (batchSize, H, W, C) contiguous Float; only the first `count`
/// images and labels are valid (the last batch of an epoch may be partial).
public struct Batch: Sendable {
    public var images: [Float]
    public var labels: [Int32]
    /// Index of each image in the iterated dataset (distillation looks up teacher logits by it).
    public var indices: [Int]
    /// With fixed augmented views (`BatchIterator.views`): the view each image shows, so
    /// distillation reads the teacher's row of that view; empty without views.
    public var views: [Int32] = []
    public var count: Int
    public let height: Int, width: Int, channels: Int

    public init(capacity: Int, height: Int, width: Int, channels: Int) {
        images = [Float](repeating: 0, count: capacity * height * width * channels)
        labels = [Int32](repeating: 0, count: capacity)
        indices = [Int](repeating: 0, count: capacity)
        count = 0
        self.height = height
        self.width = width
        self.channels = channels
    }
}

/// Seeded mini-batch iterator: shuffles each epoch, preprocesses (and optionally augments) every
/// image straight into a reusable Float buffer, optionally on two threads.
///
/// Determinism: the epoch-`e` order comes from `SeededGenerator(seed:, stream: e)` and the
/// augmentation of the image at position `p` of epoch `e` from its own stream derived from
/// `(seed, e, p)`, so results do not depend on the thread count or on which epochs ran before
/// (a resumed run sees the same batches). `subsetFraction` < 1 keeps a fixed, stratified,
/// seeded subset for all epochs (proxy training compares candidates on the same images).
///
/// Allocation: `next()` fills an internal buffer in place and returns it; if the caller lets go
/// of the previous batch before asking for the next (the usual `while let` loop), the buffer is
/// uniquely owned and no memory is allocated after the first batch. `next(into:)` fills the
/// caller's own buffer.
public struct BatchIterator: IteratorProtocol, Sequence {
    public let dataset: Dataset
    public let preprocessor: Preprocessor
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let augment: Bool
    public let dropLast: Bool
    public let threads: Int
    /// Fixed augmented views: each image shows one of its K views (chosen per epoch and
    /// position from `seed`) instead of a free random draw; nil = free draws as always.
    public let views: AugmentViews?
    /// Dataset indices used (all, or the fixed subset), ascending.
    public let indices: [Int]
    public private(set) var epoch = 0
    private var order: [Int] = []
    private var position = 0
    private var buffer: Batch
    /// One `Preprocessor.scratchSize` block per thread, allocated once.
    private var scratch: [Float]

    public init(dataset: Dataset, preprocessor: Preprocessor, batchSize: Int, seed: UInt64,
                shuffle: Bool = true, augment: Bool = false, subsetFraction: Double = 1,
                dropLast: Bool = false, threads: Int = 1, views: AugmentViews? = nil) throws {
        guard batchSize > 0 else { throw DataError.invalidOption(option: "batchSize", reason: "must be positive, got \(batchSize)") }
        guard subsetFraction > 0 && subsetFraction <= 1 else {
            throw DataError.invalidOption(option: "subsetFraction", reason: "\(subsetFraction) is outside (0, 1]")
        }
        guard (1...2).contains(threads) else {
            throw DataError.invalidOption(option: "threads", reason: "\(threads); use 1 or 2")
        }
        guard dataset.height == preprocessor.inputHeight, dataset.width == preprocessor.inputWidth,
              dataset.channels == preprocessor.inputChannels else {
            throw DataError.invalidOption(
                option: "preprocessor", reason: "built for \(preprocessor.inputHeight)x\(preprocessor.inputWidth)x\(preprocessor.inputChannels) but \(dataset.name) is \(dataset.height)x\(dataset.width)x\(dataset.channels)")
        }
        if let v = views {
            guard augment, v.config == preprocessor.augment else {
                throw DataError.invalidOption(
                    option: "views", reason: "views of \(v.config) need augmentation on with the same config, but the iterator's is \(augment ? "\(preprocessor.augment)" : "off")")
            }
            guard v.height == preprocessor.outputHeight, v.width == preprocessor.outputWidth else {
                throw DataError.invalidOption(
                    option: "views", reason: "views drawn at \(v.height)x\(v.width) but the network input is \(preprocessor.outputHeight)x\(preprocessor.outputWidth)")
            }
        }
        self.views = views
        self.dataset = dataset
        self.preprocessor = preprocessor
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.augment = augment
        self.dropLast = dropLast
        self.threads = threads
        if subsetFraction < 1 {
            indices = Splitter.partition(labels: dataset.labels, classCount: dataset.classCount,
                                         fraction: subsetFraction, seed: seed &+ 0x5EB5E7, strategy: .stratified).chosen
        } else {
            indices = Array(0..<dataset.count)
        }
        buffer = Batch(capacity: batchSize, height: preprocessor.outputHeight,
                       width: preprocessor.outputWidth, channels: preprocessor.outputChannels)
        scratch = [Float](repeating: 0, count: threads * preprocessor.scratchSize)
        start(epoch: 0)
    }

    public var sampleCount: Int { indices.count }
    public var batchesPerEpoch: Int {
        dropLast ? indices.count / batchSize : (indices.count + batchSize - 1) / batchSize
    }

    /// Rewinds to the start of `epoch` with that epoch's order.
    public mutating func start(epoch e: Int) {
        epoch = e
        position = 0
        order = indices
        if shuffle {
            var rng = SeededGenerator(seed: seed, stream: UInt64(e))
            Splitter.shuffle(&order, &rng)
        }
    }

    /// The next batch of this epoch, or nil at its end (then call `start(epoch:)`).
    public mutating func next() -> Batch? {
        var b = buffer
        buffer = Batch(capacity: 0, height: 0, width: 0, channels: 0)  // drop our reference: `b` stays unique
        let ok = next(into: &b)
        buffer = b
        return ok ? b : nil
    }

    /// Fills `batch` (any capacity ≥ batchSize with the output geometry) with the next batch.
    public mutating func next(into batch: inout Batch) -> Bool {
        let remaining = order.count - position
        let n = Swift.min(batchSize, remaining)
        if n <= 0 || (dropLast && n < batchSize) { return false }
        let size = preprocessor.outputSampleSize
        if batch.images.count < batchSize * size || batch.labels.count < batchSize || batch.indices.count < batchSize {
            batch = Batch(capacity: batchSize, height: preprocessor.outputHeight,
                          width: preprocessor.outputWidth, channels: preprocessor.outputChannels)
        }
        let start = position
        let (order, pre, ds, augment, seed, epoch) = (self.order, preprocessor, dataset, self.augment, seed, self.epoch)
        batch.labels.withUnsafeMutableBufferPointer { lab in
            for i in 0..<n { lab[i] = ds.labels[order[start + i]] }
        }
        for i in 0..<n { batch.indices[i] = order[start + i] }
        if let v = views {
            if batch.views.count < batchSize { batch.views = [Int32](repeating: 0, count: batchSize) }
            for i in 0..<n { batch.views[i] = Int32(Self.viewChoice(seed: seed, epoch: epoch, position: start + i, count: v.count)) }
        } else if !batch.views.isEmpty {
            batch.views = []
        }
        let (viewOf, viewSet) = (batch.views, self.views)
        let scratchSize = preprocessor.scratchSize
        batch.images.withUnsafeMutableBufferPointer { img in
          scratch.withUnsafeMutableBufferPointer { tmp in
            let out = img.baseAddress!
            func work(_ range: Range<Int>, _ thread: Int) {
                for i in range {
                    let p = start + i
                    var draw = AugmentDraw()
                    if let v = viewSet {
                        draw = v.draw(view: Int(viewOf[i]), image: order[p])
                    } else if augment {
                        var rng = SeededGenerator(seed: seed ^ 0xA06E_0000_0000_0000, stream: UInt64(epoch) << 32 | UInt64(p))
                        draw = pre.draw(rng: &rng)
                    }
                    pre.process(ds, index: order[p], draw: draw, into: out + i * size,
                                scratch: tmp.baseAddress! + thread * scratchSize)
                }
            }
            if threads == 2 && n >= 2 {
                let half = n / 2
                DispatchQueue.concurrentPerform(iterations: 2) { t in work(t == 0 ? 0..<half : half..<n, t) }
            } else {
                work(0..<n, 0)
            }
          }
        }
        batch.count = n
        position += n
        return true
    }

    /// The view shown by the image at `position` of `epoch`: uniform in 0..<count from its own
    /// stream of the iterator seed, so the student's seed changes which views it meets.
    static func viewChoice(seed: UInt64, epoch: Int, position: Int, count: Int) -> Int {
        var rng = SeededGenerator(seed: seed ^ 0x71E0_0000_0000_0000, stream: UInt64(epoch) << 32 | UInt64(position))
        return Int(rng.next() % UInt64(count))
    }
}
