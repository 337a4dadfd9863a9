import CompressNIO
import Foundation
import NIOCore
import TinyForgeData
import XCTest

/// Writes small dataset files in a fresh temporary directory for one test.
final class TestFiles {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "tinyforge-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(bytes: bytes)
        var out = try buffer.compress(with: .gzip())
        return out.readBytes(length: out.readableBytes)!
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    /// IDX images (N, H, W) with pixel value (n*7 + y*3 + x) % 256.
    static func idxImages(n: Int, h: Int, w: Int) -> [UInt8] {
        var b: [UInt8] = [0, 0, 8, 3] + be32(n) + be32(h) + be32(w)
        for i in 0..<n { for y in 0..<h { for x in 0..<w { b.append(UInt8((i * 7 + y * 3 + x) % 256)) } } }
        return b
    }

    static func idxLabels(_ labels: [UInt8]) -> [UInt8] { [0, 0, 8, 1] + be32(labels.count) + labels }

    /// A `.npy` file with the given descr/shape and raw payload; `version` 1 or 2.
    static func npy(descr: String, shape: [Int], payload: [UInt8], version: UInt8 = 1, fortran: Bool = false) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
        let lenBytes = version == 1 ? 2 : 4
        while (10 + lenBytes - 2 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let n = header.utf8.count
        b += version == 1 ? [UInt8(n & 255), UInt8(n >> 8)] : [UInt8(n & 255), UInt8(n >> 8 & 255), UInt8(n >> 16 & 255), UInt8(n >> 24)]
        return b + Array(header.utf8) + payload
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
}

/// Asserts that `body` throws a `DataError` whose message contains every one of `parts`.
func assertDataError(_ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected a DataError containing \(parts)", file: file, line: line)
    } catch {
        let message = "\(error)"
        XCTAssertTrue(error is DataError, "not a DataError: \(type(of: error)) \(message)", file: file, line: line)
        for p in parts {
            XCTAssertTrue(message.contains(p), "message '\(message)' lacks '\(p)'", file: file, line: line)
        }
    }
}
