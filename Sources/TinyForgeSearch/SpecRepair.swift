import TinyForgeHardware
import TinyForgeSpec

/// One change the repair made, e.g. `stages[2].out_channels 48→32`.
public struct RepairEdit: Equatable, Sendable, CustomStringConvertible {
    /// Field path in our architecture JSON (`stages[2].kernel`, `stem.stride`, `stages`).
    public var path: String
    public var from: String
    public var to: String
    public init(path: String, from: String, to: String) { self.path = path; self.from = from; self.to = to }
    public var description: String { "\(path) \(from)→\(to)" }
}

/// What `SpecRepair.repair` did with a spec.
public enum RepairOutcome: Sendable {
    /// Inside the space and within the budget already: nothing changed.
    case unchanged
    /// The fewest edits (in order) that make it fit, and the result.
    case repaired(ArchitectureSpec, edits: [RepairEdit])
    /// No edit sequence within the bounds fits; `reason` says what was tried and what still binds.
    case failed(reason: String)
}

/// Repair instead of discard: a proposal over the budget or outside the space is changed
/// deterministically, at the place the cost model names, with the fewest edits that make it fit.
///
/// 1. Snap: every out-of-space value goes to the nearest allowed one (numbers: nearest, ties
///    to the smaller; names: the first allowed), surplus stages are dropped, a missing stem is
///    added — one edit per field, since each violating field needs exactly one change.
/// 2. Shrink: breadth-first over edit sequences of increasing length (`maxEdits`, at most
///    `maxEvaluations` cost-model runs). The moves of a node are taken only at the places
///    its cost report names: for peak SRAM the stage of the peak step and the stages producing
///    its live inputs, for MACs the stage with the most MACs, for flash the stage with the most
///    weights (the stem or head when they hold it). Moves, in this order: narrow (next smaller
///    `out_channels`), drop a repeat, add a stride (SRAM, MACs), smaller kernel, smaller
///    expansion, drop SE. Specs reached before (canonical hash) are not expanded again, so
///    the first level holding a fitting spec gives the fewest edits within this move set —
///    exactly while every level has at most `beamWidth` specs (the first two or three
///    levels); deeper levels keep the `beamWidth` specs closest to fitting (largest
///    value / limit, smallest first), which bounds the work for networks far over budget.
///    Ties at that level: the fitting spec with the most MACs, then the most parameters (the
///    least capacity lost), then generation order — deterministic, no random numbers drawn.
///
/// Why not reject: an LLM that gets the shape right and the size wrong (the usual failure of a
/// small model, issue 11) still contributes its design; why fewest edits: the repaired network
/// should stay the model's idea, not become ours.
public struct SpecRepair: Sendable {
    public var space: SearchSpace
    public var target: Target
    public var budget: Budget
    /// Longest edit sequence searched for the budget (snap edits not counted).
    public var maxEdits: Int
    /// Cost-model evaluations allowed per repair (the bound on the search's work).
    public var maxEvaluations: Int
    /// Specs kept per level once a level has more (see the type's comment).
    public var beamWidth: Int

    public init(space: SearchSpace, target: Target, budget: Budget, maxEdits: Int = 12, maxEvaluations: Int = 1500,
                beamWidth: Int = 64) {
        self.space = space; self.target = target; self.budget = budget
        self.maxEdits = maxEdits; self.maxEvaluations = maxEvaluations; self.beamWidth = beamWidth
    }

    public func repair(_ spec: ArchitectureSpec) -> RepairOutcome {
        let (snapped, snaps) = snap(spec)
        do { try snapped.validate() } catch {
            return .failed(reason: "after snapping into the space (\(list(snaps))) the network is not buildable: \(error)")
        }
        let report = CostModel.evaluate(snapped, target: target, budget: budget)
        if report.fits { return snaps.isEmpty ? .unchanged : .repaired(snapped, edits: snaps) }
        switch shrink(snapped, report: report) {
        case .success(let (s, edits)): return .repaired(s, edits: snaps + edits)
        case .failure(let why): return .failed(reason: why.message)
        }
    }

    struct NoFit: Error { var message: String }
    struct Node { var spec: ArchitectureSpec; var report: CostReport; var edits: [RepairEdit] }

    /// Breadth-first search over the moves at the binding places (see the type's comment).
    func shrink(_ spec: ArchitectureSpec, report: CostReport) -> Result<(ArchitectureSpec, [RepairEdit]), NoFit> {
        var frontier = [Node(spec: spec, report: report, edits: [])]
        var visited: Set<String> = [spec.canonicalHash]
        var evaluations = 0
        for _ in 0..<maxEdits {
            var next: [Node] = []
            var fitting: [Node] = []
            expand: for node in frontier {
                for (child, edit) in moves(node.spec, report: node.report) {
                    guard visited.insert(child.canonicalHash).inserted else { continue }
                    guard (try? child.validate()) != nil, space.violations(of: child).isEmpty else { continue }
                    if evaluations >= maxEvaluations { break expand }
                    evaluations += 1
                    let r = CostModel.evaluate(child, target: target, budget: budget)
                    let n = Node(spec: child, report: r, edits: node.edits + [edit])
                    if r.fits { fitting.append(n) } else { next.append(n) }
                }
            }
            if let best = fitting.enumerated().max(by: { a, b in
                let ka = (a.element.report.macs, a.element.report.params), kb = (b.element.report.macs, b.element.report.params)
                return ka != kb ? ka < kb : a.offset > b.offset
            })?.element {
                return .success((best.spec, best.edits))
            }
            if evaluations >= maxEvaluations {
                return .failure(NoFit(message: "no fit found within \(maxEvaluations) evaluated edit sequences; still " + violations(report)))
            }
            if next.isEmpty {
                return .failure(NoFit(message: "every smaller choice at the binding stages was tried (\(evaluations) specs) and none fits; still " + violations(report)))
            }
            // Beam: keep the nodes closest to fitting (stable, so ties keep generation order).
            frontier = next.count <= beamWidth ? next
                : next.enumerated().sorted { (excess($0.element.report), $0.offset) < (excess($1.element.report), $1.offset) }
                    .prefix(beamWidth).map(\.element)
        }
        return .failure(NoFit(message: "no fit within \(maxEdits) edits at the binding stages (\(evaluations) specs tried); still " + violations(report)))
    }

    /// How far over the budget: the largest value / limit over the violated constraints.
    func excess(_ r: CostReport) -> Double {
        r.violations.map { Double($0.value) / Double(max(1, $0.limit)) }.max() ?? 0
    }

    func violations(_ r: CostReport) -> String { r.violations.map(\.message).joined(separator: "; ") }
    func list(_ e: [RepairEdit]) -> String { e.map(\.description).joined(separator: ", ") }
}
