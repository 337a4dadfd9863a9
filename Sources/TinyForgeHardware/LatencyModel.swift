import TinyForgeSpec

/// Latency on the target, estimated as Σ over ops of work × cycles-per-unit(op kind) / clock.
///
/// Relative costs per op kind (per MAC; per element for element-wise ops) reflect how the
/// CMSIS-NN int8 kernels use the Cortex-M DSP (SMLAD does two 16-bit MACs a cycle):
/// pointwise and fully-connected kernels reach the best MAC rate, k×k convs lose some to
/// im2col, a conv over a 3-channel input loses more (short inner loop), depthwise convs reuse
/// no weights across channels. One scale per core is then fitted by least squares to
/// published measurements of whole networks (`LatencyCalibration.publishedPoints`, see
/// docs/latency-calibration.md); the fit's error on those points is `calibrationError`.
/// This is a first-order model: it does not see memory stalls, flash wait states or caches.
public struct LatencyEstimate: Sendable {
    public var milliseconds: Double
    public var cycles: Double
    /// Per LayerPlan op, in milliseconds.
    public var perOp: [Double]
    public var clockMHz: Double
}

public enum LatencyModel {
    /// Relative cycles per MAC (element for element-wise kinds), before the per-core scale.
    public static func relativeCost(_ op: PlanOp) -> Double {
        switch op.kind {
        case .conv2d:
            if op.kernel == 1 { return 1.0 }
            return op.inChannels < 8 ? 2.0 : 1.25
        case .depthwiseConv2d: return 2.5
        case .fullyConnected: return 1.0
        case .add, .mul: return 4.0
        case .globalAvgPool: return 2.0
        }
    }

    /// Work units of an op: MACs, or elements for element-wise kinds; plus its fused
    /// activation (an LUT or a few instructions per element, counted as one unit each).
    static func work(_ op: PlanOp, _ plan: LayerPlan) -> Double {
        let out = Double(plan.tensors[op.output].elements)
        var w: Double
        switch op.kind {
        case .conv2d, .depthwiseConv2d, .fullyConnected: w = Double(op.macs) * relativeCost(op)
        case .add, .mul: w = out * relativeCost(op)
        case .globalAvgPool: w = Double(plan.tensors[op.inputs[0]].elements) * relativeCost(op)
        }
        if let a = op.activation, a != .relu, a != .relu6 { w += out * 4 }
        return w
    }

    public static func estimate(_ plan: LayerPlan, target: Target) -> LatencyEstimate {
        let scale = calibration.scale[target.core] ?? calibration.scale.values.max() ?? 1
        let hz = target.clockMHz * 1e6
        let perOpCycles = plan.ops.map { work($0, plan) * scale }
        let cycles = perOpCycles.reduce(0, +)
        return LatencyEstimate(milliseconds: cycles / hz * 1e3, cycles: cycles,
                               perOp: perOpCycles.map { $0 / hz * 1e3 }, clockMHz: target.clockMHz)
    }

    public struct Calibration: Sendable {
        /// Cycles per relative work unit, per core.
        public var scale: [Target.Core: Double]
        /// Per calibration point: (name, measured ms, predicted ms).
        public var points: [(name: String, measuredMs: Double, predictedMs: Double)]
        /// Mean absolute relative error over the points, per core.
        public var meanAbsRelativeError: [Target.Core: Double]
    }

    /// Fitted once from the published points (least squares through the origin, per core).
    public static let calibration: Calibration = fit(LatencyCalibration.publishedPoints)

    public static func fit(_ points: [LatencyCalibrationPoint]) -> Calibration {
        var sxy: [Target.Core: Double] = [:], sxx: [Target.Core: Double] = [:]
        var usable: [(LatencyCalibrationPoint, Double)] = []
        for p in points {
            guard let spec = ReferenceNetworks.spec(p.network), let core = Target.Core(rawValue: p.core) else { continue }
            let lp = LayerPlan(spec: spec)
            let w = lp.ops.reduce(0.0) { $0 + work($1, lp) }
            let cycles = p.measuredMs * 1e-3 * p.clockMHz * 1e6
            sxy[core, default: 0] += w * cycles
            sxx[core, default: 0] += w * w
            usable.append((p, w))
        }
        var scale: [Target.Core: Double] = [:]
        for (c, xx) in sxx where xx > 0 { scale[c] = sxy[c]! / xx }
        var pts: [(String, Double, Double)] = []
        var err: [Target.Core: [Double]] = [:]
        for (p, w) in usable {
            let core = Target.Core(rawValue: p.core)!
            let pred = w * scale[core]! / (p.clockMHz * 1e6) * 1e3
            pts.append(("\(p.network) on \(p.board) (\(p.runtime))", p.measuredMs, pred))
            err[core, default: []].append(abs(pred - p.measuredMs) / p.measuredMs)
        }
        return Calibration(scale: scale, points: pts,
                           meanAbsRelativeError: err.mapValues { $0.reduce(0, +) / Double($0.count) })
    }
}
