import TinyForgeHardware

/// Post-training int8 quantisation of a trained network, end to end:
/// LayerPlan + float weights → BN-folded float graph → calibrated ranges → `QuantizedModel`.
///
/// ```swift
/// var q = try PostTrainingQuantizer(plan: plan, weights: weights, options: .init())
/// for batch in calibrationBatches { try q.observe(batch.images, count: batch.count) }
/// let net = try q.finish()          // net.model → Int8Interpreter, TFLiteWriter, CCodeGenerator
/// ```
public struct PostTrainingQuantizer: Sendable {
    public struct Options: Sendable, Equatable {
        public var lowering = GraphLoweringOptions()
        public var calibration = CalibrationMethod.minMax
        public var threads = 2
        public init(lowering: GraphLoweringOptions = GraphLoweringOptions(), calibration: CalibrationMethod = .minMax, threads: Int = 2) {
            self.lowering = lowering; self.calibration = calibration; self.threads = threads
        }
    }

    public let graph: FloatGraph
    public private(set) var calibrator: ActivationCalibrator
    /// The network's schedule: the quantised model must execute its C-runtime steps.
    public let schedule: KernelSchedule

    /// Lowers and folds now, so a layer that cannot be quantised fails before any calibration.
    public init(plan: LayerPlan, weights: PlanWeights, options: Options = Options()) throws {
        try weights.validate(against: plan)
        schedule = KernelSchedule(plan: plan)
        graph = try FloatGraph(plan: plan, weights: weights, options: options.lowering)
        calibrator = try ActivationCalibrator(graph: graph, method: options.calibration, threads: options.threads)
    }

    /// One calibration batch: `images` is (N, H, W, C) normalised floats, N = `count`.
    /// Returns the float graph's output for the batch.
    @discardableResult
    public mutating func observe(_ images: [Float], count: Int) throws -> [Float] {
        try calibrator.observe(images, count: count)
    }

    public func finish() throws -> QuantizedNetwork {
        let c = calibrator
        var q = try graph.quantize(range: { try c.range($0) })
        q.calibrationMethod = c.method
        q.calibrationImages = c.imagesSeen
        let steps = try DeploySchedule.make(try Int8Interpreter(model: q.model))
        try DeploySchedule.check(steps, model: q.model, executes: schedule.tinyforgeC)
        return q
    }
}
