import Foundation
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// A safetensors header is JSON from the file: shapes and offsets such as 1e300, 2^40 × 2^40 or
/// 0.5 trapped in `Int(_:)` or in the size product (found while writing the `safetensors` fuzz
/// target, fuzz/safetensors). Each is now a clear error naming the tensor and the file.
final class CheckpointHeaderTests: XCTestCase {
    let spec = #"{"input":{"height":8,"width":8,"channels":1},"num_classes":2,"stages":[{"block":"conv","out_channels":4,"kernel":3,"stride":2,"activation":"relu"}],"head":{"conv_channels":0,"activation":"relu","dropout":0}}"#

    /// A checkpoint with one tensor `w` whose header entry is `entry`, followed by `dataBytes` bytes.
    func write(_ entry: String, dataBytes: Int = 16) throws -> String {
        let header = #"{"__metadata__":{"spec":\#(JSONValue.string(spec).canonicalText())},"w":\#(entry)}"#
        var bytes = [UInt8](repeating: 0, count: 8)
        let h = Array(header.utf8)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: h.count >> (8 * i)) }
        bytes += h + [UInt8](repeating: 0, count: dataBytes)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tf-ckpt-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func assertRefused(_ entry: String, _ needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try write(entry)
        XCTAssertThrowsError(try Checkpoint.read(path), file: file, line: line) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(path) && text.contains("'w'") && text.contains(needle), text, file: file, line: line)
        }
    }

    func testHostileShapesAndOffsetsAreErrors() throws {
        try assertRefused(#"{"dtype":"F32","shape":[1e300],"data_offsets":[0,4]}"#, "whole numbers")
        try assertRefused(#"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#, "whole numbers")
        try assertRefused(#"{"dtype":"F32","shape":[0.5],"data_offsets":[0,4]}"#, "whole numbers")
        try assertRefused(#"{"dtype":"F32","shape":["4"],"data_offsets":[0,16]}"#, "whole numbers")
        try assertRefused(#"{"dtype":"F32","shape":[300,300,300],"data_offsets":[0,16]}"#, "holds more values than")
        try assertRefused(#"{"dtype":"F32","shape":[4],"data_offsets":[0,1e300]}"#, "data_offsets")
        try assertRefused(#"{"dtype":"F32","shape":[4],"data_offsets":[8,4]}"#, "data_offsets")
        try assertRefused(#"{"dtype":"F32","shape":[4],"data_offsets":[0.5,16.5]}"#, "data_offsets")
        try assertRefused(#"{"dtype":"F32","shape":[8],"data_offsets":[0,32]}"#, "does not match")
    }

    func testAWellFormedTensorStillReads() throws {
        let c = try Checkpoint.read(try write(#"{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}"#))
        XCTAssertEqual(c.tensors["w"]?.shape, [2, 2])
        XCTAssertEqual(c.tensors["w"]?.values, [0, 0, 0, 0])
    }
}
