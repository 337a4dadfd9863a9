/// Distillation teachers: networks far outside any MCU budget whose only job is to be clearly
/// more accurate than the front's students (a teacher barely above its student teaches it
/// nothing). They are ordinary `ArchitectureSpec`s, so checkpoints, `evaluate` and the cost
/// model work on them unchanged.
public enum TeacherPreset: String, CaseIterable, Sendable {
    /// A wide ResNet (Zagoruyko & Komodakis): a full-resolution stem, then three stages of
    /// basic residual blocks at 32·w / 64·w / 128·w channels (stride 1, 2, 2), ReLU, shortcut
    /// on every block (projection where the shape changes). ≈ 37 M MACs at 28×28×1, w = 1.
    case wideResNet = "wide-resnet"
    /// A plain VGG-style stack (no shortcuts): conv pairs at 32·w / 64·w / 128·w channels,
    /// the second of each pair strided, then a 256·w 1×1 head conv. ≈ 21 M MACs at 28×28×1.
    case largeCNN = "large-cnn"

    /// The preset for `input` and `classes`. `width` multiplies every channel count (2 = the
    /// "2× width teacher"); channel counts are rounded to multiples of 8 (at least 8).
    /// `depth`: basic blocks per wide-resnet stage (conv pairs per large-cnn stage).
    public func spec(input: InputShape, classes: Int, width: Double = 1, depth: Int = 1) -> ArchitectureSpec {
        func ch(_ base: Int) -> Int { max(8, Int((Double(base) * width / 8).rounded()) * 8) }
        let d = max(depth, 1)
        switch self {
        case .wideResNet:
            let stages = [(32, 1), (64, 2), (128, 2)].map { c, s in
                StageSpec(block: .basic, repeats: d, outChannels: ch(c), kernel: 3, stride: s, activation: .relu, skip: .residualFull)
            }
            return ArchitectureSpec(name: "teacher-wide-resnet-w\(Self.label(width))-d\(d)", input: input, numClasses: classes,
                                    stem: StemSpec(outChannels: ch(32), kernel: 3, stride: 1, activation: .relu),
                                    stages: stages, head: HeadSpec(convChannels: 0, activation: .relu, dropout: 0.3))
        case .largeCNN:
            var stages: [StageSpec] = []
            for (c, s) in [(32, 2), (64, 2), (128, 1)] {
                // The unstrided convs of a pair first, then the strided one (stride on the last
                // layer of the pair keeps the early convs at the higher resolution).
                stages.append(StageSpec(block: .conv, repeats: d, outChannels: ch(c), kernel: 3, stride: 1, activation: .relu))
                stages.append(StageSpec(block: .conv, repeats: 1, outChannels: ch(c), kernel: 3, stride: s, activation: .relu))
            }
            return ArchitectureSpec(name: "teacher-large-cnn-w\(Self.label(width))-d\(d)", input: input, numClasses: classes,
                                    stem: nil, stages: stages, head: HeadSpec(convChannels: ch(256), activation: .relu, dropout: 0.3))
        }
    }

    static func label(_ w: Double) -> String {
        w == w.rounded() ? String(Int(w)) : String(w)
    }
}
