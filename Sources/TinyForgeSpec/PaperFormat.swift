/// What the paper's JSON does not say and TinyForge must assume when importing it.
public struct PaperImportDefaults: Sendable {
    public var numClasses: Int
    public var resolution: Int
    public var dropout: Double
    /// The paper trains on CIFAR-100 upscaled to 160×160.
    public init(numClasses: Int = 100, resolution: Int = 160, dropout: Double = 0.2) {
        self.numClasses = numClasses; self.resolution = resolution; self.dropout = dropout
    }
}

/// The published system's `candidate_config` JSON, imported as is and exported back.
///
/// Import builds exactly the network their `LLMGenModel` builds: no stem, GAP, dropout,
/// linear; `depthwise` blocks ignore `expansion_factor`; SE only when `use_se` and
/// `se_ratio > 0`; `residual` only on stride-1 layers. Values outside their Table I (the
/// released models use expansion 2 and se_ratio 0) are accepted with a warning; an mbconv
/// with expansion 1 (not in Table I) gets TinyForge's convention, no expansion conv.
public enum PaperFormat {
    public static func decode(_ value: JSONValue, defaults: PaperImportDefaults = .init()) throws
        -> (spec: ArchitectureSpec, warnings: [String]) {
        var errors: [SpecError] = []
        var root = value
        var rootPath = ""
        if case .object(let o) = value, let inner = o["candidate_config"] {
            let extra = o.keys.filter { $0 != "candidate_config" && $0 != "metrics" }.sorted()
            for k in extra { errors.append(SpecError(path: k, message: "unknown key; the paper format has only \"candidate_config\" (and \"metrics\")")) }
            root = inner
            rootPath = "candidate_config"
        }
        let r = FieldReader(root, path: rootPath, errors: &errors)
        guard r.isObject else { r.finish(into: &errors); throw SpecErrors(errors) }
        let inCh = r.int("input_channels", default: 3, range: ArchitectureSpec.Limits.inputChannels)
        let pool = r.string("pool_type", default: "average") ?? "average"
        if !["average", "global"].contains(pool.lowercased()) {
            r.fail("pool_type", "\"\(pool)\" is not supported; use \"average\" (TinyForge deploys global average pooling)")
        }
        var stages: [StageSpec] = []
        if let blocks = r.array("blocks") {
            if blocks.isEmpty { r.fail("blocks", "is empty; a network needs at least one block") }
            for (i, bv) in blocks.prefix(ArchitectureSpec.Limits.stages.upperBound).enumerated() {
                let br = FieldReader(bv, path: r.sub("blocks[\(i)]"), errors: &errors)
                guard br.isObject else { br.finish(into: &errors); continue }
                let block = br.choice("conv_type", PaperBlock.self, default: nil)
                let useSE = br.bool("use_se", default: false) ?? false
                let ratio = br.double("se_ratio", default: 0, range: 0...1)
                let expansion = br.int("expansion_factor", default: 1, range: ArchitectureSpec.Limits.expansion)
                stages.append(StageSpec(
                    block: block == .depthwise ? .dsconv : .mbconv,
                    repeats: br.int("num_layers", range: ArchitectureSpec.Limits.repeats),
                    outChannels: br.int("output_channels", range: ArchitectureSpec.Limits.channels),
                    kernel: br.int("kernel_size", oneOf: ArchitectureSpec.Limits.kernels),
                    stride: br.int("stride", oneOf: ArchitectureSpec.Limits.strides),
                    expansion: block == .depthwise ? 1 : expansion,
                    seRatio: useSE ? ratio : 0,
                    activation: br.choice("activation", PaperActivation.self, default: nil).activation,
                    skip: br.choice("skip_op", PaperSkip.self, default: nil) == .residual ? .residual : .none))
                br.finish(into: &errors)
            }
        }
        r.finish(into: &errors)
        guard errors.isEmpty else { throw SpecErrors(errors) }
        let spec = ArchitectureSpec(
            name: nil, input: InputShape(height: defaults.resolution, width: defaults.resolution, channels: inCh),
            numClasses: defaults.numClasses, stem: nil, stages: stages,
            head: HeadSpec(convChannels: 0, activation: .relu6, dropout: defaults.dropout))
        try spec.validate()
        var warnings: [String] = []
        let space = SearchSpace.paper
        for reason in space.violations(of: spec, ignoreResolution: true) {
            warnings.append("outside the paper's Table I: \(reason)")
        }
        for (i, st) in spec.stages.enumerated() where st.block == .mbconv && st.expansion == 1 {
            warnings.append("blocks[\(i)]: an mbconv with expansion_factor 1 is built without an expansion conv (as torchvision, timm and Keras build it); the paper's Table I has no expansion 1")
        }
        return (spec, warnings)
    }

    /// The paper's JSON for a spec that their code can build; otherwise the reason it cannot.
    public static func encode(_ spec: ArchitectureSpec) throws -> JSONValue {
        var problems: [SpecError] = []
        if spec.stem != nil { problems.append(SpecError(path: "stem", message: "the paper's networks have no stem")) }
        if spec.head.convChannels != 0 { problems.append(SpecError(path: "head.conv_channels", message: "the paper's networks have no head conv")) }
        if spec.convBias { problems.append(SpecError(path: "conv_bias", message: "the paper's convs have no bias")) }
        var blocks: [JSONValue] = []
        for (i, st) in spec.stages.enumerated() {
            let p = "stages[\(i)]"
            if st.block != .dsconv && st.block != .mbconv { problems.append(SpecError(path: "\(p).block", message: "\"\(st.block.rawValue)\" has no paper equivalent (dsconv, mbconv)")) }
            if st.skip != .none && st.skip != .residual { problems.append(SpecError(path: "\(p).skip", message: "\"\(st.skip.rawValue)\" has no paper equivalent (none, residual)")) }
            if st.activation == .hswish { problems.append(SpecError(path: "\(p).activation", message: "hswish has no paper equivalent")) }
            if st.effectivePostActivation { problems.append(SpecError(path: "\(p).post_activation", message: "the paper's blocks end without an activation")) }
            let act: String = st.activation == .leakyRelu ? "leakyrelu" : st.activation.rawValue
            blocks.append([
                "output_channels": .number(Double(st.outChannels)), "num_layers": .number(Double(st.repeats)),
                "kernel_size": .number(Double(st.kernel)), "stride": .number(Double(st.stride)),
                "expansion_factor": .number(Double(st.expansion)), "use_se": .bool(st.seRatio > 0),
                "se_ratio": .number(st.seRatio), "conv_type": .string(st.block == .dsconv ? "depthwise" : "mbconv"),
                "skip_op": .string(st.skip == .residual ? "residual" : "identity"), "activation": .string(act),
            ])
        }
        if !problems.isEmpty { throw SpecErrors(problems) }
        return ["candidate_config": ["input_channels": .number(Double(spec.input.channels)), "blocks": .array(blocks),
                                     "pool_type": "average"]]
    }
}

enum PaperBlock: String, CaseIterable { case depthwise, mbconv }
enum PaperSkip: String, CaseIterable { case identity, residual }
enum PaperActivation: String, CaseIterable {
    case relu, relu6, leakyrelu, swish
    var activation: Activation {
        switch self {
        case .relu: return .relu
        case .relu6: return .relu6
        case .leakyrelu: return .leakyRelu
        case .swish: return .swish
        }
    }
}
