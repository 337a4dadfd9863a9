import Foundation
import TinyForgeSpec

extension NPY {
    /// A version-1.0 `.npy` holding `values` as little-endian float32 C-order `shape` — the
    /// format `NPY.read` and `numpy.load` both read, so cached teacher logits stay usable from
    /// Python and logits made elsewhere come in the same way. Written atomically.
    public static func writeFloat32(_ values: [Float], shape: [Int], to url: URL) throws {
        guard let n = CheckedSize.product(shape), n == values.count else {
            throw DataError.inconsistent(file: url.path, reason: "\(values.count) values do not fill shape \(shape)")
        }
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header + "\n", padded to a multiple of 64.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let len = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(len & 0xFF), UInt8(len >> 8)])
        data.append(contentsOf: Swift.Array(header.utf8))
        values.withUnsafeBufferPointer { p in
            for v in p { var le = v.bitPattern.littleEndian; withUnsafeBytes(of: &le) { data.append(contentsOf: $0) } }
        }
        try AtomicFile.write(data, to: url)
    }

    /// The payload of a float32 array as `[Float]` (little-endian on disk).
    public static func float32Values(_ a: Array, file: String) throws -> [Float] {
        guard a.dtype == .float32 else {
            throw DataError.unsupported(file: file, reason: "dtype \(a.dtype.rawValue); float32 ('<f4') expected")
        }
        let count = a.payload.count / 4
        return (0..<count).map { i in
            let b = i * 4
            return Float(bitPattern: UInt32(a.payload[b]) | UInt32(a.payload[b + 1]) << 8 | UInt32(a.payload[b + 2]) << 16 | UInt32(a.payload[b + 3]) << 24)
        }
    }
}
