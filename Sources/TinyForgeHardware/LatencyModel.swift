import TinyForgeSpec

/// Latency on the target, estimated as Σ over ops of work × cycles-per-unit(op kind) / clock.
///
/// Work per op: MACs for convs and fully-connected layers, weighted by a relative cost per
/// op kind; elements for element-wise ops. Relative costs: 1×1 conv and FC 1.0, k×k conv 1.0,
/// a conv over a < 8-channel input 2.0 (short inner loop), depthwise `depthwiseCost` (fitted:
/// depthwise convs reuse no weights across channels and run far below the DSP's MAC rate).
/// One cycles-per-unit scale per core and the shared depthwise cost are fitted by least squares
/// (relative error) to published whole-network measurements of networks we can build exactly:
/// MLPerf Tiny ResNet-8 and VWW MobileNetV1-0.25 under X-CUBE-AI 7.3/8.0 on the Nucleo-L4R5ZI
/// (Cortex-M4, 120 MHz) and Nucleo-H7A3ZI-Q (Cortex-M7, 280 MHz), from
/// `LatencyCalibrationPoint.publishedPoints` (docs/latency-calibration.md). The estimate is
/// therefore for an optimised vendor runtime; TFLM + CMSIS-NN measured ≈2× slower and TFLM's
/// reference kernels ≈20× slower on the same MCUNet models. First-order model: no memory stalls,
/// flash wait states or caches; `calibration.meanAbsRelativeError` is its error on the fitted points.
public struct LatencyEstimate: Sendable {
    public var milliseconds: Double
    public var cycles: Double
    /// Per LayerPlan op, in milliseconds.
    public var perOp: [Double]
    public var clockMHz: Double
}

public enum LatencyModel {
    /// Relative cycles per MAC (element for element-wise kinds), before the per-core scale.
    public static func relativeCost(_ op: PlanOp, depthwiseCost: Double) -> Double {
        switch op.kind {
        case .conv2d: return op.kernel > 1 && op.inChannels < 8 ? 2.0 : 1.0
        case .depthwiseConv2d: return depthwiseCost
        case .fullyConnected: return 1.0
        case .add, .mul: return 4.0
        case .globalAvgPool: return 2.0
        }
    }

    /// Work units of an op (see the type comment); a fused non-trivial activation adds four
    /// units per output element.
    static func work(_ op: PlanOp, _ plan: LayerPlan, depthwiseCost: Double) -> Double {
        let out = Double(plan.tensors[op.output].elements)
        var w: Double
        switch op.kind {
        case .conv2d, .depthwiseConv2d, .fullyConnected: w = Double(op.macs) * relativeCost(op, depthwiseCost: depthwiseCost)
        case .add, .mul: w = out * relativeCost(op, depthwiseCost: depthwiseCost)
        case .globalAvgPool: w = Double(plan.tensors[op.inputs[0]].elements) * relativeCost(op, depthwiseCost: depthwiseCost)
        }
        if let a = op.activation, a != .relu, a != .relu6 { w += out * 4 }
        return w
    }

    public static func estimate(_ plan: LayerPlan, target: Target) -> LatencyEstimate {
        let cal = calibration
        let scale = cal.scale[target.core] ?? cal.scale.values.max() ?? 1
        let hz = target.clockMHz * 1e6
        let perOpCycles = plan.ops.map { work($0, plan, depthwiseCost: cal.depthwiseCost) * scale }
        let cycles = perOpCycles.reduce(0, +)
        return LatencyEstimate(milliseconds: cycles / hz * 1e3, cycles: cycles,
                               perOp: perOpCycles.map { $0 / hz * 1e3 }, clockMHz: target.clockMHz)
    }

    public struct Calibration: Sendable {
        /// Cycles per relative work unit, per core.
        public var scale: [Target.Core: Double]
        public var depthwiseCost: Double
        /// Per calibration point: (description, measured ms, predicted ms).
        public var points: [(name: String, measuredMs: Double, predictedMs: Double)]
        /// Mean absolute relative error over the points, per core.
        public var meanAbsRelativeError: [Target.Core: Double]
        public var runtime: String
    }

    /// Fitted once, lazily, from the published points.
    public static let calibration: Calibration = fit(LatencyCalibrationPoint.publishedPoints, runtimePrefix: "X-CUBE-AI")

    /// The built-in network a published point measured, when we can build it exactly.
    static func referenceNetwork(for model: String) -> String? {
        if model.hasPrefix("ResNet-8") { return "resnet8" }
        if model.hasPrefix("MobileNetV1-0.25 VWW") { return "vww" }
        return nil
    }

    static func core(_ name: String) -> Target.Core? {
        name.hasPrefix("Cortex-M7") ? .cortexM7 : name.hasPrefix("Cortex-M4") ? .cortexM4 : nil
    }

    /// Grid search over the depthwise cost; for each, the per-core scale minimising squared
    /// relative error in closed form (scale = Σ(c/w) / Σ(c/w)²·… see below); keeps the best.
    public static func fit(_ points: [LatencyCalibrationPoint], runtimePrefix: String) -> Calibration {
        var usable: [(p: LatencyCalibrationPoint, plan: LayerPlan, core: Target.Core)] = []
        for p in points where p.runtime.hasPrefix(runtimePrefix) {
            guard let name = referenceNetwork(for: p.model), let spec = ReferenceNetworks.spec(name),
                  let c = core(p.core) else { continue }
            usable.append((p, LayerPlan(spec: spec), c))
        }
        var best: Calibration?
        var bestErr = Double.infinity
        for step in 0...70 {
            let dw = 1.0 + Double(step) * 0.1
            // Minimising Σ (s·w/c − 1)² over s gives s = Σ(w/c) / Σ(w/c)².
            var num: [Target.Core: Double] = [:], den: [Target.Core: Double] = [:]
            var ratios: [(Int, Double)] = []
            for (i, u) in usable.enumerated() {
                let w = u.plan.ops.reduce(0.0) { $0 + work($1, u.plan, depthwiseCost: dw) }
                let cycles = u.p.measuredMs * 1e-3 * u.p.clockMHz * 1e6
                let r = w / cycles
                num[u.core, default: 0] += r
                den[u.core, default: 0] += r * r
                ratios.append((i, r))
            }
            var scale: [Target.Core: Double] = [:]
            for (c, d) in den where d > 0 { scale[c] = num[c]! / d }
            var errs: [Target.Core: [Double]] = [:]
            var pts: [(String, Double, Double)] = []
            for (i, r) in ratios {
                let u = usable[i]
                let predicted = u.p.measuredMs * r * scale[u.core]!
                errs[u.core, default: []].append(abs(predicted - u.p.measuredMs) / u.p.measuredMs)
                pts.append(("\(u.p.model) on \(u.p.board) (\(u.p.runtime))", u.p.measuredMs, predicted))
            }
            let total = errs.values.flatMap { $0 }.reduce(0, +)
            if total < bestErr {
                bestErr = total
                best = Calibration(scale: scale, depthwiseCost: dw, points: pts,
                                   meanAbsRelativeError: errs.mapValues { $0.reduce(0, +) / Double($0.count) },
                                   runtime: runtimePrefix)
            }
        }
        return best ?? Calibration(scale: [:], depthwiseCost: 2.5, points: [], meanAbsRelativeError: [:], runtime: runtimePrefix)
    }
}
