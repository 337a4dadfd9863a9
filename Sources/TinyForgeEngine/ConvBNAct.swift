import TinyForgeSpec

/// Convolution (full or depthwise, k ∈ {1,3,5,7}, stride 1/2, 'same' padding) → optional
/// batch norm → optional activation, as one layer so the BN/activation passes run fused on
/// cache-resident chunks of the conv output (see `BNAct`). Two such layers can be linked
/// (`link(producer:consumer:)`) so that the reader applies the producer's BN + activation.
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
    var scale: [Float], shift: [Float], mean: [Float], invStd: [Float]
    var usedBatchStats = false
    var threadGrads: [Tensor] = []
    /// The weights packed once per pass for the GEMM (forward: W, backward: Wᵀ), shared
    /// read-only by every chunk and thread instead of being repacked per chunk.
    var packedW: Tensor?

    /// Set by `link` on a producer: `forward` returns the pre-activation `z` and the consumer
    /// applies this layer's BN + activation as it reads it, so `y` is never written.
    public private(set) var defersOutput = false
    /// Set by `link` on a consumer: the producer whose pending transform it applies.
    public private(set) var inputProducer: ConvBNAct?
    /// The producer's backward reductions (Σg, Σg·(z−mean) per share, as in pass A), added by
    /// the consumer while each chunk of its input gradient is in cache; valid only when the
    /// producer's `dy` is `gradSumsFor`.
    var gradSums: [Double] = []
    var gradSumsFor: Tensor?

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
        scale = Array(repeating: 1, count: cout); shift = Array(repeating: 0, count: cout)
        mean = Array(repeating: 0, count: cout); invStd = Array(repeating: 1, count: cout)
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

    /// Whether `link(producer:consumer:)` accepts the pair: channel counts agree, the consumer
    /// reads its input in a way that can apply a transform (depthwise, or a 1×1 stride-1 conv),
    /// and neither side is linked already.
    public static func canLink(producer: ConvBNAct, consumer: ConvBNAct) -> Bool {
        producer !== consumer && producer.pool === consumer.pool && producer.cout == consumer.cin && !producer.defersOutput && consumer.inputProducer == nil
            && (consumer.depthwise || (consumer.kernel == 1 && consumer.stride == 1))
    }

    /// Fuses the producer's BN + activation into the consumer's input reads. Afterwards
    /// `producer.forward` returns its pre-activation `z` (not `y`), which must reach `consumer`
    /// and nothing else; the consumer applies `act(z·scale + shift)` with the producer's current
    /// affine map in its forward (ring copy or GEMM chunk) and again in the dW pass of its
    /// backward, and adds up the producer's BN-backward reductions while each chunk of its
    /// input gradient is cache-resident. Same arithmetic as unlinked, minus one write and two
    /// reads of the largest tensors of an inverted-residual block.
    public static func link(producer: ConvBNAct, consumer: ConvBNAct) throws {
        guard canLink(producer: producer, consumer: consumer) else {
            throw EngineError("ConvBNAct.link: cannot fuse a \(producer.cin)→\(producer.cout) k\(producer.kernel) producer into a \(consumer.cin)→\(consumer.cout) k\(consumer.kernel) s\(consumer.stride)\(consumer.depthwise ? " depthwise" : "") consumer; the consumer must be depthwise or 1×1 stride 1 with cin = the producer's cout, and neither may be linked already")
        }
        producer.defersOutput = true
        consumer.inputProducer = producer
    }

    /// Calls `body` with the producer's pending transform (nil when not linked).
    func withInputTransform<R>(_ body: (InputTransform?) -> R) -> R {
        guard let p = inputProducer else { return body(nil) }
        return p.scale.withUnsafeBufferPointer { sc in p.shift.withUnsafeBufferPointer { sh in
            body(InputTransform(scale: sc.baseAddress!, shift: sh.baseAddress!, act: p.activation))
        } }
    }

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
        withInputTransform { tf in
        scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
        sums.withUnsafeMutableBufferPointer { sums in
            let scp = sc.baseAddress!, shp = sh.baseAddress!, sumsp = sums.baseAddress!
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
        } } } }
        if usedBatchStats { setAffineFromBatchStats(sums, shares: T, count: s.n * plane) }
        if usedBatchStats && !defersOutput {
            scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
                let scp = sc.baseAddress!, shp = sh.baseAddress!
                pool.parallelFor(s.n) { images, _ in
                    let off = images.lowerBound * plane * c
                    BNAct.apply(z.data + off, y.data + off, rows: images.count * plane, c: c, scale: scp, shift: shp, act: act)
                }
            } }
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

    // MARK: backward

    /// Sums pass A's per-share Σg, Σg·(z−mean) in share order → dγ, dβ (or dbias) and k1, k2.
    func reduceGrad(_ sums: [Double], shares T: Int, count: Int, k1: inout [Float], k2: inout [Float]) {
        let c = cout
        for ch in 0..<c {
            var sg = 0.0, sgz = 0.0
            for t in 0..<T { sg += sums[t * 2 * c + ch]; sgz += sums[t * 2 * c + c + ch] }
            if batchNorm {
                let r = BNAct.backwardCoefficients(sumG: sg, sumGZ: sgz, m: count, scale: scale[ch],
                                                   invStd: invStd[ch], mean: mean[ch])
                if usedBatchStats { k1[ch] = r.k1; k2[ch] = r.k2 }
                gammaGrad![ch] += r.dGamma; betaGrad![ch] += r.dBeta
            } else {
                biasGrad![ch] += Float(sg)
            }
        }
    }

    /// Runs `body` with the pointers a consumer needs to do `producer`'s pass A on chunks of
    /// its `dy` (nil without a producer, or when it has no BN and no bias: no pass A).
    static func withGradSumsTarget<R>(of producer: ConvBNAct?, shares T: Int, _ body: (GradSumsTarget?) -> R) -> R {
        guard let producer, producer.batchNorm || producer.hasBias, producer.z != nil else { return body(nil) }
        return producer.withGradSumsTarget(shares: T, body)
    }

    private func withGradSumsTarget<R>(shares T: Int, _ body: (GradSumsTarget?) -> R) -> R {
        let z = self.z!
        gradSums = [Double](repeating: 0, count: T * 2 * cout)
        return mean.withUnsafeBufferPointer { mu in scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
            gradSums.withUnsafeMutableBufferPointer { gs in
                body(GradSumsTarget(z: z.data, c: cout, scale: sc.baseAddress!, shift: sh.baseAddress!, mean: mu.baseAddress!,
                                    act: activation, sums: gs.baseAddress!))
            }
        } } }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let z = z else { preconditionFailure("ConvBNAct.backward called before forward") }
        precondition(dy.shape == z.shape, "ConvBNAct.backward: dy \(dy.shape) must match output \(z.shape)")
        let s = ConvShape(n: x.n, h: x.h, w: x.w, cin: cin, cout: cout, k: kernel, stride: stride, depthwise: depthwise)
        let T = pool.shareCount, c = cout, plane = s.oh * s.ow, act = activation
        let wantDx = computeInputGradient
        let dx = wantDx ? Tensor.reuse(self.dx, shape: x.shape) : Tensor.reuse(self.dx, shape: [1])
        self.dx = dx
        if threadGrads.count != T { threadGrads = (0..<T).map { _ in Tensor(shape: weight.shape) } }
        let tg = threadGrads
        var k1 = [Float](repeating: 0, count: c), k2 = [Float](repeating: 0, count: c)

        // Pass A: per-channel Σg, Σg·(z−mean) → dγ, dβ / dbias and BN's k1, k2 (already done by
        // a linked consumer when dy is the input gradient it produced).
        let precomputed = gradSumsFor === dy && gradSums.count == T * 2 * c
        gradSumsFor = nil
        if (batchNorm || hasBias) && precomputed {
            reduceGrad(gradSums, shares: T, count: s.n * plane, k1: &k1, k2: &k2)
        } else if batchNorm || hasBias {
            var sums = [Double](repeating: 0, count: T * 2 * c)
            mean.withUnsafeBufferPointer { mu in scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
            sums.withUnsafeMutableBufferPointer { sums in
                let mup = mu.baseAddress!, scp = sc.baseAddress!, shp = sh.baseAddress!, sp = sums.baseAddress!
                pool.parallelFor(s.n) { images, t in
                    let off = images.lowerBound * plane * c
                    BNAct.accumulateGrad(dy.data + off, z.data + off, rows: images.count * plane, c: c,
                                         scale: scp, shift: shp, mean: mup, act: act,
                                         sumG: sp + t * 2 * c, sumGZ: sp + t * 2 * c + c)
                }
            } } } }
            reduceGrad(sums, shares: T, count: s.n * plane, k1: &k1, k2: &k2)
        }

        // Pass B: chunk by chunk, dz = scale·g + k1 + k2·z (cache-resident), then the GEMMs.
        let gk = Gemm.selected
        let pwt = UnsafePointer(depthwise || !wantDx ? weight.data : packWeights(k: c, n: s.patch, rsB: 1, csB: c, kernel: gk))
        // Linked input: re-apply the producer's transform for dW, and do the producer's pass A
        // on each chunk of dx while it is in cache.
        let producer = wantDx ? inputProducer : nil
        withInputTransform { tf in ConvBNAct.withGradSumsTarget(of: producer, shares: T) { target in
        scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
        k1.withUnsafeBufferPointer { k1b in k2.withUnsafeBufferPointer { k2b in
            let scp = sc.baseAddress!, shp = sh.baseAddress!, k1p = k1b.baseAddress!, k2p = k2b.baseAddress!
            pool.parallelFor(s.n) { images, t in
                let ws = pool.workspaces[t]
                let dW = tg[t]
                dW.zero()
                if depthwise {
                    let dz = ws.floats(.chunk, plane * c)
                    let scratch = ws.floats(.columns, Depthwise.scratchSize(s))
                    for img in images {
                        let off = img * plane * c, xoff = img * s.h * s.w * cin
                        BNAct.gradInput(dy.data + off, z.data + off, dz, rows: plane, c: c, scale: scp, shift: shp,
                                        k1: k1p, k2: k2p, act: act)
                        Depthwise.backwardWeights(x.data + xoff, dz, dW.data, s, scratch: scratch, transform: tf)
                        if wantDx {
                            Depthwise.backwardInput(dz, weight.data, dx.data + xoff, s, scratch: scratch)
                            target?.add(dx.data + xoff, row: img * s.h * s.w, rows: s.h * s.w, share: t)
                        }
                    }
                    return
                }
                let direct = kernel == 1 && stride == 1
                let rowsPerChunk = chunkRows(s)
                let dz = ws.floats(.chunk, rowsPerChunk * c)
                let pack = ws.floats(.pack, Gemm.packSize(n: c))
                let col = direct && tf == nil ? nil : ws.floats(.columns, rowsPerChunk * s.patch)
                let dcol = direct ? nil : ws.floats(.chunk2, rowsPerChunk * s.patch)
                if wantDx && !direct {
                    (dx.data + images.lowerBound * s.h * s.w * cin).update(repeating: 0, count: images.count * s.h * s.w * cin)
                }
                var p = images.lowerBound * plane
                let pEnd = images.upperBound * plane
                while p < pEnd {
                    let rows = min(rowsPerChunk, pEnd - p)
                    BNAct.gradInput(dy.data + p * c, z.data + p * c, dz, rows: rows, c: c, scale: scp, shift: shp,
                                    k1: k1p, k2: k2p, act: act)
                    // dW(patch × cout) += colᵀ · dz
                    let a: UnsafePointer<Float>
                    if let tf, let col { tf.apply(x.data + p * cin, col, rows: rows, c: cin); a = UnsafePointer(col) }
                    else if let col { Im2Col.forward(x.data, s, p, p + rows, col); a = UnsafePointer(col) }
                    else { a = UnsafePointer(x.data + p * cin) }
                    Gemm.sgemm(m: s.patch, n: c, k: rows, a: a, rsA: 1, csA: s.patch, b: dz, rsB: c, csB: 1,
                               c: dW.data, ldc: c, accumulate: true, pack: pack, kernel: gk)
                    if wantDx {
                        // dcol(rows × patch) = dz · Wᵀ, W is (patch × cout)
                        let out = dcol ?? (dx.data + p * cin)
                        Gemm.sgemm(m: rows, n: s.patch, k: c, a: dz, rsA: c, csA: 1, packedB: pwt,
                                   c: out, ldc: s.patch, accumulate: false, kernel: gk)
                        if let dcol { Im2Col.backward(dcol, s, p, p + rows, dx.data) }
                        else { target?.add(dx.data + p * cin, row: p, rows: rows, share: t) }   // linked ⇒ direct
                    }
                    p += rows
                }
            }
        } } } } } }
        producer?.gradSumsFor = dx
        // Sum the per-share dW buffers, split over the weight elements so both threads take
        // part (serial, this was ~1 ms per wide layer); every element still adds the shares in
        // share order, so the result is the same bits as a serial sum. Shares that got no
        // images never zeroed their buffer: skip them.
        let used = (0..<T).filter { !pool.shareRange($0, of: s.n).isEmpty }
        let wc = weight.count, block = 2048
        pool.parallelFor((wc + block - 1) / block) { blocks, _ in
            let lo = blocks.lowerBound * block, hi = min(wc, blocks.upperBound * block)
            for t in used { addInPlace(weightGrad.data + lo, tg[t].data + lo, hi - lo) }
        }
        return dx
    }
}
