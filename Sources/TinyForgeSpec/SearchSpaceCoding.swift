/// JSON for search spaces. Example (the `mcu28` preset, abridged):
/// ```json
/// {"name": "mine", "resolutions": [28], "input_channels": 1, "num_stages": [2, 3],
///  "stage": {"block": ["dsconv", "mbconv"], "repeats": [1, 2], "out_channels": [16, 32],
///            "kernel": [3, 5], "stride": [1, 2], "expansion": [2, 4], "se_ratio": [0, 0.25],
///            "activation": ["relu6"], "skip": ["none", "residual"]},
///  "stages": [{"stride": [1]}],
///  "stem": {"out_channels": [8, 16], "kernel": [3], "stride": [1], "activation": ["relu6"]}}
/// ```
extension SearchSpace {
    public static func decode(jsonText: String, source: String = "search space") throws -> SearchSpace {
        try decode(JSONValue.parse(jsonText, source: source))
    }

    public static func decode(_ value: JSONValue) throws -> SearchSpace {
        var errors: [SpecError] = []
        let r = FieldReader(value, path: "", errors: &errors)
        guard r.isObject else { r.finish(into: &errors); throw SpecErrors(errors) }
        let L = ArchitectureSpec.Limits.self
        let name = r.string("name", default: "custom") ?? "custom"
        let res = ints(r, "resolutions", within: L.resolution)
        let inCh = r.int("input_channels", default: 3, range: L.inputChannels)
        let stages = ints(r, "num_stages", within: L.stages)
        var shared: StageChoices?
        if let sv = r.raw("stage") {
            shared = decodeChoices(sv, path: "stage", required: true, errors: &errors).map { o in
                StageChoices(block: o.block ?? [], repeats: o.repeats ?? [], outChannels: o.outChannels ?? [],
                             kernel: o.kernel ?? [], stride: o.stride ?? [], expansion: o.expansion ?? [1],
                             seRatio: o.seRatio ?? [0], activation: o.activation ?? [], skip: o.skip ?? [.none])
            }
        } else { r.fail("stage", "is required: the choices shared by every stage") }
        var overrides: [StageChoices.Override] = []
        if let arr = r.array("stages", required: false) {
            for (i, v) in arr.enumerated() {
                overrides.append(decodeChoices(v, path: "stages[\(i)]", required: false, errors: &errors) ?? .init())
            }
        }
        var stem: StemChoices?
        if let sv = r.raw("stem") {
            let sr = FieldReader(sv, path: "stem", errors: &errors)
            if sr.isObject {
                stem = StemChoices(outChannels: ints(sr, "out_channels", within: L.channels),
                                   kernel: ints(sr, "kernel", within: 1...11, default: [3]),
                                   stride: ints(sr, "stride", within: 1...2, default: [1]),
                                   activation: enums(sr, "activation", Activation.self, default: [.relu6]))
            }
            sr.finish(into: &errors)
        }
        let head = ints(r, "head_conv_channels", within: 0...L.channels.upperBound, default: [0])
        let widths = doubles(r, "width_multipliers", within: 0.1...4, default: [1.0])
        let dropout = r.double("dropout", default: 0.2, range: 0...0.95)
        r.finish(into: &errors)
        guard errors.isEmpty, let sc = shared else { throw SpecErrors(errors) }
        return SearchSpace(name: name, resolutions: res, inputChannels: inCh, numStages: stages, stageChoices: sc,
                           stageOverrides: overrides, stem: stem, headConvChannels: head, widthMultipliers: widths,
                           dropout: dropout)
    }

    static func decodeChoices(_ v: JSONValue, path: String, required: Bool,
                              errors: inout [SpecError]) -> StageChoices.Override? {
        let r = FieldReader(v, path: path, errors: &errors)
        guard r.isObject else { r.finish(into: &errors); return nil }
        let L = ArchitectureSpec.Limits.self
        var o = StageChoices.Override()
        func opt<T>(_ key: String, _ read: () -> [T]) -> [T]? {
            if r.has(key) { return read() }
            _ = r.raw(key)
            if required && !["expansion", "se_ratio", "skip"].contains(key) { r.fail(key, "is required (a list of allowed values)") }
            return nil
        }
        o.block = opt("block") { enums(r, "block", BlockType.self) }
        o.repeats = opt("repeats") { ints(r, "repeats", within: L.repeats) }
        o.outChannels = opt("out_channels") { ints(r, "out_channels", within: L.channels) }
        o.kernel = opt("kernel") { ints(r, "kernel", within: 1...11) }
        o.stride = opt("stride") { ints(r, "stride", within: 1...2) }
        o.expansion = opt("expansion") { ints(r, "expansion", within: L.expansion) }
        o.seRatio = opt("se_ratio") { doubles(r, "se_ratio", within: 0...1) }
        o.activation = opt("activation") { enums(r, "activation", Activation.self) }
        o.skip = opt("skip") { enums(r, "skip", SkipType.self) }
        r.finish(into: &errors)
        return o
    }

    public func jsonValue() -> JSONValue {
        func choices(_ c: StageChoices.Override) -> JSONValue {
            var o: [String: JSONValue] = [:]
            if let v = c.block { o["block"] = .array(v.map { .string($0.rawValue) }) }
            if let v = c.repeats { o["repeats"] = .array(v.map { .number(Double($0)) }) }
            if let v = c.outChannels { o["out_channels"] = .array(v.map { .number(Double($0)) }) }
            if let v = c.kernel { o["kernel"] = .array(v.map { .number(Double($0)) }) }
            if let v = c.stride { o["stride"] = .array(v.map { .number(Double($0)) }) }
            if let v = c.expansion { o["expansion"] = .array(v.map { .number(Double($0)) }) }
            if let v = c.seRatio { o["se_ratio"] = .array(v.map { .number($0) }) }
            if let v = c.activation { o["activation"] = .array(v.map { .string($0.rawValue) }) }
            if let v = c.skip { o["skip"] = .array(v.map { .string($0.rawValue) }) }
            return .object(o)
        }
        var shared = StageChoices.Override()
        let s = stageChoices
        shared.block = s.block; shared.repeats = s.repeats; shared.outChannels = s.outChannels; shared.kernel = s.kernel
        shared.stride = s.stride; shared.expansion = s.expansion; shared.seRatio = s.seRatio
        shared.activation = s.activation; shared.skip = s.skip
        var o: [String: JSONValue] = [
            "name": .string(name), "resolutions": .array(resolutions.map { .number(Double($0)) }),
            "input_channels": .number(Double(inputChannels)), "num_stages": .array(numStages.map { .number(Double($0)) }),
            "stage": choices(shared), "head_conv_channels": .array(headConvChannels.map { .number(Double($0)) }),
            "width_multipliers": .array(widthMultipliers.map { .number($0) }), "dropout": .number(dropout),
        ]
        if !stageOverrides.isEmpty { o["stages"] = .array(stageOverrides.map(choices)) }
        if let st = stem {
            o["stem"] = ["out_channels": .array(st.outChannels.map { .number(Double($0)) }),
                         "kernel": .array(st.kernel.map { .number(Double($0)) }),
                         "stride": .array(st.stride.map { .number(Double($0)) }),
                         "activation": .array(st.activation.map { .string($0.rawValue) })]
        }
        return .object(o)
    }
}

private func list(_ r: FieldReader, _ key: String) -> [JSONValue]? {
    guard let v = r.raw(key) else { return nil }
    guard case .array(let a) = v else { r.fail(key, "expected a list of allowed values, found \(v.typeName)"); return [] }
    if a.isEmpty { r.fail(key, "is empty; list at least one allowed value") }
    return a
}

private func ints(_ r: FieldReader, _ key: String, within range: ClosedRange<Int>, default def: [Int]? = nil) -> [Int] {
    guard let a = list(r, key) else {
        if let d = def { return d }
        r.fail(key, "is required (a list of integers)"); return []
    }
    var out: [Int] = []
    for (i, v) in a.enumerated() {
        guard case .number(let d) = v, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            r.fail("\(key)[\(i)]", "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(v == .null ? "null" : v.canonicalText())")
            continue
        }
        if !out.contains(Int(d)) { out.append(Int(d)) }
    }
    return out
}

private func doubles(_ r: FieldReader, _ key: String, within range: ClosedRange<Double>, default def: [Double]? = nil) -> [Double] {
    guard let a = list(r, key) else { return def ?? [] }
    var out: [Double] = []
    for (i, v) in a.enumerated() {
        guard case .number(let d) = v, range.contains(d) else {
            r.fail("\(key)[\(i)]", "expected a number in \(range.lowerBound)...\(range.upperBound), found \(v.canonicalText())")
            continue
        }
        if !out.contains(d) { out.append(d) }
    }
    return out
}

private func enums<E: RawRepresentable & CaseIterable & Equatable>(_ r: FieldReader, _ key: String, _ t: E.Type,
                                                                  default def: [E]? = nil) -> [E] where E.RawValue == String {
    guard let a = list(r, key) else { return def ?? [] }
    var out: [E] = []
    for (i, v) in a.enumerated() {
        guard case .string(let s) = v, let e = E(rawValue: s.lowercased()) else {
            r.fail("\(key)[\(i)]", "\(v.canonicalText()) is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            continue
        }
        if !out.contains(e) { out.append(e) }
    }
    return out
}
