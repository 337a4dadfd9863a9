import Foundation
import TinyForgeSpec

/// One checkable statement found in a proposer's free-text rationale.
public struct RationaleClaim: Sendable, Equatable {
    /// The clause the claim was read from (what the report quotes).
    public var text: String
    /// The words that triggered it, e.g. "7x7 kernels".
    public var quote: String
    public var scope: ClaimScope
    public var property: ClaimProperty
    /// "no SE", "without residual connections": the claim is that the property is absent.
    public var negated: Bool
}

/// Which stages a claim talks about. `stages == nil` is the whole network: positive claims
/// then need one stage with the property ("uses 7x7 kernels"), negated ones need none.
/// Named stages must all have it ("the last two stages use SE").
public struct ClaimScope: Sendable, Equatable {
    /// 0-based stage indices; nil = the whole network. Indices may exceed the stage count
    /// (the text named a stage that does not exist); the checker says so.
    public var stages: [Int]?
    /// How the text named them: "stage 2", "the last stage", "early stages", "all stages".
    public var label: String

    public static let network = ClaimScope(stages: nil, label: "the network")
}

public enum ClaimMetric: String, Sendable, Equatable {
    case macs, params, sram, flash, accuracy, latency
}

/// The property a claim asserts. Values are what the text says, not what the spec has.
public enum ClaimProperty: Sendable, Equatable {
    case kernel(Int)
    /// 1×1 (pointwise) convolutions.
    case pointwise
    case expansion(Int)
    case squeezeExcite
    case seRatio(Double)
    /// Residual / skip / shortcut connections.
    case shortcut
    case activation(Activation)
    /// Stride 2 (downsampling) in the scope.
    case downsampling
    case stride(Int)
    /// "downsamples 4 times": number of stride-2 layers (stem + stages).
    case downsampleCount(Int)
    case stageCount(Int)
    /// Layers (repeats) in the scope; the whole network = sum of repeats.
    case layerCount(Int)
    case channels(Int)
    /// "channels grow from 16 to 128": first and last stage widths.
    case channelRange(Int, Int)
    /// "larger kernels in the last stage" (`larger`), "smaller kernels in early layers":
    /// the scope's mean value against the other stages'. Without a stage reference the scope
    /// is the late stages ("channels increase with depth").
    case relative(Field, larger: Bool)
    /// Block kinds any of which satisfies the claim ("depthwise" = dsconv or mbconv).
    case block([BlockType], name: String)
    /// "reduces MACs", "improves accuracy": a direction against the reference candidate.
    case effect(ClaimMetric, increase: Bool)
    /// "under 100M MACs", "about 200 KB of SRAM".
    case metricValue(ClaimMetric, Comparator, Double)
    /// "fits the budget", "meets all constraints".
    case fitsBudget

    public enum Field: String, Sendable, Equatable { case kernel, channels, expansion }
    public enum Comparator: String, Sendable, Equatable {
        case atMost = "≤", atLeast = "≥", about = "≈"
    }
}

/// The checker's verdict on one claim.
public struct ClaimCheck: Sendable, Equatable, CustomStringConvertible {
    public enum Verdict: String, Sendable, Equatable { case `true`, `false`, unverifiable }
    public var claim: RationaleClaim
    public var verdict: Verdict
    /// Spec fields or measured numbers that decide it, e.g. "stages[4].kernel = 3".
    public var evidence: String

    /// `claim "uses 7x7 kernels in the last stage" — false: stages[4].kernel = 3`.
    public var description: String {
        "claim \"\(claim.text)\" — \(verdict.rawValue): \(evidence)"
    }

    public var jsonValue: JSONValue {
        ["claim": .string(claim.text), "quote": .string(claim.quote), "scope": .string(claim.scope.label),
         "stages": claim.scope.stages.map { .array($0.map { .number(Double($0)) }) } ?? .null,
         "negated": .bool(claim.negated), "verdict": .string(verdict.rawValue), "evidence": .string(evidence)]
    }
}
