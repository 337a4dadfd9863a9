import TinyForgeSpec

/// Convolution (full or depthwise, k ∈ {1,3,5,7}, stride 1/2, 'same' padding) → optional
/// batch norm → optional activation, as one layer so the BN/activation passes run fused on
/// cache-resident chunks of the conv output (see `BNAct`). Two such layers can be linked
/// (`link(producer:consumer:)`, a `LayerLink`) so that the reader applies the producer's BN +
/// activation.
///
/// Threading: the batch is split into the pool's fixed shares (whole images per share, so
/// col2im scatters never race), claimed by whichever thread is running; BN sums and weight
/// gradients go to per-share buffers summed in share order at the end, so results are
/// deterministic for a given thread count however the OS schedules the threads.
public final class ConvBNAct: Layer {
    public let cin, cout, kernel, stride: Int
    public let depthwise: Bool
    public let hasBias: Bool
    public let batchNorm: Bool
    public let activation: KernelActivation?
    /// Set false for the first layer: skips dL/dx (`backward` then returns an empty gradient).
    public var computeInputGradient = true

    /// HWIO: `[k, k, cin, cout]`, or `[k, k, C]` when depthwise.
    public let weight, weightGrad: Tensor
    public let bias, biasGrad: Tensor?
    public let gamma, beta, gammaGrad, betaGrad: Tensor?
    public let runningMean, runningVar: Tensor?

    let pool: ThreadPool
    // caches for backward
    var input: Tensor?
    var z, y, dx: Tensor?
    /// The per-channel affine map `y = act(z·scale + shift)` of the last forward and the BN
    /// statistics it came from; tensors so kernels (and a linked consumer) take their pointers.
    let scale, shift, mean, invStd: Tensor
    /// Backward's per-channel BN coefficients (`dz = scale·g + k1 + k2·z`), reused across batches.
    let k1, k2: Tensor
    var usedBatchStats = false
    var threadGrads: [Tensor] = []
    /// The weights packed once per pass for the GEMM (forward: W, backward: Wᵀ), shared
    /// read-only by every chunk and thread instead of being repacked per chunk.
    var packedW: Tensor?

    /// Set by `link` on a producer: `forward` returns the pre-activation `z` and the consumer
    /// applies this layer's BN + activation as it reads it, so `y` is never written.
    public internal(set) var outputLink: LayerLink?
    /// Set by `link` on a consumer: the link to the producer whose pending transform it applies.
    public internal(set) var inputLink: LayerLink?
    public var defersOutput: Bool { outputLink != nil }

    /// - Parameters:
    ///   - groups: 1 (full conv) or `cin` (depthwise, requires `cout == cin`).
    ///   - rng: draws Kaiming-normal weights (fan_out, ReLU gain).
    public init(cin: Int, cout: Int, kernel: Int, stride: Int = 1, groups: Int = 1, bias: Bool = false,
                batchNorm: Bool = true, activation: KernelActivation?, pool: ThreadPool,
                rng: inout SeededGenerator) throws {
        guard cin > 0, cout > 0 else { throw EngineError("ConvBNAct: cin=\(cin), cout=\(cout) must be ≥ 1") }
        guard [1, 3, 5, 7].contains(kernel) else { throw EngineError("ConvBNAct: kernel=\(kernel) unsupported; use 1, 3, 5 or 7") }
        guard stride == 1 || stride == 2 else { throw EngineError("ConvBNAct: stride=\(stride) unsupported; use 1 or 2") }
        guard groups == 1 || (groups == cin && cout == cin) else {
            throw EngineError("ConvBNAct: groups=\(groups) unsupported; use 1 (full) or groups = cin = cout (depthwise, got cin=\(cin), cout=\(cout))")
        }
        self.cin = cin; self.cout = cout; self.kernel = kernel; self.stride = stride
        self.depthwise = groups != 1
        self.hasBias = bias; self.batchNorm = batchNorm; self.activation = activation; self.pool = pool
        let wshape = depthwise ? [kernel, kernel, cout] : [kernel, kernel, cin, cout]
        weight = Tensor(shape: wshape); weightGrad = Tensor(shape: wshape)
        kaimingNormal(weight, fanOut: cout * kernel * kernel, rng: &rng)
        if bias { self.bias = Tensor(shape: [cout]); biasGrad = Tensor(shape: [cout]) } else { self.bias = nil; biasGrad = nil }
        if batchNorm {
            gamma = Tensor(shape: [cout], values: Array(repeating: 1, count: cout)); beta = Tensor(shape: [cout])
            gammaGrad = Tensor(shape: [cout]); betaGrad = Tensor(shape: [cout])
            runningMean = Tensor(shape: [cout]); runningVar = Tensor(shape: [cout], values: Array(repeating: 1, count: cout))
        } else {
            gamma = nil; beta = nil; gammaGrad = nil; betaGrad = nil; runningMean = nil; runningVar = nil
        }
        scale = Tensor(shape: [cout], values: Array(repeating: 1, count: cout)); shift = Tensor(shape: [cout])
        mean = Tensor(shape: [cout]); invStd = Tensor(shape: [cout], values: Array(repeating: 1, count: cout))
        k1 = Tensor(shape: [cout]); k2 = Tensor(shape: [cout])
    }

    public var parameters: [Parameter] {
        var p = [Parameter(name: "weight", value: weight, grad: weightGrad, isBatchNormOrBias: false)]
        if let b = bias, let g = biasGrad { p.append(Parameter(name: "bias", value: b, grad: g, isBatchNormOrBias: true)) }
        if let g = gamma, let b = beta, let gg = gammaGrad, let bg = betaGrad {
            p.append(Parameter(name: "bn.weight", value: g, grad: gg, isBatchNormOrBias: true))
            p.append(Parameter(name: "bn.bias", value: b, grad: bg, isBatchNormOrBias: true))
        }
        return p
    }

    /// The linked producer's pending transform, applied to this layer's input (nil when not linked).
    var inputTransform: InputTransform? { inputLink?.transform }

    public func outputShape(for x: [Int]) -> [Int] {
        let s = ConvShape(n: x[0], h: x[1], w: x[2], cin: cin, cout: cout, k: kernel, stride: stride, depthwise: depthwise)
        return [x[0], s.oh, s.ow, cout]
    }

    /// Rows per GEMM chunk: big enough to amortise the dW GEMM's packing of dz and its C
    /// (dW) traffic, small enough that the chunk's im2col rows and outputs stay in L2.
    func chunkRows(_ s: ConvShape) -> Int { max(48, min(512, 24_576 / max(s.patch, s.cout))) }

    // MARK: forward

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        checkShape(x, [nil, nil, nil, cin], "ConvBNAct(\(cin)→\(cout), k\(kernel))")
        let s = ConvShape(n: x.n, h: x.h, w: x.w, cin: cin, cout: cout, k: kernel, stride: stride, depthwise: depthwise)
        let oshape = [s.n, s.oh, s.ow, cout]
        let z = Tensor.reuse(self.z, shape: oshape)
        // A linked producer returns z: its consumer applies BN + activation on the fly.
        let y = defersOutput ? z : Tensor.reuse(self.y, shape: oshape)
        self.z = z; self.y = defersOutput ? nil : y; input = x
        usedBatchStats = batchNorm && training
        let T = pool.shareCount, c = cout, plane = s.oh * s.ow
        if !usedBatchStats { setAffineFromRunningStats() }
        var sums = [Double](repeating: 0, count: T * 2 * c)
        let fuseApply = !usedBatchStats && !defersOutput, wantStats = usedBatchStats
        let act = activation
        let gk = Gemm.selected
        let pw = UnsafePointer(depthwise ? weight.data : packWeights(k: s.patch, n: c, rsB: c, csB: 1, kernel: gk))
        let tf = inputTransform
        let scp = UnsafePointer(scale.data), shp = UnsafePointer(shift.data)
        sums.withUnsafeMutableBufferPointer { sums in
            let sumsp = sums.baseAddress!
            pool.parallelFor(s.n) { images, t in
                let ws = pool.workspaces[t]
                let sum = sumsp + t * 2 * c, sq = sum + c
                let finish = { (zp: UnsafeMutablePointer<Float>, rows: Int) in
                    if fuseApply {
                        BNAct.apply(zp, y.data + (zp - z.data), rows: rows, c: c, scale: scp, shift: shp, act: act)
                    } else if wantStats {
                        BNAct.accumulateStats(zp, rows: rows, c: c, sum: sum, sumSq: sq)
                    }
                }
                if depthwise {
                    let scratch = ws.floats(.columns, Depthwise.scratchSize(s))
                    for img in images {
                        let zp = z.data + img * plane * c
                        Depthwise.forward(x.data + img * s.h * s.w * cin, weight.data, zp, s, scratch: scratch, transform: tf)
                        finish(zp, plane)
                    }
                    return
                }
                let direct = kernel == 1 && stride == 1
                let rowsPerChunk = chunkRows(s)
                // A linked input is transformed chunk by chunk into the column buffer (1×1 only).
                let col = direct && tf == nil ? nil : ws.floats(.columns, rowsPerChunk * s.patch)
                var p = images.lowerBound * plane
                let pEnd = images.upperBound * plane
                while p < pEnd {
                    let rows = min(rowsPerChunk, pEnd - p)
                    let a: UnsafePointer<Float>
                    if let tf, let col { tf.apply(x.data + p * cin, col, rows: rows, c: cin); a = UnsafePointer(col) }
                    else if let col { Im2Col.forward(x.data, s, p, p + rows, col); a = UnsafePointer(col) }
                    else { a = UnsafePointer(x.data + p * cin) }
                    let zp = z.data + p * c
                    Gemm.sgemm(m: rows, n: c, k: s.patch, a: a, rsA: s.patch, csA: 1, packedB: pw,
                               c: zp, ldc: c, accumulate: false, kernel: gk)
                    finish(zp, rows)
                    p += rows
                }
            }
        }
        if usedBatchStats { setAffineFromBatchStats(sums, shares: T, count: s.n * plane) }
        if usedBatchStats && !defersOutput {
            pool.parallelFor(s.n) { images, _ in
                let off = images.lowerBound * plane * c
                BNAct.apply(z.data + off, y.data + off, rows: images.count * plane, c: c, scale: scp, shift: shp, act: act)
            }
        }
        return y
    }

    /// Packs B = W (patch × cout, rsB = cout) or Wᵀ (cout × patch, csB = cout) into `packedW`.
    func packWeights(k: Int, n: Int, rsB: Int, csB: Int, kernel: GemmKernel) -> UnsafeMutablePointer<Float> {
        let size = Gemm.packedSize(k: k, n: n)
        let t = (packedW?.count ?? 0) >= size ? packedW! : Tensor(shape: [size])
        packedW = t
        Gemm.packAll(k: k, n: n, b: weight.data, rsB: rsB, csB: csB, into: t.data, kernel: kernel)
        return t.data
    }

    /// Eval BN (running stats) or no BN (scale 1, shift = bias).
    func setAffineFromRunningStats() {
        for ch in 0..<cout {
            if batchNorm {
                let istd = 1 / (runningVar![ch] + BNAct.eps).squareRoot()
                invStd[ch] = istd; mean[ch] = runningMean![ch]
                scale[ch] = gamma![ch] * istd; shift[ch] = beta![ch] - mean[ch] * scale[ch]
            } else {
                invStd[ch] = 1; mean[ch] = 0; scale[ch] = 1; shift[ch] = bias?[ch] ?? 0
            }
        }
    }

    /// Batch statistics (biased variance for normalising, unbiased for the running estimate,
    /// momentum 0.1, exactly like `torch.nn.BatchNorm2d` in training mode).
    func setAffineFromBatchStats(_ sums: [Double], shares threads: Int, count: Int) {
        let c = cout, m = Double(count)
        for ch in 0..<c {
            var s = 0.0, q = 0.0
            for t in 0..<threads { s += sums[t * 2 * c + ch]; q += sums[t * 2 * c + c + ch] }
            let mu = s / m, v = max(0, q / m - mu * mu)
            let istd = Float(1 / (v + Double(BNAct.eps)).squareRoot())
            mean[ch] = Float(mu); invStd[ch] = istd
            scale[ch] = gamma![ch] * istd; shift[ch] = beta![ch] - Float(mu) * scale[ch]
            let unbiased = count > 1 ? v * m / (m - 1) : v
            runningMean![ch] = (1 - BNAct.momentum) * runningMean![ch] + BNAct.momentum * Float(mu)
            runningVar![ch] = (1 - BNAct.momentum) * runningVar![ch] + BNAct.momentum * Float(unbiased)
        }
    }
}
