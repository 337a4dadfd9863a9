/// How activation ranges are chosen from calibration data.
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
    /// The observed minimum and maximum (TFLite converter's default).
    case minMax
    /// Clip to the `p`-th / `(100 − p)`-th percentile (e.g. 99.99), ignoring rare outliers
    /// that would otherwise stretch the int8 step of a whole tensor.
    case percentile(Double)

    public var description: String {
        switch self {
        case .minMax: return "min/max"
        case let .percentile(p): return "percentile \(p)"
        }
    }
}

/// A calibrated float range of one tensor.
public struct ActivationRange: Sendable, Equatable {
    public var min: Float
    public var max: Float
    public init(min: Float, max: Float) { self.min = min; self.max = max }
}

/// Collects the range of every tensor of a `FloatGraph` over calibration batches.
///
/// Min/max are exact. For percentiles each batch contributes at most `samplesPerBatch`
/// values per tensor, taken at a fixed stride (deterministic, no RNG), and the percentile is
/// read from the sorted samples, then clipped to the exact min/max.
public struct ActivationCalibrator: Sendable {
    public let executor: FloatGraphExecutor
    public let method: CalibrationMethod
    public let samplesPerBatch: Int
    public private(set) var minimum: [Float]
    public private(set) var maximum: [Float]
    private var samples: [[Float]]
    public private(set) var imagesSeen = 0

    public init(graph: FloatGraph, method: CalibrationMethod = .minMax, samplesPerBatch: Int = 4096, threads: Int = 2) throws {
        if case let .percentile(p) = method, !(p > 50 && p <= 100) {
            throw NetworkQuantizationError.calibration(reason: "percentile \(p) must be in (50, 100], e.g. 99.99")
        }
        executor = FloatGraphExecutor(graph: graph, threads: threads)
        self.method = method
        self.samplesPerBatch = max(16, samplesPerBatch)
        minimum = Array(repeating: .infinity, count: graph.tensors.count)
        maximum = Array(repeating: -.infinity, count: graph.tensors.count)
        samples = Array(repeating: [], count: graph.tensors.count)
    }

    /// Runs one batch (N, H, W, C) of normalised inputs through the float graph and records
    /// every tensor's values. Returns the float graph's output for the batch.
    @discardableResult
    public mutating func observe(_ batch: [Float], count: Int) throws -> [Float] {
        var lo = minimum, hi = maximum, sm = samples
        let keepSamples = method != .minMax, cap = samplesPerBatch
        var bad: (Int, Float)?
        let out = try executor.run(batch, count: count) { id, v in
            var a = lo[id], b = hi[id]
            for x in v {
                if !x.isFinite { bad = bad ?? (id, x); continue }
                a = Swift.min(a, x); b = Swift.max(b, x)
            }
            lo[id] = a; hi[id] = b
            if keepSamples {
                let step = Swift.max(1, v.count / cap)
                var i = 0
                while i < v.count { if v[i].isFinite { sm[id].append(v[i]) }; i += step }
            }
        }
        if let (id, x) = bad {
            let t = executor.graph.tensors[id]
            throw NetworkQuantizationError.calibration(reason: "tensor '\(t.name)' took the value \(x) on calibration data; the weights or the input normalisation are broken")
        }
        minimum = lo; maximum = hi; samples = sm
        imagesSeen += count
        return out
    }

    /// The range of tensor `id` (after at least one batch).
    public func range(_ id: Int) throws -> ActivationRange {
        guard imagesSeen > 0, minimum[id] <= maximum[id] else {
            throw NetworkQuantizationError.calibration(reason: "no calibration data was observed for tensor '\(executor.graph.tensors[id].name)'; run at least one batch")
        }
        switch method {
        case .minMax:
            return ActivationRange(min: minimum[id], max: maximum[id])
        case let .percentile(p):
            let s = samples[id].sorted()
            guard !s.isEmpty else { return ActivationRange(min: minimum[id], max: maximum[id]) }
            func at(_ q: Double) -> Float { s[Swift.min(s.count - 1, Swift.max(0, Int((q / 100 * Double(s.count - 1)).rounded())))] }
            return ActivationRange(min: Swift.max(minimum[id], at(100 - p)), max: Swift.min(maximum[id], at(p)))
        }
    }
}
