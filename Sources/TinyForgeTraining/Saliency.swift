import TinyForgeEngine

extension Network {
    /// Gradient saliency: |∂ logit[class] / ∂ input|, max over channels, per image — which
    /// pixels the predicted (or given) class is most sensitive to. Eval mode, weights untouched.
    /// x is (N,H,W,C); returns N maps of H·W values and the classes explained.
    public func saliency(_ x: Tensor, classes: [Int]? = nil) -> (maps: [[Float]], classes: [Int]) {
        let firstConv = firstInputConv
        let saved = firstConv?.computeInputGradient
        firstConv?.computeInputGradient = true
        defer { if let s = saved { firstConv?.computeInputGradient = s } }
        zeroGrad()
        let logits = forward(x, training: false)
        let n = logits.n, k = logits.c
        var chosen: [Int] = []
        let d = Tensor(shape: [n, k])
        for i in 0..<n {
            var best = 0
            for j in 1..<k where logits[i * k + j] > logits[i * k + best] { best = j }
            let c = classes?[i] ?? best
            chosen.append(c)
            d[i * k + c] = 1
        }
        let dx = backwardToInput(d)
        zeroGrad()
        let px = x.h * x.w, ch = x.c
        let maps: [[Float]] = (0..<n).map { i in
            (0..<px).map { p in
                var m: Float = 0
                for c in 0..<ch { m = max(m, abs(dx[(i * px + p) * ch + c])) }
                return m
            }
        }
        return (maps, chosen)
    }
}
