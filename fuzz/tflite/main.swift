import TinyForgeDeploy

/// The .tflite reader (`FlatBufferReader`): walks a model the way a consumer of our exports
/// does — schema version, operator codes, every subgraph's tensors (shape, type, buffer, name,
/// quantisation), operators (code index, inputs, outputs, builtin options), buffers and
/// signatures — with field ids from TFLite's schema.fbs. Every read is bounds-checked by the
/// reader, so any byte string must give values or `DeployError`, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTFLite(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let r = try? FlatBufferReader(FuzzInput.bytes(data, size)) else { return 0 }
    _ = r.fileIdentifier
    _ = try? walkModel(r)
    return 0
}

/// Reads every field TinyForge writes; throws at the first out-of-range read.
func walkModel(_ r: FlatBufferReader) throws {
    let model = try r.root()
    _ = try r.field(model, 0, default: UInt32(0))
    _ = try r.string(model, 3)
    for code in try r.tables(model, 1).prefix(4096) {
        _ = try r.field(code, 0, default: Int8(0))
        _ = try r.field(code, 2, default: Int32(1))
        _ = try r.field(code, 3, default: Int32(0))
    }
    for sg in try r.tables(model, 2).prefix(64) {
        _ = try r.string(sg, 4)
        _ = try r.scalars(sg, 1, as: Int32.self)
        _ = try r.scalars(sg, 2, as: Int32.self)
        for t in try r.tables(sg, 0).prefix(4096) {
            _ = try r.scalars(t, 0, as: Int32.self)
            _ = try r.field(t, 1, default: Int8(0))
            _ = try r.field(t, 2, default: UInt32(0))
            _ = try r.string(t, 3)
            if let q = try r.table(t, 4) {
                _ = try r.floats(q, 2)
                _ = try r.scalars(q, 3, as: Int64.self)
                _ = try r.field(q, 6, default: Int32(0))
            }
        }
        for op in try r.tables(sg, 3).prefix(4096) {
            _ = try r.field(op, 0, default: UInt32(0))
            _ = try r.scalars(op, 1, as: Int32.self)
            _ = try r.scalars(op, 2, as: Int32.self)
            _ = try r.field(op, 3, default: UInt8(0))
            if let o = try r.table(op, 4) {
                for id in 0..<8 { _ = try r.field(o, id, default: Int32(0)) }
                _ = try r.floatField(o, 0, default: 0)
            }
        }
    }
    for b in try r.tables(model, 4).prefix(4096) { _ = try r.scalars(b, 0, as: UInt8.self) }
    for s in try r.tables(model, 7).prefix(64) {
        _ = try r.string(s, 2)
        for m in try r.tables(s, 0) + r.tables(s, 1) { _ = try r.string(m, 0); _ = try r.field(m, 1, default: UInt32(0)) }
    }
}
