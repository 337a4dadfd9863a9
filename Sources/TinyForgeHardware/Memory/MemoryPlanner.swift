/// Activation-memory planner: lifetimes in, offsets out.
///
/// Problem. Each buffer needs `size` bytes from op `firstStep` to op `lastStep` (inclusive).
/// Find an offset for each so that buffers alive at a common step never share a byte, and the
/// arena (max of `offset + size`) is as small as possible. This is the dynamic storage
/// allocation problem; it is NP-hard, so the planner is a set of heuristics with a lower
/// bound and, for small instances only, an exact search.
///
/// `plan(_:)` does, step by step:
///  1. Validate (sizes ≥ 0, 0 ≤ firstStep ≤ lastStep, unique ids) and round every size up to
///     `options.alignment` (16 by default, as TFLM does), so every offset is aligned.
///  2. Lower bound: the most bytes live at any one step. Live bytes only rise at a
///     `firstStep`, so checking those steps is enough (O(n²)).
///  3. TFLM's greedy plan (`tflmGreedy`): buffers by size descending (equal sizes: later
///     request first, as TFLM's reverse copy + stable bubble sort yields), each put at the
///     lowest offset where it fits between already placed buffers whose lifetimes overlap
///     its own, else above the highest of them. This is the incumbent.
///  4. Unless the incumbent already equals the lower bound: 10 more greedy passes, each of
///     the 5 `BufferOrdering`s × 2 `GapFit`s (first fit, best fit), all placing each buffer
///     at the bottom of a gap. A pass is abandoned as soon as its arena reaches the
///     incumbent's; a finished pass replaces the incumbent only if strictly smaller.
///  5. Ceiling passes (`ceilingPlace`) for 3 orders (first use, pressure, size): with a
///     fixed ceiling T each buffer takes the smallest gap that fits and goes flush to T when
///     that gap reaches T, so buffers pack from both ends (this is what solves chains, where
///     bottom-only placement loses). T is probed at the lower bound, then bisected between
///     there and the incumbent (≤ 8 probes per order).
///  6. If still above the lower bound and there are at most `exactSearchMaxBuffers` non-empty
///     buffers, a branch-and-bound over placement orders (see ExactMemoryPlanner.swift) either
///     improves the plan or proves the incumbent optimal, within a node budget.
/// Steps 3–5 are heuristics: none is optimal in general, and taking the best of several only
/// makes bad cases rarer; every step stops as soon as the lower bound is reached. The result
/// is never worse than step 3 (asserted), and `isProvenOptimal` says when it is known to be
/// optimal (arena == lower bound, or the exact search completed).
///
/// Cost: each pass is O(n²) over at most n placed buffers, no allocation per buffer; about
/// 0.1 ms for 100 buffers in release on one core (see MemoryPlannerPerformanceTests).
public enum MemoryPlanner {
    /// The best plan found (see the type's comment for the steps). Never worse than
    /// `tflmGreedy(_:options:)` on the same input.
    /// - Throws: `MemoryPlannerError` naming the first invalid buffer.
    public static func plan(_ requests: [BufferRequest],
                            options: MemoryPlannerOptions = .init()) throws -> MemoryPlan {
        let problem = try PlanningProblem(requests, alignment: options.alignment)
        var search = HeuristicSearch(problem)
        search.runHeuristics()
        let nonEmpty = problem.sizes.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        if !search.atLowerBound && nonEmpty <= options.exactSearchMaxBuffers {
            search.runExact(nodeLimit: options.exactSearchNodeLimit)
        }
        return search.finish(requests)
    }

    /// TFLite Micro's `GreedyMemoryPlanner`, reproduced: same order, same tie-breaks, same
    /// first-fit gap walk, so offsets match TFLM's for the same (aligned) sizes. Use it to
    /// compare, and to predict what a stock TFLM interpreter will need.
    public static func tflmGreedy(_ requests: [BufferRequest],
                                  options: MemoryPlannerOptions = .init()) throws -> MemoryPlan {
        let problem = try PlanningProblem(requests, alignment: options.alignment)
        return run(problem, requests, order: problem.tflmOrder(), fit: .firstFit, strategy: .tflmGreedy)
    }

    /// One greedy pass with a chosen order and gap rule (for experiments and tests).
    public static func greedy(_ requests: [BufferRequest], order: BufferOrdering, fit: GapFit,
                              options: MemoryPlannerOptions = .init()) throws -> MemoryPlan {
        let problem = try PlanningProblem(requests, alignment: options.alignment)
        return run(problem, requests, order: problem.order(order), fit: fit,
                   strategy: .greedy(order: order, fit: fit))
    }

    /// Exact minimum arena by branch-and-bound, for small instances (tests, tiny networks):
    /// `plan` with the exact step forced whatever the buffer count. The node budget
    /// `exactSearchNodeLimit` still applies — check `isProvenOptimal` on the result.
    public static func exact(_ requests: [BufferRequest],
                             options: MemoryPlannerOptions = .init()) throws -> MemoryPlan {
        let problem = try PlanningProblem(requests, alignment: options.alignment)
        var search = HeuristicSearch(problem)
        search.runHeuristics()
        if !search.atLowerBound { search.runExact(nodeLimit: options.exactSearchNodeLimit) }
        return search.finish(requests)
    }

    // MARK: - Helpers

    private static func run(_ problem: PlanningProblem, _ requests: [BufferRequest], order: [Int],
                            fit: GapFit, strategy: MemoryPlanStrategy) -> MemoryPlan {
        var offsets = [Int](repeating: 0, count: problem.count)
        var placed = [Int](repeating: 0, count: problem.count)
        guard let arena = problem.greedyPlace(order: order, fit: fit, abandonAt: Int.max,
                                              offsets: &offsets, placed: &placed)
        else { preconditionFailure("a pass without cutoff always finishes") }
        var tflmArena = arena
        if strategy != .tflmGreedy {
            var scratch = offsets
            tflmArena = problem.greedyPlace(order: problem.tflmOrder(), fit: .firstFit,
                                            abandonAt: Int.max, offsets: &scratch, placed: &placed) ?? arena
        }
        return makePlan(problem, requests, offsets, arena, strategy,
                        arena <= problem.lowerBound, tflmArena)
    }

    static func makePlan(_ problem: PlanningProblem, _ requests: [BufferRequest],
                                 _ offsets: [Int], _ arena: Int, _ strategy: MemoryPlanStrategy,
                                 _ proven: Bool, _ tflmArena: Int) -> MemoryPlan {
        var placements = [MemoryPlan.Placement]()
        placements.reserveCapacity(requests.count)
        for (i, r) in requests.enumerated() {
            placements.append(.init(id: r.id, offset: offsets[i], size: problem.sizes[i],
                                    requestedSize: r.size, firstStep: r.firstStep, lastStep: r.lastStep))
        }
        return MemoryPlan(placements: placements, arenaBytes: arena, lowerBound: problem.lowerBound,
                          strategy: strategy, alignment: problem.alignment,
                          isProvenOptimal: proven, tflmArenaBytes: tflmArena)
    }
}

/// The incumbent-improving sequence behind `MemoryPlanner.plan`: TFLM first, then our passes,
/// each only accepted when strictly smaller, then (optionally) the exact search.
struct HeuristicSearch {
    let problem: PlanningProblem
    private(set) var bestOffsets: [Int]
    private(set) var bestArena: Int
    private(set) var strategy = MemoryPlanStrategy.tflmGreedy
    private(set) var proven = false
    let tflmArena: Int
    private var offsets: [Int]
    private var placed: [Int]

    /// Ceilings probed per order by the ceiling passes (lower bound first, then bisection).
    static let ceilingProbes = 8

    init(_ problem: PlanningProblem) {
        self.problem = problem
        offsets = [Int](repeating: 0, count: problem.count)
        placed = offsets
        guard let arena = problem.greedyPlace(order: problem.tflmOrder(), fit: .firstFit,
                                              abandonAt: Int.max, offsets: &offsets, placed: &placed)
        else { preconditionFailure("a pass without cutoff always finishes") }
        tflmArena = arena
        bestArena = arena
        bestOffsets = offsets
    }

    var atLowerBound: Bool { bestArena <= problem.lowerBound }

    private mutating func accept(_ arena: Int, _ strategy: MemoryPlanStrategy) {
        bestArena = arena
        swap(&bestOffsets, &offsets)
        self.strategy = strategy
    }

    /// Steps 4 and 5 of the `MemoryPlanner` comment; stops as soon as the lower bound is hit.
    mutating func runHeuristics() {
        for ordering in BufferOrdering.allCases {
            let order = problem.order(ordering)
            for fit in GapFit.allCases {
                if atLowerBound { return }
                if let arena = problem.greedyPlace(order: order, fit: fit, abandonAt: bestArena,
                                                   offsets: &offsets, placed: &placed) {
                    accept(arena, .greedy(order: ordering, fit: fit))
                }
            }
        }
        let unit = problem.alignment
        for ordering in [BufferOrdering.firstUse, .pressureDescending, .sizeDescending] {
            if atLowerBound { return }
            let order = problem.order(ordering)
            // Ceilings are multiples of the alignment (sizes are), so offsets stay aligned.
            var low = problem.lowerBound, high = bestArena - unit, probes = 0
            while low <= high && probes < Self.ceilingProbes {
                let ceiling = probes == 0 ? low : low + ((high - low) / unit / 2) * unit
                probes += 1
                if let arena = problem.ceilingPlace(order: order, ceiling: ceiling,
                                                    offsets: &offsets, placed: &placed) {
                    accept(arena, .ceiling(order: ordering))
                    high = arena - unit
                } else {
                    low = ceiling + unit
                }
            }
        }
    }

    mutating func runExact(nodeLimit: Int) {
        let exact = problem.exactSearch(incumbent: bestArena, nodeLimit: nodeLimit)
        if let found = exact.offsets {
            bestOffsets = found
            bestArena = exact.arena
            strategy = .exact
        }
        proven = exact.completed
    }

    func finish(_ requests: [BufferRequest]) -> MemoryPlan {
        assert(bestArena <= tflmArena, "planner must never lose to TFLM's greedy planner")
        let plan = MemoryPlanner.makePlan(problem, requests, bestOffsets, bestArena, strategy,
                                          proven || atLowerBound, tflmArena)
        assert(!MemoryPlanner.doAnyBuffersOverlap(plan, requests), "planner produced overlapping buffers")
        return plan
    }
}
