/// Output of the activation-memory planner and the names of the strategies that produce it.

/// Order in which a greedy pass places buffers. Every order breaks remaining ties by request
/// index (earlier request first), so plans are deterministic.
public enum BufferOrdering: String, CaseIterable, Hashable, Sendable, Codable {
    /// Largest first, then longer lifetime first. Like TFLM but with a better tie-break.
    case sizeDescending
    /// Longest lifetime first, then larger first: long-lived tensors (residual skips, SE
    /// inputs) claim the bottom of the arena, short ones stack on top.
    case lifetimeDescending
    /// size × lifetime ("area" in the time/offset plane) descending.
    case areaDescending
    /// Earliest `firstStep` first, then larger first: the order a linear allocator would see.
    case firstUse
    /// Buffers that live through the busiest step first (most live bytes during their
    /// lifetime), then larger first. These are the ones that set the arena size.
    case pressureDescending
}

/// How a greedy pass chooses among the gaps a buffer fits into.
public enum GapFit: String, CaseIterable, Hashable, Sendable, Codable {
    /// Lowest offset where the buffer fits (what TFLM does).
    case firstFit
    /// The smallest gap between time-overlapping buffers that fits (lowest offset on ties);
    /// above all of them when no gap fits. Leaves big holes for later, bigger buffers.
    case bestFit
}

/// Which algorithm produced a plan.
public enum MemoryPlanStrategy: Hashable, Sendable, CustomStringConvertible {
    /// TFLite Micro's `GreedyMemoryPlanner`, reproduced exactly (order and tie-breaks).
    case tflmGreedy
    /// One of our greedy passes.
    case greedy(order: BufferOrdering, fit: GapFit)
    /// A pass that packs under a fixed ceiling from both ends (see `ceilingPlace`).
    case ceiling(order: BufferOrdering)
    /// Branch-and-bound search (small instances); see `MemoryPlan.isProvenOptimal`.
    case exact

    public var description: String {
        switch self {
        case .tflmGreedy: return "tflm-greedy"
        case let .greedy(order, fit): return "greedy(\(order.rawValue), \(fit.rawValue))"
        case let .ceiling(order): return "ceiling(\(order.rawValue))"
        case .exact: return "exact"
        }
    }
}

/// Offsets for every requested buffer inside one arena.
public struct MemoryPlan: Hashable, Sendable {
    /// Where one buffer sits. `size` is the aligned size actually reserved.
    public struct Placement: Hashable, Sendable {
        public let id: Int
        public let offset: Int
        /// Reserved bytes (request size rounded up to `MemoryPlan.alignment`).
        public let size: Int
        public let requestedSize: Int
        public let firstStep: Int
        public let lastStep: Int

        /// Bytes `[offset, offset + size)`; end is exclusive.
        public var end: Int { offset + size }
    }

    /// One entry per request, in request order.
    public let placements: [Placement]
    /// Bytes the arena needs: max over buffers of `offset + size` (0 when empty).
    public let arenaBytes: Int
    /// The most (aligned) bytes live at any single step. No plan can use less; `arenaBytes`
    /// may exceed it when lifetimes interlock (fragmentation is sometimes unavoidable).
    public let lowerBound: Int
    /// The strategy whose plan this is (the first one that reached `arenaBytes`).
    public let strategy: MemoryPlanStrategy
    /// Alignment the sizes were rounded to; every offset is a multiple of it.
    public let alignment: Int
    /// True when `arenaBytes` is known to be minimal: it equals `lowerBound`, or the exact
    /// search finished within its node budget.
    public let isProvenOptimal: Bool
    /// Arena TFLM's greedy planner needs for the same requests and alignment (for reports).
    public let tflmArenaBytes: Int

    /// Offset of buffer `id`, or nil when no such buffer was planned.
    public func offset(of id: Int) -> Int? {
        placements.first(where: { $0.id == id })?.offset
    }

    /// Offsets keyed by buffer id.
    public var offsets: [Int: Int] {
        Dictionary(uniqueKeysWithValues: placements.map { ($0.id, $0.offset) })
    }

    /// Bytes saved against TFLM's greedy planner (≥ 0 for `MemoryPlanner.plan`).
    public var savingVersusTFLM: Int { tflmArenaBytes - arenaBytes }
}
