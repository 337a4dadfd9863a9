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
///     the 5 `BufferOrdering`s × 2 `GapFit`s (first fit, best fit). A pass is abandoned as
///     soon as its arena reaches the incumbent's; a finished pass replaces the incumbent only
///     if strictly smaller. Stops early at the lower bound. These are heuristics: none is
///     optimal in general, and taking the best of several only makes bad cases rarer.
///  5. If still above the lower bound and there are at most `exactSearchMaxBuffers` non-empty
///     buffers, a branch-and-bound over placement orders (see ExactMemoryPlanner.swift) either
///     improves the plan or proves the incumbent optimal, within a node budget.
/// The result is never worse than step 3 (asserted), and `isProvenOptimal` says when it is
/// known to be optimal (arena == lower bound, or the exact search completed).
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
        var offsets = [Int](repeating: 0, count: problem.count)
        var placed = [Int](repeating: 0, count: problem.count)
        guard let tflmArena = problem.greedyPlace(
            order: problem.tflmOrder(), fit: .firstFit, abandonAt: Int.max,
            offsets: &offsets, placed: &placed)
        else { preconditionFailure("a pass without cutoff always finishes") }

        var bestOffsets = offsets
        var bestArena = tflmArena
        var strategy = MemoryPlanStrategy.tflmGreedy
        passes: for ordering in BufferOrdering.allCases {
            if bestArena <= problem.lowerBound { break }
            let order = problem.order(ordering)
            for fit in GapFit.allCases {
                if bestArena <= problem.lowerBound { break passes }
                if let arena = problem.greedyPlace(order: order, fit: fit, abandonAt: bestArena,
                                                   offsets: &offsets, placed: &placed) {
                    bestArena = arena
                    swap(&bestOffsets, &offsets)
                    strategy = .greedy(order: ordering, fit: fit)
                }
            }
        }

        var proven = bestArena <= problem.lowerBound
        let nonEmpty = problem.sizes.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        if !proven && nonEmpty <= options.exactSearchMaxBuffers {
            let exact = problem.exactSearch(incumbent: bestArena, nodeLimit: options.exactSearchNodeLimit)
            if let found = exact.offsets {
                bestOffsets = found
                bestArena = exact.arena
                strategy = .exact
            }
            proven = exact.completed || bestArena <= problem.lowerBound
        }
        assert(bestArena <= tflmArena, "planner must never lose to TFLM's greedy planner")
        let plan = makePlan(problem, requests, bestOffsets, bestArena, strategy, proven, tflmArena)
        assert(!doAnyBuffersOverlap(plan, requests), "planner produced overlapping buffers")
        return plan
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

    /// Exact minimum arena by branch-and-bound, for small instances (tests, tiny networks).
    /// Starts from the TFLM plan as incumbent; ignores `exactSearchMaxBuffers` but honours
    /// `exactSearchNodeLimit` — check `isProvenOptimal` on the result.
    public static func exact(_ requests: [BufferRequest],
                             options: MemoryPlannerOptions = .init()) throws -> MemoryPlan {
        let problem = try PlanningProblem(requests, alignment: options.alignment)
        let tflm = run(problem, requests, order: problem.tflmOrder(), fit: .firstFit, strategy: .tflmGreedy)
        if tflm.arenaBytes <= problem.lowerBound { return tflm.withProvenOptimal() }
        let exact = problem.exactSearch(incumbent: tflm.arenaBytes, nodeLimit: options.exactSearchNodeLimit)
        guard let offsets = exact.offsets else {
            return exact.completed ? tflm.withProvenOptimal() : tflm
        }
        return makePlan(problem, requests, offsets, exact.arena, .exact,
                        exact.completed || exact.arena <= problem.lowerBound, tflm.arenaBytes)
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

    private static func makePlan(_ problem: PlanningProblem, _ requests: [BufferRequest],
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

extension MemoryPlan {
    fileprivate func withProvenOptimal() -> MemoryPlan {
        MemoryPlan(placements: placements, arenaBytes: arenaBytes, lowerBound: lowerBound,
                   strategy: strategy, alignment: alignment, isProvenOptimal: true,
                   tflmArenaBytes: tflmArenaBytes)
    }
}
