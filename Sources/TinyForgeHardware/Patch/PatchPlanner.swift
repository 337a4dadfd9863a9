/// The outcome of a `--patch` setting for one network: the per-layer arena it is compared
/// with, the chosen patch plan (nil = layer by layer) and why.
public struct PatchDecision: Sendable {
    public var setting: PatchSetting
    public var maxOverhead: Double
    /// The TinyForge C runtime's per-layer arena (`CostReport.peakSRAMBytes`).
    public var perLayerArena: Int
    public var plan: PatchPlan?
    /// Patch plans evaluated (auto: every valid split × grid, plus the two-stage plans placed).
    public var candidates: Int
    /// Why no plan was chosen (nil when one was).
    public var reason: String?

    /// The arena the network runs in under this decision.
    public var arenaBytes: Int { plan?.arenaBytes ?? perLayerArena }
}

/// Chooses patch plans. `auto` tries every split whose stage can run patch by patch (before
/// each block and at each SE, up to the first whole-map op) with grids 2×2…8×8 (MCUNetV2's range), keeps those within
/// the MAC overhead limit, and takes the lowest arena (fewest extra MACs on a tie); then
/// the two-stage plans (`bestTwoStage`) that beat it; it falls back to per-layer execution
/// when no plan beats the per-layer arena.
public enum PatchPlanner {
    public static let autoGrids = 2...8

    /// `maxStages`: the most patch stages `auto` may choose (1 or 2; the C generator runs
    /// single-stage plans, so export and deploy-check ask for 1).
    /// - Throws: `PatchPlanError` for a fixed setting that cannot be cut.
    public static func decide(_ schedule: KernelSchedule, setting: PatchSetting, maxOverhead: Double = 0.2,
                              maxStages: Int = 2, options: MemoryPlannerOptions = .init()) throws -> PatchDecision {
        let perLayer = ActivationMemory(schedule: schedule.tinyforgeC, options: options).arenaBytes
        var d = PatchDecision(setting: setting, maxOverhead: maxOverhead, perLayerArena: perLayer, plan: nil,
                              candidates: 0, reason: nil)
        switch setting {
        case .off:
            d.reason = "--patch off"
        case let .fixed(grid, split):
            let stage = try PatchStage(plan: schedule.plan, groups: schedule.groups, split: split, grid: grid)
            d.plan = PatchPlan(stage: stage, schedule: schedule, options: options)
            d.candidates = 1
        case let .stages(list):
            let stages = try list.map {
                try PatchStage(plan: schedule.plan, groups: schedule.groups, from: $0.from, split: $0.to, grid: $0.grid)
            }
            d.plan = try PatchPlan(stages: stages, schedule: schedule, options: options)
            d.candidates = 1
        case .auto:
            let all = candidates(schedule, options: options)
            let within = all.filter { $0.macOverhead <= maxOverhead }
            var best = within.min { ($0.arenaBytes, $0.extraMACs) < ($1.arenaBytes, $1.extraMACs) }
            let two = maxStages < 2 ? (plan: nil, evaluated: 0)
                : bestTwoStage(schedule, firsts: within, maxOverhead: maxOverhead, beating: best?.arenaBytes ?? perLayer, options: options)
            if let t = two.plan { best = t }
            d.candidates = all.count + two.evaluated
            if let b = best, b.arenaBytes < perLayer {
                d.plan = b
            } else if all.isEmpty && two.evaluated == 0 {
                d.reason = "no block can start a patch stage (an SE or the head comes first)"
            } else if within.isEmpty {
                d.reason = "every patch plan recomputes more than \(percent(maxOverhead)) extra MACs"
            } else {
                d.reason = "no patch plan within \(percent(maxOverhead)) extra MACs beats the per-layer arena"
            }
        }
        return d
    }

    /// Every valid (split, grid) plan with grids `autoGrids`: splits before each block and at
    /// each SE, up to the first op that needs the whole map.
    public static func candidates(_ schedule: KernelSchedule, options: MemoryPlannerOptions = .init()) -> [PatchPlan] {
        var out: [PatchPlan] = []
        for block in 0...schedule.groups.count {
            var splits = [PatchSplit.block(block)]
            if block < schedule.groups.count, schedule.groups[block].squeezeExcite != nil { splits.append(.squeezeExcite(block)) }
            for split in splits {
                for grid in autoGrids {
                    do {
                        let stage = try PatchStage(plan: schedule.plan, groups: schedule.groups, split: split, grid: grid)
                        out.append(PatchPlan(stage: stage, schedule: schedule, options: options))
                    } catch PatchPlanError.wholeMapOp {
                        return out // every later split contains the same op
                    } catch {
                        continue // empty stage, a shortcut across the split, a grid finer than the tensor
                    }
                }
            }
        }
        return out
    }

    /// A fraction as a percentage for messages ("20 %", "12.5 %").
    public static func percent(_ f: Double) -> String {
        let p = f * 100
        return (p == p.rounded() ? String(Int(p)) : String(p)) + " %"
    }
}
