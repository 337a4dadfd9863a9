import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSpec

/// Budget-targeted slots (issue 11, in the spirit of LLMatic's quality-diversity archive): a
/// small grid of cost niches over the budget — `macBands` equal MAC bands × `sramBands` equal
/// peak-SRAM bands — and one niche per requested candidate, where the current front is
/// sparse: empty niches first, then the sparsest; ties go to the niche nearest to an evaluated
/// candidate (reachable first, in budget-normalised cost), then grid order. With more slots
/// than niches the order repeats.
///
/// MAC range: [0, MAC limit]; without a MAC limit [0, max(1 M, 2 × the largest evaluated MACs)]
/// — the grid must be bounded and the archive is the only scale there is then.
/// Deterministic: a function of the archive and the budget, no random numbers drawn.
public struct SlotPlanner: Sendable {
    public var macBands: Int
    public var sramBands: Int

    public init(macBands: Int = 3, sramBands: Int = 2) {
        self.macBands = max(1, macBands); self.sramBands = max(1, sramBands)
    }

    /// The grid, MAC-band-major.
    public func niches(archive: ParetoArchive, budget: Budget) -> [CostBand] {
        let macTop = budget.macs ?? max(1_000_000, 2 * (archive.evaluated.map(\.cost.macs).max() ?? 0))
        let sramTop = budget.sramBytes
        var out: [CostBand] = []
        for m in 0..<macBands {
            for r in 0..<sramBands {
                out.append(CostBand(macsLow: macTop * m / macBands, macsHigh: macTop * (m + 1) / macBands,
                                    sramLow: sramTop * r / sramBands, sramHigh: sramTop * (r + 1) / sramBands))
            }
        }
        return out
    }

    public func plan(k: Int, archive: ParetoArchive, budget: Budget, format: CandidateFormat) -> [SlotTarget] {
        guard k > 0 else { return [] }
        let grid = niches(archive: archive, budget: budget)
        let front = archive.front, scored = archive.scored
        let macScale = Double(max(1, grid.map(\.macsHigh).max() ?? 1)), sramScale = Double(max(1, budget.sramBytes))
        func distance(_ c: CostSummary, _ b: CostBand) -> Double {
            let dm = Double(max(0, b.macsLow - c.macs, c.macs - b.macsHigh)) / macScale
            let ds = Double(max(0, b.sramLow - c.peakSRAMBytes, c.peakSRAMBytes - b.sramHigh)) / sramScale
            return (dm * dm + ds * ds).squareRoot()
        }
        let ranked = grid.indices.map { i -> (count: Int, near: Double, index: Int) in
            let count = front.filter { grid[i].contains(macs: $0.cost.macs, sram: $0.cost.peakSRAMBytes) }.count
            let near = scored.map { distance($0.cost, grid[i]) }.min() ?? 0
            return (count, near, i)
        }.sorted { ($0.count, $0.near, $0.index) < ($1.count, $1.near, $1.index) }
        return (0..<k).map { slot in
            let r = ranked[slot % ranked.count], band = grid[r.index]
            // The example: the most accurate member inside the niche, else the nearest one
            // (ties: the more accurate, then the earlier).
            let example = scored.min { a, b in
                let ka = (distance(a.cost, band), -(a.accuracy ?? 0), a.id), kb = (distance(b.cost, band), -(b.accuracy ?? 0), b.id)
                return ka < kb
            }
            return SlotTarget(index: slot + 1, band: band, frontCount: r.count,
                              example: example.map { e in
                                  CandidateSummary(architecture: format.compactJSON(e.spec), valAccuracy: e.accuracy, macs: e.cost.macs,
                                                   peakSRAMBytes: e.cost.peakSRAMBytes, flashBytes: e.cost.flashBytes, params: e.cost.params)
                              })
        }
    }

    /// How an item's slot named in the reply (`value`) and the model's own spec meet the plan.
    /// Bad input — no slot, not a number, out of range, no architecture — is a record with its
    /// reason, never an error.
    public static func record(slot value: JSONValue?, slots: [SlotTarget], spec: ArchitectureSpec?,
                              target: Target, budget: Budget) -> SlotRecord {
        guard !slots.isEmpty else { return SlotRecord(index: nil, band: nil, hit: nil, note: "the prompt asked for no slots") }
        guard let value else { return SlotRecord(index: nil, band: nil, hit: nil, note: "the reply named no slot") }
        guard case .number(let d) = value, d == d.rounded(), let i = Int(exactly: d), (1...slots.count).contains(i) else {
            return SlotRecord(index: nil, band: nil, hit: nil,
                              note: "slot \(value.canonicalText()) is not one of 1–\(slots.count)")
        }
        let band = slots[i - 1].band
        guard let spec, (try? spec.validate()) != nil else {
            return SlotRecord(index: i, band: band, hit: nil, note: "no buildable architecture to measure")
        }
        let cost = CostModel.evaluate(spec, target: target, budget: budget)
        let miss = band.miss(macs: cost.macs, sram: cost.peakSRAMBytes)
        return SlotRecord(index: i, band: band, hit: miss == nil, note: miss)
    }
}
