/// Debug aids for memory plans: an independent overlap check (used by tests and asserted in
/// debug builds) and an ASCII drawing of the arena over time, in the spirit of TFLM's
/// `DoAnyBuffersOverlap` and `PrintMemoryPlan`.

extension MemoryPlanner {
    /// True when `plan` is NOT safe for `requests`: two buffers alive at a common step share
    /// a byte, an offset is negative or misaligned, a placement reserves fewer bytes than
    /// requested or reaches past `arenaBytes`, or the plan does not list exactly these
    /// requests (same ids, same order, same lifetimes). O(n²): for tests and debug builds.
    ///
    /// Deliberately written without anything the planner uses, so it checks the planner
    /// rather than repeating it. Zero-size buffers occupy no bytes and never overlap.
    public static func doAnyBuffersOverlap(_ plan: MemoryPlan, _ requests: [BufferRequest]) -> Bool {
        let p = plan.placements
        guard p.count == requests.count else { return true }
        for (placement, request) in zip(p, requests) {
            if placement.id != request.id || placement.firstStep != request.firstStep
                || placement.lastStep != request.lastStep { return true }
            if placement.size < request.size || placement.offset < 0 { return true }
            if plan.alignment > 0 && placement.offset % plan.alignment != 0 { return true }
            if placement.offset + placement.size > plan.arenaBytes { return true }
        }
        for i in 0..<p.count where p[i].size > 0 {
            for j in (i + 1)..<max(i + 1, p.count) where p[j].size > 0 {
                let together = p[i].firstStep <= p[j].lastStep && p[j].firstStep <= p[i].lastStep
                let shareBytes = p[i].offset < p[j].end && p[j].offset < p[i].end
                if together && shareBytes { return true }
            }
        }
        return false
    }

    /// Character naming the buffer at request index `i`: 0-9, a-z, A-Z, then '*'.
    static func ordinalCharacter(_ i: Int) -> Character {
        let table = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return i < table.count ? table[i] : "*"
    }

    /// The plan as text: one legend line per buffer, then one row per step from the first to
    /// the last step used. Each row is the arena scaled to `lineWidth` columns; a buffer's
    /// bytes show as its ordinal character, free bytes as '.', and '!' where two live buffers
    /// collide (never, for a valid plan). The row ends with the live bytes at that step.
    public static func memoryPlanDiagram(_ plan: MemoryPlan, lineWidth: Int = 80) -> String {
        let width = max(8, lineWidth)
        var out = "arena \(plan.arenaBytes) B, lower bound \(plan.lowerBound) B, "
            + "TFLM greedy \(plan.tflmArenaBytes) B, strategy \(plan.strategy)"
            + (plan.isProvenOptimal ? " (optimal)" : "") + "\n"
        for (i, p) in plan.placements.enumerated() {
            out += "\(ordinalCharacter(i)) (id=\(p.id)): size=\(p.size), offset=\(p.offset), "
                + "first_used=\(p.firstStep) last_used=\(p.lastStep)\n"
        }
        guard let firstStep = plan.placements.map(\.firstStep).min(),
              let lastStep = plan.placements.map(\.lastStep).max() else { return out }
        let scale = max(width, plan.arenaBytes)  // bytes mapped onto `width` columns
        let stepDigits = String(lastStep).count
        for t in firstStep...lastStep {
            var line = [Character](repeating: ".", count: width)
            var live = 0
            for (i, p) in plan.placements.enumerated() where p.firstStep <= t && t <= p.lastStep {
                live += p.size
                let from = p.offset * width / scale
                let to = p.end * width / scale
                for c in from..<min(max(from, to), width) {
                    line[c] = line[c] == "." ? ordinalCharacter(i) : "!"
                }
            }
            let label = String(repeating: " ", count: stepDigits - String(t).count) + String(t)
            out += "\(label): \(String(line)) (\(live) B)\n"
        }
        return out
    }

    /// Writes `memoryPlanDiagram(plan, lineWidth:)` to `target` (e.g. a `String`, or standard
    /// output through `print`-style streams).
    public static func printMemoryPlan<Target: TextOutputStream>(
        _ plan: MemoryPlan, to target: inout Target, lineWidth: Int = 80
    ) {
        target.write(memoryPlanDiagram(plan, lineWidth: lineWidth))
    }
}
