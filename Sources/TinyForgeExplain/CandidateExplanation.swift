import TinyForgeSpec
import TinyForgeHardware

/// How much of one limit a candidate uses. Ratios above 1 are violations.
public struct BudgetUsage: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case sram, flash, macs, latency }
    public var kind: Kind
    public var value: Double
    public var limit: Double
    public var ratio: Double { value / limit }
    public var fits: Bool { value <= limit }

    /// "SRAM 287 KB of 320 KB (89.7%)".
    public var description: String {
        let pct = String(format: "%.1f%%", ratio * 100)
        return "\(kind.label) \(format(value)) of \(format(limit)) (\(pct))"
    }

    func format(_ v: Double) -> String {
        switch kind {
        case .sram, .flash: return Units.formatBytes(Int(v))
        case .macs: return Units.formatCount(Int(v))
        case .latency: return String(format: "%.1f ms", v)
        }
    }
}

extension BudgetUsage.Kind {
    var label: String {
        switch self {
        case .sram: return "SRAM"
        case .flash: return "flash"
        case .macs: return "MACs"
        case .latency: return "latency"
        }
    }
}

/// A buffer alive at the peak step: the tensors a reader must shrink to lower the peak.
public struct LiveTensor: Sendable, Equatable {
    public var bufferId: Int
    public var label: String
    public var bytes: Int
    /// (H, W, C) when the buffer holds a plan tensor; nil for scratch / TFLM temporaries.
    public var shape: [Int]?
    /// Role of the op that writes it ("input" for the network input).
    public var producerRole: String?
}

/// The step where activation memory peaks, for our runtime, and TFLM's arena beside it.
public struct PeakMemory: Sendable, Equatable {
    public var stepIndex: Int
    public var opIndex: Int
    /// The bottleneck layer, e.g. `stages[1].layers[0].dw`.
    public var role: String
    public var kernel: String
    public var outputShape: [Int]
    public var liveBytes: Int
    public var arenaBytes: Int
    public var tensors: [LiveTensor]
    public var tflmArenaBytes: Int
    public var tflmRole: String
}

/// MACs and parameters of one part of the network (stem, a stage, the head).
public struct ComponentShare: Sendable, Equatable {
    /// "stem", "stages[2]", "head".
    public var component: String
    public var macs: Int
    public var params: Int
    public var macsShare: Double
    public var paramsShare: Double
}

/// What changed against a reference candidate and what it did to the measured numbers.
public struct Comparison: Sendable, Equatable {
    public enum Relation: String, Sendable { case parent, nearestArchive = "nearest_archive" }
    public var referenceHash: String
    public var relation: Relation
    public var changes: [FieldChange]
    public var deltaAccuracy: Double?
    public var deltaMACs: Int
    public var deltaParams: Int
    public var deltaPeakSRAM: Int
    public var deltaFlash: Int
    public var deltaLatencyMs: Double
}

/// Bytes live per LayerPlan op for our plan and a stock TFLM plan (same x axis: op index).
public struct MemoryTimeline: Sendable, Equatable {
    public var roles: [String]
    public var ours: [Int]
    public var tflm: [Int]
    public var peakOp: Int
    public var tflmPeakOp: Int
    public var arenaBytes: Int
    public var tflmArenaBytes: Int
}

/// Everything the report says about one candidate, every sentence backed by a number here.
public struct CandidateExplanation: Sendable, Equatable {
    public var hash: String
    public var name: String?
    public var proposer: String
    public var status: ExplainCandidate.Status
    public var valAccuracy: Double?
    public var macs: Int
    public var params: Int
    public var peakSRAMBytes: Int
    public var flashBytes: Int
    public var latencyMs: Double
    public var usage: [BudgetUsage]
    /// The limit with the highest usage ratio (binding when < 1, violated when > 1).
    public var binding: BudgetUsage
    public var peak: PeakMemory
    public var shares: [ComponentShare]
    public var comparison: Comparison?
    public var timeline: MemoryTimeline
    /// Plain sentences, each quoting the numbers above.
    public var summary: [String]

    public var fits: Bool { usage.allSatisfy(\.fits) }
    public var shortHash: String { String(hash.prefix(12)) }
}
