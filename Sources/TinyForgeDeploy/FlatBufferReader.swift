/// A minimal, bounds-checked FlatBuffers reader: enough to walk a .tflite file (tables,
/// scalars with defaults, strings, vectors). Used to round-trip the writer in tests and to
/// inspect models; every access is checked, so a truncated or corrupt file gives a
/// `DeployError.invalidFlatBuffer` instead of a crash.
public struct FlatBufferReader: Sendable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8 else { throw DeployError.invalidFlatBuffer(reason: "buffer of \(bytes.count) bytes is too short") }
        self.bytes = bytes
    }

    /// A table position (absolute byte index).
    public struct Table: Sendable { public let position: Int }

    public var fileIdentifier: String { String(decoding: bytes[4..<8], as: UTF8.self) }

    public func root() throws -> Table { Table(position: Int(try u32(0))) }

    func check(_ at: Int, _ n: Int) throws {
        guard at >= 0, at + n <= bytes.count else {
            throw DeployError.invalidFlatBuffer(reason: "read of \(n) bytes at \(at) is outside the \(bytes.count)-byte buffer")
        }
    }

    public func scalar<T: FixedWidthInteger>(_ at: Int, as: T.Type = T.self) throws -> T {
        try check(at, MemoryLayout<T>.size)
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(truncatingIfNeeded: bytes[at + i]) << (8 * i) }
        return v
    }

    func u32(_ at: Int) throws -> UInt32 { try scalar(at) }

    /// Absolute position of field `id` of `table`, or nil if absent.
    public func fieldPosition(_ table: Table, _ id: Int) throws -> Int? {
        let vtable = table.position - Int(try scalar(table.position, as: Int32.self))
        let vtableSize = Int(try scalar(vtable, as: UInt16.self))
        let entry = 4 + 2 * id
        guard entry + 2 <= vtableSize else { return nil }
        let off = Int(try scalar(vtable + entry, as: UInt16.self))
        return off == 0 ? nil : table.position + off
    }

    public func field<T: FixedWidthInteger>(_ table: Table, _ id: Int, default def: T) throws -> T {
        guard let p = try fieldPosition(table, id) else { return def }
        return try scalar(p)
    }

    public func floatField(_ table: Table, _ id: Int, default def: Float) throws -> Float {
        guard let p = try fieldPosition(table, id) else { return def }
        return Float(bitPattern: try scalar(p))
    }

    private func indirect(_ p: Int) throws -> Int { p + Int(try u32(p)) }

    public func table(_ table: Table, _ id: Int) throws -> Table? {
        guard let p = try fieldPosition(table, id) else { return nil }
        return Table(position: try indirect(p))
    }

    public func string(_ table: Table, _ id: Int) throws -> String? {
        guard let p = try fieldPosition(table, id) else { return nil }
        let s = try indirect(p)
        let n = Int(try u32(s))
        try check(s + 4, n)
        return String(decoding: bytes[(s + 4)..<(s + 4 + n)], as: UTF8.self)
    }

    /// (absolute position of element 0, count) of a vector field.
    public func vector(_ table: Table, _ id: Int) throws -> (start: Int, count: Int)? {
        guard let p = try fieldPosition(table, id) else { return nil }
        let v = try indirect(p)
        return (v + 4, Int(try u32(v)))
    }

    public func scalars<T: FixedWidthInteger>(_ table: Table, _ id: Int, as: T.Type = T.self) throws -> [T]? {
        guard let (start, n) = try vector(table, id) else { return nil }
        try check(start, n * MemoryLayout<T>.size)
        return try (0..<n).map { try scalar(start + $0 * MemoryLayout<T>.size) }
    }

    public func floats(_ table: Table, _ id: Int) throws -> [Float]? {
        try scalars(table, id, as: UInt32.self)?.map(Float.init(bitPattern:))
    }

    public func tables(_ table: Table, _ id: Int) throws -> [Table] {
        guard let (start, n) = try vector(table, id) else { return [] }
        // All n offsets must lie in the buffer before anything is allocated: a corrupt count
        // (found by fuzzing: 2^30) otherwise sizes a 14 GB array and the process dies.
        try check(start, 4 * n)
        return try (0..<n).map { Table(position: try indirect(start + 4 * $0)) }
    }
}
