/// Inputs of the activation-memory planner: one lifetime per buffer, plus options and errors.
///
/// The planner knows nothing about networks: the lowering turns a `LayerPlan` into
/// `BufferRequest`s (tensor id, bytes, first and last op index that touches it) and reads
/// offsets back. That keeps the planner testable with hand-written lifetimes.

/// One buffer that must live in the arena from op `firstStep` to op `lastStep`, inclusive.
///
/// A tensor produced by op 3 and last read by op 7 is `firstStep: 3, lastStep: 7`; a kernel
/// scratch buffer used only inside op 5 is `firstStep: 5, lastStep: 5`. Two buffers whose
/// step ranges share at least one step may not share any byte.
public struct BufferRequest: Hashable, Sendable, Codable {
    /// Caller's name for the buffer (e.g. the tensor id). Must be unique within one request set.
    public var id: Int
    /// Bytes needed, before alignment. Zero is allowed (the buffer then occupies nothing).
    public var size: Int
    /// First op index at which the buffer must exist (≥ 0).
    public var firstStep: Int
    /// Last op index at which the buffer must exist (≥ `firstStep`), inclusive.
    public var lastStep: Int

    public init(id: Int, size: Int, firstStep: Int, lastStep: Int) {
        self.id = id
        self.size = size
        self.firstStep = firstStep
        self.lastStep = lastStep
    }

    /// Number of steps the buffer is alive (`lastStep - firstStep + 1`).
    public var lifetimeSteps: Int { lastStep - firstStep + 1 }

    /// True when both buffers must exist at some common step.
    @inlinable
    public func overlapsInTime(_ other: BufferRequest) -> Bool {
        firstStep <= other.lastStep && other.firstStep <= lastStep
    }
}

/// Knobs of `MemoryPlanner`. The defaults match what a TFLM deployment needs.
public struct MemoryPlannerOptions: Hashable, Sendable, Codable {
    /// Every buffer size is rounded up to a multiple of this many bytes before planning, so
    /// every offset is a multiple of it too. Default 16: TFLM rounds each tensor to
    /// `MicroArenaBufferAlignment()` = 16 bytes (SIMD loads, CMSIS-NN) before its greedy
    /// planner sees it, so 16 makes our arena comparable with TFLM's. Must be a power of two;
    /// use 1 for byte-exact planning. (TFLM may also waste up to `alignment - 1` bytes aligning
    /// the arena start itself; that is not part of `arenaBytes`.)
    public var alignment: Int
    /// Instances with at most this many buffers (after dropping zero-size ones) get an exact
    /// branch-and-bound search after the heuristics, unless a heuristic already reached the
    /// lower bound. Default 12: exact search is exponential in the worst case.
    public var exactSearchMaxBuffers: Int
    /// Node budget of the exact search; when exhausted the best plan found so far is returned
    /// and `isProvenOptimal` stays false. Default 200 000 (a few milliseconds at most).
    public var exactSearchNodeLimit: Int

    public init(alignment: Int = 16, exactSearchMaxBuffers: Int = 12,
                exactSearchNodeLimit: Int = 200_000) {
        self.alignment = alignment
        self.exactSearchMaxBuffers = exactSearchMaxBuffers
        self.exactSearchNodeLimit = exactSearchNodeLimit
    }
}

/// Why a set of requests (or options) cannot be planned. Each message names the buffer id.
public enum MemoryPlannerError: Error, Hashable, Sendable, CustomStringConvertible {
    case negativeSize(id: Int, size: Int)
    case negativeStep(id: Int, firstStep: Int)
    case lastStepBeforeFirstStep(id: Int, firstStep: Int, lastStep: Int)
    case duplicateID(id: Int)
    case sizeTooLarge(id: Int, size: Int)
    case invalidAlignment(Int)

    public var description: String {
        switch self {
        case let .negativeSize(id, size):
            return "buffer \(id): size is \(size) bytes; a buffer size must be ≥ 0"
        case let .negativeStep(id, first):
            return "buffer \(id): firstStep is \(first); op indices start at 0"
        case let .lastStepBeforeFirstStep(id, first, last):
            return "buffer \(id): lastStep \(last) < firstStep \(first); lifetimes are inclusive "
                + "op ranges, so set lastStep ≥ firstStep (a buffer used by one op has lastStep == firstStep)"
        case let .duplicateID(id):
            return "buffer \(id): id appears more than once; give every buffer its own id"
        case let .sizeTooLarge(id, size):
            return "buffer \(id): size \(size) bytes is too large to plan (limit 2^48 bytes)"
        case let .invalidAlignment(a):
            return "alignment is \(a); it must be a power of two ≥ 1 (16 matches TFLM)"
        }
    }
}

/// Validated, alignment-rounded problem in struct-of-arrays form, index = request order.
/// Built once per `plan` call and shared by every strategy.
struct PlanningProblem {
    let ids: [Int]
    /// Sizes rounded up to the alignment.
    let sizes: [Int]
    let first: [Int]
    let last: [Int]
    let alignment: Int
    /// Max over steps of the aligned bytes live at that step.
    let lowerBound: Int
    /// For each buffer: the most aligned bytes live at any step of its own lifetime.
    let pressure: [Int]

    var count: Int { sizes.count }

    static let maxSize = 1 << 48

    init(_ requests: [BufferRequest], alignment: Int) throws {
        guard alignment >= 1, alignment & (alignment - 1) == 0 else {
            throw MemoryPlannerError.invalidAlignment(alignment)
        }
        var seen = Set<Int>(minimumCapacity: requests.count)
        let n = requests.count
        var ids = [Int](), sizes = [Int](), first = [Int](), last = [Int]()
        ids.reserveCapacity(n); sizes.reserveCapacity(n); first.reserveCapacity(n); last.reserveCapacity(n)
        for r in requests {
            if r.size < 0 { throw MemoryPlannerError.negativeSize(id: r.id, size: r.size) }
            if r.size > Self.maxSize { throw MemoryPlannerError.sizeTooLarge(id: r.id, size: r.size) }
            if r.firstStep < 0 { throw MemoryPlannerError.negativeStep(id: r.id, firstStep: r.firstStep) }
            if r.lastStep < r.firstStep {
                throw MemoryPlannerError.lastStepBeforeFirstStep(
                    id: r.id, firstStep: r.firstStep, lastStep: r.lastStep)
            }
            if !seen.insert(r.id).inserted { throw MemoryPlannerError.duplicateID(id: r.id) }
            ids.append(r.id)
            sizes.append((r.size + alignment - 1) & ~(alignment - 1))
            first.append(r.firstStep)
            last.append(r.lastStep)
        }
        self.ids = ids; self.sizes = sizes; self.first = first; self.last = last
        self.alignment = alignment
        // Live bytes only rise at some buffer's firstStep, so the peak (and each buffer's own
        // peak) is attained at one of those steps: live(first_i) for every i, O(n²).
        var liveAtFirst = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let t = first[i]
            var live = 0
            for j in 0..<n where first[j] <= t && t <= last[j] { live += sizes[j] }
            liveAtFirst[i] = live
        }
        var pressure = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var p = 0
            for j in 0..<n where first[i] <= first[j] && first[j] <= last[i] {
                p = max(p, liveAtFirst[j])
            }
            pressure[i] = p
        }
        self.pressure = pressure
        self.lowerBound = liveAtFirst.max() ?? 0
    }
}
