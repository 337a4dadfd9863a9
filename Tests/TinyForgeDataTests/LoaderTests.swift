import Foundation
import TinyForgeData
import XCTest

final class IDXLoaderTests: XCTestCase {
    func testPlainAndGzipIDXLoadIdentically() throws {
        let f = try TestFiles()
        let img = TestFiles.idxImages(n: 5, h: 4, w: 3)
        let lab = TestFiles.idxLabels([0, 2, 1, 2, 0])
        let plain = try IDX.load(images: f.write("i", img), labels: f.write("l", lab))
        let gz = try IDX.load(images: f.write("i.gz", TestFiles.gzip(img)), labels: f.write("l.gz", TestFiles.gzip(lab)))
        XCTAssertEqual(plain.pixels, gz.pixels)
        XCTAssertEqual(plain.labels, [0, 2, 1, 2, 0])
        XCTAssertEqual(gz.labels, plain.labels)
        XCTAssertEqual([plain.count, plain.height, plain.width, plain.channels, plain.classCount], [5, 4, 3, 1, 3])
        // pixel (n=2, y=1, x=2) = 2*7 + 1*3 + 2
        guard case .uint8(let px) = plain.pixels else { return XCTFail("expected bytes") }
        XCTAssertEqual(px[2 * 12 + 1 * 3 + 2], 19)
    }

    func testFashionMNISTDirectoryFindsGzAndPlainFiles() throws {
        let f = try TestFiles()
        try f.write("train-images-idx3-ubyte.gz", TestFiles.gzip(TestFiles.idxImages(n: 10, h: 28, w: 28)))
        try f.write("train-labels-idx1-ubyte.gz", TestFiles.gzip(TestFiles.idxLabels((0..<10).map(UInt8.init))))
        try f.write("t10k-images-idx3-ubyte", TestFiles.idxImages(n: 3, h: 28, w: 28))
        try f.write("t10k-labels-idx1-ubyte", TestFiles.idxLabels([9, 0, 5]))
        let (train, test) = try FashionMNIST.load(directory: f.dir)
        XCTAssertEqual(train.count, 10)
        XCTAssertEqual(test.labels, [9, 0, 5])
        XCTAssertEqual(train.classNames?[9], "Ankle boot")
        XCTAssertEqual(test.classCount, 10)
    }

    func testTruncatedIDXNamesFileAndSizes() throws {
        let f = try TestFiles()
        let img = TestFiles.idxImages(n: 5, h: 4, w: 3)   // 16 + 60 = 76 bytes
        let p = try f.write("short-images", Array(img.prefix(70)))
        let l = try f.write("labels", TestFiles.idxLabels([0, 1, 0, 1, 0]))
        assertDataError(["short-images", "expected 76 bytes", "found 70 bytes", "truncated"]) {
            _ = try IDX.load(images: p, labels: l)
        }
    }

    func testTruncatedGzipIsReportedNotCrashed() throws {
        let f = try TestFiles()
        let gz = try TestFiles.gzip(TestFiles.idxImages(n: 200, h: 28, w: 28))
        let p = try f.write("cut.gz", Array(gz.prefix(gz.count / 2)))
        let l = try f.write("labels", TestFiles.idxLabels([UInt8](repeating: 0, count: 200)))
        assertDataError(["cut.gz", "gzip", "ends early", "truncated"]) { _ = try IDX.load(images: p, labels: l) }
        // Only the 8-byte CRC/size trailer missing: all data is there but the stream is unfinished.
        let p2 = try f.write("notrailer.gz", Array(gz.prefix(gz.count - 8)))
        assertDataError(["notrailer.gz", "gzip"]) { _ = try IDX.load(images: p2, labels: l) }
        let p3 = try f.write("tiny.gz", Array(gz.prefix(12)))
        assertDataError(["tiny.gz", "gzip", "12 bytes"]) { _ = try IDX.load(images: p3, labels: l) }
    }

    func testCorruptGzipIsReported() throws {
        let f = try TestFiles()
        var gz = try TestFiles.gzip(TestFiles.idxImages(n: 50, h: 28, w: 28))
        for i in stride(from: 20, to: gz.count - 20, by: 7) { gz[i] ^= 0x5A }
        let p = try f.write("bad.gz", gz)
        let l = try f.write("labels", TestFiles.idxLabels([UInt8](repeating: 0, count: 50)))
        assertDataError(["bad.gz", "gzip"]) { _ = try IDX.load(images: p, labels: l) }
    }

    func testBadMagicAndSwappedFiles() throws {
        let f = try TestFiles()
        let img = try f.write("images", TestFiles.idxImages(n: 2, h: 2, w: 2))
        let lab = try f.write("labels", TestFiles.idxLabels([0, 1]))
        assertDataError(["labels", "bad magic number", "0x00000803", "0x00000801"]) {
            _ = try IDX.load(images: lab, labels: img)
        }
        let junk = try f.write("junk", Array("hello world, not idx".utf8))
        assertDataError(["junk", "bad magic number", "0x68656C6C"]) { _ = try IDX.load(images: junk, labels: lab) }
        let ints = try f.write("ints", [0, 0, 0x0C, 3] + TestFiles.be32(0) + TestFiles.be32(1) + TestFiles.be32(1))
        assertDataError(["ints", "unsupported", "0x0C"]) { _ = try IDX.load(images: ints, labels: lab) }
    }

    func testCountMismatchAndMissingFile() throws {
        let f = try TestFiles()
        let img = try f.write("images", TestFiles.idxImages(n: 3, h: 2, w: 2))
        let lab = try f.write("labels", TestFiles.idxLabels([0, 1]))
        assertDataError(["labels", "2 labels", "3 images"]) { _ = try IDX.load(images: img, labels: lab) }
        assertDataError(["nope", "not found"]) { _ = try IDX.load(images: f.path("nope"), labels: lab) }
        assertDataError(["train-images-idx3-ubyte", "not found"]) { _ = try FashionMNIST.load(directory: f.dir) }
    }
}

final class CIFARLoaderTests: XCTestCase {
    /// Record with label bytes then planar (C,H,W) image where value = (c*50 + y + x + seed) % 256.
    static func record(labels: [UInt8], seed: Int) -> [UInt8] {
        var r = labels
        for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { r.append(UInt8((c * 50 + y + x + seed) % 256)) } } }
        return r
    }

    func testCIFAR10TransposesCHWToHWC() throws {
        let f = try TestFiles()
        for b in 1...5 {
            try f.write("data_batch_\(b).bin", Self.record(labels: [UInt8(b)], seed: b) + Self.record(labels: [0], seed: 10 + b))
        }
        try f.write("test_batch.bin", Self.record(labels: [9], seed: 99))
        let (train, test) = try CIFAR.loadCIFAR10(directory: f.dir)
        XCTAssertEqual(train.count, 10)
        XCTAssertEqual(train.labels, [1, 0, 2, 0, 3, 0, 4, 0, 5, 0])
        XCTAssertEqual(test.labels, [9])
        XCTAssertEqual(train.classNames?[0], "airplane")
        guard case .uint8(let px) = train.pixels else { return XCTFail() }
        // image 2 (batch 2, seed 2) at y=5, x=7, channel 2 → (100 + 12 + 2) % 256
        XCTAssertEqual(px[2 * 3072 + (5 * 32 + 7) * 3 + 2], 114)
        XCTAssertEqual(px[2 * 3072 + (5 * 32 + 7) * 3 + 0], 14)
    }

    func testCIFAR100UsesFineLabelAndNestedFolder() throws {
        let f = try TestFiles()
        let sub = f.path("cifar-100-binary")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        try f.write("cifar-100-binary/train.bin", Self.record(labels: [3, 77], seed: 0) + Self.record(labels: [19, 99], seed: 1))
        try f.write("cifar-100-binary/test.bin", Self.record(labels: [0, 5], seed: 2))
        let (train, test) = try CIFAR.loadCIFAR100(directory: f.dir)
        XCTAssertEqual(train.labels, [77, 99])
        XCTAssertEqual(test.labels, [5])
        XCTAssertEqual(train.classCount, 100)
        XCTAssertEqual(train.classNames?.count, 100)
        XCTAssertEqual(train.classNames?[99], "worm")
    }

    func testTruncatedCIFARRecordFile() throws {
        let f = try TestFiles()
        let p = try f.write("test.bin", Array(Self.record(labels: [1, 2], seed: 0).prefix(3000)))
        assertDataError(["test.bin", "expected 3074 bytes", "found 3000 bytes"]) {
            _ = try CIFAR.loadBatches([p], labelBytes: 2, classCount: 100, classNames: nil, name: "t")
        }
        let q = try f.write("bad.bin", Self.record(labels: [12], seed: 0))
        assertDataError(["bad.bin", "label 12", "0..<10"]) {
            _ = try CIFAR.loadBatches([q], labelBytes: 1, classCount: 10, classNames: nil, name: "t")
        }
    }
}

final class NPYLoaderTests: XCTestCase {
    func testUInt8ImagesWithInt64LabelsV1() throws {
        let f = try TestFiles()
        let px = (0..<(3 * 4 * 5)).map { UInt8($0) }
        let x = try f.write("x.npy", TestFiles.npy(descr: "|u1", shape: [3, 4, 5], payload: px))
        let y = try f.write("y.npy", TestFiles.npy(descr: "<i8", shape: [3], payload: TestFiles.bytes([Int64(2), 0, 1])))
        let d = try NPY.load(images: x, labels: y)
        XCTAssertEqual([d.count, d.height, d.width, d.channels, d.classCount], [3, 4, 5, 1, 3])
        XCTAssertEqual(d.labels, [2, 0, 1])
        XCTAssertEqual(d.pixels, .uint8(px))
    }

    func testFloat32NHWCWithInt32LabelsV2() throws {
        let f = try TestFiles()
        let values = (0..<(2 * 2 * 2 * 3)).map { Float($0) / 24 }
        let x = try f.write("x.npy", TestFiles.npy(descr: "<f4", shape: [2, 2, 2, 3], payload: TestFiles.bytes(values), version: 2))
        let y = try f.write("y.npy", TestFiles.npy(descr: "<i4", shape: [2, 1], payload: TestFiles.bytes([Int32(4), 1]), version: 2))
        let d = try NPY.load(images: x, labels: y)
        XCTAssertEqual(d.channels, 3)
        XCTAssertEqual(d.pixels, .float32(values))
        XCTAssertEqual(d.labels, [4, 1])
        XCTAssertEqual(d.classCount, 5)
        let u = try f.write("u.npy", TestFiles.npy(descr: "|u1", shape: [2], payload: [1, 0]))
        XCTAssertEqual(try NPY.load(images: x, labels: u).labels, [1, 0])
    }

    func testNPYErrors() throws {
        let f = try TestFiles()
        let y = try f.write("y.npy", TestFiles.npy(descr: "<i8", shape: [2], payload: TestFiles.bytes([Int64(0), 1])))
        let fortran = try f.write("fortran.npy", TestFiles.npy(descr: "|u1", shape: [2, 2, 2], payload: [UInt8](repeating: 0, count: 8), fortran: true))
        assertDataError(["fortran.npy", "fortran_order", "ascontiguousarray"]) { _ = try NPY.load(images: fortran, labels: y) }
        let f8 = try f.write("f8.npy", TestFiles.npy(descr: "<f8", shape: [2, 1, 1], payload: [UInt8](repeating: 0, count: 16)))
        assertDataError(["f8.npy", "dtype '<f8'"]) { _ = try NPY.load(images: f8, labels: y) }
        let be = try f.write("be.npy", TestFiles.npy(descr: ">f4", shape: [2, 1, 1], payload: [UInt8](repeating: 0, count: 8)))
        assertDataError(["be.npy", "big-endian"]) { _ = try NPY.load(images: be, labels: y) }
        let short = try f.write("short.npy", Array(TestFiles.npy(descr: "|u1", shape: [2, 3, 3], payload: [UInt8](repeating: 0, count: 18)).dropLast(5)))
        assertDataError(["short.npy", "expected 146 bytes", "found 141 bytes"]) { _ = try NPY.load(images: short, labels: y) }
        let three = try f.write("three.npy", TestFiles.npy(descr: "|u1", shape: [3, 1, 1], payload: [0, 0, 0]))
        assertDataError(["y.npy", "2 labels", "3 images"]) { _ = try NPY.load(images: three, labels: y) }
        let rank2 = try f.write("rank2.npy", TestFiles.npy(descr: "|u1", shape: [2, 4], payload: [UInt8](repeating: 0, count: 8)))
        assertDataError(["rank2.npy", "(N, H, W)"]) { _ = try NPY.load(images: rank2, labels: y) }
        let neg = try f.write("neg.npy", TestFiles.npy(descr: "<i4", shape: [2], payload: TestFiles.bytes([Int32(-1), 0])))
        let two = try f.write("two.npy", TestFiles.npy(descr: "|u1", shape: [2, 1, 1], payload: [0, 0]))
        assertDataError(["neg.npy", "label -1"]) { _ = try NPY.load(images: two, labels: neg) }
        let notnpy = try f.write("plain.txt", Array("just some text here".utf8))
        assertDataError(["plain.txt", "bad magic number"]) { _ = try NPY.load(images: notnpy, labels: y) }
        var broken = TestFiles.npy(descr: "|u1", shape: [2, 1, 1], payload: [0, 0])
        broken[10] = UInt8(ascii: "[")  // the dict's opening brace (header text starts at byte 10)
        let bh = try f.write("header.npy", broken)
        assertDataError(["header.npy", "bad .npy header"]) { _ = try NPY.load(images: bh, labels: y) }
    }
}
