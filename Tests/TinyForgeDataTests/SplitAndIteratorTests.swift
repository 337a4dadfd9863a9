import TinyForgeData
import TinyForgeSpec
import XCTest

final class SplitTests: XCTestCase {
    func data(_ n: Int, classes: Int = 4) throws -> Dataset {
        // Image i is filled with i % 251 so a sample can be traced after splitting.
        try Dataset(name: "toy/train", height: 2, width: 2, channels: 1,
                    pixels: .uint8((0..<n).flatMap { [UInt8](repeating: UInt8($0 % 251), count: 4) }),
                    labels: (0..<n).map { Int32(($0 * 7) % classes) }, classCount: classes)
    }

    func testStratifiedSplitIsDeterministicDisjointAndProportional() throws {
        let ds = try data(400)
        let a = try Splitter.split(train: ds, test: nil, valFraction: 0.1, seed: 42)
        let b = try Splitter.split(train: ds, test: nil, valFraction: 0.1, seed: 42)
        let c = try Splitter.split(train: ds, test: nil, valFraction: 0.1, seed: 43)
        XCTAssertEqual(a.val, b.val)
        XCTAssertEqual(a.train, b.train)
        XCTAssertNotEqual(a.val.pixels, c.val.pixels)
        XCTAssertEqual(a.val.count, 40)
        XCTAssertEqual(a.train.count, 360)
        XCTAssertEqual(a.val.labelHistogram(), [10, 10, 10, 10])
        XCTAssertEqual(a.val.name, "toy/val")
        let p = Splitter.partition(labels: ds.labels, classCount: 4, fraction: 0.1, seed: 42, strategy: .stratified)
        XCTAssertTrue(Set(p.chosen).isDisjoint(with: p.rest))
        XCTAssertEqual(p.chosen.count + p.rest.count, 400)
        let s = Splitter.partition(labels: ds.labels, classCount: 4, fraction: 0.25, seed: 1, strategy: .shuffle)
        XCTAssertEqual(s.chosen.count, 100)
    }

    func testStratifiedQuotasKeepTheRequestedSizeWithSmallClasses() throws {
        // 100 classes × 3 images at 10 %: rounding per class gave an empty validation split.
        XCTAssertEqual(Splitter.stratifiedQuotas(classSizes: Array(repeating: 3, count: 100), fraction: 0.1).reduce(0, +), 30)
        XCTAssertEqual(Splitter.stratifiedQuotas(classSizes: [5, 5, 5], fraction: 0.1), [1, 1, 0])
        XCTAssertEqual(Splitter.stratifiedQuotas(classSizes: [10, 7, 1], fraction: 0.5), [5, 4, 0])
        XCTAssertEqual(Splitter.stratifiedQuotas(classSizes: [600, 600], fraction: 0.1), [60, 60])
        let ds = try data(300, classes: 100)
        let s = try Splitter.split(train: ds, test: nil, valFraction: 0.1, seed: 3)
        XCTAssertEqual(s.val.count, 30)
        XCTAssertEqual(s.train.count, 270)
        XCTAssertTrue(s.val.labelHistogram().allSatisfy { $0 <= 1 })
    }

    func testTestSetIsSealed() throws {
        let ds = try data(20)
        let withTest = try Splitter.split(train: ds, test: ds, valFraction: 0.2, seed: 1)
        XCTAssertTrue(withTest.hasTestSet)
        XCTAssertEqual(try withTest.finalTestSet().count, 20)
        let without = try Splitter.split(train: ds, test: nil, valFraction: 0.2, seed: 1)
        assertDataError(["no test set", "test files"]) { _ = try without.finalTestSet() }
        assertDataError(["valFraction", "1.0"]) { _ = try Splitter.split(train: ds, test: nil, valFraction: 1, seed: 1) }
    }
}

final class BatchIteratorTests: XCTestCase {
    func synth() throws -> Dataset {
        try SyntheticData.generate(SyntheticConfig(classes: 4, size: 10, trainCount: 37, testCount: 0, seed: 3)).train
    }

    func epoch(_ it: inout BatchIterator) -> (images: [Float], labels: [Int32], sizes: [Int]) {
        var images = [Float](), labels = [Int32](), sizes = [Int]()
        while let b = it.next() {
            images += b.images.prefix(b.count * b.height * b.width * b.channels)
            labels += b.labels.prefix(b.count)
            sizes.append(b.count)
        }
        return (images, labels, sizes)
    }

    func testEpochVisitsEverySampleOnceAndReshuffles() throws {
        let ds = try synth()
        let pre = try Preprocessor(for: ds, config: PreprocessConfig())
        var it = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 8, seed: 7)
        XCTAssertEqual(it.batchesPerEpoch, 5)
        let e0 = epoch(&it)
        XCTAssertEqual(e0.sizes, [8, 8, 8, 8, 5])
        XCTAssertEqual(e0.labels.sorted(), ds.labels.sorted())
        // Images are the dataset's images, reordered: compare as multisets of rows.
        let rows = { (x: [Float]) in stride(from: 0, to: x.count, by: 100).map { Array(x[$0..<($0 + 100)]) }.map { $0.description }.sorted() }
        XCTAssertEqual(rows(e0.images), rows((0..<ds.count).flatMap { ds.floatImage(at: $0) }))
        it.start(epoch: 1)
        let e1 = epoch(&it)
        XCTAssertNotEqual(e0.labels, e1.labels)
        var again = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 8, seed: 7)
        again.start(epoch: 1)  // epoch order does not depend on history (resume)
        XCTAssertEqual(epoch(&again).labels, e1.labels)
    }

    func testAugmentedBatchesAreIndependentOfThreadCount() throws {
        let ds = try synth()
        let pre = try Preprocessor(for: ds, config: PreprocessConfig(height: 16, width: 16, channels: 3,
                                                                        augment: .cifar(size: 16)))
        var one = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 6, seed: 11, augment: true, threads: 1)
        var two = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 6, seed: 11, augment: true, threads: 2)
        let a = epoch(&one), b = epoch(&two)
        XCTAssertEqual(a.images, b.images)
        XCTAssertEqual(a.labels, b.labels)
        var other = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 6, seed: 12, augment: true)
        XCTAssertNotEqual(epoch(&other).images, a.images)
    }

    func testSubsetDropLastAndReusedBuffer() throws {
        let ds = try synth()
        let pre = try Preprocessor(for: ds, config: PreprocessConfig())
        var it = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 4, seed: 1, subsetFraction: 0.5, dropLast: true)
        XCTAssertEqual(it.sampleCount, it.indices.count)
        XCTAssertTrue((16...21).contains(it.sampleCount), "\(it.sampleCount)")
        XCTAssertEqual(epoch(&it).sizes, Array(repeating: 4, count: it.sampleCount / 4))
        it.start(epoch: 3)
        var batch = Batch(capacity: 4, height: 10, width: 10, channels: 1)
        var seen = Set<Int32>()
        while it.next(into: &batch) { seen.formUnion(batch.labels.prefix(batch.count)) }
        XCTAssertEqual(seen.count, 4)  // stratified subset keeps every class
        // `next()` refills one buffer in place when the caller lets go of the previous batch.
        it.start(epoch: 4)
        var addresses = Set<Int>()
        while let b = it.next() { addresses.insert(b.images.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }) }
        XCTAssertEqual(addresses.count, 1)
        assertDataError(["subsetFraction"]) { _ = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 4, seed: 1, subsetFraction: 0) }
        assertDataError(["batchSize"]) { _ = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 0, seed: 1) }
    }
}
