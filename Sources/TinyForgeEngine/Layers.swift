import TinyForgeSpec

/// Global average pool: (N,H,W,C) → (N,C).
public final class GlobalAvgPool: Layer {
    let pool: ThreadPool
    var inShape: [Int] = []
    var y, dx: Tensor?
    public init(pool: ThreadPool) { self.pool = pool }
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        checkShape(x, [nil, nil, nil, nil], "GlobalAvgPool")
        let y = Tensor.reuse(self.y, shape: [x.n, x.c]); self.y = y; inShape = x.shape
        let px = x.h * x.w, c = x.c
        pool.parallelFor(x.n) { imgs, _ in
            for i in imgs { Pool.gapForward(x.data + i * px * c, y.data + i * c, pixels: px, c: c) }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = Tensor.reuse(self.dx, shape: inShape); self.dx = dx
        let px = inShape[1] * inShape[2], c = inShape[3]
        pool.parallelFor(inShape[0]) { imgs, _ in
            for i in imgs { Pool.gapBackward(dy.data + i * c, dx.data + i * px * c, pixels: px, c: c) }
        }
        return dx
    }
}

/// Fully connected layer with bias: (N, in) → (N, out). Weight stored (in, out), i.e. the
/// transpose of PyTorch's `nn.Linear.weight` (out, in); same parameter count.
/// Init N(0, 0.01), bias 0 (the usual classifier init of MobileNet-style nets).
public final class Linear: Layer {
    public let inFeatures, outFeatures: Int
    public let weight, weightGrad, bias, biasGrad: Tensor
    let pool: ThreadPool
    var input: Tensor?
    var y, dx: Tensor?

    public init(inFeatures: Int, outFeatures: Int, pool: ThreadPool, rng: inout SeededGenerator) throws {
        guard inFeatures > 0, outFeatures > 0 else { throw EngineError("Linear: inFeatures=\(inFeatures), outFeatures=\(outFeatures) must be ≥ 1") }
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.pool = pool
        weight = Tensor(shape: [inFeatures, outFeatures]); weightGrad = Tensor(shape: [inFeatures, outFeatures])
        bias = Tensor(shape: [outFeatures]); biasGrad = Tensor(shape: [outFeatures])
        for i in 0..<weight.count { weight[i] = 0.01 * rng.nextGaussian() }
    }

    public var parameters: [Parameter] {
        [Parameter(name: "weight", value: weight, grad: weightGrad, isBatchNormOrBias: false),
         Parameter(name: "bias", value: bias, grad: biasGrad, isBatchNormOrBias: true)]
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        checkShape(x, [nil, inFeatures], "Linear(\(inFeatures)→\(outFeatures))")
        let y = Tensor.reuse(self.y, shape: [x.n, outFeatures]); self.y = y; input = x
        Dense.forward(x.data, weight.data, bias.data, y.data, n: x.n, cin: inFeatures, cout: outFeatures, ws: pool.workspaces[0])
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward called before forward") }
        let dx = Tensor.reuse(self.dx, shape: x.shape); self.dx = dx
        Dense.backward(x.data, weight.data, dy.data, dw: weightGrad.data, db: biasGrad.data, dx: dx.data,
                       n: x.n, cin: inFeatures, cout: outFeatures, ws: pool.workspaces[0])
        return dx
    }
}

/// Inverted dropout: in training, zero each element with probability p and scale the rest by
/// 1/(1−p); identity in eval. The mask stream comes from the seed given at init, so a run
/// is reproducible.
public final class Dropout: Layer {
    public let p: Float
    var rng: SeededGenerator
    var mask: Tensor?
    var y, dx: Tensor?
    var active = false

    public init(p: Float, rng: inout SeededGenerator) throws {
        guard p >= 0 && p < 1 else { throw EngineError("Dropout: p=\(p) must be in [0, 1)") }
        self.p = p
        self.rng = SeededGenerator(seed: rng.next())
    }
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        active = training && p > 0
        if !active { return x }
        let m = Tensor.reuse(mask, shape: x.shape), y = Tensor.reuse(self.y, shape: x.shape)
        mask = m; self.y = y
        let keep = 1 / (1 - p)
        for i in 0..<x.count {
            m[i] = rng.nextFloat() < p ? 0 : keep
            y[i] = x[i] * m[i]
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if !active { return dy }
        let m = mask!
        let dx = Tensor.reuse(self.dx, shape: dy.shape); self.dx = dx
        for i in 0..<dy.count { dx[i] = dy[i] * m[i] }
        return dx
    }
}

/// y = act(a + b) for residual connections (act optional). Two inputs, so not a `Layer`.
public final class ResidualAdd {
    public let activation: KernelActivation?
    let pool: ThreadPool
    var y, d: Tensor?
    var sum: Tensor?

    public init(activation: KernelActivation? = nil, pool: ThreadPool) { self.activation = activation; self.pool = pool }

    public func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "ResidualAdd: shapes \(a.shape) and \(b.shape) differ")
        let y = Tensor.reuse(self.y, shape: a.shape); self.y = y
        let u = activation == nil ? y : Tensor.reuse(sum, shape: a.shape); sum = u
        let c = a.c, rows = a.count / c, act = activation
        withOnes(c) { one, zero in
            pool.parallelFor(rows) { r, _ in
                let o = r.lowerBound * c
                for i in o..<(r.upperBound * c) { u.data[i] = a.data[i] + b.data[i] }
                if act != nil { BNAct.apply(u.data + o, y.data + o, rows: r.count, c: c, scale: one, shift: zero, act: act) }
            }
        }
        return y
    }

    /// Returns one tensor that is the gradient of both inputs (d(a+b)/da = d(a+b)/db = 1).
    public func backward(_ dy: Tensor) -> Tensor {
        guard let act = activation else { return dy }
        let u = sum!
        let d = Tensor.reuse(self.d, shape: dy.shape); self.d = d
        let c = dy.c, rows = dy.count / c
        withOnes(c) { one, zero in
            pool.parallelFor(rows) { r, _ in
                let o = r.lowerBound * c
                BNAct.gradInput(dy.data + o, u.data + o, d.data + o, rows: r.count, c: c, scale: one, shift: zero,
                                k1: zero, k2: zero, act: act)
            }
        }
        return d
    }
}

func withOnes<R>(_ c: Int, _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
    let one = [Float](repeating: 1, count: c), zero = [Float](repeating: 0, count: c)
    return one.withUnsafeBufferPointer { o in zero.withUnsafeBufferPointer { z in body(o.baseAddress!, z.baseAddress!) } }
}
