import TinyForgeSpec

/// The task the search serves: fixes what the LLM need not (and must not) choose.
public struct LLMTask: Equatable, Sendable {
    /// Shown in the prompt, e.g. "Fashion-MNIST".
    public var dataset: String
    public var numClasses: Int
    /// Input of the network. When the space offers several resolutions the LLM picks
    /// `resolution` and it replaces height and width.
    public var input: InputShape
    public init(dataset: String, numClasses: Int, input: InputShape) {
        self.dataset = dataset; self.numClasses = numClasses; self.input = input
    }
}

/// The LLM-facing form of an architecture in a given space: our architecture JSON reduced to
/// the fields the space lets vary. The same compact form is used for the schema, the one-shot
/// example, the archive rows in the prompt and the reply, so the model reads what it writes.
///
/// Item: `{"rationale": "...", "stages": [{"block", "repeats", "out_channels", "kernel",
/// "stride", "expansion", "se_ratio", "activation", "skip"}], "stem": {...}}`; a field with a
/// single choice is left out everywhere and filled in by `expand`; `resolution` and
/// `head_conv_channels` appear only when the space offers more than one value.
public struct CandidateFormat: Sendable {
    public let space: SearchSpace
    /// Stage fields with more than one choice in some stage, in schema order.
    public let stageFields: [String]
    /// Stem fields with more than one choice (empty = the stem is fully fixed or absent).
    public let stemFields: [String]
    /// Longest rationale the schema allows (characters).
    public var maxRationaleChars: Int
    /// Characters a rationale may use: no quotes, backslashes or raw newlines, which small
    /// models otherwise emit inside strings and break the JSON.
    public static let rationalePattern = "A-Za-z0-9 ,.;:()%+/_-"

    public init(space: SearchSpace, maxRationaleChars: Int = 200) {
        self.space = space
        self.maxRationaleChars = maxRationaleChars
        // A field is free when the union of its choices over all stages has several values.
        let usesExp = (0..<(space.numStages.max() ?? 1)).contains {
            let c = space.choices(forStage: $0); return c.block.contains(.mbconv) || c.block.contains(.fusedMBConv)
        }
        let sf = Self.allStageFields.filter {
            ($0 != "expansion" || usesExp) && Self.stageValues(space, $0, stage: nil).count > 1
        }
        stageFields = sf
        var stf: [String] = []
        if let s = space.stem {
            if s.outChannels.count > 1 { stf.append("out_channels") }
            if s.kernel.count > 1 { stf.append("kernel") }
            if s.stride.count > 1 { stf.append("stride") }
            if s.activation.count > 1 { stf.append("activation") }
        }
        stemFields = stf
    }

    var choosesResolution: Bool { space.resolutions.count > 1 }
    var choosesHead: Bool { space.headConvChannels.count > 1 }

    static let allStageFields = ["block", "repeats", "out_channels", "kernel", "stride", "expansion", "se_ratio", "activation", "skip"]

    func stageValues(_ field: String, stage: Int?) -> [JSONValue] { Self.stageValues(space, field, stage: stage) }

    /// Allowed values of a stage field as JSON (the union over stages when `stage` is nil).
    static func stageValues(_ space: SearchSpace, _ field: String, stage: Int?) -> [JSONValue] {
        let cs = stage.map { [space.choices(forStage: $0)] } ?? (0..<(space.numStages.max() ?? 1)).map { space.choices(forStage: $0) }
        var out: [JSONValue] = []
        func add(_ v: JSONValue) { if !out.contains(v) { out.append(v) } }
        for c in cs {
            switch field {
            case "block": c.block.forEach { add(.string($0.rawValue)) }
            case "repeats": c.repeats.forEach { add(.number(Double($0))) }
            case "out_channels": c.outChannels.forEach { add(.number(Double($0))) }
            case "kernel": c.kernel.forEach { add(.number(Double($0))) }
            case "stride": c.stride.forEach { add(.number(Double($0))) }
            case "expansion": c.expansion.forEach { add(.number(Double($0))) }
            case "se_ratio": c.seRatio.forEach { add(.number($0)) }
            case "activation": c.activation.forEach { add(.string($0.rawValue)) }
            case "skip": c.skip.forEach { add(.string($0.rawValue)) }
            default: break
            }
        }
        return out
    }

    func stemValues(_ field: String) -> [JSONValue] {
        guard let s = space.stem else { return [] }
        switch field {
        case "out_channels": return s.outChannels.map { .number(Double($0)) }
        case "kernel": return s.kernel.map { .number(Double($0)) }
        case "stride": return s.stride.map { .number(Double($0)) }
        case "activation": return s.activation.map { .string($0.rawValue) }
        default: return []
        }
    }

    /// The compact form of `spec` (no rationale).
    public func compactJSON(_ spec: ArchitectureSpec) -> JSONValue {
        var o: [String: JSONValue] = [:]
        var fullStages: [JSONValue] = []
        if case .object(let whole) = spec.jsonValue(includeName: false), case .array(let a)? = whole["stages"] { fullStages = a }
        o["stages"] = .array(fullStages.enumerated().map { i, full in
            guard case .object(let f) = full else { return full }
            var c: [String: JSONValue] = [:]
            for k in stageFields { c[k] = f[k] }
            // A block that ignores expansion still needs a schema-valid value (the schema cannot
            // make the field depend on the block): the stage's first choice, ignored on decode.
            if c["expansion"] != nil, i < spec.stages.count, !spec.stages[i].usesExpansion,
               let first = space.choices(forStage: i).expansion.first {
                c["expansion"] = .number(Double(first))
            }
            return .object(c)
        })
        if let s = spec.stem, !stemFields.isEmpty {
            let f: [String: JSONValue] = ["out_channels": .number(Double(s.outChannels)), "kernel": .number(Double(s.kernel)),
                                          "stride": .number(Double(s.stride)), "activation": .string(s.activation.rawValue)]
            var c: [String: JSONValue] = [:]
            for k in stemFields { c[k] = f[k] }
            o["stem"] = .object(c)
        }
        if choosesResolution { o["resolution"] = .number(Double(spec.input.height)) }
        if choosesHead { o["head_conv_channels"] = .number(Double(spec.head.convChannels)) }
        return .object(o)
    }

    /// One compact item as our full architecture JSON: task fields and single-choice fields
    /// filled in. Keys it does not know are passed through so `ArchitectureSpec.decode` names them.
    /// Returns the JSON and notes on values that were normalised.
    public func expand(_ item: [String: JSONValue], task: LLMTask) -> (json: JSONValue, notes: [String]) {
        var notes: [String] = []
        var o = item
        o["rationale"] = nil
        var side = task.input.height
        if choosesResolution, let r = o.removeValue(forKey: "resolution") {
            if case .number(let d) = r { side = Int(d) } else { o["input_resolution"] = r }  // unknown key → named error
        } else if space.resolutions.count == 1 {
            side = space.resolutions[0]
        }
        var height = side, width = side
        if !choosesResolution && space.resolutions.count != 1 { height = task.input.height; width = task.input.width }
        o["input"] = ["height": .number(Double(height)), "width": .number(Double(width)), "channels": .number(Double(task.input.channels))]
        o["num_classes"] = .number(Double(task.numClasses))
        var head: [String: JSONValue] = ["conv_channels": .number(Double(space.headConvChannels.first ?? 0)), "dropout": .number(space.dropout)]
        if choosesHead, let h = o.removeValue(forKey: "head_conv_channels") { head["conv_channels"] = h }
        o["head"] = .object(head)
        if let stem = space.stem {
            func fill(_ given: [String: JSONValue]) -> JSONValue {
                var s = given
                if s["out_channels"] == nil, stem.outChannels.count == 1 { s["out_channels"] = .number(Double(stem.outChannels[0])) }
                if s["kernel"] == nil, stem.kernel.count == 1 { s["kernel"] = .number(Double(stem.kernel[0])) }
                if s["stride"] == nil, stem.stride.count == 1 { s["stride"] = .number(Double(stem.stride[0])) }
                if s["activation"] == nil, stem.activation.count == 1 { s["activation"] = .string(stem.activation[0].rawValue) }
                return .object(s)
            }
            switch o["stem"] {
            case .object(let given)?: o["stem"] = fill(given)
            case nil: if stemFields.isEmpty { o["stem"] = fill([:]) }  // missing free fields: decode names them
            default: break  // wrong type: decode names it
            }
        }
        if case .array(let stages)? = o["stages"] {
            o["stages"] = .array(stages.enumerated().map { i, sv in
                guard case .object(var st) = sv else { return sv }
                let c = space.choices(forStage: i)
                if st["block"] == nil, c.block.count == 1 { st["block"] = .string(c.block[0].rawValue) }
                if st["repeats"] == nil, c.repeats.count == 1 { st["repeats"] = .number(Double(c.repeats[0])) }
                if st["out_channels"] == nil, c.outChannels.count == 1 { st["out_channels"] = .number(Double(c.outChannels[0])) }
                if st["kernel"] == nil, c.kernel.count == 1 { st["kernel"] = .number(Double(c.kernel[0])) }
                if st["stride"] == nil, c.stride.count == 1 { st["stride"] = .number(Double(c.stride[0])) }
                if st["se_ratio"] == nil, c.seRatio.count == 1 { st["se_ratio"] = .number(c.seRatio[0]) }
                if st["activation"] == nil, c.activation.count == 1 { st["activation"] = .string(c.activation[0].rawValue) }
                if st["skip"] == nil, c.skip.count == 1 { st["skip"] = .string(c.skip[0].rawValue) }
                let block = (st["block"].flatMap { if case .string(let s) = $0 { return BlockType(rawValue: s) }; return nil })
                let usesExp = block == .mbconv || block == .fusedMBConv
                if usesExp, st["expansion"] == nil, c.expansion.count == 1 { st["expansion"] = .number(Double(c.expansion[0])) }
                // The schema cannot make fields depend on `block`, so the model writes them for
                // every block; the ones a block ignores are normalised here.
                if block != nil, !usesExp, st["expansion"] != nil { st["expansion"] = 1 }
                if let b = block, b == .conv || b == .basic, case .number(let r)? = st["se_ratio"], r != 0 {
                    notes.append("stages[\(i)].se_ratio \(formatNumber(r)) ignored: \(b.rawValue) blocks have no squeeze-excitation")
                    st["se_ratio"] = 0
                }
                return .object(st)
            })
        }
        return (.object(o), notes)
    }
}

/// Integers without a fraction, other numbers in Swift's shortest round-trip form (as
/// `JSONValue.canonicalText` prints them).
func formatNumber(_ d: Double) -> String {
    if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    return "\(d)"
}
