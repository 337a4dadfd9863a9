import TinyForgeSpec

/// Search-space files (`--space FILE`). Any input may be rejected; none may crash. A space that
/// decodes must survive its own JSON round trip, and sampling, mutation and the membership
/// check must either work or throw (a space whose every sample is invalid is a user error).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpace(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = FuzzInput.text(data, size)
    guard let space = try? SearchSpace.decode(jsonText: text, source: "fuzz") else { return 0 }
    let again = try? SearchSpace.decode(space.jsonValue())
    FuzzInput.require(again?.jsonValue() == space.jsonValue(), "space JSON does not round-trip")
    var rng = SeededGenerator(seed: UInt64(size))
    // Few attempts: the point is to exercise the code on odd spaces, not to find a valid sample.
    guard let spec = try? space.sample(numClasses: 10, using: &rng, maxAttempts: 3) else { return 0 }
    _ = space.violations(of: spec)
    if let child = space.mutate(spec, using: &rng, maxAttempts: 5) { _ = space.violations(of: child.spec) }
    return 0
}
