/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in TinyForge (sampling architectures, weight init, data splits,
/// augmentation, dropout) draws from one of these, created from a user-visible seed, so the
/// same seed gives the same result on every machine. There is no global generator.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// A generator for an independent stream derived from this seed and a label, e.g.
    /// `SeededGenerator(seed: 7, stream: 3)` for worker 3. Streams do not overlap in practice.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform Float in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal sample (Box–Muller).
    public mutating func nextGaussian() -> Float {
        var u1 = nextFloat()
        if u1 < 1e-12 { u1 = 1e-12 }
        let u2 = nextFloat()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Float.pi * u2)
    }
}

@inline(__always) private func _log(_ x: Float) -> Float { Float(Foundation_log(Double(x))) }
@inline(__always) private func _cos(_ x: Float) -> Float { Float(Foundation_cos(Double(x))) }

#if canImport(Glibc)
import Glibc
@inline(__always) private func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func Foundation_cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func Foundation_log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func Foundation_cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
