import TinyForgeSpec

/// Squeeze-excitation: s = sigmoid(W2·relu(W1·GAP(x) + b1) + b2), y = x ⊙ s (per image and
/// channel). The two FCs are PyTorch's 1×1 convs with bias: weights (C, R) and (R, C) stored
/// (in, out); parameter count C·R + R + R·C + C. Kaiming-normal (fan_out) weights, zero biases.
public final class SqueezeExcite: Layer {
    public let channels, reduced: Int
    public let w1, w1Grad, b1, b1Grad, w2, w2Grad, b2, b2Grad: Tensor
    let pool: ThreadPool
    var input: Tensor?
    var pooled, hidden, gate, y, dx, dGate, dHidden, dPooled: Tensor?

    /// - Parameter reduced: hidden width, e.g. `max(1, Int(Float(C)·ratio))`.
    public init(channels: Int, reduced: Int, pool: ThreadPool, rng: inout SeededGenerator) throws {
        guard channels > 0, reduced > 0 else { throw EngineError("SqueezeExcite: channels=\(channels), reduced=\(reduced) must be ≥ 1") }
        self.channels = channels; self.reduced = reduced; self.pool = pool
        w1 = Tensor(shape: [channels, reduced]); w1Grad = Tensor(shape: [channels, reduced])
        b1 = Tensor(shape: [reduced]); b1Grad = Tensor(shape: [reduced])
        w2 = Tensor(shape: [reduced, channels]); w2Grad = Tensor(shape: [reduced, channels])
        b2 = Tensor(shape: [channels]); b2Grad = Tensor(shape: [channels])
        kaimingNormal(w1, fanOut: reduced, rng: &rng)
        kaimingNormal(w2, fanOut: channels, rng: &rng)
    }

    public var parameters: [Parameter] {
        [Parameter(name: "fc1.weight", value: w1, grad: w1Grad, isBatchNormOrBias: false),
         Parameter(name: "fc1.bias", value: b1, grad: b1Grad, isBatchNormOrBias: true),
         Parameter(name: "fc2.weight", value: w2, grad: w2Grad, isBatchNormOrBias: false),
         Parameter(name: "fc2.bias", value: b2, grad: b2Grad, isBatchNormOrBias: true)]
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        checkShape(x, [nil, nil, nil, channels], "SqueezeExcite(\(channels))")
        let n = x.n, c = channels, r = reduced, px = x.h * x.w
        let pooled = Tensor.reuse(self.pooled, shape: [n, c]), hidden = Tensor.reuse(self.hidden, shape: [n, r])
        let gate = Tensor.reuse(self.gate, shape: [n, c]), y = Tensor.reuse(self.y, shape: x.shape)
        self.pooled = pooled; self.hidden = hidden; self.gate = gate; self.y = y; input = x
        pool.parallelFor(n) { imgs, _ in
            for i in imgs { Pool.gapForward(x.data + i * px * c, pooled.data + i * c, pixels: px, c: c) }
        }
        let ws = pool.workspaces[0]
        Dense.forward(pooled.data, w1.data, b1.data, hidden.data, n: n, cin: c, cout: r, ws: ws)
        for i in 0..<hidden.count { hidden[i] = max(hidden[i], 0) }
        Dense.forward(hidden.data, w2.data, b2.data, gate.data, n: n, cin: r, cout: c, ws: ws)
        for i in 0..<gate.count { gate[i] = KernelActivation.sigmoid.apply(gate[i]) }
        pool.parallelFor(n) { imgs, _ in
            for i in imgs {
                let g = gate.data + i * c
                for p in 0..<px {
                    let o = (i * px + p) * c
                    for ch in 0..<c { y.data[o + ch] = x.data[o + ch] * g[ch] }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let gate = gate, let hidden = hidden, let pooled = pooled else {
            preconditionFailure("SqueezeExcite.backward called before forward")
        }
        let n = x.n, c = channels, r = reduced, px = x.h * x.w
        let dx = Tensor.reuse(self.dx, shape: x.shape), dGate = Tensor.reuse(self.dGate, shape: [n, c])
        let dHidden = Tensor.reuse(self.dHidden, shape: [n, r]), dPooled = Tensor.reuse(self.dPooled, shape: [n, c])
        self.dx = dx; self.dGate = dGate; self.dHidden = dHidden; self.dPooled = dPooled
        // dgate = Σ_hw dy·x, then through the sigmoid: dpre2 = dgate·s(1−s)
        pool.parallelFor(n) { imgs, _ in
            for i in imgs {
                let dg = dGate.data + i * c
                dg.update(repeating: 0, count: c)
                for p in 0..<px {
                    let o = (i * px + p) * c
                    for ch in 0..<c { dg[ch] += dy.data[o + ch] * x.data[o + ch] }
                }
                for ch in 0..<c { let s = gate.data[i * c + ch]; dg[ch] *= s * (1 - s) }
            }
        }
        let ws = pool.workspaces[0]
        Dense.backward(hidden.data, w2.data, dGate.data, dw: w2Grad.data, db: b2Grad.data, dx: dHidden.data,
                       n: n, cin: r, cout: c, ws: ws)
        for i in 0..<dHidden.count where hidden[i] <= 0 { dHidden[i] = 0 }
        Dense.backward(pooled.data, w1.data, dHidden.data, dw: w1Grad.data, db: b1Grad.data, dx: dPooled.data,
                       n: n, cin: c, cout: r, ws: ws)
        // dx = dy·s + dpooled/(H·W)
        let inv = 1 / Float(px)
        pool.parallelFor(n) { imgs, _ in
            for i in imgs {
                let g = gate.data + i * c, dp = dPooled.data + i * c
                for p in 0..<px {
                    let o = (i * px + p) * c
                    for ch in 0..<c { dx.data[o + ch] = dy.data[o + ch] * g[ch] + dp[ch] * inv }
                }
            }
        }
        return dx
    }
}
