/// Our architecture JSON format (see docs/ARCHITECTURE.md): decoding with field paths,
/// structural validation, and canonical encoding.
extension ArchitectureSpec {
    /// Structural limits: anything outside them is not a network an MCU could run (or a typo).
    public enum Limits {
        public static let resolution = 1...2048
        public static let inputChannels = 1...64
        public static let classes = 2...100_000
        public static let channels = 1...8192
        public static let kernels = [1, 3, 5, 7, 9, 11]
        public static let strides = [1, 2]
        public static let repeats = 1...64
        public static let stages = 1...32
        public static let expansion = 1...16
    }

    /// Decodes JSON text in either our format or the paper's `candidate_config` format
    /// (detected by its top-level key). Paper-format warnings are returned, not thrown.
    public static func decode(jsonText: String, source: String = "architecture",
                              defaults: PaperImportDefaults = .init()) throws -> (spec: ArchitectureSpec, warnings: [String]) {
        let value = try JSONValue.parse(jsonText, source: source)
        return try decode(value, defaults: defaults)
    }

    public static func decode(_ value: JSONValue, defaults: PaperImportDefaults = .init()) throws -> (spec: ArchitectureSpec, warnings: [String]) {
        if case .object(let o) = value, o["candidate_config"] != nil || (o["blocks"] != nil && o["stages"] == nil) {
            return try PaperFormat.decode(value, defaults: defaults)
        }
        return (try decodeOurs(value), [])
    }

    /// Decodes our format; throws `SpecErrors` listing every problem with its path.
    public static func decodeOurs(_ value: JSONValue) throws -> ArchitectureSpec {
        var errors: [SpecError] = []
        let r = FieldReader(value, path: "", errors: &errors)
        guard r.isObject else { r.finish(into: &errors); throw SpecErrors(errors) }
        let name = r.string("name")
        var input = InputShape(height: 32, width: 32, channels: 3)
        if let iv = r.raw("input") {
            let ir = FieldReader(iv, path: "input", errors: &errors)
            if ir.isObject {
                input.height = ir.int("height", range: Limits.resolution, hint: "input image height in pixels")
                input.width = ir.int("width", default: ir.has("width") ? nil : input.height, range: Limits.resolution)
                input.channels = ir.int("channels", default: 3, range: Limits.inputChannels)
            }
            ir.finish(into: &errors)
        } else {
            r.fail("input", "is required, e.g. {\"height\": 32, \"width\": 32, \"channels\": 3}")
        }
        let classes = r.int("num_classes", range: Limits.classes, hint: "number of output classes")
        var stem: StemSpec?
        if let sv = r.raw("stem") {
            let sr = FieldReader(sv, path: "stem", errors: &errors)
            if sr.isObject {
                let oc = sr.int("out_channels", default: 0, range: 0...Limits.channels.upperBound)
                let k = sr.int("kernel", default: 3, oneOf: Limits.kernels)
                let s = sr.int("stride", default: 2, oneOf: Limits.strides)
                let a = sr.choice("activation", Activation.self, default: .relu6)
                if oc > 0 { stem = StemSpec(outChannels: oc, kernel: k, stride: s, activation: a) }
            }
            sr.finish(into: &errors)
        }
        var stages: [StageSpec] = []
        if let arr = r.array("stages") {
            if arr.isEmpty {
                r.fail("stages", "is empty; a network needs at least one stage")
            } else if arr.count > Limits.stages.upperBound {
                r.fail("stages", "has \(arr.count) stages; at most \(Limits.stages.upperBound) are allowed")
            }
            for (i, sv) in arr.prefix(Limits.stages.upperBound).enumerated() {
                if let st = decodeStage(sv, path: "stages[\(i)]", errors: &errors) { stages.append(st) }
            }
        }
        var head = HeadSpec()
        if let hv = r.raw("head") {
            let hr = FieldReader(hv, path: "head", errors: &errors)
            if hr.isObject {
                head.convChannels = hr.int("conv_channels", default: 0, range: 0...Limits.channels.upperBound)
                head.activation = hr.choice("activation", Activation.self, default: .relu6)
                head.dropout = hr.double("dropout", default: 0.2, range: 0...0.95)
            }
            hr.finish(into: &errors)
        }
        let convBias = r.bool("conv_bias", default: false) ?? false
        r.finish(into: &errors)
        guard errors.isEmpty else { throw SpecErrors(errors) }
        let spec = ArchitectureSpec(name: name, input: input, numClasses: classes, stem: stem,
                                    stages: stages, head: head, convBias: convBias)
        try spec.validate()
        return spec
    }

    static func decodeStage(_ value: JSONValue, path: String, errors: inout [SpecError]) -> StageSpec? {
        let r = FieldReader(value, path: path, errors: &errors)
        guard r.isObject else { r.finish(into: &errors); return nil }
        let block = r.choice("block", BlockType.self, default: nil,
                             aliases: ["depthwise": .dsconv, "fused-mbconv": .fusedMBConv, "fusedmbconv": .fusedMBConv])
        let st = StageSpec(
            block: block,
            repeats: r.int("repeats", default: 1, range: Limits.repeats),
            outChannels: r.int("out_channels", range: Limits.channels, hint: "output channels of the stage"),
            kernel: r.int("kernel", default: 3, oneOf: Limits.kernels),
            stride: r.int("stride", default: 1, oneOf: Limits.strides),
            expansion: r.int("expansion", default: block == .mbconv || block == .fusedMBConv ? nil : 1,
                             range: Limits.expansion, hint: "expanded width = input channels × expansion"),
            seRatio: r.double("se_ratio", default: 0, range: 0...1),
            activation: r.choice("activation", Activation.self, default: .relu6,
                                 aliases: ["leakyrelu": .leakyRelu, "silu": .swish, "hardswish": .hswish]),
            skip: r.choice("skip", SkipType.self, default: SkipType.none, aliases: ["identity": .none]),
            postActivation: r.bool("post_activation", default: nil),
            shortcutBatchNorm: r.bool("shortcut_bn", default: true) ?? true)
        r.finish(into: &errors)
        return st
    }

    /// Checks what a single field cannot: the spatial size never collapses, the SE makes sense,
    /// every cost total fits in Int64 (`sizeErrors`).
    public func validate() throws {
        var errors: [SpecError] = []
        var h = input.height, w = input.width
        if let s = stem {
            (h, w) = ((h + s.stride - 1) / s.stride, (w + s.stride - 1) / s.stride)
        }
        for (i, st) in stages.enumerated() where st.stride == 2 {
            if h == 1 && w == 1 {
                errors.append(SpecError(path: "stages[\(i)].stride",
                    message: "2 would downsample a 1×1 feature map (input \(input.height)×\(input.width) is already reduced to 1×1); use stride 1 or a larger input resolution"))
            }
            (h, w) = ((h + 1) / 2, (w + 1) / 2)
        }
        for (i, st) in stages.enumerated() {
            if st.seRatio > 0 && (st.block == .conv || st.block == .basic) {
                errors.append(SpecError(path: "stages[\(i)].se_ratio",
                    message: "squeeze-excitation is not defined for block \"\(st.block.rawValue)\"; set 0 or use dsconv/mbconv/fused_mbconv"))
            }
        }
        if errors.isEmpty { errors = sizeErrors() }
        if !errors.isEmpty { throw SpecErrors(errors) }
    }

    /// The feature-map size after each stage's first layer, for messages and prompts.
    public func stageResolutions() -> [(height: Int, width: Int)] {
        var h = input.height, w = input.width
        if let s = stem { (h, w) = ((h + s.stride - 1) / s.stride, (w + s.stride - 1) / s.stride) }
        return stages.map { st in
            (h, w) = ((h + st.stride - 1) / st.stride, (w + st.stride - 1) / st.stride)
            return (h, w)
        }
    }

    /// Our JSON format with every field explicit (defaults filled in), keys sorted.
    public func jsonValue(includeName: Bool = true) -> JSONValue {
        var o: [String: JSONValue] = [
            "input": ["height": .number(Double(input.height)), "width": .number(Double(input.width)),
                      "channels": .number(Double(input.channels))],
            "num_classes": .number(Double(numClasses)),
            "stages": .array(stages.map { $0.jsonValue() }),
            "head": ["conv_channels": .number(Double(head.convChannels)), "activation": .string(head.activation.rawValue),
                     "dropout": .number(head.dropout)],
        ]
        if convBias { o["conv_bias"] = true }
        if let s = stem {
            o["stem"] = ["out_channels": .number(Double(s.outChannels)), "kernel": .number(Double(s.kernel)),
                         "stride": .number(Double(s.stride)), "activation": .string(s.activation.rawValue)]
        }
        if includeName, let n = name { o["name"] = .string(n) }
        return .object(o)
    }

    public func jsonText(pretty: Bool = true) -> String {
        pretty ? jsonValue().prettyText() : jsonValue().canonicalText()
    }
}

extension StageSpec {
    func jsonValue() -> JSONValue {
        var o: [String: JSONValue] = [
            "block": .string(block.rawValue), "repeats": .number(Double(repeats)),
            "out_channels": .number(Double(outChannels)), "kernel": .number(Double(kernel)),
            "stride": .number(Double(stride)), "expansion": .number(Double(expansion)),
            "se_ratio": .number(seRatio), "activation": .string(activation.rawValue), "skip": .string(skip.rawValue),
        ]
        if let p = postActivation { o["post_activation"] = .bool(p) }
        if !shortcutBatchNorm { o["shortcut_bn"] = false }
        return .object(o)
    }
}
