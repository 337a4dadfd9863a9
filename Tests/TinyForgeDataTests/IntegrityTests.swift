import Foundation
import XCTest
@testable import TinyForgeData

/// Labels outside the network's classes, dataset sizes checked before loading, MemAvailable.
final class IntegrityTests: XCTestCase {
    /// One label byte of 200 used to turn 10 classes into 201 silently.
    func testIDXLabelOutsideTheNetworksClassesIsAnError() throws {
        let f = try TestFiles()
        let img = try f.write("img", TestFiles.idxImages(n: 4, h: 2, w: 2))
        let lab = try f.write("lab", TestFiles.idxLabels([0, 1, 200, 3]))
        let source = DatasetSource.idx(images: img, labels: lab)
        assertDataError([lab, "label 200 at index 2 is outside 0..<10", "fix the label file", "--classes 201"]) {
            _ = try DatasetLoader.loadRaw(source, classes: 10)
        }
        // --classes 201 says the data really has 201 classes: then it loads with them.
        XCTAssertEqual(try DatasetLoader.loadRaw(source, classes: 201).train.classCount, 201)
        // Labels below the network's class count keep the network's count (not max + 1).
        let ok = try f.write("ok", TestFiles.idxLabels([0, 1, 2, 3]))
        XCTAssertEqual(try DatasetLoader.loadRaw(.idx(images: img, labels: ok), classes: 10).train.classCount, 10)
        XCTAssertEqual(try DatasetLoader.loadRaw(.idx(images: img, labels: ok)).train.classCount, 4, "no class count given: inferred")
    }

    func testNPYLabelOutsideTheNetworksClassesNamesTheFile() throws {
        let f = try TestFiles()
        let img = try f.write("x.npy", TestFiles.npy(descr: "|u1", shape: [3, 2, 2], payload: [UInt8](repeating: 7, count: 12)))
        let lab = try f.write("y.npy", TestFiles.npy(descr: "<i8", shape: [3], payload: TestFiles.bytes([Int64(0), 12, 1])))
        assertDataError(["y.npy: label 12 at index 1 is outside 0..<5", "--classes 13"]) {
            _ = try DatasetLoader.loadRaw(.npy(images: img, labels: lab), classes: 5)
        }
    }

    /// synthetic:n=100000000 used to abort in the allocator (exit 134).
    func testSyntheticSizeIsCheckedBeforeGenerating() throws {
        let source = try DatasetSource.parse("synthetic:n=100000000")
        XCTAssertEqual(DatasetFootprint.bytes(of: source), 100_000_000 * (28 * 28 + 4) * 2 + 1000 * (28 * 28 + 4))
        let limit = MemoryLimit(bytes: 8 << 30, source: "available (MemAvailable in /proc/meminfo)")
        assertDataError(["--dataset synthetic:", "needs 147 GB in memory but 8.0 GB (available", "fewer images (n=, test=)"]) {
            _ = try DatasetLoader.load(spec: source, seed: 1, memory: limit)
        }
        let huge = try DatasetSource.parse("synthetic:n=4611686018427387904")
        XCTAssertNil(DatasetFootprint.bytes(of: huge), "beyond Int64 is nil, not a wrapped size")
        assertDataError(["needs"]) { _ = try DatasetLoader.load(spec: huge, seed: 1, memory: limit) }
        XCTAssertNoThrow(try DatasetLoader.load(spec: try DatasetSource.parse("synthetic:n=100,test=10"), seed: 1, memory: limit))
    }

    func testFileSourcesCountTheirUncompressedSize() throws {
        let f = try TestFiles()
        let raw = TestFiles.idxImages(n: 50, h: 8, w: 8)
        let gz = try f.write("img.gz", try TestFiles.gzip(raw))
        let plain = try f.write("img", raw)
        let gzSize = try FileManager.default.attributesOfItem(atPath: gz)[.size] as! Int
        XCTAssertEqual(DatasetFootprint.fileBytes(gz), gzSize + 2 * raw.count)
        XCTAssertEqual(DatasetFootprint.fileBytes(plain), 3 * raw.count)
        let lab = try f.write("lab", TestFiles.idxLabels([UInt8](repeating: 1, count: 50)))
        assertDataError(["needs", "but 100 B (--max-memory)"]) {
            _ = try DatasetLoader.load(spec: .idx(images: plain, labels: lab), seed: 1, memory: MemoryLimit(bytes: 100, source: "--max-memory"))
        }
    }

    /// Four 32-bit IDX dimensions can multiply past Int64: an error, not a wrapped size.
    func testIDXDimensionsThatOverflowAreAnError() throws {
        let f = try TestFiles()
        let p = try f.write("big", [0, 0, 8, 3] + TestFiles.be32(0x7FFF_FFFF) + TestFiles.be32(0x7FFF_FFFF) + TestFiles.be32(0x7FFF_FFFF))
        assertDataError([p, "multiply past Int64"]) { _ = try IDX.readBytes(path: p, expectedRank: 3) }
    }

    func testMemAvailableParsing() {
        let text = "MemTotal:       24000000 kB\nMemFree:        1000 kB\nMemAvailable:   23456789 kB\n"
        XCTAssertEqual(MemoryLimit.parseMemAvailable(text), 23_456_789)
        XCTAssertNil(MemoryLimit.parseMemAvailable("MemTotal: 5 kB\n"))
        XCTAssertEqual(MemoryLimit.resolve(maxMemory: 1 << 30), MemoryLimit(bytes: 1 << 30, source: "--max-memory"))
        XCTAssertNil(MemoryLimit.resolve(maxMemory: nil, meminfoPath: "/nonexistent/meminfo"))
        XCTAssertEqual(MemoryLimit.format(1536 << 20), "1.5 GB")
        XCTAssertEqual(MemoryLimit.format(512), "512 B")
    }
}
