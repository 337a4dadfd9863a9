#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The GEMM register tiles. Both are compiled for whatever `-target-cpu` the build uses, so
/// either one runs on any CPU that build runs on; they differ only in speed:
/// - `avx2`: 6×16 tile of SIMD8 (fits the 16 ymm registers of a `haswell` build);
/// - `avx512`: 12×32 tile of SIMD16 (needs the 32 zmm registers of an AVX-512 `native` build;
///   in a `haswell` build it spills and is slower).
public enum GemmKernel: String, CaseIterable, Sendable {
    case avx2, avx512
}

extension Gemm {
    /// Name of the environment variable that forces a kernel (`avx2` or `avx512`).
    public static let kernelEnvironmentVariable = "TINYFORGE_GEMM"

    /// The kernel `sgemm` uses, chosen once per process at first use: the environment override
    /// if set, else the faster of the two on a short timing probe. Swift cannot ask at compile
    /// time which `-target-cpu` it builds for, and the right tile depends on exactly that, so
    /// the probe measures it instead. Results are bitwise identical either way, so the choice
    /// never changes numbers, only speed.
    public static let selected: GemmKernel =
        parsedEnvironment(kernelEnvironmentVariable, kernel(forEnvironmentValue:)) ?? probeFastest()

    /// Whether the other kernels (3×3 depthwise, BN passes) run 16-lane blocks: when the probe
    /// (or the override) picked the AVX-512 tile, 512-bit vectors are fast in this build and CPU.
    /// Their 16- and 8-lane forms give the same bits, so this too only changes speed.
    static let wideLanes = selected == .avx512

    /// The kernel a `TINYFORGE_GEMM` value forces (case-insensitive); a bad value is an error
    /// that names the variable and the fix. `selected` stops the process with it: a typo must not
    /// silently fall back to the probe.
    public static func kernel(forEnvironmentValue v: String) throws -> GemmKernel {
        guard let k = GemmKernel(rawValue: v.lowercased()) else {
            throw EngineError("\(kernelEnvironmentVariable)=\(v) is not a GEMM kernel; use avx2 or avx512, or unset it to pick by timing")
        }
        return k
    }

    /// Times both kernels on a mid-sized GEMM (96×192×256, the size class of the network's 1×1
    /// convs, ≈ 0.3 ms each) and returns the faster. Thread CPU time, best of 5 interleaved
    /// repetitions, so other processes on a shared machine disturb both alike.
    public static func probeFastest() -> GemmKernel {
        let m = 96, n = 192, k = 256
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        let pack = UnsafeMutableRawPointer.allocate(byteCount: packSize(n: n) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: packSize(n: n))
        defer { a.deallocate(); b.deallocate(); c.deallocate(); UnsafeMutableRawPointer(pack).deallocate() }
        for i in 0..<(m * k) { a[i] = Float(i % 7) * 0.25 - 0.5 }
        for i in 0..<(k * n) { b[i] = Float(i % 5) * 0.125 - 0.25 }
        func now() -> Double {
            var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }
        var best = [Double](repeating: .infinity, count: GemmKernel.allCases.count)
        for _ in 0..<5 {
            for (i, kern) in GemmKernel.allCases.enumerated() {
                let t0 = now()
                sgemm(m: m, n: n, k: k, a: a, rsA: k, csA: 1, b: b, rsB: n, csB: 1, c: c, ldc: n,
                      accumulate: false, pack: pack, kernel: kern)
                best[i] = min(best[i], now() - t0)
            }
        }
        return best[1] < best[0] ? .avx512 : .avx2
    }
}
