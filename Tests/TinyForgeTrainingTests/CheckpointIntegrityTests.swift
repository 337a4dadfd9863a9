import Foundation
import XCTest
import TinyForgeData
import TinyForgeSpec
@testable import TinyForgeTraining

/// Checkpoint integrity: a CRC-32C of the tensor data is written and verified, bit flips and
/// non-finite weights are refused naming file or tensor, old checkpoints load with a warning,
/// and hostile header numbers are errors, not traps or wrapped sizes.
final class CheckpointIntegrityTests: XCTestCase {
    let spec = tinySpec(#"[{"block": "conv", "out_channels": 8, "stride": 2, "activation": "relu"}]"#,
                        input: #"{"height": 8, "width": 8, "channels": 1}"#, classes: 3)
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-integrity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func saved() throws -> (path: String, bytes: [UInt8], dataStart: Int) {
        let net = try Network(spec: spec, seed: 3, threads: 1)
        let path = dir.appendingPathComponent("m.safetensors").path
        try Checkpoint.save(net, to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        return (path, bytes, 8 + n)
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let p = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func testCRC32CCheckValue() {
        let v = Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) }
        XCTAssertEqual(v, 0xE306_9283)
        XCTAssertEqual(CRC32C.hex(0x0000_00AB), "000000ab")
        // Slicing-by-8 equals the bytewise definition at every length and alignment.
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for len in [0, 1, 7, 8, 9, 63, 1000] {
            var crc: UInt32 = 0xFFFF_FFFF
            for b in data.prefix(len) { crc = (crc >> 8) ^ CRC32C.tables[0][Int((crc ^ UInt32(b)) & 0xFF)] }
            XCTAssertEqual(data.prefix(len).withUnsafeBytes { CRC32C.checksum($0) }, ~crc, "length \(len)")
        }
    }

    func testChecksumIsWrittenAndVerified() throws {
        let (path, _, _) = try saved()
        let c = try Checkpoint.read(path)
        XCTAssertEqual(c.metadata[Checkpoint.checksumKey]?.count, 8)
        XCTAssertEqual(c.warnings, [])
    }

    func testBitFlipInTensorDataIsDetected() throws {
        let (_, bytes, start) = try saved()
        for offset in [start, (start + bytes.count) / 2, bytes.count - 1] {
            var flipped = bytes
            flipped[offset] ^= 0x10  // one bit, in the exponent or mantissa of a weight
            let p = try write(flipped, "flip.safetensors")
            XCTAssertThrowsError(try Checkpoint.read(p)) { e in
                XCTAssertTrue("\(e)".hasPrefix("\(p): tensor data is corrupt: CRC-32C"), "\(e)")
            }
        }
        XCTAssertNoThrow(try Checkpoint.read(try write(bytes, "same.safetensors")))
    }

    /// Without the checksum (older checkpoints): loads, with a warning saying what to do.
    func testCheckpointWithoutChecksumLoadsWithAWarning() throws {
        let (_, bytes, start) = try saved()
        var header = String(decoding: bytes[8..<start], as: UTF8.self)
        let r = header.range(of: #""data_crc32c":"[0-9a-f]{8}","#, options: .regularExpression)!
        header.replaceSubrange(r, with: String(repeating: " ", count: header.distance(from: r.lowerBound, to: r.upperBound)))
        let p = try write(Array(bytes[0..<8]) + Array(header.utf8) + Array(bytes[start...]), "old.safetensors")
        let c = try Checkpoint.read(p)
        XCTAssertEqual(c.warnings.count, 1)
        XCTAssertTrue(c.warnings[0].contains("no data_crc32c checksum"), c.warnings[0])
        XCTAssertNoThrow(try Checkpoint.network(c, file: p, threads: 1))
    }

    func testNonFiniteWeightIsRefusedNamingTheTensor() throws {
        let net = try Network(spec: spec, seed: 3, threads: 1)
        let victim = net.parameters[0]
        victim.value[2] = .nan
        let path = dir.appendingPathComponent("nan.safetensors").path
        try Checkpoint.save(net, to: path)  // a valid checksum over NaN data: the value check catches it
        XCTAssertThrowsError(try Checkpoint.read(path)) { e in
            XCTAssertTrue("\(e)".contains("tensor '\(victim.name)' holds nan at element 2"), "\(e)")
        }
        victim.value[2] = -.infinity
        try Checkpoint.save(net, to: path)
        XCTAssertThrowsError(try Checkpoint.read(path)) { e in XCTAssertTrue("\(e)".contains("holds -inf"), "\(e)") }
    }

    /// Header offsets and shapes too large for Int (or whose product overflows) are errors.
    func testHostileHeaderNumbersAreErrors() throws {
        let (_, bytes, start) = try saved()
        let header = String(decoding: bytes[8..<start], as: UTF8.self)
        let m = header.range(of: #""shape":\[[0-9,]+\]"#, options: .regularExpression)!
        for replacement in [#""shape":[4294967296,4294967296,4294967296]"#, #""shape":[1e300]"#, #""shape":[-1]"#] {
            var h = header
            h.replaceSubrange(m, with: replacement)
            let hb = Array(h.utf8)
            var len = withUnsafeBytes(of: UInt64(hb.count).littleEndian) { Array($0) }
            len += hb
            let p = try write(len + Array(bytes[start...]), "hostile.safetensors")
            XCTAssertThrowsError(try Checkpoint.read(p)) { e in
                let text = "\(e)"
                XCTAssertTrue(["does not match shape", "malformed", "whole numbers", "holds more values"].contains { text.contains($0) },
                              "\(replacement): \(e)")
            }
        }
    }
}
