/// The two-stage part of `--patch auto`: a first stage from the network input (or none) and
/// a second stage that starts where a whole-map op (an SE) or the first stage's end left the
/// map, e.g. QwNet-Core's `4x4@1.se+3x3@3..5`. The search is bounded: every later stage
/// is cut once (starts × ends up to the next whole-map op × grids), pairs are ordered by a
/// lower bound of their arena (the bytes live in either stage: the first's measured stage
/// peak, the second's full input and output), and full plans are placed only while that
/// bound can still beat the best arena found.
extension PatchPlanner {
    /// Every stage that starts after the network input (at a block input or after an SE's
    /// scale) and ends at a later split, with grids `autoGrids`.
    public static func laterStages(_ schedule: KernelSchedule) -> [PatchStage] {
        let plan = schedule.plan, groups = schedule.groups
        var points: [PatchSplit] = []
        for b in 0...groups.count {
            points.append(.block(b))
            if b < groups.count, groups[b].squeezeExcite != nil { points.append(.squeezeExcite(b)) }
        }
        var out: [PatchStage] = []
        for from in points {
            guard let first = try? from.startOp(plan, groups: groups), first > 0, first < plan.ops.count else { continue }
            ends: for to in points {
                guard let end = try? to.op(plan, groups: groups), end > first else { continue }
                for grid in autoGrids {
                    do {
                        out.append(try PatchStage(plan: plan, groups: groups, from: from, split: to, grid: grid))
                    } catch PatchPlanError.wholeMapOp {
                        break ends // every later end contains the same op
                    } catch {
                        continue // a shortcut across the start or end, a grid finer than the tensor
                    }
                }
            }
        }
        return out
    }

    /// The lowest-arena plan of a first stage from `firsts` (or none) and a later stage,
    /// within `maxOverhead` extra MACs and below `beating` bytes; fewest extra MACs on a tie.
    /// `evaluated` counts the plans placed.
    static func bestTwoStage(_ schedule: KernelSchedule, firsts: [PatchPlan], maxOverhead: Double, beating: Int,
                             options: MemoryPlannerOptions) -> (plan: PatchPlan?, evaluated: Int) {
        let plan = schedule.plan
        let seconds = laterStages(schedule).map { st -> (stage: PatchStage, extra: Int, bound: Int) in
            (st, st.extraMACs(plan), plan.tensors[st.input].elements + plan.tensors[st.output].elements)
        }
        let limit = maxOverhead * Double(max(1, plan.macs))
        var pairs: [(first: PatchPlan?, second: PatchStage, bound: Int)] = []
        for s in seconds {
            if Double(s.extra) <= limit { pairs.append((nil, s.stage, s.bound)) }
            for f in firsts where f.stage.splitOp <= s.stage.startOp && Double(f.extraMACs + s.extra) <= limit {
                pairs.append((f, s.stage, max(f.stagePeakLive, s.bound)))
            }
        }
        pairs.sort { $0.bound < $1.bound }
        var best: PatchPlan?, evaluated = 0
        for p in pairs {
            let target = best?.arenaBytes ?? beating
            guard p.bound < target else { break }
            guard let candidate = try? PatchPlan(stages: (p.first.map { [$0.stage] } ?? []) + [p.second],
                                                 schedule: schedule, options: options),
                  candidate.macOverhead <= maxOverhead else { continue }
            evaluated += 1
            if candidate.arenaBytes < target || (candidate.arenaBytes == best?.arenaBytes && candidate.extraMACs < best!.extraMACs) {
                best = candidate
            }
        }
        return (best, evaluated)
    }
}
