import Foundation
import TinyForgeData
import XCTest

/// Header sizes are numbers from the file: dimensions whose product overflows `Int` trapped
/// (checked builds) or wrapped to a small wrong size (-Ounchecked) before the size check.
/// Found while writing the `data` fuzz target (fuzz/data); each is now a clear error.
final class HeaderOverflowTests: XCTestCase {
    func testIDXDimensionsWhoseProductOverflows() throws {
        let f = try TestFiles()
        let huge = [0, 0, 8, 3] + TestFiles.be32(0xFFFF_FFFF) + TestFiles.be32(0xFFFF_FFFF) + TestFiles.be32(0xFFFF_FFFF) + [1, 2, 3]
        let images = try f.write("huge-images", huge)
        let labels = try f.write("labels", TestFiles.idxLabels([0]))
        assertDataError(["huge-images", "4294967295x4294967295x4294967295", "corrupt"]) { _ = try IDX.load(images: images, labels: labels) }
        // A product that fits but is far larger than the file stays a size mismatch.
        let big = try f.write("big-images", [0, 0, 8, 3] + TestFiles.be32(1000) + TestFiles.be32(1000) + TestFiles.be32(1000))
        assertDataError(["big-images", "expected 1000000016 bytes", "found 16 bytes"]) { _ = try IDX.load(images: big, labels: labels) }
    }

    func testNPYShapeWhoseByteCountOverflows() throws {
        let f = try TestFiles()
        let y = try f.write("y.npy", TestFiles.npy(descr: "<i8", shape: [1], payload: TestFiles.bytes([Int64(0)])))
        let x = try f.write("x.npy", TestFiles.npy(descr: "<f4", shape: [1 << 40, 1 << 20, 1 << 3], payload: [0, 0, 0, 0]))
        assertDataError(["x.npy", "bad .npy header", "more bytes than any file can hold"]) { _ = try NPY.load(images: x, labels: y) }
        // The element size alone can push a fitting product over: 2^61 values × 4 bytes.
        let x4 = try f.write("x4.npy", TestFiles.npy(descr: "<f4", shape: [1 << 61, 1, 1], payload: []))
        assertDataError(["x4.npy", "more bytes than any file can hold"]) { _ = try NPY.load(images: x4, labels: y) }
    }
}
