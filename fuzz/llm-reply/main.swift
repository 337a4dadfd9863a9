import TinyForgeLLM
import TinyForgeSpec

/// The LLM reply path: `ResponseParser` (fences, prose, trailing commas, cut-off replies,
/// wrapper keys) and `CandidateDecoder` (compact form → ArchitectureSpec inside the space).
/// Model output is untrusted text; any reply may be rejected, none may crash. The first byte
/// picks the search space and whether the reply counts as cut off by the token limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLLMReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let mode = data[0]
    let text = FuzzInput.text(data + 1, size - 1)
    let space = SearchSpace.presets[Int(mode & 3) % SearchSpace.presets.count]
    let side = space.resolutions.first ?? 32
    let task = LLMTask(dataset: "fuzz", numClasses: 10, input: InputShape(height: side, width: side, channels: space.inputChannels))
    guard let parsed = try? ResponseParser().parseCandidates(text, cutOff: mode & 4 != 0) else { return 0 }
    let decoded = CandidateDecoder(space: space, task: task).decode(parsed.candidates, known: [])
    for c in decoded where c.spec != nil {
        FuzzInput.require(space.violations(of: c.spec!).isEmpty, "an accepted LLM candidate is outside the space")
    }
    return 0
}
