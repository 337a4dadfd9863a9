/// Built-in search spaces.
extension SearchSpace {
    /// The paper's Table I exactly: five stages, 160×160 RGB, no stem, no head conv.
    /// Size as the paper counts it: 17,280⁵ ≈ 1.5·10²¹.
    public static let paper = SearchSpace(
        name: "paper", resolutions: [160], inputChannels: 3, numStages: [5],
        stageChoices: StageChoices(
            block: [.dsconv, .mbconv], repeats: [1, 2, 3, 4, 6], outChannels: [16, 24, 32, 48, 64, 96, 128, 160],
            kernel: [3, 5, 7], stride: [1, 2], expansion: [3, 4, 6], seRatio: [0, 0.25, 0.5],
            activation: [.relu6, .leakyRelu, .swish], skip: [.none, .residual]),
        dropout: 0.2)

    /// MCU-friendly space for 32×32 RGB (CIFAR-10/100 at native size): a small stride-1 stem,
    /// 3–5 stages, kernels and activations that int8 runtimes execute efficiently.
    public static let mcu32 = SearchSpace(
        name: "mcu32", resolutions: [32], inputChannels: 3, numStages: [3, 4, 5],
        stageChoices: StageChoices(
            block: [.dsconv, .mbconv, .fusedMBConv], repeats: [1, 2, 3], outChannels: [16, 24, 32, 48, 64, 96, 128],
            kernel: [3, 5], stride: [1, 2], expansion: [2, 3, 4, 6], seRatio: [0, 0.25],
            activation: [.relu, .relu6, .hswish], skip: [.none, .residual]),
        stem: StemChoices(outChannels: [16, 24, 32], kernel: [3], stride: [1], activation: [.relu6]),
        dropout: 0.1)

    /// MCU-friendly space for 28×28 greyscale (MNIST, Fashion-MNIST): tiny and fast to train,
    /// so a CPU-only search explores many candidates.
    public static let mcu28 = SearchSpace(
        name: "mcu28", resolutions: [28], inputChannels: 1, numStages: [2, 3, 4],
        stageChoices: StageChoices(
            block: [.conv, .dsconv, .mbconv], repeats: [1, 2, 3], outChannels: [8, 16, 24, 32, 48, 64],
            kernel: [3, 5], stride: [1, 2], expansion: [2, 3, 4], seRatio: [0, 0.25],
            activation: [.relu, .relu6, .hswish], skip: [.none, .residual]),
        stem: StemChoices(outChannels: [8, 16, 24], kernel: [3], stride: [1, 2], activation: [.relu6]),
        dropout: 0.1)

    public static let presets: [SearchSpace] = [.paper, .mcu32, .mcu28]

    public static func preset(named name: String) -> SearchSpace? {
        presets.first { $0.name == name.lowercased() }
    }
}

extension SearchSpace {
    /// `count` valid samples drawn round-robin from every preset, each input resized to a random
    /// r × (r + 0…`maxExtraWidth`) with r in `sizes` (small, non-square inputs keep property tests
    /// fast and exercise uneven tiles). `accept` filters further (e.g. a parameter cap). The draws
    /// depend only on `seed`, so a failing sample is reproducible.
    public static func presetSamples(count: Int, seed: UInt64, sizes: ClosedRange<Int>, maxExtraWidth: Int,
                                     accept: (ArchitectureSpec) -> Bool = { _ in true }) -> [ArchitectureSpec] {
        var rng = SeededGenerator(seed: seed)
        var out: [ArchitectureSpec] = []
        while out.count < count {
            let space = presets[out.count % presets.count]
            guard var s = try? space.sample(numClasses: 10, using: &rng) else { continue }
            let r = Int.random(in: sizes, using: &rng)
            s.input = InputShape(height: r, width: r + Int.random(in: 0...maxExtraWidth, using: &rng), channels: s.input.channels)
            if (try? s.validate()) != nil, accept(s) { out.append(s) }
        }
        return out
    }
}
