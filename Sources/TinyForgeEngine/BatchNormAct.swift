/// Batch norm folded into a per-channel affine map, fused with the activation.
///
/// Every conv output `z` (rows × C, NHWC flattened) leaves the layer as
/// `y = act(z · scale[c] + shift[c])`, where
/// - training BN: `scale = γ/√(var_B+ε)`, `shift = β − mean_B·scale` (batch statistics),
/// - eval BN: the same with running statistics,
/// - no BN: `scale = 1`, `shift = bias` (or 0).
/// Backward recomputes `u = z·scale + shift` instead of storing it, and in training mode
/// folds BN's backward into the same per-channel affine form: with `g = dy·act'(u)`,
/// `dz = scale·g + k1[c] + k2[c]·z`, where k1, k2 come from the two per-channel reductions
/// Σg and Σg·(z−mean) (`BNAct.backwardCoefficients`). So one reduction pass and one
/// elementwise pass done chunk by chunk right before the GEMMs consume `dz`; neither `g`
/// nor `x̂` is ever materialised as a full tensor.
/// A producer layer's `y = act(z·scale + shift)` left for its consumer to apply while it reads
/// its input (`ConvBNAct.link`): the producer's output `y` is then never written to memory.
public struct InputTransform {
    public let scale, shift: UnsafePointer<Float>
    public let act: KernelActivation?

    public init(scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, act: KernelActivation?) {
        self.scale = scale; self.shift = shift; self.act = act
    }

    /// `y = act(z·scale + shift)` for `rows` pixels of `c` channels; the same arithmetic as the
    /// producer's own `BNAct.apply`, so deferring changes no bit of the result.
    @inline(__always)
    public func apply(_ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, c: Int) {
        BNAct.apply(z, y, rows: rows, c: c, scale: scale, shift: shift, act: act)
    }
}

/// Where a linked consumer adds its producer's pass-A sums (`ConvBNAct.link`): the producer's
/// pre-activations, affine map and per-share Σg, Σg·(z−mean) buffers.
struct GradSumsTarget {
    let z: UnsafePointer<Float>
    let c: Int
    let scale, shift, mean: UnsafePointer<Float>
    let act: KernelActivation?
    let sums: UnsafeMutablePointer<Double>

    /// Adds the sums of pixel rows `row..<row+rows` of the producer, whose `dy` is at `dy`, to share `share`.
    @inline(__always)
    func add(_ dy: UnsafePointer<Float>, row: Int, rows: Int, share: Int) {
        BNAct.accumulateGrad(dy, z + row * c, rows: rows, c: c, scale: scale, shift: shift, mean: mean, act: act,
                             sumG: sums + share * 2 * c, sumGZ: sums + share * 2 * c + c)
    }
}

public enum BNAct {
    public static let eps: Float = 1e-5
    public static let momentum: Float = 0.1

    /// Adds per-channel Σz and Σz² of a block (rows × C) into Double accumulators.
    /// Float partials per block keep the loop vectorised; Double totals keep E[z²]−E[z]² sane.
    /// Channels go 32 at a time (8 independent accumulator chains, whole 128-byte row pieces),
    /// then 8 at a time, then one by one; each channel's sum runs over the rows in order, so
    /// the result does not depend on which block width handled it.
    public static func accumulateStats(_ z: UnsafePointer<Float>, rows: Int, c: Int,
                                       sum: UnsafeMutablePointer<Double>, sumSq: UnsafeMutablePointer<Double>) {
        let c32 = c & ~31, c8 = c & ~7
        var cb = 0
        while cb < c32 {
            var s0 = F8(), s1 = F8(), s2 = F8(), s3 = F8(), q0 = F8(), q1 = F8(), q2 = F8(), q3 = F8()
            var p = UnsafeRawPointer(z + cb)
            for _ in 0..<rows {
                let v0 = p.loadUnaligned(as: F8.self), v1 = p.loadUnaligned(fromByteOffset: 32, as: F8.self)
                let v2 = p.loadUnaligned(fromByteOffset: 64, as: F8.self), v3 = p.loadUnaligned(fromByteOffset: 96, as: F8.self)
                s0 += v0; q0 = q0.addingProduct(v0, v0); s1 += v1; q1 = q1.addingProduct(v1, v1)
                s2 += v2; q2 = q2.addingProduct(v2, v2); s3 += v3; q3 = q3.addingProduct(v3, v3)
                p += c * 4
            }
            addLanes(s0, s1, s2, s3, to: sum + cb); addLanes(q0, q1, q2, q3, to: sumSq + cb)
            cb += 32
        }
        while cb < c8 {
            var s = F8(), q = F8()
            var p = UnsafeRawPointer(z + cb)
            for _ in 0..<rows {
                let v = p.loadUnaligned(as: F8.self)
                s += v; q = q.addingProduct(v, v)
                p += c * 4
            }
            addLanes(s, to: sum + cb); addLanes(q, to: sumSq + cb)
            cb += 8
        }
        for ch in c8..<c {
            var s: Float = 0, q: Float = 0
            for r in 0..<rows { let v = z[r * c + ch]; s += v; q = q.addingProduct(v, v) }
            sum[ch] += Double(s); sumSq[ch] += Double(q)
        }
    }

    /// Adds a block's Float partial sums (8 channels per vector, consecutive channels) into the
    /// Double per-channel totals: each reduction keeps Float partials inside its row loop and
    /// widens once per block here.
    @inline(__always)
    static func addLanes(_ v: F8, to dst: UnsafeMutablePointer<Double>) {
        for l in 0..<8 { dst[l] += Double(v[l]) }
    }

    @inline(__always)
    static func addLanes(_ v0: F8, _ v1: F8, _ v2: F8, _ v3: F8, to dst: UnsafeMutablePointer<Double>) {
        addLanes(v0, to: dst); addLanes(v1, to: dst + 8); addLanes(v2, to: dst + 16); addLanes(v3, to: dst + 24)
    }

    /// `y = act(z·scale + shift)` for a block (rows × C); `y` may alias `z`.
    public static func apply(_ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, c: Int,
                             scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, act: KernelActivation?) {
        if Gemm.wideLanes && c % 16 == 0 {
            switch act {
            case nil: apply16(Identity16.self, z, y, rows * c, c, scale, shift); return
            case .relu: apply16(ReLU16.self, z, y, rows * c, c, scale, shift); return
            case .relu6: apply16(ReLU616.self, z, y, rows * c, c, scale, shift); return
            case .leakyRelu: apply16(Leaky16.self, z, y, rows * c, c, scale, shift); return
            case .hswish: apply16(HSwish16.self, z, y, rows * c, c, scale, shift); return
            case .swish, .sigmoid: break
            }
        }
        switch act {
        case nil: applyT(IdentityK.self, z, y, rows, c, scale, shift)
        case .relu: applyT(ReLUK.self, z, y, rows, c, scale, shift)
        case .relu6: applyT(ReLU6K.self, z, y, rows, c, scale, shift)
        case .leakyRelu: applyT(LeakyK.self, z, y, rows, c, scale, shift)
        case .swish: applyT(SwishK.self, z, y, rows, c, scale, shift)
        case .hswish: applyT(HSwishK.self, z, y, rows, c, scale, shift)
        case .sigmoid: applyT(SigmoidK.self, z, y, rows, c, scale, shift)
        }
    }

    @inline(__always)
    static func applyT<K: ActKernel>(_: K.Type, _ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                     _ rows: Int, _ c: Int, _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>) {
        let c8 = c & ~7
        let sc = UnsafeRawPointer(scale), sh = UnsafeRawPointer(shift)
        for r in 0..<rows {
            let zr = UnsafeRawPointer(z + r * c), yr = UnsafeMutableRawPointer(y + r * c)
            var o = 0
            while o < c8 * 4 {
                let u = zr.loadUnaligned(fromByteOffset: o, as: F8.self)
                    * sc.loadUnaligned(fromByteOffset: o, as: F8.self)
                    + sh.loadUnaligned(fromByteOffset: o, as: F8.self)
                yr.storeBytes(of: K.f(u), toByteOffset: o, as: F8.self)
                o += 32
            }
            for ch in c8..<c { y[r * c + ch] = K.f1(z[r * c + ch] * scale[ch] + shift[ch]) }
        }
    }

    /// `applyT` in 16 lanes over `n` floats (rows × C, C a multiple of 16).
    @inline(__always)
    static func apply16<K: Act16Kernel>(_: K.Type, _ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ c: Int,
                                        _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>) {
        let zr = UnsafeRawPointer(z), yr = UnsafeMutableRawPointer(y)
        let sc = UnsafeRawPointer(scale), sh = UnsafeRawPointer(shift)
        var i = 0, ch = 0
        while i < n {
            let u = zr.loadUnaligned(fromByteOffset: i * 4, as: F16.self) * sc.loadUnaligned(fromByteOffset: ch * 4, as: F16.self)
                + sh.loadUnaligned(fromByteOffset: ch * 4, as: F16.self)
            yr.storeBytes(of: K.f(u), toByteOffset: i * 4, as: F16.self)
            i += 16; ch += 16
            if ch == c { ch = 0 }
        }
    }

    /// `dzT` in 16 lanes over `n` floats (rows × C, C a multiple of 16).
    @inline(__always)
    static func dz16<K: Act16Kernel>(_: K.Type, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ dz: UnsafeMutablePointer<Float>,
                                     _ n: Int, _ c: Int, _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>,
                                     _ k1: UnsafePointer<Float>, _ k2: UnsafePointer<Float>) {
        let zr = UnsafeRawPointer(z), dr = UnsafeRawPointer(dy), out = UnsafeMutableRawPointer(dz)
        let sc = UnsafeRawPointer(scale), sh = UnsafeRawPointer(shift), q1 = UnsafeRawPointer(k1), q2 = UnsafeRawPointer(k2)
        var i = 0, ch = 0
        while i < n {
            let zv = zr.loadUnaligned(fromByteOffset: i * 4, as: F16.self)
            let s = sc.loadUnaligned(fromByteOffset: ch * 4, as: F16.self)
            let g = K.df(zv * s + sh.loadUnaligned(fromByteOffset: ch * 4, as: F16.self), dr.loadUnaligned(fromByteOffset: i * 4, as: F16.self))
            let v = s * g + q1.loadUnaligned(fromByteOffset: ch * 4, as: F16.self) + q2.loadUnaligned(fromByteOffset: ch * 4, as: F16.self) * zv
            out.storeBytes(of: v, toByteOffset: i * 4, as: F16.self)
            i += 16; ch += 16
            if ch == c { ch = 0 }
        }
    }

    // MARK: backward pieces

    /// Adds per-channel Σg and Σg·(z−mean) of a block, `g = dy·act'(z·scale+shift)`.
    public static func accumulateGrad(_ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, rows: Int, c: Int,
                                      scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                      act: KernelActivation?, sumG: UnsafeMutablePointer<Double>, sumGZ: UnsafeMutablePointer<Double>) {
        switch act {
        case nil: gradT(IdentityK.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        case .relu: gradT(ReLUK.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        case .relu6: gradT(ReLU6K.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        case .leakyRelu: gradT(LeakyK.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        case .swish: gradT(SwishK.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        case .hswish: gradT(HSwishK.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        case .sigmoid: gradT(SigmoidK.self, dy, z, rows, c, scale, shift, mean, sumG, sumGZ)
        }
    }

    @inline(__always)
    static func gradT<K: ActKernel>(_: K.Type, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ rows: Int, _ c: Int,
                                    _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                    _ sumG: UnsafeMutablePointer<Double>, _ sumGZ: UnsafeMutablePointer<Double>) {
        // Row blocks of 64 keep each channel sweep inside L1; sweeping channel blocks over the
        // whole tensor would re-read it from memory C/8 times.
        var r0 = 0
        while r0 < rows {
            let n = min(64, rows - r0)
            gradBlockT(K.self, dy + r0 * c, z + r0 * c, n, c, scale, shift, mean, sumG, sumGZ)
            r0 += n
        }
    }

    /// One row block: channels 32 at a time (8 independent accumulator chains instead of 2,
    /// whole 128-byte row pieces), then 8 at a time, then scalar; per channel the sums run over
    /// the rows in order whichever width handles it.
    @inline(__always)
    static func gradBlockT<K: ActKernel>(_: K.Type, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ rows: Int, _ c: Int,
                                         _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                         _ sumG: UnsafeMutablePointer<Double>, _ sumGZ: UnsafeMutablePointer<Double>) {
        let c32 = c & ~31, c8 = c & ~7
        var cb = 0
        while cb < c32 {
            let scp = UnsafeRawPointer(scale + cb), shp = UnsafeRawPointer(shift + cb), mup = UnsafeRawPointer(mean + cb)
            let sc0 = scp.loadUnaligned(as: F8.self), sc1 = scp.loadUnaligned(fromByteOffset: 32, as: F8.self)
            let sc2 = scp.loadUnaligned(fromByteOffset: 64, as: F8.self), sc3 = scp.loadUnaligned(fromByteOffset: 96, as: F8.self)
            let sh0 = shp.loadUnaligned(as: F8.self), sh1 = shp.loadUnaligned(fromByteOffset: 32, as: F8.self)
            let sh2 = shp.loadUnaligned(fromByteOffset: 64, as: F8.self), sh3 = shp.loadUnaligned(fromByteOffset: 96, as: F8.self)
            let mu0 = mup.loadUnaligned(as: F8.self), mu1 = mup.loadUnaligned(fromByteOffset: 32, as: F8.self)
            let mu2 = mup.loadUnaligned(fromByteOffset: 64, as: F8.self), mu3 = mup.loadUnaligned(fromByteOffset: 96, as: F8.self)
            var g0 = F8(), g1 = F8(), g2 = F8(), g3 = F8(), h0 = F8(), h1 = F8(), h2 = F8(), h3 = F8()
            var pz = UnsafeRawPointer(z + cb), pd = UnsafeRawPointer(dy + cb)
            for _ in 0..<rows {
                let z0 = pz.loadUnaligned(as: F8.self), z1 = pz.loadUnaligned(fromByteOffset: 32, as: F8.self)
                let z2 = pz.loadUnaligned(fromByteOffset: 64, as: F8.self), z3 = pz.loadUnaligned(fromByteOffset: 96, as: F8.self)
                let d0 = K.df(z0 * sc0 + sh0, pd.loadUnaligned(as: F8.self))
                let d1 = K.df(z1 * sc1 + sh1, pd.loadUnaligned(fromByteOffset: 32, as: F8.self))
                let d2 = K.df(z2 * sc2 + sh2, pd.loadUnaligned(fromByteOffset: 64, as: F8.self))
                let d3 = K.df(z3 * sc3 + sh3, pd.loadUnaligned(fromByteOffset: 96, as: F8.self))
                g0 += d0; h0 = h0.addingProduct(d0, z0 - mu0); g1 += d1; h1 = h1.addingProduct(d1, z1 - mu1)
                g2 += d2; h2 = h2.addingProduct(d2, z2 - mu2); g3 += d3; h3 = h3.addingProduct(d3, z3 - mu3)
                pz += c * 4; pd += c * 4
            }
            addLanes(g0, g1, g2, g3, to: sumG + cb); addLanes(h0, h1, h2, h3, to: sumGZ + cb)
            cb += 32
        }
        while cb < c8 {
            let sc = UnsafeRawPointer(scale + cb).loadUnaligned(as: F8.self)
            let sh = UnsafeRawPointer(shift + cb).loadUnaligned(as: F8.self)
            let mu = UnsafeRawPointer(mean + cb).loadUnaligned(as: F8.self)
            var sg = F8(), sgz = F8()
            var pz = UnsafeRawPointer(z + cb), pd = UnsafeRawPointer(dy + cb)
            for _ in 0..<rows {
                let zv = pz.loadUnaligned(as: F8.self)
                let g = K.df(zv * sc + sh, pd.loadUnaligned(as: F8.self))
                sg += g; sgz = sgz.addingProduct(g, zv - mu)
                pz += c * 4; pd += c * 4
            }
            addLanes(sg, to: sumG + cb); addLanes(sgz, to: sumGZ + cb)
            cb += 8
        }
        for ch in c8..<c {
            var sg: Float = 0, sgz: Float = 0
            for r in 0..<rows {
                let zv = z[r * c + ch]
                let g = K.df1(zv * scale[ch] + shift[ch], dy[r * c + ch])
                sg += g; sgz = sgz.addingProduct(g, zv - mean[ch])
            }
            sumG[ch] += Double(sg); sumGZ[ch] += Double(sgz)
        }
    }

    /// `dz = scale·g + k1 + k2·z` for a block, `g = dy·act'(z·scale+shift)`.
    public static func gradInput(_ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ dz: UnsafeMutablePointer<Float>,
                                 rows: Int, c: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                 k1: UnsafePointer<Float>, k2: UnsafePointer<Float>, act: KernelActivation?) {
        if Gemm.wideLanes && c % 16 == 0 {
            switch act {
            case nil: dz16(Identity16.self, dy, z, dz, rows * c, c, scale, shift, k1, k2); return
            case .relu: dz16(ReLU16.self, dy, z, dz, rows * c, c, scale, shift, k1, k2); return
            case .relu6: dz16(ReLU616.self, dy, z, dz, rows * c, c, scale, shift, k1, k2); return
            case .leakyRelu: dz16(Leaky16.self, dy, z, dz, rows * c, c, scale, shift, k1, k2); return
            case .hswish: dz16(HSwish16.self, dy, z, dz, rows * c, c, scale, shift, k1, k2); return
            case .swish, .sigmoid: break
            }
        }
        switch act {
        case nil: dzT(IdentityK.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        case .relu: dzT(ReLUK.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        case .relu6: dzT(ReLU6K.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        case .leakyRelu: dzT(LeakyK.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        case .swish: dzT(SwishK.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        case .hswish: dzT(HSwishK.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        case .sigmoid: dzT(SigmoidK.self, dy, z, dz, rows, c, scale, shift, k1, k2)
        }
    }

    @inline(__always)
    static func dzT<K: ActKernel>(_: K.Type, _ dy: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ dz: UnsafeMutablePointer<Float>,
                                  _ rows: Int, _ c: Int, _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>,
                                  _ k1: UnsafePointer<Float>, _ k2: UnsafePointer<Float>) {
        let c8 = c & ~7
        let sc = UnsafeRawPointer(scale), sh = UnsafeRawPointer(shift)
        let q1 = UnsafeRawPointer(k1), q2 = UnsafeRawPointer(k2)
        for r in 0..<rows {
            let zr = UnsafeRawPointer(z + r * c), dr = UnsafeRawPointer(dy + r * c)
            let outr = UnsafeMutableRawPointer(dz + r * c)
            var o = 0
            while o < c8 * 4 {
                let zv = zr.loadUnaligned(fromByteOffset: o, as: F8.self)
                let s = sc.loadUnaligned(fromByteOffset: o, as: F8.self)
                let g = K.df(zv * s + sh.loadUnaligned(fromByteOffset: o, as: F8.self),
                             dr.loadUnaligned(fromByteOffset: o, as: F8.self))
                let v = s * g + q1.loadUnaligned(fromByteOffset: o, as: F8.self)
                    + q2.loadUnaligned(fromByteOffset: o, as: F8.self) * zv
                outr.storeBytes(of: v, toByteOffset: o, as: F8.self)
                o += 32
            }
            for ch in c8..<c {
                let i = r * c + ch, zv = z[i]
                let g = K.df1(zv * scale[ch] + shift[ch], dy[i])
                dz[i] = scale[ch] * g + k1[ch] + k2[ch] * zv
            }
        }
    }

    /// Training-mode BN backward coefficients from the reductions over all `m` rows:
    /// with x̂ = (z−μ)·istd and scale = γ·istd,
    /// `dz = scale·(g − Σg/m − x̂·Σg·x̂/m) = scale·g + k1 + k2·z`,
    /// `k2 = −scale·istd²·Σg(z−μ)/m`, `k1 = −scale·Σg/m − k2·μ`.
    /// Also returns dγ = Σg·x̂ and dβ = Σg.
    public static func backwardCoefficients(sumG: Double, sumGZ: Double, m: Int, scale: Float, invStd: Float,
                                            mean: Float) -> (k1: Float, k2: Float, dGamma: Float, dBeta: Float) {
        let md = Double(m), s = Double(scale), istd = Double(invStd)
        let k2 = -s * istd * istd * sumGZ / md
        let k1 = -s * sumG / md - k2 * Double(mean)
        return (Float(k1), Float(k2), Float(sumGZ * istd), Float(sumG))
    }
}
