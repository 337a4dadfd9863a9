#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element-wise functions the engine's kernels implement: the spec's activations
/// (`TinyForgeSpec.Activation`, mapped through the plan's `PlanActivation` in the network builder)
/// plus the sigmoid of squeeze-excite gates. Named apart from the spec's enum so that no module
/// sees two public `Activation` types.
public enum KernelActivation: String, Sendable, CaseIterable, Codable {
    case relu, relu6, leakyRelu, swish, hswish, sigmoid

    /// Slope of LeakyReLU for negative inputs (PyTorch's default, used by the paper).
    public static let leakySlope: Float = 0.01
}

public typealias F8 = SIMD8<Float>
/// 16 lanes: the AVX-512 GEMM tile and the wide depthwise / BN kernels.
public typealias F16 = SIMD16<Float>

// MARK: - Vectorised exp / sigmoid

/// `exp(x)` for 8 lanes: Cody–Waite range reduction `x = n·ln2 + r` and a degree-6 polynomial
/// for `e^r` on [-ln2/2, ln2/2] (relative error ≈ 2e-7 over the clamped range). libm's `expf`
/// would stop the whole swish/sigmoid loop from vectorising.
@inline(__always)
public func simdExp(_ x0: F8) -> F8 {
    let x = vmax(vmin(x0, F8(repeating: 88.0)), F8(repeating: -87.0))
    let magic = F8(repeating: 12_582_912.0)            // 1.5·2^23: adding it rounds to integer
    let t = x * 1.442_695_04 + magic
    let n = t - magic                                   // round(x / ln2)
    var r = x - n * 0.693_145_751_953_125                // ln2 high part
    r = r - n * 1.428_606_765_330_187e-06               // ln2 low part
    var p = F8(repeating: 1.0 / 720.0)
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    // 2^n: the low mantissa bits of `t` hold n + 0x400000; move n into the exponent field.
    let tb = unsafeBitCast(t, to: SIMD8<Int32>.self)
    let e = (tb &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(e, to: F8.self)
}

@inline(__always)
public func simdSigmoid(_ x: F8) -> F8 {
    1.0 / (1.0 + simdExp(-x))
}

@inline(__always) func scalarSigmoid(_ x: Float) -> Float { 1 / (1 + Float(exp(Double(-x)))) }

// MARK: - Forward and derivative, scalar reference and SIMD

extension KernelActivation {
    /// Reference forward `f(u)` (plain scalar code, libm exp).
    public func apply(_ u: Float) -> Float {
        switch self {
        case .relu: return max(u, 0)
        case .relu6: return min(max(u, 0), 6)
        case .leakyRelu: return u > 0 ? u : KernelActivation.leakySlope * u
        case .swish: return u * scalarSigmoid(u)
        case .hswish: return u * min(max(u + 3, 0), 6) / 6
        case .sigmoid: return scalarSigmoid(u)
        }
    }

    /// Reference derivative `f'(u)` given the pre-activation `u`. At the kinks we follow
    /// PyTorch: relu'(0)=0, relu6' is 0 at 0 and at 6, hswish' at ±3 uses the open interval.
    public func derivative(_ u: Float) -> Float {
        switch self {
        case .relu: return u > 0 ? 1 : 0
        case .relu6: return (u > 0 && u < 6) ? 1 : 0
        case .leakyRelu: return u > 0 ? 1 : KernelActivation.leakySlope
        case .swish:
            let s = scalarSigmoid(u)
            return s + u * s * (1 - s)
        case .hswish:
            if u < -3 { return 0 }
            if u > 3 { return 1 }
            return (2 * u + 3) / 6
        case .sigmoid:
            let s = scalarSigmoid(u)
            return s * (1 - s)
        }
    }

    /// SIMD forward, 8 lanes. Uses pointwiseMin/Max and arithmetic masks (no SIMDMask, which is
    /// slow in Swift).
    @inline(__always)
    public func apply(_ u: F8) -> F8 {
        switch self {
        case .relu: return vmax(u, F8())
        case .relu6: return vmin(vmax(u, F8()), F8(repeating: 6))
        case .leakyRelu: return vmax(u, F8()) + KernelActivation.leakySlope * vmin(u, F8())
        case .swish: return u * simdSigmoid(u)
        case .hswish:
            let r6 = vmin(vmax(u + 3, F8()), F8(repeating: 6))
            return u * r6 * (1.0 / 6.0)
        case .sigmoid: return simdSigmoid(u)
        }
    }

    /// SIMD `dy · f'(u)`, same kink conventions as `derivative`.
    @inline(__always)
    public func backward(_ u: F8, _ dy: F8) -> F8 {
        switch self {
        case .relu:
            return keep(dy, positiveMask(u))
        case .relu6:
            return keep(dy, positiveMask(u) & positiveMask(6 - u))
        case .leakyRelu:
            let m = positiveMask(u)
            return blend(m, dy, dy * KernelActivation.leakySlope)
        case .swish:
            let s = simdSigmoid(u)
            return dy * (s + u * s * (1 - s))
        case .hswish:
            let above = positiveMask(u - 3)
            let below = positiveMask(-3 - u)
            let mid = (2 * u + 3) * (1.0 / 6.0)
            let d = blend(above, F8(repeating: 1), keep(mid, ~below))
            return dy * d
        case .sigmoid:
            let s = simdSigmoid(u)
            return dy * s * (1 - s)
        }
    }
}

// Lane masks built from bit patterns instead of SIMDMask (whose generic code is slow in
// Swift). For an IEEE float, `x > 0` exactly when its bits, read as Int32, are > 0.

/// All-ones lanes where `x > 0` (false for +0, -0 and NaN with sign bit), zero elsewhere.
@inline(__always)
func positiveMask(_ x: F8) -> SIMD8<Int32> {
    let b = unsafeBitCast(x, to: SIMD8<Int32>.self)
    return ((0 &- b) & ~b) &>> 31
}

/// `x` where `m` is all-ones, 0 elsewhere.
@inline(__always)
func keep(_ x: F8, _ m: SIMD8<Int32>) -> F8 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<Int32>.self) & m, to: F8.self)
}

/// `m ? a : b` lane-wise.
@inline(__always)
func blend(_ m: SIMD8<Int32>, _ a: F8, _ b: F8) -> F8 {
    let ai = unsafeBitCast(a, to: SIMD8<Int32>.self), bi = unsafeBitCast(b, to: SIMD8<Int32>.self)
    return unsafeBitCast((ai & m) | (bi & ~m), to: F8.self)
}

// The stdlib's pointwiseMin/Max are not inlined (a generic call per vector, measured at 28 %
// of a training step), so min/max are built from the sign of the difference instead.
@inline(__always) func vmin(_ a: F8, _ b: F8) -> F8 { blend(signMask(a - b), a, b) }
@inline(__always) func vmax(_ a: F8, _ b: F8) -> F8 { blend(signMask(a - b), b, a) }

/// All-ones lanes where the sign bit of `x` is set.
@inline(__always) func signMask(_ x: F8) -> SIMD8<Int32> { unsafeBitCast(x, to: SIMD8<Int32>.self) &>> 31 }
