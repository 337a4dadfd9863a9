import TinyForgeSpec

/// Architecture JSON decoder (our format and the paper's `candidate_config`, detected by key).
/// Any input may be rejected with an error; none may crash. For inputs that decode, the
/// structural check runs, and the canonical encoding must decode back to the same network
/// (same canonical hash): the run store and the cache key rely on that round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchitecture(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = FuzzInput.text(data, size)
    guard let (spec, _) = try? ArchitectureSpec.decode(jsonText: text, source: "fuzz") else { return 0 }
    _ = try? spec.validate()
    let hash = spec.canonicalHash
    let again = try? ArchitectureSpec.decodeOurs(spec.jsonValue())
    FuzzInput.require(again?.canonicalHash == hash, "canonical JSON of a decoded spec does not decode to the same hash")
    if (try? spec.validate()) != nil { _ = spec.stageResolutions() }
    return 0
}
