/// Geometry of a k×k convolution with PyTorch-style 'same' padding `pad = k/2`, so the output
/// is `ceil(in/stride)` for odd k. Weights are HWIO: full conv `[k][k][cin][cout]`,
/// depthwise `[k][k][C]`.
public struct ConvShape: Equatable, Sendable {
    public let n, h, w, cin, cout, k, stride: Int
    public let depthwise: Bool
    public var pad: Int { k / 2 }
    public var oh: Int { (h + 2 * pad - k) / stride + 1 }
    public var ow: Int { (w + 2 * pad - k) / stride + 1 }
    /// Length of one im2col row (the GEMM's K).
    public var patch: Int { k * k * cin }

    public init(n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, stride: Int, depthwise: Bool) {
        self.n = n; self.h = h; self.w = w; self.cin = cin; self.cout = cout
        self.k = k; self.stride = stride; self.depthwise = depthwise
    }

    /// Output pixels whose k×k windows stay inside the input can skip bounds logic; for the
    /// reference twins every pixel is handled the slow way.
    @inline(__always) func kRange(_ o: Int, _ size: Int) -> Range<Int> {
        let base = o * stride - pad
        return max(0, -base)..<min(k, size - base)
    }
}

// MARK: - im2col / col2im (full convs)

public enum Im2Col {
    /// Writes im2col rows for output pixels `p0..<p1` (pixel index over N·oh·ow) into `col`
    /// (rows × patch, row-major, taps ordered ky, kx, ci to match HWIO weights).
    /// x is (N, H, W, cin).
    public static func forward(_ x: UnsafePointer<Float>, _ s: ConvShape, _ p0: Int, _ p1: Int,
                               _ col: UnsafeMutablePointer<Float>) {
        let plane = s.oh * s.ow, ci = s.cin
        for p in p0..<p1 {
            let img = p / plane, rem = p % plane, oy = rem / s.ow, ox = rem % s.ow
            let row = col + (p - p0) * s.patch
            let ys = s.kRange(oy, s.h), xs = s.kRange(ox, s.w)
            if ys.count < s.k || xs.count < s.k { row.update(repeating: 0, count: s.patch) }
            for ky in ys {
                let iy = oy * s.stride - s.pad + ky
                let ix0 = ox * s.stride - s.pad + xs.lowerBound
                let src = x + ((img * s.h + iy) * s.w + ix0) * ci
                (row + (ky * s.k + xs.lowerBound) * ci).update(from: src, count: xs.count * ci)
            }
        }
    }

    /// Adds im2col-shaped gradients `dcol` (rows for pixels p0..<p1) back into dx (N,H,W,cin).
    public static func backward(_ dcol: UnsafePointer<Float>, _ s: ConvShape, _ p0: Int, _ p1: Int,
                                _ dx: UnsafeMutablePointer<Float>) {
        let plane = s.oh * s.ow, ci = s.cin
        for p in p0..<p1 {
            let img = p / plane, rem = p % plane, oy = rem / s.ow, ox = rem % s.ow
            let row = dcol + (p - p0) * s.patch
            let ys = s.kRange(oy, s.h), xs = s.kRange(ox, s.w)
            for ky in ys {
                let iy = oy * s.stride - s.pad + ky
                let ix0 = ox * s.stride - s.pad + xs.lowerBound
                let dst = dx + ((img * s.h + iy) * s.w + ix0) * ci
                let src = row + (ky * s.k + xs.lowerBound) * ci
                addInPlace(dst, src, xs.count * ci)
            }
        }
    }
}

@inline(__always)
func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
    while i + 8 <= n {
        d.storeBytes(of: d.loadUnaligned(fromByteOffset: i * 4, as: F8.self) + s.loadUnaligned(fromByteOffset: i * 4, as: F8.self),
                     toByteOffset: i * 4, as: F8.self)
        i += 8
    }
    while i < n { dst[i] += src[i]; i += 1 }
}

// MARK: - Depthwise, per-pixel form (the previous fast kernels)

/// The first SIMD depthwise kernels: one output pixel at a time, all k² weight vectors reloaded
/// per pixel. `Depthwise` (DepthwiseKernels.swift) replaces them except where they measured
/// faster (dX at stride 2, dW on maps narrower than 8 columns); they are also a second twin in
/// the tests and the baseline of the depthwise micro-benchmark (`tinyforge-engine-bench --dw`).
public enum DepthwiseSimple {
    /// z(oh,ow,C) = depthwise(x(h,w,C), w(k,k,C)) for one image.
    public static func forward(_ x: UnsafePointer<Float>, _ wt: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                               _ s: ConvShape) {
        let c = s.cin, c8 = c & ~7
        for oy in 0..<s.oh {
            let ys = s.kRange(oy, s.h)
            for ox in 0..<s.ow {
                let xs = s.kRange(ox, s.w)
                let out = z + (oy * s.ow + ox) * c
                let ix0 = ox * s.stride - s.pad
                var cb = 0
                while cb < c8 {
                    var acc = F8()
                    for ky in ys {
                        let iy = oy * s.stride - s.pad + ky
                        let xrow = UnsafeRawPointer(x + (iy * s.w + ix0) * c + cb)
                        let wrow = UnsafeRawPointer(wt + ky * s.k * c + cb)
                        for kx in xs {
                            acc = acc.addingProduct(xrow.loadUnaligned(fromByteOffset: kx * c * 4, as: F8.self),
                                                    wrow.loadUnaligned(fromByteOffset: kx * c * 4, as: F8.self))
                        }
                    }
                    UnsafeMutableRawPointer(out + cb).storeBytes(of: acc, as: F8.self)
                    cb += 8
                }
                for ch in c8..<c {
                    var acc: Float = 0
                    for ky in ys {
                        let iy = oy * s.stride - s.pad + ky
                        for kx in xs { acc += x[(iy * s.w + ix0 + kx) * c + ch] * wt[(ky * s.k + kx) * c + ch] }
                    }
                    out[ch] = acc
                }
            }
        }
    }

    /// dw(k,k,C) += Σ x·dz for one image (tap-major so each accumulator lives in a register
    /// across a whole output row).
    public static func backwardWeights(_ x: UnsafePointer<Float>, _ dz: UnsafePointer<Float>,
                                       _ dw: UnsafeMutablePointer<Float>, _ s: ConvShape) {
        let c = s.cin, c8 = c & ~7, st = s.stride
        for ky in 0..<s.k {
            for kx in 0..<s.k {
                // ox with 0 ≤ ox·st − pad + kx < w
                let lo = max(0, (s.pad - kx + st - 1) / st)
                let top = s.w - 1 + s.pad - kx   // floor division: top may be negative
                let hi = top < 0 ? 0 : min(s.ow, top / st + 1)
                if lo >= hi { continue }
                let dwp = dw + (ky * s.k + kx) * c
                for oy in 0..<s.oh {
                    let iy = oy * st - s.pad + ky
                    if iy < 0 || iy >= s.h { continue }
                    let xrow = x + (iy * s.w + lo * st - s.pad + kx) * c
                    let drow = dz + (oy * s.ow + lo) * c
                    var cb = 0
                    while cb < c8 {
                        var acc = UnsafeRawPointer(dwp + cb).loadUnaligned(as: F8.self)
                        var px = UnsafeRawPointer(xrow + cb), pd = UnsafeRawPointer(drow + cb)
                        for _ in lo..<hi {
                            acc = acc.addingProduct(px.loadUnaligned(as: F8.self), pd.loadUnaligned(as: F8.self))
                            px += st * c * 4; pd += c * 4
                        }
                        UnsafeMutableRawPointer(dwp + cb).storeBytes(of: acc, as: F8.self)
                        cb += 8
                    }
                    for ch in c8..<c {
                        var acc: Float = 0
                        for j in 0..<(hi - lo) { acc += xrow[j * st * c + ch] * drow[j * c + ch] }
                        dwp[ch] += acc
                    }
                }
            }
        }
    }

    /// dx(h,w,C) = Σ dz·w for one image (gather form: each input pixel sums the output pixels
    /// whose windows cover it, so dx is written once, no scatter, no zeroing).
    public static func backwardInput(_ dz: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                                     _ dx: UnsafeMutablePointer<Float>, _ s: ConvShape) {
        let c = s.cin, c8 = c & ~7, st = s.stride, p = s.pad
        for iy in 0..<s.h {
            // ky with (iy + p − ky) divisible by st and 0 ≤ (iy + p − ky)/st < oh
            var kyLo = max(0, iy + p - (s.oh - 1) * st)
            while (iy + p - kyLo) % st != 0 { kyLo += 1 }
            let kyHi = min(s.k - 1, iy + p)
            for ix in 0..<s.w {
                var kxLo = max(0, ix + p - (s.ow - 1) * st)
                while (ix + p - kxLo) % st != 0 { kxLo += 1 }
                let kxHi = min(s.k - 1, ix + p)
                let out = dx + (iy * s.w + ix) * c
                var cb = 0
                while cb < c8 {
                    var acc = F8()
                    var ky = kyLo
                    while ky <= kyHi {
                        let oy = (iy + p - ky) / st
                        var kx = kxLo
                        while kx <= kxHi {
                            let ox = (ix + p - kx) / st
                            acc = acc.addingProduct(UnsafeRawPointer(dz + (oy * s.ow + ox) * c + cb).loadUnaligned(as: F8.self),
                                                    UnsafeRawPointer(wt + (ky * s.k + kx) * c + cb).loadUnaligned(as: F8.self))
                            kx += st
                        }
                        ky += st
                    }
                    UnsafeMutableRawPointer(out + cb).storeBytes(of: acc, as: F8.self)
                    cb += 8
                }
                for ch in c8..<c {
                    var acc: Float = 0
                    var ky = kyLo
                    while ky <= kyHi {
                        var kx = kxLo
                        while kx <= kxHi {
                            acc += dz[(((iy + p - ky) / st) * s.ow + (ix + p - kx) / st) * c + ch] * wt[(ky * s.k + kx) * c + ch]
                            kx += st
                        }
                        ky += st
                    }
                    out[ch] = acc
                }
            }
        }
    }
}

// MARK: - Reference twins (direct loops, Double accumulation, whole batch)

public enum ConvReference {
    /// z(N,oh,ow,cout) for a full or depthwise conv, no bias.
    public static func forward(_ x: [Float], _ w: [Float], _ s: ConvShape) -> [Float] {
        var z = [Float](repeating: 0, count: s.n * s.oh * s.ow * s.cout)
        for n in 0..<s.n { for oy in 0..<s.oh { for ox in 0..<s.ow { for co in 0..<s.cout {
            var acc = 0.0
            for ky in 0..<s.k { for kx in 0..<s.k {
                let iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx
                if iy < 0 || iy >= s.h || ix < 0 || ix >= s.w { continue }
                let xb = ((n * s.h + iy) * s.w + ix) * s.cin
                if s.depthwise {
                    acc += Double(x[xb + co]) * Double(w[(ky * s.k + kx) * s.cout + co])
                } else {
                    for ci in 0..<s.cin { acc += Double(x[xb + ci]) * Double(w[((ky * s.k + kx) * s.cin + ci) * s.cout + co]) }
                }
            } }
            z[((n * s.oh + oy) * s.ow + ox) * s.cout + co] = Float(acc)
        } } } }
        return z
    }

    /// (dx, dw) for upstream dz, by scattering every forward product.
    public static func backward(_ x: [Float], _ w: [Float], _ dz: [Float], _ s: ConvShape) -> (dx: [Float], dw: [Float]) {
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for n in 0..<s.n { for oy in 0..<s.oh { for ox in 0..<s.ow { for co in 0..<s.cout {
            let g = Double(dz[((n * s.oh + oy) * s.ow + ox) * s.cout + co])
            for ky in 0..<s.k { for kx in 0..<s.k {
                let iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx
                if iy < 0 || iy >= s.h || ix < 0 || ix >= s.w { continue }
                let xb = ((n * s.h + iy) * s.w + ix) * s.cin
                if s.depthwise {
                    let wi = (ky * s.k + kx) * s.cout + co
                    dx[xb + co] += g * Double(w[wi]); dw[wi] += g * Double(x[xb + co])
                } else {
                    for ci in 0..<s.cin {
                        let wi = ((ky * s.k + kx) * s.cin + ci) * s.cout + co
                        dx[xb + ci] += g * Double(w[wi]); dw[wi] += g * Double(x[xb + ci])
                    }
                }
            } }
        } } } }
        return (dx.map { Float($0) }, dw.map { Float($0) })
    }
}
