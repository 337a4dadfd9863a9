import Foundation

/// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): the way users bring their own data.
///
/// Layout: `\x93NUMPY`, major, minor, header length (UInt16 LE in v1, UInt32 LE in v2/v3), an
/// ASCII Python dict `{'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W), }` padded
/// with spaces, then the raw array. We accept little-endian C-order arrays only and say so
/// when a file is big-endian or Fortran-ordered (`np.ascontiguousarray` fixes the latter).
public enum NPY {
    /// Element types we read. Images: `u1`, `f4`. Labels: any integer type below.
    public enum DType: String, Sendable {
        case uint8 = "u1", int8 = "i1", uint16 = "u2", int16 = "i2", int32 = "i4", int64 = "i8", float32 = "f4"
        public var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .uint16, .int16: return 2
            case .int32, .float32: return 4
            case .int64: return 8
            }
        }
    }

    /// A parsed `.npy`: header fields and the raw little-endian payload bytes.
    public struct Array: Sendable {
        public let dtype: DType
        public let shape: [Int]
        public let payload: [UInt8]
    }

    public static func read(path: String) throws -> Array {
        let bytes = try FileBytes.read(path)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Swift.Array(bytes[0..<6]) == magic else {
            throw DataError.badMagic(file: path, expected: "0x934E554D5059 (\\x93NUMPY)",
                                     found: hexString(bytes[0..<min(6, bytes.count)]))
        }
        let major = Int(bytes[6])
        let lenBytes: Int
        switch major {
        case 1: lenBytes = 2
        case 2, 3: lenBytes = 4
        default:
            throw DataError.unsupported(file: path, reason: "npy format version \(major).\(bytes[7]); versions 1.0, 2.0 and 3.0 are supported")
        }
        guard bytes.count >= 8 + lenBytes else {
            throw DataError.sizeMismatch(file: path, expectedBytes: 8 + lenBytes, foundBytes: bytes.count, what: "npy preamble")
        }
        var headerLen = 0
        for i in 0..<lenBytes { headerLen |= Int(bytes[8 + i]) << (8 * i) }
        let dataStart = 8 + lenBytes + headerLen
        guard bytes.count >= dataStart else {
            throw DataError.sizeMismatch(file: path, expectedBytes: dataStart, foundBytes: bytes.count, what: "npy header of \(headerLen) bytes")
        }
        guard let text = String(bytes: bytes[(8 + lenBytes)..<dataStart], encoding: .utf8) else {
            throw DataError.badNPYHeader(file: path, reason: "header is not UTF-8 text")
        }
        var parser = HeaderParser(text: text, file: path)
        let dict = try parser.parseDict()
        guard case .string(let descr)? = dict["descr"] else {
            throw DataError.badNPYHeader(file: path, reason: "missing 'descr' string in \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw DataError.badNPYHeader(file: path, reason: "missing 'fortran_order' True/False")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw DataError.badNPYHeader(file: path, reason: "missing 'shape' tuple")
        }
        if fortran {
            throw DataError.unsupported(
                file: path, reason: "fortran_order is True; save a C-order array (np.save(path, np.ascontiguousarray(a)))")
        }
        let dtype = try parseDescr(descr, file: path)
        guard let payloadBytes = CheckedSize.product(shape + [dtype.size]), let expected = CheckedSize.sum(dataStart, payloadBytes) else {
            throw DataError.badNPYHeader(
                file: path, reason: "shape (\(shape.map(String.init).joined(separator: ", "))) of \(descr) describes more bytes than any file can hold")
        }
        guard bytes.count == expected else {
            throw DataError.sizeMismatch(
                file: path, expectedBytes: expected, foundBytes: bytes.count,
                what: "header says shape (\(shape.map(String.init).joined(separator: ", "))) of \(descr)")
        }
        return Array(dtype: dtype, shape: shape, payload: Swift.Array(bytes[dataStart...]))
    }

    static func parseDescr(_ descr: String, file: String) throws -> DType {
        guard descr.count == 3, let order = descr.first else {
            throw DataError.unsupported(file: file, reason: "dtype '\(descr)' (structured or unknown)")
        }
        let code = String(descr.dropFirst())
        guard let t = DType(rawValue: code) else {
            throw DataError.unsupported(
                file: file, reason: "dtype '\(descr)'; use uint8 or float32 images and uint8/int32/int64 labels")
        }
        if order == ">" && t.size > 1 {
            throw DataError.unsupported(file: file, reason: "big-endian dtype '\(descr)'; save with a little-endian dtype (a.astype('<\(code)'))")
        }
        guard order == "<" || order == "|" || order == "=" || order == ">" else {
            throw DataError.unsupported(file: file, reason: "dtype '\(descr)'")
        }
        return t
    }

    /// Loads images `(N,H,W)` or `(N,H,W,C)` (uint8 or float32) and labels `(N)` or `(N,1)`
    /// (any integer dtype). `classCount` defaults to `max(label) + 1`.
    public static func load(images: String, labels: String, classCount: Int? = nil,
                            classNames: [String]? = nil, name: String? = nil) throws -> Dataset {
        let img = try read(path: images)
        let lab = try read(path: labels)
        guard img.shape.count == 3 || img.shape.count == 4 else {
            throw DataError.inconsistent(file: images, reason: "image array has shape \(img.shape); expected (N, H, W) or (N, H, W, C)")
        }
        let (n, h, w) = (img.shape[0], img.shape[1], img.shape[2])
        let c = img.shape.count == 4 ? img.shape[3] : 1
        let pixels: PixelStorage
        switch img.dtype {
        case .uint8: pixels = .uint8(img.payload)
        case .float32:
            var f = [Float](repeating: 0, count: img.payload.count / 4)
            f.withUnsafeMutableBytes { $0.copyBytes(from: img.payload) }  // little-endian host
            if let bad = f.firstIndex(where: { !$0.isFinite }) {
                throw DataError.inconsistent(file: images, reason: "non-finite value \(f[bad]) at flat index \(bad)")
            }
            pixels = .float32(f)
        default:
            throw DataError.unsupported(file: images, reason: "image dtype \(img.dtype) (\(img.dtype.rawValue)); images must be uint8 or float32")
        }
        guard lab.shape.count == 1 || (lab.shape.count == 2 && lab.shape[1] == 1) else {
            throw DataError.inconsistent(file: labels, reason: "label array has shape \(lab.shape); expected (N) or (N, 1)")
        }
        guard lab.shape[0] == n else {
            throw DataError.inconsistent(file: labels, reason: "\(lab.shape[0]) labels but \(images) holds \(n) images")
        }
        let labelValues = try decodeLabels(lab, file: labels)
        let classes = classCount ?? Int(labelValues.max() ?? 0) + 1
        try LabelRange.check(labelValues, classCount: classes, file: labels)
        return try Dataset(name: name ?? images, height: h, width: w, channels: c, pixels: pixels,
                           labels: labelValues, classCount: classes, classNames: classNames)
    }

    static func decodeLabels(_ a: Array, file: String) throws -> [Int32] {
        let n = a.payload.count / a.dtype.size
        var out = [Int32](repeating: 0, count: n)
        try a.payload.withUnsafeBytes { raw in
            for i in 0..<n {
                let v: Int64
                switch a.dtype {
                case .uint8: v = Int64(raw[i])
                case .int8: v = Int64(Int8(bitPattern: raw[i]))
                case .uint16: v = Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case .int16: v = Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case .int32: v = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .int64: v = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                case .float32:
                    throw DataError.unsupported(file: file, reason: "float32 labels; save integer class indices (a.astype('int64'))")
                }
                guard v >= 0 && v <= Int64(Int32.max) else {
                    throw DataError.inconsistent(file: file, reason: "label \(v) at index \(i) is negative or too large")
                }
                out[i] = Int32(v)
            }
        }
        return out
    }
}

/// Parses the Python dict literal of an `.npy` header: string keys; values that are strings,
/// `True`/`False`, or tuples of integers. Nothing else appears in real headers.
private struct HeaderParser {
    enum Value { case string(String), bool(Bool), tuple([Int]) }
    let chars: [Character]
    var i = 0
    let file: String

    init(text: String, file: String) {
        chars = Swift.Array(text)
        self.file = file
    }

    func fail(_ why: String) -> DataError {
        .badNPYHeader(file: file, reason: "\(why) at character \(i) of \(String(chars).trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    mutating func skipSpace() { while i < chars.count && chars[i].isWhitespace { i += 1 } }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard i < chars.count && chars[i] == c else { throw fail("expected '\(c)'") }
        i += 1
    }

    mutating func parseDict() throws -> [String: Value] {
        var d = [String: Value]()
        try expect("{")
        while true {
            skipSpace()
            if i < chars.count && chars[i] == "}" { return d }
            let key = try parseString()
            try expect(":")
            d[key] = try parseValue()
            skipSpace()
            if i < chars.count && chars[i] == "," { i += 1; continue }
            try expect("}")
            return d
        }
    }

    mutating func parseString() throws -> String {
        skipSpace()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("expected a quoted string") }
        let q = chars[i]
        i += 1
        let start = i
        while i < chars.count && chars[i] != q { i += 1 }
        guard i < chars.count else { throw fail("unterminated string") }
        defer { i += 1 }
        return String(chars[start..<i])
    }

    mutating func parseValue() throws -> Value {
        skipSpace()
        guard i < chars.count else { throw fail("missing value") }
        if chars[i] == "'" || chars[i] == "\"" { return .string(try parseString()) }
        if chars[i] == "(" {
            i += 1
            var items = [Int]()
            while true {
                skipSpace()
                if i < chars.count && chars[i] == ")" { i += 1; return .tuple(items) }
                let start = i
                while i < chars.count && chars[i].isNumber { i += 1 }
                guard let v = Int(String(chars[start..<i])) else { throw fail("expected an integer in shape") }
                items.append(v)
                skipSpace()
                if i < chars.count && chars[i] == "," { i += 1 }
            }
        }
        for (word, v) in [("True", true), ("False", false)] where String(chars[i..<min(chars.count, i + word.count)]) == word {
            i += word.count
            return .bool(v)
        }
        throw fail("unexpected value")
    }
}
