import TinyForgeTraining

/// Checkpoints (safetensors: 8-byte little-endian header length, JSON header with dtype /
/// shape / data_offsets per tensor and the architecture in `__metadata__`, raw F32 data).
/// Every command that takes a checkpoint (evaluate, export, deploy-check, finish) starts with
/// `Checkpoint.read`; a corrupt or hostile file must give an error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let path = FuzzInput.file(FuzzInput.bytes(data, size)[...], tag: "model.safetensors")
    guard let c = try? Checkpoint.read(path) else { return 0 }
    for (name, t) in c.tensors {
        FuzzInput.require(t.values.count == t.shape.reduce(1, *), "tensor \(name): value count does not match its shape")
    }
    return 0
}
