import TinyForgeSpec

/// JSON schema of a reply, derived from the search space. Written for grammar-constrained
/// decoding (llama.cpp, Ollama, vLLM's guided decoding), whose converters support less than
/// the JSON-schema spec:
/// - integers and numbers are `enum`s: llama.cpp's grammar ignores `minimum`/`maximum`;
/// - the rationale has a `pattern` without quotes, backslashes or newlines (a small model
///   otherwise writes raw newlines into the string and breaks the JSON) and a length bound;
/// - the stage list has `minItems`/`maxItems` from the space's stage counts;
/// - `additionalProperties: false` everywhere; every listed property is required.
/// Stage overrides (a stage with its own choices) use `prefixItems`; converters that ignore
/// `prefixItems` fall back to the shared `items`, and `CandidateDecoder` rejects out-of-space
/// values with their path anyway.
extension CandidateFormat {
    /// `slots` > 0 (budget-targeted prompts): every item also names its target, `"slot"`: 1…slots.
    public func schema(candidates k: Int, slots: Int = 0) -> JSONValue {
        var item = itemSchema()
        if slots > 0, case .object(var o) = item, case .object(var props)? = o["properties"] {
            props["slot"] = ["enum": .array((1...slots).map { .number(Double($0)) })]
            o["properties"] = .object(props)
            o["required"] = .array(props.keys.sorted().map { .string($0) })
            item = .object(o)
        }
        return .object([
            "type": "object",
            "properties": ["candidates": .object(["type": "array", "minItems": .number(Double(k)),
                                                  "maxItems": .number(Double(k)), "items": item])],
            "required": ["candidates"],
            "additionalProperties": false,
        ])
    }

    /// Schema of one candidate.
    public func itemSchema() -> JSONValue {
        var props: [String: JSONValue] = [
            "rationale": .object(["type": "string",
                                  "pattern": .string("^[\(CandidateFormat.rationalePattern)]{10,\(maxRationaleChars)}$")]),
        ]
        let maxStages = space.numStages.max() ?? 1
        var stages: [String: JSONValue] = [
            "type": "array", "minItems": .number(Double(space.numStages.min() ?? 1)), "maxItems": .number(Double(maxStages)),
            "items": stageSchema(stage: nil),
        ]
        if !space.stageOverrides.isEmpty {
            stages["prefixItems"] = .array((0..<min(space.stageOverrides.count, maxStages)).map { stageSchema(stage: $0) })
        }
        props["stages"] = .object(stages)
        if space.stem != nil && !stemFields.isEmpty {
            var sp: [String: JSONValue] = [:]
            for f in stemFields { sp[f] = ["enum": .array(stemValues(f))] }
            props["stem"] = .object(["type": "object", "properties": .object(sp),
                                     "required": .array(stemFields.map { .string($0) }), "additionalProperties": false])
        }
        if choosesResolution { props["resolution"] = ["enum": .array(space.resolutions.map { .number(Double($0)) })] }
        if choosesHead { props["head_conv_channels"] = ["enum": .array(space.headConvChannels.map { .number(Double($0)) })] }
        return .object(["type": "object", "properties": .object(props),
                        "required": .array(props.keys.sorted().map { .string($0) }), "additionalProperties": false])
    }

    func stageSchema(stage: Int?) -> JSONValue {
        var p: [String: JSONValue] = [:]
        for f in stageFields { p[f] = ["enum": .array(stageValues(f, stage: stage))] }
        return .object(["type": "object", "properties": .object(p),
                        "required": .array(stageFields.map { .string($0) }), "additionalProperties": false])
    }
}
