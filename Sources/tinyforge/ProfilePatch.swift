import TinyForgeHardware

/// `tinyforge profile --patch`: the per-layer plan and the patch plan side by side.
enum ProfilePatch {
    /// The decision for `--patch` / `--patch-max-overhead` (nil when `--patch` is absent).
    static func decide(_ plan: LayerPlan, patch: String?, maxOverhead: String) throws -> PatchDecision? {
        let overhead = try PatchSetting.parseOverhead(maxOverhead)
        guard let text = patch else { return nil }
        let setting = try PatchSetting(parsing: text)
        return try PatchPlanner.decide(KernelSchedule(plan: plan), setting: setting, maxOverhead: overhead)
    }

    static func render(_ d: PatchDecision, plan lp: LayerPlan) -> String {
        let pad = ProfileTable.pad, lpad = ProfileTable.lpad
        var lines = ["", "patch-based inference (--patch \(d.setting), at most \(PatchPlanner.percent(d.maxOverhead)) extra MACs; \(d.candidates) plan(s) evaluated)"]
        guard let p = d.plan else {
            lines.append("  layer by layer: \(d.reason ?? "no plan")")
            lines.append("  arena           \(Units.formatBytes(d.perLayerArena)) (\(d.perLayerArena) B)")
            return lines.joined(separator: "\n")
        }
        lines.append(pad("", 18) + lpad("per-layer", 16) + lpad("patched", 16))
        func row(_ name: String, _ a: String, _ b: String) { lines.append(pad("  " + name, 18) + lpad(a, 16) + lpad(b, 16)) }
        row("arena", Units.formatBytes(d.perLayerArena), Units.formatBytes(p.arenaBytes))
        row("arena (B)", String(d.perLayerArena), String(p.arenaBytes))
        row("MACs", Units.formatCount(p.networkMACs), Units.formatCount(p.networkMACs + p.extraMACs))
        lines += stageLines(p, plan: lp)
        lines.append("  extra MACs      \(Units.formatCount(p.extraMACs)) (\(p.extraMACs)) = \(String(format: "%.2f", p.macOverhead * 100)) % of the network (halos recomputed)")
        lines.append("  peak live       patch stage\(p.stages.count > 1 ? "s" : "") \(Units.formatBytes(p.stagePeakLive)), layer-by-layer rest \(Units.formatBytes(p.restPeakLive))")
        lines.append("  arena ratio     \(String(format: "%.2f", Double(p.arenaBytes) / Double(max(1, d.perLayerArena))))x the per-layer arena")
        return lines.joined(separator: "\n")
    }

    /// One line per stage: what runs tile by tile, the grid and the split tensor (several
    /// stages: also each stage's input, peak live bytes and extra MACs).
    static func stageLines(_ p: PatchPlan, plan lp: LayerPlan) -> [String] {
        p.stages.indices.map { k in
            let st = p.stages[k], t = lp.tensors[st.output], role = lp.ops[st.splitOp].opRole
            let upTo: String
            switch st.split {
            case .block where role == .headConv || role == .headPool: upTo = "every block (the head runs layer by layer)"
            case let .block(b): upTo = "blocks before block \(b)"
            case let .squeezeExcite(b): upTo = "blocks up to block \(b)'s SE"
            }
            let tiles = "\(st.grid)x\(st.grid) tiles of the \(ProfileTable.shape(t)) split tensor"
            guard p.stages.count > 1 || st.start != nil else {
                return "  patch stage     \(lp.spec.stem == nil ? "" : "the stem and ")\(upTo), \(tiles)"
            }
            let from: String
            switch st.start {
            case nil: from = lp.spec.stem == nil ? "the network input" : "the network input (stem included)"
            case let .block(b)?: from = "the input of block \(b)"
            case let .squeezeExcite(b)?: from = "after block \(b)'s SE (its \(ProfileTable.shape(lp.tensors[st.input])) scaled map in full)"
            }
            return "  patch stage \(k + 1)   \(st.setting): from \(from) up to \(st.split.phrase), \(tiles); peak live \(Units.formatBytes(p.stagePeakLive(k))), +\(st.extraMACs(lp)) MACs"
        }
    }
}
