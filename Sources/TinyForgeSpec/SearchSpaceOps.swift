/// Sampling, membership, mutation and crossover over a `SearchSpace`.
extension SearchSpace {
    /// Every reason `spec` is outside this space, each with its field path
    /// (`stages[2].kernel: 9 is not one of 3, 5, 7`). Empty = inside.
    public func violations(of spec: ArchitectureSpec, ignoreResolution: Bool = false) -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ path: String, _ v: T, _ allowed: [T], _ show: (T) -> String) {
            if !allowed.contains(v) {
                out.append("\(path): \(show(v)) is not one of \(allowed.map(show).joined(separator: ", "))")
            }
        }
        let num: (Int) -> String = { String($0) }
        let dbl: (Double) -> String = { JSONValue.formatNumber($0) }
        if !ignoreResolution {
            if spec.input.height != spec.input.width {
                out.append("input: \(spec.input.height)×\(spec.input.width) is not square; the space has square inputs")
            }
            check("input.height", spec.input.height, resolutions, num)
        }
        check("input.channels", spec.input.channels, [inputChannels], num)
        check("stages", spec.stages.count, numStages) { "\($0) stages" }
        switch (stem, spec.stem) {
        case (nil, .some): out.append("stem: this space has no stem; remove it")
        case (.some, nil): out.append("stem: this space requires a stem")
        case let (.some(c), .some(s)):
            check("stem.out_channels", s.outChannels, c.outChannels, num)
            check("stem.kernel", s.kernel, c.kernel, num)
            check("stem.stride", s.stride, c.stride, num)
            check("stem.activation", s.activation, c.activation) { $0.rawValue }
        case (nil, nil): break
        }
        for (i, st) in spec.stages.enumerated() {
            let c = choices(forStage: i), p = "stages[\(i)]"
            check("\(p).block", st.block, c.block) { $0.rawValue }
            check("\(p).repeats", st.repeats, c.repeats, num)
            check("\(p).out_channels", st.outChannels, c.outChannels, num)
            check("\(p).kernel", st.kernel, c.kernel, num)
            check("\(p).stride", st.stride, c.stride, num)
            if st.usesExpansion { check("\(p).expansion", st.expansion, c.expansion, num) }
            check("\(p).se_ratio", st.seRatio, c.seRatio, dbl)
            check("\(p).activation", st.activation, c.activation) { $0.rawValue }
            check("\(p).skip", st.skip, c.skip) { $0.rawValue }
            if st.postActivation != nil && st.postActivation != (st.block == .basic) {
                out.append("\(p).post_activation: not a choice of this space; remove it")
            }
            if !st.shortcutBatchNorm { out.append("\(p).shortcut_bn: not a choice of this space; remove it") }
        }
        check("head.conv_channels", spec.head.convChannels, headConvChannels, num)
        if spec.convBias { out.append("conv_bias: not a choice of this space; remove it") }
        return out
    }

    public func contains(_ spec: ArchitectureSpec) -> Bool { violations(of: spec).isEmpty }

    /// A uniform sample of every field; resampled (up to `maxAttempts`) until the network is
    /// structurally valid (e.g. no stride 2 on a 1×1 map).
    public func sample<G: RandomNumberGenerator>(numClasses: Int, using rng: inout G,
                                                 maxAttempts: Int = 1000) throws -> ArchitectureSpec {
        for _ in 0..<maxAttempts {
            let res = resolutions.randomElement(using: &rng)!
            let n = numStages.randomElement(using: &rng)!
            var stemSpec: StemSpec?
            if let s = stem {
                stemSpec = StemSpec(outChannels: s.outChannels.randomElement(using: &rng)!,
                                    kernel: s.kernel.randomElement(using: &rng)!,
                                    stride: s.stride.randomElement(using: &rng)!,
                                    activation: s.activation.randomElement(using: &rng)!)
            }
            let stages = (0..<n).map { randomStage(i: $0, using: &rng) }
            let spec = ArchitectureSpec(input: InputShape(height: res, width: res, channels: inputChannels),
                                        numClasses: numClasses, stem: stemSpec, stages: stages,
                                        head: HeadSpec(convChannels: headConvChannels.randomElement(using: &rng)!,
                                                       dropout: dropout))
            if (try? spec.validate()) != nil { return spec }
        }
        throw SpecError(path: "search space \(name)", message: "no valid network found in \(maxAttempts) samples; the stride choices downsample below 1×1 too often — allow stride 1 or larger resolutions")
    }

    func randomStage<G: RandomNumberGenerator>(i: Int, using rng: inout G) -> StageSpec {
        let c = choices(forStage: i)
        let block = c.block.randomElement(using: &rng)!
        return StageSpec(block: block, repeats: c.repeats.randomElement(using: &rng)!,
                         outChannels: c.outChannels.randomElement(using: &rng)!,
                         kernel: c.kernel.randomElement(using: &rng)!, stride: c.stride.randomElement(using: &rng)!,
                         expansion: (block == .mbconv || block == .fusedMBConv) ? c.expansion.randomElement(using: &rng)! : 1,
                         seRatio: (block == .conv || block == .basic) ? 0 : c.seRatio.randomElement(using: &rng)!,
                         activation: c.activation.randomElement(using: &rng)!, skip: c.skip.randomElement(using: &rng)!)
    }

    /// Changes exactly one field of one stage (or the stage count / resolution) to another
    /// allowed value, keeping the result valid and inside the space. Returns the mutated spec
    /// and a description such as `stages[3].kernel 5→7`.
    public func mutate<G: RandomNumberGenerator>(_ spec: ArchitectureSpec, using rng: inout G,
                                                 maxAttempts: Int = 200) -> (spec: ArchitectureSpec, change: String)? {
        for _ in 0..<maxAttempts {
            var s = spec
            var change = ""
            let roll = Int.random(in: 0..<20, using: &rng)
            if roll == 0, resolutions.count > 1 {
                let r = resolutions.filter { $0 != s.input.height }.randomElement(using: &rng)!
                change = "input \(s.input.height)→\(r)"; s.input.height = r; s.input.width = r
            } else if roll == 1, numStages.count > 1 {
                let n = numStages.filter { $0 != s.stages.count }.randomElement(using: &rng)!
                change = "stages \(s.stages.count)→\(n)"
                if n < s.stages.count { s.stages.removeLast(s.stages.count - n) }
                while s.stages.count < n { s.stages.append(randomStage(i: s.stages.count, using: &rng)) }
            } else {
                let i = Int.random(in: 0..<s.stages.count, using: &rng)
                let c = choices(forStage: i)
                var st = s.stages[i]
                let p = "stages[\(i)]"
                func pick<T: Equatable>(_ cur: T, _ all: [T]) -> T? { all.filter { $0 != cur }.randomElement(using: &rng) }
                switch Int.random(in: 0..<9, using: &rng) {
                case 0: if let v = pick(st.block, c.block) {
                    change = "\(p).block \(st.block.rawValue)→\(v.rawValue)"; st.block = v
                    if st.usesExpansion && !c.expansion.contains(st.expansion) { st.expansion = c.expansion.randomElement(using: &rng)! }
                    if !st.usesExpansion { st.expansion = 1 }
                    if v == .conv || v == .basic { st.seRatio = 0 }
                }
                case 1: if let v = pick(st.repeats, c.repeats) { change = "\(p).repeats \(st.repeats)→\(v)"; st.repeats = v }
                case 2: if let v = pick(st.outChannels, c.outChannels) { change = "\(p).out_channels \(st.outChannels)→\(v)"; st.outChannels = v }
                case 3: if let v = pick(st.kernel, c.kernel) { change = "\(p).kernel \(st.kernel)→\(v)"; st.kernel = v }
                case 4: if let v = pick(st.stride, c.stride) { change = "\(p).stride \(st.stride)→\(v)"; st.stride = v }
                case 5: if st.usesExpansion, let v = pick(st.expansion, c.expansion) { change = "\(p).expansion \(st.expansion)→\(v)"; st.expansion = v }
                case 6: if st.block != .conv && st.block != .basic, let v = pick(st.seRatio, c.seRatio) {
                    change = "\(p).se_ratio \(JSONValue.formatNumber(st.seRatio))→\(JSONValue.formatNumber(v))"; st.seRatio = v }
                case 7: if let v = pick(st.activation, c.activation) { change = "\(p).activation \(st.activation.rawValue)→\(v.rawValue)"; st.activation = v }
                default: if let v = pick(st.skip, c.skip) { change = "\(p).skip \(st.skip.rawValue)→\(v.rawValue)"; st.skip = v }
                }
                s.stages[i] = st
            }
            if change.isEmpty { continue }
            if (try? s.validate()) != nil, violations(of: s).isEmpty, s.canonicalHash != spec.canonicalHash {
                return (s, change)
            }
        }
        return nil
    }

    /// Uniform crossover of stages (stage i from either parent); the stage count, resolution,
    /// stem and head come from one parent. Returns nil when no valid child was found.
    public func crossover<G: RandomNumberGenerator>(_ a: ArchitectureSpec, _ b: ArchitectureSpec,
                                                    using rng: inout G, maxAttempts: Int = 50) -> ArchitectureSpec? {
        for _ in 0..<maxAttempts {
            var child = Bool.random(using: &rng) ? a : b
            for i in 0..<child.stages.count {
                let donor = Bool.random(using: &rng) ? a : b
                if i < donor.stages.count { child.stages[i] = donor.stages[i] }
            }
            child.name = nil
            if (try? child.validate()) != nil, violations(of: child).isEmpty { return child }
        }
        return nil
    }
}
