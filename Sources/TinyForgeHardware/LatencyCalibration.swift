/// A published latency measurement of a whole network on a Cortex-M board.
public struct LatencyCalibrationPoint: Sendable {
    public var model: String
    /// The built-in network (`ReferenceNetworks`) it corresponds to.
    public var network: String
    public var macs: Int
    public var board: String
    /// "cortex-m4" or "cortex-m7".
    public var core: String
    public var clockMHz: Double
    public var runtime: String
    public var measuredMs: Double
    public var source: String
}

public enum LatencyCalibration {
    public static let publishedPoints: [LatencyCalibrationPoint] = []
}
