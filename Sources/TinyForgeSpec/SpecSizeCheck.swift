extension ArchitectureSpec {
    /// The largest work bound a valid network may have. Every count the cost model, memory
    /// planner and exporters derive from a spec (MACs, parameters, activation elements,
    /// element-wise ops, flash bytes ≤ 13 × weights) is at most 16 × this bound, so with it
    /// they all stay inside Int64 even where `-Ounchecked` would wrap silently. Real networks
    /// are far below it (a ResNet-50 at 2048 px is about 10¹³).
    public static let maxWorkBound = Int.max / 64

    /// Checks that the network's cost totals fit in Int64, layer by layer, with overflow-checked
    /// arithmetic; the error names the first stage (or stem, head) where the bound is passed.
    ///
    /// The bound of a layer is `H_in·W_in·M²·k²·4 + 2·M²` with `M` the widest of its input,
    /// expanded and output channels: it covers each of the ≤ 4 convolutions of a block, the
    /// squeeze-excitation and a projection shortcut, whatever the block type.
    func sizeErrors() -> [SpecError] {
        var total = 0
        var h = input.height, w = input.width
        func add(_ path: String, _ hin: Int, _ win: Int, _ widths: [Int], _ k: Int) -> SpecError? {
            let m = widths.max() ?? 1
            guard let convs = Checked.product([hin, win, m, m, k, k, 4]), let se = Checked.product([2, m, m]),
                  let t = Checked.sum([total, convs, se]), t <= Self.maxWorkBound else {
                return SpecError(path: path, message: "the network is too large to cost: by here its work bound (Σ H·W·C²·k² over layers) passes \(Self.maxWorkBound), beyond which MAC, parameter or byte totals could exceed Int64; use fewer repeats or channels, or a smaller input")
            }
            total = t
            return nil
        }
        guard Checked.product([input.height, input.width, input.channels]) != nil else {
            return [SpecError(path: "input", message: "\(input.height)×\(input.width)×\(input.channels) elements exceed Int64")]
        }
        if let s = stem {
            if let e = add("stem", h, w, [input.channels, s.outChannels], s.kernel) { return [e] }
            (h, w) = ((h + s.stride - 1) / s.stride, (w + s.stride - 1) / s.stride)
        }
        for l in expandedLayers() {
            let path = "stages[\(l.stageIndex)]" + (l.layerIndex > 0 ? " (layer \(l.layerIndex))" : "")
            if let e = add(path, h, w, [l.inChannels, l.midChannels, l.outChannels, l.seChannels], l.kernel) { return [e] }
            (h, w) = ((h + l.stride - 1) / l.stride, (w + l.stride - 1) / l.stride)
        }
        let last = stages.last?.outChannels ?? stem?.outChannels ?? input.channels
        if let e = add("head.conv_channels", h, w, [last, head.convChannels], 1) { return [e] }
        if let e = add("num_classes", 1, 1, [max(last, head.convChannels), numClasses], 1) { return [e] }
        return []
    }
}
