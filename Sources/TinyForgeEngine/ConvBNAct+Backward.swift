/// `ConvBNAct.backward` in its three passes: A, the per-channel reductions that give dγ, dβ
/// (or dbias) and BN's k1, k2; B, chunk by chunk, dz = scale·g + k1 + k2·z and the GEMMs (or
/// depthwise kernels) for dW and dx; then the per-share dW buffers summed in share order.
extension ConvBNAct {
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let z = z else { preconditionFailure("ConvBNAct.backward called before forward") }
        precondition(dy.shape == z.shape, "ConvBNAct.backward: dy \(dy.shape) must match output \(z.shape)")
        let s = ConvShape(n: x.n, h: x.h, w: x.w, cin: cin, cout: cout, k: kernel, stride: stride, depthwise: depthwise)
        let T = pool.shareCount
        let dx = computeInputGradient ? Tensor.reuse(self.dx, shape: x.shape) : Tensor.reuse(self.dx, shape: [1])
        self.dx = dx
        if threadGrads.count != T { threadGrads = (0..<T).map { _ in Tensor(shape: weight.shape) } }
        passA(dy, z, s)
        // Linked input: the consumer (this layer) does the producer's pass A on each chunk of dx
        // while it is in cache.
        if computeInputGradient, let link = inputLink {
            link.collectingGradSums(shares: T, into: dx) { target in passB(dy, x, z, dx, s, target: target) }
        } else {
            passB(dy, x, z, dx, s, target: nil)
        }
        sumWeightGrads(s)
        return dx
    }

    /// Pass A: per-channel Σg, Σg·(z−mean) → dγ, dβ / dbias and BN's k1, k2 (already collected
    /// by a linked consumer when dy is the input gradient it produced).
    func passA(_ dy: Tensor, _ z: Tensor, _ s: ConvShape) {
        k1.zero(); k2.zero()
        let T = pool.shareCount, c = cout, plane = s.oh * s.ow, act = activation
        let precomputed = outputLink?.takeGradSums(for: dy, shares: T)
        guard batchNorm || hasBias else { return }
        if let precomputed {
            reduceGrad(precomputed, shares: T, count: s.n * plane)
            return
        }
        var sums = [Double](repeating: 0, count: T * 2 * c)
        let mup = UnsafePointer(mean.data), scp = UnsafePointer(scale.data), shp = UnsafePointer(shift.data)
        sums.withUnsafeMutableBufferPointer { sums in
            let sp = sums.baseAddress!
            pool.parallelFor(s.n) { images, t in
                let off = images.lowerBound * plane * c
                BNAct.accumulateGrad(dy.data + off, z.data + off, rows: images.count * plane, c: c,
                                     scale: scp, shift: shp, mean: mup, act: act,
                                     sumG: sp + t * 2 * c, sumGZ: sp + t * 2 * c + c)
            }
        }
        reduceGrad(sums, shares: T, count: s.n * plane)
    }

    /// Sums pass A's per-share Σg, Σg·(z−mean) in share order → dγ, dβ (or dbias) and k1, k2.
    func reduceGrad(_ sums: [Double], shares T: Int, count: Int) {
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

    /// Pass B, share by share: dz chunk by chunk (cache-resident), then dW into the share's
    /// buffer and, when wanted, dx; `target` collects a linked producer's pass-A sums on dx.
    func passB(_ dy: Tensor, _ x: Tensor, _ z: Tensor, _ dx: Tensor, _ s: ConvShape, target: GradSumsTarget?) {
        let wantDx = computeInputGradient, c = cout, plane = s.oh * s.ow, act = activation
        let gk = Gemm.selected
        let pwt = UnsafePointer(depthwise || !wantDx ? weight.data : packWeights(k: c, n: s.patch, rsB: 1, csB: c, kernel: gk))
        // Linked input: re-apply the producer's transform for dW.
        let tf = inputTransform
        let scp = UnsafePointer(scale.data), shp = UnsafePointer(shift.data)
        let k1p = UnsafePointer(k1.data), k2p = UnsafePointer(k2.data)
        let tg = threadGrads
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
    }

    /// Sums the per-share dW buffers, split over the weight elements so both threads take part
    /// (serial, this was ~1 ms per wide layer); every element still adds the shares in share
    /// order, so the result is the same bits as a serial sum. Shares that got no images never
    /// zeroed their buffer: skip them.
    func sumWeightGrads(_ s: ConvShape) {
        let tg = threadGrads
        let used = (0..<pool.shareCount).filter { !pool.shareRange($0, of: s.n).isEmpty }
        let wc = weight.count, block = 2048
        pool.parallelFor((wc + block - 1) / block) { blocks, _ in
            let lo = blocks.lowerBound * block, hi = min(wc, blocks.upperBound * block)
            for t in used { addInPlace(weightGrad.data + lo, tg[t].data + lo, hi - lo) }
        }
    }
}
