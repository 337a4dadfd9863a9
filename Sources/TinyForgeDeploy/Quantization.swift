import Foundation

/// Affine quantisation parameters of one tensor, as stored in a `.tflite`
/// `QuantizationParameters` table: real = scale · (q − zero_point).
///
/// One scale/zero point = per-tensor; several = per-channel along `quantizedDimension`
/// (TFLite: dimension 0 of a CONV_2D / FULLY_CONNECTED filter, 3 of a DEPTHWISE filter,
/// 0 of a bias).
public struct QuantParams: Equatable, Hashable, Sendable, Codable {
    public var scales: [Float]
    public var zeroPoints: [Int64]
    public var quantizedDimension: Int

    public init(scales: [Float], zeroPoints: [Int64], quantizedDimension: Int = 0) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.quantizedDimension = quantizedDimension
    }

    public static func perTensor(scale: Float, zeroPoint: Int32) -> QuantParams {
        QuantParams(scales: [scale], zeroPoints: [Int64(zeroPoint)])
    }

    public var isPerChannel: Bool { scales.count > 1 }
    /// The per-tensor scale (the first one for per-channel parameters, as TFLite reads it).
    public var scale: Float { scales[0] }
    public var zeroPoint: Int32 { Int32(zeroPoints[0]) }
}

/// int8 quantisation per the TFLite int8 quantisation specification
/// (https://ai.google.dev/edge/litert/models/quantization_spec):
/// weights per-channel symmetric (zero point 0, range [−127, 127]); biases int32 with
/// scale = input_scale · weight_scale[c] and zero point 0; activations per-tensor asymmetric
/// with a range that always contains 0 exactly.
public enum Quantizer {
    /// Asymmetric int8 parameters for activations observed in [min, max].
    ///
    /// The range is widened to include 0 (so zero padding and ReLU are exact), then the zero
    /// point is "nudged" to an integer as in TFLite's `ChooseQuantizationParams`: of the two
    /// candidates (from min, from max) the one with the smaller rounding error is kept, then
    /// rounded and clamped to [−128, 127]. A degenerate range (both ends 0) gets scale 1 and
    /// zero point −128 so the tensor stays valid; it can only hold 0 exactly anyway.
    public static func activationParams(min: Float, max: Float) throws -> QuantParams {
        guard min.isFinite, max.isFinite, min <= max else {
            throw DeployError.invalidRange(min: min, max: max)
        }
        let lo = Double(Swift.min(min, 0)), hi = Double(Swift.max(max, 0))
        let qmin = -128.0, qmax = 127.0
        if hi - lo <= 0 { return .perTensor(scale: 1, zeroPoint: -128) }
        let scale = (hi - lo) / (qmax - qmin)
        let zpFromMin = qmin - lo / scale
        let zpFromMax = qmax - hi / scale
        let errMin = abs(qmin) + abs(lo / scale)
        let errMax = abs(qmax) + abs(hi / scale)
        let zpReal = errMin < errMax ? zpFromMin : zpFromMax
        let zp = Swift.max(qmin, Swift.min(qmax, zpReal.rounded(.toNearestOrAwayFromZero)))
        return .perTensor(scale: Float(scale), zeroPoint: Int32(zp))
    }

    /// Per-channel symmetric int8 weights. `weights` is laid out with `channels` groups along
    /// `axis` of `shape` (e.g. CONV filter (O,KH,KW,I) with axis 0, DEPTHWISE (1,KH,KW,C) with
    /// axis 3). scale[c] = max|w_c| / 127 (1 for an all-zero channel), q = round(w/scale)
    /// clamped to [−127, 127].
    public static func symmetricPerChannel(_ weights: [Float], shape: [Int], axis: Int) throws
        -> (values: [Int8], params: QuantParams)
    {
        guard axis >= 0, axis < shape.count, shape.reduce(1, *) == weights.count else {
            throw DeployError.shapeMismatch(
                what: "weights", expected: shape, got: [weights.count])
        }
        let channels = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var maxAbs = [Float](repeating: 0, count: channels)
        for (i, w) in weights.enumerated() {
            guard w.isFinite else { throw DeployError.nonFiniteValue(what: "weights", index: i) }
            let c = (i / inner) % channels
            maxAbs[c] = Swift.max(maxAbs[c], abs(w))
        }
        let scales = maxAbs.map { $0 > 0 ? $0 / 127 : 1 }
        var q = [Int8](repeating: 0, count: weights.count)
        for (i, w) in weights.enumerated() {
            let c = (i / inner) % channels
            let r = (w / scales[c]).rounded(.toNearestOrAwayFromZero)
            q[i] = Int8(Swift.max(-127, Swift.min(127, r)))
        }
        return (q, QuantParams(scales: scales, zeroPoints: Array(repeating: 0, count: channels),
                               quantizedDimension: axis))
    }

    /// int32 biases: scale[c] = inputScale · weightScale[c] (computed in float, as TFLite's
    /// converter does), zero point 0, values round(b / scale) clamped to int32. One weight
    /// scale (per-tensor weights) gives one bias scale.
    public static func bias(_ bias: [Float], inputScale: Float, weightScales: [Float]) throws
        -> (values: [Int32], params: QuantParams)
    {
        guard weightScales.count == bias.count || weightScales.count == 1 else {
            throw DeployError.shapeMismatch(
                what: "bias", expected: [weightScales.count], got: [bias.count])
        }
        var scales = [Float](), values = [Int32]()
        for (c, b) in bias.enumerated() {
            guard b.isFinite else { throw DeployError.nonFiniteValue(what: "bias", index: c) }
            let s = inputScale * weightScales[weightScales.count == 1 ? 0 : c]
            scales.append(s)
            let r = (Double(b) / Double(s)).rounded(.toNearestOrAwayFromZero)
            values.append(Int32(Swift.max(Double(Int32.min), Swift.min(Double(Int32.max), r))))
        }
        // Per-tensor weights get a per-tensor bias: LiteRT reads a multi-scale tensor's legacy
        // `params.scale` as 0 and then fails its bias-scale check.
        if weightScales.count == 1 { scales = Array(scales.prefix(1)) }
        return (values, QuantParams(scales: scales, zeroPoints: Array(repeating: 0, count: scales.count)))
    }

    /// Quantise one real value to int8 with per-tensor parameters (round half away from zero).
    public static func quantize(_ x: Float, _ p: QuantParams) -> Int8 {
        let r = (x / p.scale).rounded(.toNearestOrAwayFromZero) + Float(p.zeroPoint)
        return Int8(Swift.max(-128, Swift.min(127, r.isNaN ? 0 : r)))
    }

    public static func dequantize(_ q: Int8, _ p: QuantParams) -> Float {
        p.scale * Float(Int32(q) - p.zeroPoint)
    }
}

/// Fused activation of CONV/DEPTHWISE/FC/ADD/MUL/POOL, applied as an int8 clamp.
public enum FusedActivation: String, Sendable, Codable, CaseIterable {
    case none, relu, relu6

    /// TFLite `CalculateActivationRangeQuantized` for an int8 output: the real bounds 0 and 6
    /// are quantised in float (`round(f / scale)` half away from zero) and intersected with
    /// [−128, 127].
    public func int8Range(output: QuantParams) -> (min: Int32, max: Int32) {
        // TFLM rejects a model whose bound overflows int32; here it simply saturates.
        func q(_ f: Float) -> Int32 {
            let r = (f / output.scale).rounded(.toNearestOrAwayFromZero)
            let clamped = Swift.max(-2_147_483_648, Swift.min(2_147_483_520, r))
            return Int32(clamping: Int64(output.zeroPoint) + Int64(clamped))
        }
        switch self {
        case .none: return (-128, 127)
        case .relu: return (Swift.max(-128, q(0)), 127)
        case .relu6: return (Swift.max(-128, q(0)), Swift.min(127, q(6)))
        }
    }
}
