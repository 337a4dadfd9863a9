/// A minimal FlatBuffers builder (https://flatbuffers.dev/internals/), enough for TFLite
/// models: tables with scalar/offset fields, vtables (deduplicated), vectors of scalars,
/// vectors of offsets, strings, forced vector alignment and a 4-byte file identifier.
///
/// Like the reference implementation it builds back to front: the buffer grows downwards,
/// children are written before their parents, and an `Offset` is a distance from the END of
/// the buffer, so it stays valid while the buffer grows. Alignment is relative to the end
/// too; `finish` pads the total size to the largest alignment used, which makes it absolute.
public struct FlatBufferBuilder {
    /// Position of a finished object, measured from the end of the buffer.
    public struct Offset: Equatable, Sendable { public let value: Int }

    private var storage: [UInt8]
    private var head: Int                  // data occupies storage[head...]
    private var minAlign = 1
    private var fieldLocations: [(id: Int, offset: Int)] = []
    private var tableStart: Int?
    private var vtables: [Int] = []        // offsets of written vtables, for deduplication

    public init(initialCapacity: Int = 1024) {
        storage = [UInt8](repeating: 0, count: max(16, initialCapacity))
        head = storage.count
    }

    /// Bytes written so far.
    public var size: Int { storage.count - head }

    // MARK: - Low level

    private mutating func ensureSpace(_ n: Int) {
        if head >= n { return }
        var newCount = storage.count * 2
        while newCount - size < n { newCount *= 2 }
        let used = size
        var grown = [UInt8](repeating: 0, count: newCount)
        grown.replaceSubrange((newCount - used)..<newCount, with: storage[head...])
        storage = grown
        head = newCount - used
    }

    /// Pads so that after writing `additional` bytes, a value of `alignment` bytes is aligned.
    private mutating func prep(_ alignment: Int, _ additional: Int) {
        minAlign = max(minAlign, alignment)
        let pad = (~(size + additional) &+ 1) & (alignment - 1)
        ensureSpace(pad + additional)
        for _ in 0..<pad { head -= 1; storage[head] = 0 }
    }

    private mutating func put<T: FixedWidthInteger>(_ v: T) {
        let n = MemoryLayout<T>.size
        ensureSpace(n)
        head -= n
        var le = v.littleEndian
        withUnsafeBytes(of: &le) { raw in
            for i in 0..<n { storage[head + i] = raw[i] }
        }
    }

    private mutating func push<T: FixedWidthInteger>(_ v: T) {
        prep(MemoryLayout<T>.size, 0)
        put(v)
    }

    private mutating func pushOffset(_ target: Offset) {
        prep(4, 0)
        precondition(target.value <= size, "FlatBufferBuilder: offset must point to an already written object")
        put(UInt32(size - target.value + 4))
    }

    // MARK: - Strings and vectors

    public mutating func createString(_ s: String) -> Offset {
        precondition(tableStart == nil, "FlatBufferBuilder: strings must be created outside a table")
        let bytes = Array(s.utf8)
        prep(4, bytes.count + 1)
        put(UInt8(0))
        ensureSpace(bytes.count)
        head -= bytes.count
        storage.replaceSubrange(head..<(head + bytes.count), with: bytes)
        put(UInt32(bytes.count))
        return Offset(value: size)
    }

    /// A vector of little-endian scalars. `alignment` forces the first element onto a
    /// multiple of that many bytes (TFLite `Buffer.data` uses 16).
    public mutating func createVector<T: FixedWidthInteger>(_ values: [T], alignment: Int = MemoryLayout<T>.size) -> Offset {
        precondition(tableStart == nil, "FlatBufferBuilder: vectors must be created outside a table")
        let byteCount = values.count * MemoryLayout<T>.size
        prep(4, byteCount)
        prep(max(alignment, MemoryLayout<T>.size), byteCount)
        for v in values.reversed() { put(v) }
        put(UInt32(values.count))
        return Offset(value: size)
    }

    public mutating func createVector(_ values: [Float]) -> Offset {
        createVector(values.map { $0.bitPattern })
    }

    public mutating func createVector(offsets: [Offset]) -> Offset {
        precondition(tableStart == nil, "FlatBufferBuilder: vectors must be created outside a table")
        prep(4, offsets.count * 4)
        for o in offsets.reversed() { pushOffset(o) }
        put(UInt32(offsets.count))
        return Offset(value: size)
    }

    // MARK: - Tables

    public mutating func startTable() {
        precondition(tableStart == nil, "FlatBufferBuilder: tables cannot be nested; finish the child first")
        tableStart = size
        fieldLocations = []
    }

    /// Adds a scalar field; like the reference builder, a value equal to the schema default is
    /// omitted (readers return the default) unless `force` is set.
    public mutating func add<T: FixedWidthInteger>(_ id: Int, _ value: T, default def: T, force: Bool = false) {
        if value == def && !force { return }
        push(value)
        fieldLocations.append((id, size))
    }

    public mutating func add(_ id: Int, _ value: Float, default def: Float) {
        if value == def { return }
        push(value.bitPattern)
        fieldLocations.append((id, size))
    }

    public mutating func add(_ id: Int, _ value: Bool, default def: Bool) {
        add(id, UInt8(value ? 1 : 0), default: UInt8(def ? 1 : 0))
    }

    public mutating func add(_ id: Int, offset: Offset?) {
        guard let offset else { return }
        pushOffset(offset)
        fieldLocations.append((id, size))
    }

    public mutating func endTable() -> Offset {
        guard let start = tableStart else { preconditionFailure("FlatBufferBuilder: endTable without startTable") }
        push(Int32(0))                                  // soffset to the vtable, patched below
        let objectOffset = size
        let fieldCount = (fieldLocations.map(\.id).max() ?? -1) + 1
        var entries = [UInt16](repeating: 0, count: fieldCount)
        for f in fieldLocations { entries[f.id] = UInt16(objectOffset - f.offset) }
        let vtable = [UInt16((2 + fieldCount) * 2), UInt16(objectOffset - start)] + entries
        var vtableOffset: Int? = nil
        for existing in vtables where readVTable(at: existing) == vtable {
            vtableOffset = existing
            break
        }
        if vtableOffset == nil {
            for e in vtable.reversed() { push(e) }
            vtableOffset = size
            vtables.append(size)
        }
        // soffset: vtable position = table position − soffset (both as absolute addresses).
        let soffset = Int32(vtableOffset! - objectOffset)
        var le = soffset.littleEndian
        let at = storage.count - objectOffset
        withUnsafeBytes(of: &le) { raw in for i in 0..<4 { storage[at + i] = raw[i] } }
        tableStart = nil
        return Offset(value: objectOffset)
    }

    private func readVTable(at offset: Int) -> [UInt16] {
        let at = storage.count - offset
        func u16(_ i: Int) -> UInt16 { UInt16(storage[at + i]) | UInt16(storage[at + i + 1]) << 8 }
        let byteSize = Int(u16(0))
        return (0..<(byteSize / 2)).map { u16($0 * 2) }
    }

    /// Writes the root offset (and the 4-byte file identifier, e.g. "TFL3") and returns the
    /// finished buffer.
    public mutating func finish(root: Offset, fileIdentifier: String? = nil) -> [UInt8] {
        let ident = fileIdentifier.map { Array($0.utf8) } ?? []
        precondition(ident.isEmpty || ident.count == 4, "FlatBufferBuilder: file identifier must be 4 ASCII bytes")
        prep(minAlign, 4 + ident.count)
        for b in ident.reversed() { put(b) }
        pushOffset(root)
        return Array(storage[head...])
    }
}
